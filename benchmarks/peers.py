"""The operations, each for mimeguard and for the peers' closest equivalent.

An operation is a function ``bytes -> object``.  A peer that raises counts as
"raised" for that input; a mimeguard edit that raises
:class:`mimeguard.InvalidMessageError` (the result would not be clean) counts
as "refused", which is the documented outcome rather than a crash.

Peers:

- ``stdlib compat32``: ``email.message_from_bytes`` with the legacy policy;
- ``stdlib default``: the same with ``email.policy.default`` (parsed headers,
  ``get_content``);
- ``stdlib SMTP (AWS sample)``: the edit recipe of AWS's WorkMail "update email"
  sample Lambda: ``policy.SMTP.clone(refold_source="none")``, walk, rewrite the
  non-attachment text/plain and text/html parts with ``get_content`` /
  ``set_content`` passing the part's charset and transfer encoding back,
  ``replace_header("Subject", …)``, ``as_bytes()``.  (The sample edits HTML with
  BeautifulSoup; here a string insert before ``</body>`` does the same job, and
  the sample's single-part branch, which refers to an undefined variable, is
  written as intended.)
- ``flanker``: ``mime.from_string``, walk, ``part.body`` (decoded), changed by
  assigning ``part.body`` / headers, ``to_string()``.

mimeguard's edits run through ``Editor(data, repair=True)``, the way a WorkMail
Lambda edits inbound mail (most real mail breaks a rule; without ``repair`` the
edit is refused rather than producing a message WorkMail rejects).  The
pipeline chains the three edits in one ``Editor``; the peers do the same three
changes in one parse.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mimeguard

__all__ = [
    "DISCLAIMER",
    "OPERATIONS",
    "Operation",
    "edits_available",
    "flanker_available",
]

logging.getLogger("flanker").setLevel(logging.CRITICAL + 1)
try:  # flanker is a test extra; the suite runs without it
    from flanker import mime as _flanker_mime
    from flanker.mime import create as _flanker_create
except ImportError:  # pragma: no cover - depends on the environment
    _flanker_mime = None
    _flanker_create = None

DISCLAIMER = (
    "CAUTION: this message came from outside the organisation. "
    "Do not click links or open attachments unless you trust the sender."
)
DISCLAIMER_HTML = (
    '<p style="color:#a00"><b>CAUTION:</b> this message came from outside the organisation. '
    "Do not click links or open attachments unless you trust the sender.</p>"
)
SUBJECT_PREFIX = "[EXTERNAL] "
NOTICE = 'The attachment "{filename}" was removed.'

Fn = Callable[[bytes], object]

MG = "mimeguard"
COMPAT32 = "stdlib compat32"
DEFAULT = "stdlib default"
SMTP = "stdlib SMTP (AWS sample)"
FLANKER = "flanker"


@dataclass(frozen=True, slots=True)
class Operation:
    """One benchmarked operation: what it is, and the function per library."""

    name: str
    title: str
    #: library name -> function; mimeguard first
    libraries: dict[str, Fn]
    #: True when the functions return bytes (round trip and edits)
    produces_bytes: bool = False


def flanker_available() -> bool:
    return _flanker_mime is not None


def edits_available() -> bool:
    """True once ``mimeguard.edit`` has landed (the suite runs before it too)."""
    return getattr(mimeguard, "add_disclaimer", None) is not None


# -- parse / validate --------------------------------------------------------------------------


def mg_parse(data: bytes) -> object:
    return mimeguard.parse(data)


def mg_validate(data: bytes) -> object:
    return mimeguard.validate(data, profile="workmail")


def compat32_parse(data: bytes) -> object:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def default_parse(data: bytes) -> object:
    return email.message_from_bytes(data, policy=email.policy.default)


def compat32_check(data: bytes) -> object:
    """Parse, walk, decode every leaf payload (what compat32 offers instead of validation)."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    n = 0
    for part in msg.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            n += len(payload) if isinstance(payload, bytes) else 0
    return n


def default_check(data: bytes) -> object:
    """Parse, read every header field as a parsed header object, ``get_content`` every leaf.

    Every part is visited even after one raised, then the first error is raised.
    """
    msg = email.message_from_bytes(data, policy=email.policy.default)
    errors: list[Exception] = []
    n = 0
    for part in msg.walk():
        try:
            for _name, value in part.items():
                n += len(str(value))
            if not part.is_multipart():
                content = part.get_content()
                n += len(content) if isinstance(content, (str, bytes)) else 0
        except Exception as exc:  # a peer's failure is what we count
            errors.append(exc)
    if errors:
        raise errors[0]
    return n


def flanker_parse(data: bytes) -> object:
    assert _flanker_mime is not None
    return _flanker_mime.from_string(data)


def flanker_check(data: bytes) -> object:
    """``from_string``, walk, decode every leaf body."""
    assert _flanker_mime is not None
    msg = _flanker_mime.from_string(data)
    n = 0
    errors: list[Exception] = []
    for part in msg.walk(with_self=True):
        if part.content_type.is_multipart():
            continue
        try:
            body = part.body
            n += len(body) if isinstance(body, (str, bytes)) else 0
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    return n


# -- round trip --------------------------------------------------------------------------------


def mg_round_trip(data: bytes) -> bytes:
    return mimeguard.parse(data).to_bytes()


def compat32_round_trip(data: bytes) -> bytes:
    return email.message_from_bytes(data, policy=email.policy.compat32).as_bytes()


_SMTP_POLICY = email.policy.SMTP.clone(refold_source="none")


def smtp_round_trip(data: bytes) -> bytes:
    return email.message_from_bytes(data, policy=_SMTP_POLICY).as_bytes()


def flanker_round_trip(data: bytes) -> bytes:
    assert _flanker_mime is not None
    out = _flanker_mime.from_string(data).to_string()
    return out.encode("utf-8", "surrogateescape") if isinstance(out, str) else out


# -- edits: mimeguard --------------------------------------------------------------------------


def _is_attachment(part: Any) -> bool:
    """The parts every library strips: those with Content-Disposition: attachment."""
    return bool(part.disposition == "attachment")


def _editor(data: bytes) -> Any:
    """mimeguard's editor as a WorkMail Lambda uses it on inbound mail: repair first."""
    return mimeguard.Editor(data, repair=True)


def mg_disclaimer(data: bytes) -> bytes:
    out: bytes = _editor(data).add_disclaimer(text=DISCLAIMER, html=DISCLAIMER_HTML).to_bytes()
    return out


def mg_add_disclaimer(data: bytes) -> bytes:
    """The one-call function, without repair (what the edit-cost target names)."""
    return mimeguard.add_disclaimer(data, text=DISCLAIMER, html=DISCLAIMER_HTML)


def mg_subject(data: bytes) -> bytes:
    out: bytes = _editor(data).rewrite_subject(prefix=SUBJECT_PREFIX).to_bytes()
    return out


def mg_strip(data: bytes) -> bytes:
    out: bytes = _editor(data).strip_attachments(match=_is_attachment).to_bytes()
    return out


def mg_pipeline(data: bytes) -> bytes:
    out: bytes = (
        _editor(data)
        .add_disclaimer(text=DISCLAIMER, html=DISCLAIMER_HTML)
        .rewrite_subject(prefix=SUBJECT_PREFIX)
        .strip_attachments(match=_is_attachment)
        .to_bytes()
    )
    return out


# -- edits: stdlib, the AWS sample's recipe ----------------------------------------------------

_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


def _html_with(html: str) -> str:
    m = _BODY_CLOSE.search(html)
    if m is None:
        return html + DISCLAIMER_HTML
    return html[: m.start()] + DISCLAIMER_HTML + html[m.start() :]


def _smtp_disclaim(msg: email.message.EmailMessage) -> None:
    parts = list(msg.walk()) if msg.is_multipart() else [msg]
    for part in parts:
        ctype = part.get_content_type()
        disposition = str(part.get_content_disposition())
        if "attachment" in disposition or ctype not in ("text/plain", "text/html"):
            continue
        charset = part.get_content_charset()
        cte = part["Content-Transfer-Encoding"]
        cte = cte.lower() if cte is not None else None
        content = part.get_content()
        if ctype == "text/plain":
            part.set_content(content + "\n\n" + DISCLAIMER, "plain", charset=charset, cte=cte)
        else:
            assert charset is not None, "text/html without a charset"  # the sample's .lower()
            if charset.lower() == "utf-8" and cte == "7bit":
                cte = "quoted-printable"  # the sample's workaround (its issue 17)
            part.set_content(_html_with(content).encode(charset), "text", "html", cte=cte)
            part.set_charset(charset)


def _smtp_subject(msg: email.message.EmailMessage) -> None:
    subject = msg["Subject"]
    msg.replace_header("Subject", f"{SUBJECT_PREFIX}{subject}")


def _smtp_strip(msg: email.message.EmailMessage) -> None:
    for part in msg.walk():
        if not part.is_multipart():
            continue
        payload = part.get_payload()
        assert isinstance(payload, list)
        for i, child in enumerate(payload):
            if child.get_content_disposition() == "attachment":
                notice = email.message.EmailMessage(policy=_SMTP_POLICY)
                notice.set_content(NOTICE.format(filename=child.get_filename()))
                payload[i] = notice


def _smtp(data: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(data, policy=_SMTP_POLICY)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def smtp_disclaimer(data: bytes) -> bytes:
    msg = _smtp(data)
    _smtp_disclaim(msg)
    return msg.as_bytes()


def smtp_subject(data: bytes) -> bytes:
    msg = _smtp(data)
    _smtp_subject(msg)
    return msg.as_bytes()


def smtp_strip(data: bytes) -> bytes:
    msg = _smtp(data)
    _smtp_strip(msg)
    return msg.as_bytes()


def smtp_pipeline(data: bytes) -> bytes:
    msg = _smtp(data)
    _smtp_disclaim(msg)
    _smtp_subject(msg)
    _smtp_strip(msg)
    return msg.as_bytes()


# -- edits: flanker ----------------------------------------------------------------------------


def _flanker_out(msg: Any) -> bytes:
    out = msg.to_string()
    return out.encode("utf-8", "surrogateescape") if isinstance(out, str) else bytes(out)


def _flanker_disclaim(msg: Any) -> None:
    for part in msg.walk(with_self=True):
        ctype = part.content_type
        if ctype.is_multipart() or part.is_attachment():
            continue
        if ctype.value == "text/plain":
            part.body = part.body + "\n\n" + DISCLAIMER
        elif ctype.value == "text/html":
            part.body = _html_with(part.body)


def _flanker_subject(msg: Any) -> None:
    msg.headers["Subject"] = SUBJECT_PREFIX + (msg.subject or "")


def _flanker_strip(msg: Any) -> None:
    assert _flanker_create is not None
    for part in msg.walk(with_self=True):
        if not part.content_type.is_multipart():
            continue
        for i, child in enumerate(part.parts):
            if child.is_attachment():
                name = child.detected_file_name
                part.parts[i] = _flanker_create.text("plain", NOTICE.format(filename=name))


def _flanker_edit(data: bytes, *edits: Callable[[Any], None]) -> bytes:
    """Parse with flanker, apply ``edits`` to the one message, write it out."""
    assert _flanker_mime is not None
    msg = _flanker_mime.from_string(data)
    for edit in edits:
        edit(msg)
    return _flanker_out(msg)


def flanker_disclaimer(data: bytes) -> bytes:
    return _flanker_edit(data, _flanker_disclaim)


def flanker_subject(data: bytes) -> bytes:
    return _flanker_edit(data, _flanker_subject)


def flanker_strip(data: bytes) -> bytes:
    return _flanker_edit(data, _flanker_strip)


def flanker_pipeline(data: bytes) -> bytes:
    return _flanker_edit(data, _flanker_disclaim, _flanker_subject, _flanker_strip)


# -- the table ---------------------------------------------------------------------------------


def _with_flanker(libs: dict[str, Fn], fn: Fn) -> dict[str, Fn]:
    if flanker_available():
        libs[FLANKER] = fn
    return libs


def _ops() -> list[Operation]:
    ops = [
        Operation(
            "parse",
            "parse",
            _with_flanker(
                {MG: mg_parse, COMPAT32: compat32_parse, DEFAULT: default_parse}, flanker_parse
            ),
        ),
        Operation(
            "validate",
            "parse + validate (peers: parse + walk + decode)",
            _with_flanker(
                {MG: mg_validate, COMPAT32: compat32_check, DEFAULT: default_check}, flanker_check
            ),
        ),
        Operation(
            "round_trip",
            "round trip, unchanged",
            _with_flanker(
                {MG: mg_round_trip, COMPAT32: compat32_round_trip, SMTP: smtp_round_trip},
                flanker_round_trip,
            ),
            produces_bytes=True,
        ),
    ]
    if edits_available():
        for name, title, mg, smtp, flk in (
            ("disclaimer", "add disclaimer", mg_disclaimer, smtp_disclaimer, flanker_disclaimer),
            ("subject", "rewrite subject", mg_subject, smtp_subject, flanker_subject),
            ("strip", "strip attachments", mg_strip, smtp_strip, flanker_strip),
            ("pipeline", "all three edits at once", mg_pipeline, smtp_pipeline, flanker_pipeline),
        ):
            ops.append(Operation(name, title, _with_flanker({MG: mg, SMTP: smtp}, flk), True))
    return ops


OPERATIONS: list[Operation] = _ops()


def refused(exc: BaseException) -> bool:
    """True when mimeguard declined an edit on purpose (the result would not be clean)."""
    return isinstance(exc, mimeguard.MimeguardError)
