"""Validation profiles: which rules apply and how severe they are.

A profile is a name plus the service quotas it enforces; each rule records its
severity per profile (or that it does not apply).  There is no global policy
object: pick a profile per call.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownProfileError

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Profile", "get_profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    #: largest message the service takes, as MIME bytes
    max_message_bytes: int | None = None
    max_recipients: int | None = None
    max_attachments: int | None = None


PROFILES: dict[str, Profile] = {
    "rfc": Profile(
        "rfc",
        "RFC 5322, RFC 2045-2049, RFC 2047 and RFC 2231 as written; no service quotas.",
    ),
    "workmail": Profile(
        "workmail",
        "rfc plus what Amazon WorkMail documents for PutRawMessageContent: CRLF lines of at "
        "most 1,000 octets, From and Date exactly once, 7-bit headers, at most 40 MB of MIME, "
        "500 recipients and 500 attachments.",
        max_message_bytes=40 * 1024 * 1024,
        max_recipients=500,
        max_attachments=500,
    ),
    "ses": Profile(
        "ses",
        "workmail plus Amazon SES's once-only header list and its blocked attachment extensions.",
        max_message_bytes=40 * 1024 * 1024,
        max_recipients=500,
        max_attachments=500,
    ),
}

DEFAULT_PROFILE = "workmail"


def get_profile(profile: str | Profile) -> Profile:
    """The :class:`Profile` called ``profile`` (a Profile is returned as is)."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise UnknownProfileError(
            f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}"
        ) from None
