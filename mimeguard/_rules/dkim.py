"""DKIM-Signature fields read offline (RFC 6376): tag lists and body hashes, no DNS."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

from .. import _dkim
from .._registry import Context, Hit, rule
from ..findings import Severity
from ..message import Message
from ._fixture import build

__all__: list[str] = []

_BODY = b"Hello Bob,\r\n\r\nthe report is attached.\r\n"
_BH = base64.b64encode(hashlib.sha256(_BODY).digest())
_B = b"b=dGhlIHNpZ25hdHVyZSBpcyBub3QgY2hlY2tlZCBvZmZsaW5l"


def _signed(tags: bytes, body: bytes = _BODY) -> bytes:
    return build(b"DKIM-Signature: " + tags, body=body)


_GOOD = b"v=1; a=rsa-sha256; c=simple/simple; d=example.com; s=sel; h=from:subject; "

#: a warning under rfc; the ses profile makes it an error (SES sends the signature on
#: unchecked: "SES doesn't validate DKIM signatures that you manually add")
_MALFORMED: Severity = "warning"
_MALFORMED_SOURCE = (
    "RFC 6376 section 3.2 and 3.5; SES developer guide, manual DKIM signing "
    "(send-email-authentication-dkim-manual)"
)
_MALFORMED_FIX = "Not fixable: the signer must send a well-formed signature."


def _signatures(ctx: Context) -> list[tuple[Message, list[_dkim.Signature]]]:
    """The DKIM-Signature fields of the message and of each attached message, read once."""
    cached = ctx._dkim
    if cached is None:
        cached = ctx._dkim = [(m, _dkim.signatures(m)) for m in ctx.messages]
    return cached


def _problems(ctx: Context, name: str) -> Iterator[Hit]:
    for msg, sigs in _signatures(ctx):
        for sig in sigs:
            for p in sig.problems:
                if p.name == name:
                    at = sig.field.value_start + p.offset
                    end = at if p.end is None else sig.field.value_start + p.end
                    yield msg, at, f"DKIM-Signature: {p.message}", end


@rule(
    "MG601",
    "dkim-body-hash-mismatch",
    summary="A DKIM-Signature's body hash (bh=) does not match the body: the message was "
    "altered after signing (in transit, by a gateway, or in a fixture), and receivers "
    "report dkim=fail (body hash did not verify) for that domain.",
    severity="warning",
    source="RFC 6376 section 3.7 and 6.1.3",
    fixture=_signed(_GOOD + b"bh=" + _BH + b"; " + _B, body=_BODY + b"-- \r\nDisclaimer\r\n"),
    fix="Not fixable: edit before signing, or ARC-seal the edited message (mimeguard.arc_seal).",
)
def dkim_body_hash_mismatch(ctx: Context) -> Iterator[Hit]:
    for msg, sigs in _signatures(ctx):
        usable = [s for s in sigs if s.usable]
        if not usable:
            continue
        # the line-ending scan other rules share already counted bare LFs
        crlf_only = msg.buffer is ctx.msg.buffer and ctx.stats.lf == 0
        matches = _dkim.body_matches(msg, usable, crlf_only=crlf_only)
        for sig, ok in zip(usable, matches, strict=True):
            if not ok:
                short = "" if sig.length is None else f" (l={sig.length})"
                yield (
                    msg,
                    sig.field.start,
                    f"body hash of the DKIM signature by {sig.domain or '(no d=)'} "
                    f"(s={sig.selector}){short} does not match the body",
                )


@rule(
    "MG602",
    "dkim-tag-syntax",
    summary="A DKIM-Signature tag-spec is not tag-name = tag-value: no '=', a bad tag "
    "name, a byte outside %x21-3A / %x3C-7E in a value, or an empty tag-spec.",
    severity=_MALFORMED,
    source=_MALFORMED_SOURCE,
    fixture=_signed(_GOOD + b"bh=" + _BH + b"; " + _B + b"; 9x=1; junk"),
    fix=_MALFORMED_FIX,
)
def dkim_tag_syntax(ctx: Context) -> Iterator[Hit]:
    yield from _problems(ctx, "dkim-tag-syntax")


@rule(
    "MG603",
    "dkim-duplicate-tag",
    summary="A DKIM-Signature has the same tag twice, which RFC 6376 forbids (verifiers "
    "fail the signature).",
    severity=_MALFORMED,
    source=_MALFORMED_SOURCE,
    fixture=_signed(_GOOD + b"bh=" + _BH + b"; " + _B + b"; d=example.org"),
    fix=_MALFORMED_FIX,
)
def dkim_duplicate_tag(ctx: Context) -> Iterator[Hit]:
    yield from _problems(ctx, "dkim-duplicate-tag")


@rule(
    "MG604",
    "dkim-missing-tag",
    summary="A DKIM-Signature lacks one of the required tags v=, a=, b=, bh=, d=, h=, s=.",
    severity=_MALFORMED,
    source=_MALFORMED_SOURCE,
    fixture=_signed(b"v=1; a=rsa-sha256; d=example.com; h=from; " + _B),
    fix=_MALFORMED_FIX,
)
def dkim_missing_tag(ctx: Context) -> Iterator[Hit]:
    yield from _problems(ctx, "dkim-missing-tag")


@rule(
    "MG605",
    "dkim-bad-tag-value",
    summary="A DKIM-Signature tag has a value verifiers refuse: v= other than 1, an unknown "
    "a= or c=, bh= or b= not base64, h= without From, l= not 1 to 76 digits, an empty d=.",
    severity=_MALFORMED,
    source=_MALFORMED_SOURCE,
    fixture=_signed(b"v=1; a=rsa-md5; d=example.com; s=sel; h=subject; bh=@@; " + _B),
    fix=_MALFORMED_FIX,
)
def dkim_bad_tag_value(ctx: Context) -> Iterator[Hit]:
    yield from _problems(ctx, "dkim-bad-tag-value")


@rule(
    "MG606",
    "dkim-body-length",
    summary="A DKIM-Signature with l= signs only the first octets of the body: anyone can "
    "append content that still verifies, and receivers may ignore such signatures.",
    severity="info",
    source="RFC 6376 section 3.5 (l=) and 8.2",
    fixture=_signed(_GOOD + b"l=10; bh=" + _BH + b"; " + _B),
    fix="Reported only: the signer chose l=.",
)
def dkim_body_length(ctx: Context) -> Iterator[Hit]:
    for msg, sigs in _signatures(ctx):
        for sig in sigs:
            if sig.length is not None:
                yield (
                    msg,
                    sig.field.start,
                    f"the DKIM signature by {sig.domain or '(no d=)'} signs only the first "
                    f"{sig.length:,} octets of the body (l=)",
                )
