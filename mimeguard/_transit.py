"""What both gateways (``mimeguard.ses`` and ``mimeguard.gateway``) do to a message in transit.

The loop mark, the trace fields a relay must drop, the recipe with its final
check, and the outcome the recipe's failure policy leads to.  Sans-IO: bytes in,
a :class:`Applied` record out; the callers own S3, SES and sockets.

The loop mark is ``X-Mimeguard-Gateway: id=<gateway id>; mac=<hex>``, prepended
as the first header line.  The MAC (HMAC-SHA256, truncated to 128 bits) covers
the gateway id, the root MIME fields (``MIME-Version`` and ``Content-*``) and
the body, so a mark copied onto another message does not verify: a sender
cannot walk past the attachment filter by adding the header.  Without a
configured secret the key is random per process (the mark then only protects
within one process; it is never trusted across processes).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ._parser import parse
from .edit import Change
from .errors import InvalidMessageError, SignedMessageError
from .findings import Report
from .message import Message
from .recipe import ConfigurationError, Recipe, _edit_and_check, final_report

__all__ = [
    "MARK_FIELD",
    "Applied",
    "apply_recipe",
    "drop_fields",
    "is_marked",
    "mark",
    "mark_key",
    "safe_envelope_from",
]

#: the header field that marks a message a gateway has already processed
MARK_FIELD = "X-Mimeguard-Gateway"
_MARK_LNAME = MARK_FIELD.lower()
_MARK_VALUE = re.compile(r"id=([A-Za-z0-9._:-]{1,64});\s*mac=([0-9a-f]{32})")
_GATEWAY_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_PROCESS_KEY = os.urandom(32)

Result = Literal["edited", "unchanged", "skipped", "invalid", "failed", "not-edited"]


def mark_key(secret: str | bytes | None) -> bytes:
    """The HMAC key for ``secret``; a random per-process key when there is none."""
    if secret is None or secret == "" or secret == b"":
        return _PROCESS_KEY
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hashlib.sha256(b"mimeguard-gateway-mark\0" + raw).digest()


def check_gateway_id(gateway_id: str) -> str:
    if not isinstance(gateway_id, str) or not _GATEWAY_ID.fullmatch(gateway_id):
        raise ValueError(
            f"gateway id must be 1-64 characters of letters, digits, '.', '_', ':' or '-', "
            f"not {gateway_id!r}"
        )
    return gateway_id


def _mac(msg: Message, gateway_id: str, key: bytes) -> str:
    h = hmac.new(key, gateway_id.encode("ascii") + b"\0", hashlib.sha256)
    for hf in msg.headers:
        if hf.lname == "mime-version" or hf.lname.startswith("content-"):
            # the unfolded value: a relay that refolds a line does not break the mark
            h.update(hf.lname.encode("ascii", "replace") + b":" + hf.value.encode() + b"\0")
    h.update(memoryview(msg.buffer)[msg.body_start :])
    return h.hexdigest()[:32]


def _unmarked(data: bytes, msg: Message) -> Message:
    """The parse of ``data`` (parsed as ``msg``) without its mark fields: ``msg`` itself
    when it has none, so a message is parsed again only when a mark is cut out."""
    rest = _drop(data, msg, {_MARK_LNAME})
    return msg if rest is data else parse(rest)


def mark(data: bytes, *, gateway_id: str, key: bytes) -> bytes:
    """``data`` with the loop mark prepended (any earlier mark of any gateway removed)."""
    check_gateway_id(gateway_id)
    rest = _unmarked(data, parse(data))
    line = f"{MARK_FIELD}: id={gateway_id}; mac={_mac(rest, gateway_id, key)}\r\n"
    return line.encode("ascii") + rest.buffer


def is_marked(data: bytes, *, gateway_id: str, key: bytes) -> bool:
    """True when ``data`` carries a mark of ``gateway_id`` that verifies with ``key``."""
    msg = parse(data)
    marks = [hf for hf in msg.headers if hf.lname == _MARK_LNAME]
    if not marks:
        return False
    expected = _mac(_unmarked(data, msg), gateway_id, key)
    for hf in marks:
        m = _MARK_VALUE.fullmatch(hf.value)
        if m and m.group(1) == gateway_id and hmac.compare_digest(m.group(2), expected):
            return True
    return False


def drop_fields(data: bytes, names: Iterable[str]) -> bytes:
    """``data`` without the root header fields called ``names``; every other byte kept."""
    return _drop(data, parse(data), {n.lower() for n in names})


def _drop(data: bytes, msg: Message, wanted: set[str]) -> bytes:
    cuts = [(hf.start, hf.end) for hf in msg.headers if hf.lname in wanted]
    if not cuts:
        return data
    out = bytearray()
    pos = 0
    for start, end in cuts:
        out += data[pos:start]
        pos = end
    out += data[pos:]
    return bytes(out)


def safe_envelope_from(address: str | None) -> str | None:
    """The envelope sender when repair may write it into a From field (7-bit, with '@')."""
    if not address:
        return None
    address = address.strip().strip("<>")
    if address.isascii() and address.isprintable() and "@" in address and " " not in address:
        return address
    return None


@dataclass(frozen=True, slots=True)
class Applied:
    """What the recipe did to one message.

    ``result``: ``edited`` (``data`` is the new message and passed the final
    check), ``unchanged`` (nothing to change), ``skipped`` (signed or
    encrypted parts left alone), ``not-edited`` (the recipe has no edit),
    ``invalid`` (the message cannot be made acceptable under the profile) or
    ``failed`` (the edit raised: an internal error, never the sender's fault).
    """

    result: Result
    data: bytes
    report: Report | None = None
    changes: tuple[Change, ...] = ()
    detail: str = ""
    traceback: str | None = None
    #: d= domains of the DKIM signatures the edit broke (EditResult.broken_signatures)
    broken_signatures: tuple[str, ...] = ()
    #: for a recipe that seals: whether ``data`` carries our ARC set, and why not
    sealed: bool | None = None
    seal_note: str = ""

    @property
    def acceptable(self) -> bool:
        """True when ``data`` may be sent on."""
        return self.result in ("edited", "unchanged", "skipped", "not-edited")


def apply_recipe(
    data: bytes, recipe: Recipe, *, profile: str, envelope_from: str | None = None
) -> Applied:
    """Run ``recipe`` on ``data`` and check the result under ``profile`` against ``data``.

    Never raises for a bad message (``invalid``) nor for a bug (``failed``).
    """
    if not (recipe.has_edits or recipe.repair):
        report = final_report(data, data, profile)
        if not report.ok:
            return Applied("invalid", data, report, detail="the message would not be accepted")
        return Applied("not-edited", data, report, detail="the recipe has no edit")
    try:
        result, report = _edit_and_check(
            recipe, data, profile=profile, envelope_from=safe_envelope_from(envelope_from)
        )
        out, changes = result.data, result.changes
    except InvalidMessageError as exc:
        return Applied("invalid", data, exc.report, detail=str(exc.args[0] if exc.args else exc))
    except SignedMessageError as exc:
        return Applied("skipped", data, detail=str(exc))
    except Exception as exc:
        return Applied(
            "failed",
            data,
            detail=f"the edit raised {type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc))[-4000:],
        )
    if not report.ok:
        return Applied(
            "invalid", out, report, changes, detail="the edited message would not be accepted"
        )
    if out == data:
        skipped = any(c.kind == "skipped" for c in changes)
        return Applied("skipped" if skipped else "unchanged", data, report, changes)
    broken = result.broken_signatures
    if not recipe.seals:
        return Applied("edited", out, report, changes, broken_signatures=broken)
    try:
        sealed, note = recipe.seal_edited(out, data, profile=profile)
    except ConfigurationError as exc:  # the deployment is wrong: not the sender's fault
        return Applied("failed", data, report, changes, detail=str(exc), broken_signatures=broken)
    return Applied(
        "edited", sealed, report, changes, broken_signatures=broken,
        sealed=sealed is not out, seal_note=note,
    )  # fmt: skip
