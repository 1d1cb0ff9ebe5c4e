"""Validation profiles: what a destination accepts, as data.

A profile is one :class:`Profile` entry: a name, the profile it builds on, the
severity overrides it makes (rule code -> severity, or ``None`` to switch a rule
off), the headers it treats as once-only or immutable, its quotas and the source
of every number.  Rules declare their severity under ``rfc`` and read the
profile's fields; no rule tests a profile name.  There is no global policy
object: pick a profile per call.  ``docs/profiles.md`` says how to add one.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal

from ._abnf import MAX_LINE_OCTETS
from ._lists import (
    GMAIL_BLOCKED_EXTENSIONS,
    IMMUTABLE_HEADERS,
    SES_BLOCKED_EXTENSIONS,
    SES_UNIQUE_HEADERS,
)
from .errors import UnknownProfileError
from .findings import SEVERITIES, Severity

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Profile", "get_profile"]

#: how a profile's ``max_message_bytes`` is measured: the raw MIME octets (headers
#: included), or the size of their base64 encoding without line breaks (what an API
#: that carries the message base64-encoded counts)
SizeMeasure = Literal["mime", "base64"]

_QUOTAS = (
    "max_message_bytes",
    "max_recipients",
    "max_attachments",
    "max_parts",
    "max_header_bytes",
    "max_line_octets",
)
#: fields whose value may carry a source in ``Profile.sources``
_SOURCED = frozenset(
    (*_QUOTAS, "once_only", "immutable", "blocked_extensions", "single_from", "overrides")
)
_RECIPIENT_FIELDS = ("to", "cc", "bcc")
_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_CODE = re.compile(r"MG\d{3}")


def _empty() -> Mapping[str, Any]:
    return types.MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Profile:
    """One destination: its base profile, severity overrides, header lists and quotas.

    Build a new one from an existing profile with :meth:`derive`.  Quotas are
    ``None`` where the destination sets none; ``sources`` maps a field name to
    where its value comes from (shown in ``docs/rules.md``).
    """

    name: str
    description: str
    #: largest message the service takes, measured as ``size_measure`` says
    max_message_bytes: int | None = None
    #: most recipients in ``recipient_fields``
    max_recipients: int | None = None
    #: most attachments (an attached message counts once)
    max_attachments: int | None = None
    _: KW_ONLY
    #: the profile this one was derived from (its fields are already merged in)
    base: str | None = None
    size_measure: SizeMeasure = "mime"
    #: the header fields whose addresses count as recipients (lower-case)
    recipient_fields: tuple[str, ...] = _RECIPIENT_FIELDS
    #: most MIME entities in the tree, the root and multipart containers included
    max_parts: int | None = None
    #: most bytes in the root header block, its final empty line excluded
    max_header_bytes: int | None = None
    #: longest line in octets, CRLF excluded (RFC 5322 section 2.1.1: 998; not lower)
    max_line_octets: int = MAX_LINE_OCTETS
    #: From must name exactly one mailbox
    single_from: bool = False
    #: root header fields allowed once, beyond RFC 5322's and RFC 2045's own (lower-case)
    once_only: frozenset[str] = frozenset()
    #: root header fields an edit must not change (compared with the original)
    immutable: tuple[str, ...] = ()
    #: attachment file extensions the destination refuses (lower-case, no dot)
    blocked_extensions: frozenset[str] = frozenset()
    #: rule code -> severity under this profile, or ``None``: the rule does not run
    overrides: Mapping[str, Severity | None] = field(default_factory=_empty)
    #: field name -> where its value comes from
    sources: Mapping[str, str] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        for name in ("name", "description"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"Profile.{name} must be a str")
        if _NAME.fullmatch(self.name) is None:
            raise ValueError(f"Profile.name must be kebab-case, not {self.name!r}")
        for name in _QUOTAS:
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise ValueError(f"Profile.{name} must be a positive int or None, not {value!r}")
        if self.max_line_octets < MAX_LINE_OCTETS:
            raise ValueError("Profile.max_line_octets cannot be below RFC 5322's 998")
        if self.size_measure not in ("mime", "base64"):
            raise ValueError(
                f"Profile.size_measure must be 'mime' or 'base64', not {self.size_measure!r}"
            )
        fields = tuple(f.lower() for f in self.recipient_fields)
        if not fields or not set(fields) <= set(_RECIPIENT_FIELDS):
            raise ValueError(f"Profile.recipient_fields must be some of {_RECIPIENT_FIELDS}")
        overrides = dict(self.overrides)
        for code, sev in overrides.items():
            if _CODE.fullmatch(code) is None:
                raise ValueError(f"Profile.overrides: {code!r} is not a rule code such as 'MG301'")
            if sev is not None and sev not in SEVERITIES:
                raise ValueError(f"Profile.overrides[{code!r}]: unknown severity {sev!r}")
        unknown = set(self.sources) - _SOURCED
        if unknown:
            raise ValueError(f"Profile.sources: no such field {sorted(unknown)[0]!r}")
        setattr_ = object.__setattr__
        setattr_(self, "recipient_fields", fields)
        setattr_(self, "once_only", frozenset(h.lower() for h in self.once_only))
        setattr_(self, "immutable", tuple(h.lower() for h in self.immutable))
        setattr_(self, "blocked_extensions", frozenset(e.lower() for e in self.blocked_extensions))
        setattr_(self, "overrides", types.MappingProxyType(overrides))
        setattr_(self, "sources", types.MappingProxyType(dict(self.sources)))

    def __hash__(self) -> int:
        return hash((self.name, self.base, self.max_message_bytes, tuple(self.overrides)))

    def derive(self, name: str, description: str, **changes: Any) -> Profile:
        """A profile built on this one: ``changes`` replace fields, except ``overrides``
        and ``sources``, which are merged into this profile's."""
        if "base" in changes:
            raise TypeError("derive() sets base itself: it is the profile derived from")
        overrides = {**self.overrides, **changes.pop("overrides", {})}
        sources = {**self.sources, **changes.pop("sources", {})}
        return dataclasses.replace(
            self,
            name=name,
            description=description,
            base=self.name,
            overrides=overrides,
            sources=sources,
            **changes,
        )

    def severity_of(self, code: str, default: Severity | None) -> Severity | None:
        """The severity of rule ``code`` here: the override, else the rule's ``default``."""
        return self.overrides.get(code, default)

    def measured_size(self, octets: int) -> int:
        """A message of ``octets`` MIME octets, measured the way this profile's service does."""
        return 4 * -(-octets // 3) if self.size_measure == "base64" else octets


_MB = 1024 * 1024
_WORKMAIL_QUOTAS = "WorkMail quotas (WorkMail administrator guide)"
_SES_QUOTAS = "SES quotas (docs.aws.amazon.com/ses/latest/dg/quotas.html)"
_SES_BLOCKED = "SES developer guide, unsupported attachment types"
_EXO = "Exchange Online limits (Exchange Online service description)"

#: RFC 5322, 2045-2049, 2047 and 2231 as written: the base of every other profile.
RFC = Profile(
    "rfc",
    "RFC 5322, RFC 2045-2049, RFC 2047 and RFC 2231 as written; no service quotas.",
    immutable=IMMUTABLE_HEADERS,
    sources={
        "max_line_octets": "RFC 5322 section 2.1.1; RFC 5321 section 4.5.3.1.6",
        "immutable": "trace, signature and originator fields a relay keeps (REFERENCE.md 2.6)",
    },
)
#: MIME that clients read two ways (a name, a type, a boundary, an entity outside the
#: delimiters): an error wherever a service's attachment filter must not be walked past
#: (docs/attachments.md); the rules themselves are warnings as plain RFC text
AMBIGUOUS_READINGS: Mapping[str, Severity | None] = dict.fromkeys(
    ("MG330", "MG331", "MG333", "MG334", "MG335"), "error"
)

WORKMAIL = RFC.derive(
    "workmail",
    "rfc plus what Amazon WorkMail documents for PutRawMessageContent: CRLF lines of at "
    "most 1,000 octets, From and Date exactly once, 7-bit headers, at most 40 MB of MIME, "
    "500 recipients and 500 attachments.",
    max_message_bytes=40 * _MB,
    max_recipients=500,
    max_attachments=500,
    blocked_extensions=SES_BLOCKED_EXTENSIONS,
    overrides={
        **AMBIGUOUS_READINGS,
        # immutable in transit and relayed as they are: a Lambda can only report them
        "MG206": "warning",
        "MG207": "warning",
        "MG210": "warning",
        # WorkMail relays through SES: 7-bit headers, MIME-Version, no binary
        "MG115": "error",
        "MG209": "error",
        "MG317": "error",
        "MG325": "warning",
        "MG404": "warning",
    },
    sources={
        "max_message_bytes": _WORKMAIL_QUOTAS + ": 40 MB as MIME (29 MB unencoded)",
        "max_recipients": _WORKMAIL_QUOTAS,
        "max_attachments": _WORKMAIL_QUOTAS,
        "blocked_extensions": _SES_BLOCKED + "; WorkMail RawMessageContent rule 2",
        "overrides": "WorkMail RawMessageContent rules 2, 3 and 6 (REFERENCE.md 2)",
    },
)
SES = RFC.derive(
    "ses",
    "Amazon SES v2 SendEmail with raw content, and SES SMTP: rfc plus 40 MB after base64, "
    "50 recipients (To, Cc and Bcc), 500 MIME parts, SES's once-only header list, 7-bit "
    "headers and the attachment types SES refuses.",
    max_message_bytes=40 * _MB,
    size_measure="base64",
    max_recipients=50,
    max_parts=500,
    once_only=SES_UNIQUE_HEADERS,
    blocked_extensions=SES_BLOCKED_EXTENSIONS,
    overrides={
        **AMBIGUOUS_READINGS,
        "MG115": "error",
        "MG117": "error",  # SES refuses 8-bit headers, even ones that arrived that way
        # SES SMTP offers no BINARYMIME; keep MIME-Version and 8-bit encoding as strict as
        # the WorkMail profile that relayed through SES
        "MG209": "error",
        "MG317": "error",
        "MG325": "warning",
        # SES sends a message's own DKIM-Signature on unchecked: a malformed one reaches
        # receivers as it is
        "MG602": "error",
        "MG603": "error",
        "MG604": "error",
        "MG605": "error",
    },
    sources={
        "max_message_bytes": _SES_QUOTAS + ": 40 MB per message after base64 encoding",
        "max_recipients": _SES_QUOTAS + ": 50 recipients per message (To, Cc and Bcc)",
        "max_parts": _SES_QUOTAS + ": 500 MIME parts",
        "once_only": "SES header fields (docs.aws.amazon.com/ses/latest/dg/header-fields.html)",
        "blocked_extensions": _SES_BLOCKED,
        "overrides": "SES: no SMTPUTF8, headers in 7-bit ASCII with RFC 2047 encoded-words "
        "(SES developer guide, REFERENCE.md 2); no BINARYMIME on SES SMTP (RFC 3030); "
        "manually added DKIM signatures are not validated (SES developer guide, manual DKIM "
        "signing)",
    },
)
SES_V1 = SES.derive(
    "ses-v1",
    "ses with SES v1 SendRawEmail's 10 MB limit (after base64).",
    max_message_bytes=10 * _MB,
    sources={
        "max_message_bytes": _SES_QUOTAS + ": 10 MB for SendRawEmail (v1) after base64; "
        "SES's rejection says 'Message length is more than 10485760 bytes long'",
    },
)
MAILMANAGER = RFC.derive(
    "mailmanager",
    "Amazon SES Mail Manager ingress and relay: RFC 5321/5322, at most 40 MB including "
    "headers and 100 recipients.",
    max_message_bytes=40 * _MB,
    max_recipients=100,
    overrides={**AMBIGUOUS_READINGS, "MG317": "error"},
    sources={
        "max_message_bytes": _SES_QUOTAS + ", Mail Manager: 40 MB per message including headers",
        "max_recipients": _SES_QUOTAS + ", Mail Manager: 100 recipients per message",
        "overrides": "RFC 5321 carries 7bit and 8bit only; binary needs BINARYMIME (RFC 3030)",
    },
)
GMAIL = RFC.derive(
    "gmail",
    "Gmail API users.messages.send: at most 35 MiB, exactly one From mailbox, a parsable "
    "To and none of the attachment types Gmail blocks.  Import and insert take larger "
    "messages (50 MiB in the discovery document, 150 MB in the import reference).",
    max_message_bytes=36_700_160,
    single_from=True,
    blocked_extensions=GMAIL_BLOCKED_EXTENSIONS,
    overrides=AMBIGUOUS_READINGS,
    sources={
        "overrides": "readings that disagree are refused so no filter is walked past "
        "(docs/attachments.md)",
        "max_message_bytes": "Gmail API discovery document, users.messages.send maxSize 35MB "
        "(36,700,160 bytes); import/insert: 50 MiB there, 150 MB in the users.messages.import "
        "reference",
        "single_from": "Gmail API errors 'Expected a single From header', 'Invalid From header'",
        "blocked_extensions": "Gmail Help, file types blocked in Gmail "
        "(support.google.com/mail/answer/6590)",
    },
)
GRAPH = RFC.derive(
    "graph",
    "Microsoft Graph sendMail or create message with a MIME body: the 4 MB request carries "
    "the message base64-encoded (about 3 MiB of MIME); Exchange Online's 500 recipients "
    "and 250 attachments.",
    max_message_bytes=4 * _MB,
    size_measure="base64",
    max_recipients=500,
    max_attachments=250,
    overrides=AMBIGUOUS_READINGS,
    sources={
        "overrides": "readings that disagree are refused so no filter is walked past "
        "(docs/attachments.md)",
        "max_message_bytes": "Microsoft Graph request limit of 4 MB with the MIME base64-"
        "encoded, so 3 MiB of MIME (a Microsoft Q&A answer, not a limits page; a user saw "
        "refusals above about 2,240 KB); Exchange Online's own maximum is 150 MB",
        "max_recipients": _EXO + ": 500 recipients per message",
        "max_attachments": _EXO + ": 250 attachments per message",
    },
)
IMAP = RFC.derive(
    "imap",
    "IMAP APPEND and JMAP import without BINARY or UTF8=APPEND: no NUL, CRLF only, no 8-bit "
    "header bytes, header names of printable ASCII, binary parts refused.",
    max_header_bytes=512 * 1024,
    overrides={**AMBIGUOUS_READINGS, "MG115": "error", "MG117": "error", "MG317": "error"},
    sources={
        "max_header_bytes": "Stalwart's default header limit (512 KiB); RFC 3501 sets none",
        "overrides": "8-bit headers need UTF8=APPEND (RFC 6855; RFC 5738 erratum 2075); NUL "
        "and binary need literal8 (RFC 3516); Cyrus/Fastmail reject bare newlines and "
        "header names with bytes up to space",
    },
)

PROFILES: dict[str, Profile] = {
    p.name: p for p in (RFC, WORKMAIL, SES, SES_V1, MAILMANAGER, GMAIL, GRAPH, IMAP)
}

DEFAULT_PROFILE = "workmail"


def get_profile(profile: str | Profile) -> Profile:
    """The :class:`Profile` called ``profile`` (a Profile is returned as is)."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except (KeyError, TypeError):
        raise UnknownProfileError(
            f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}"
        ) from None
