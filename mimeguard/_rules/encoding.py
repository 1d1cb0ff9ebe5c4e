"""Transfer-encoding and charset rules (RFC 2045 section 6, RFC 2046 section 4.1)."""

from __future__ import annotations

import binascii
import codecs
from collections.abc import Iterator

from .. import _abnf as g
from .._registry import Context, Hit, rule
from .._rfc2047 import lookup_charset
from .._scan import ascii_span, base64_body, first_line_over
from .._spans import eight_bit_run, line_end, value_span
from ..message import Part
from ._fixture import TEXT_PART, build, multipart

__all__: list[str] = []

KNOWN_ENCODINGS = frozenset({"7bit", "8bit", "binary", "quoted-printable", "base64"})
_IDENTITY = frozenset({"7bit", "8bit", "binary"})


@rule(
    "MG313",
    "unknown-transfer-encoding",
    scope="part",
    summary="Content-Transfer-Encoding is not 7bit, 8bit, binary, quoted-printable or base64.",
    severity="error",
    fixable=True,
    source="RFC 2045 section 6.1 (x-token encodings are private; none is portable)",
    fixture=build(mime=(b"Content-Type: text/plain", b"Content-Transfer-Encoding: 7-bit")),
    fix="Misspelled encodings are read as what they mean: identity ones (7-bit, plain, "
    "none, …) are relabelled (and the part re-encoded when it holds 8-bit bytes), "
    "quoted_printable, b64 and the like relabelled, x-uuencode bodies uudecoded "
    "into base64; other x- encodings are not fixable.",
)
def unknown_transfer_encoding(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.transfer_encoding not in KNOWN_ENCODINGS:
            f = part.header("content-transfer-encoding")
            a, b = (part.start, part.start) if f is None else value_span(f)
            yield (
                part,
                a,
                f"unknown Content-Transfer-Encoding {part.transfer_encoding[:40]!r}",
                b,
            )


@rule(
    "MG314",
    "multipart-encoded",
    scope="part",
    summary="A multipart has a Content-Transfer-Encoding other than 7bit, 8bit or binary.",
    severity="error",
    fixable=True,
    source="RFC 2045 section 6.4",
    fixture=multipart(TEXT_PART, extra=(b"Content-Transfer-Encoding: base64",)),
    fix="The encoding field is set to 7bit (the body was never really encoded).",
)
def multipart_encoded(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.is_multipart and part.transfer_encoding not in _IDENTITY:
            f = part.header("content-transfer-encoding")
            a, b = (part.start, part.start) if f is None else value_span(f)
            yield (
                part,
                a,
                f"{part.mime_type} declares Content-Transfer-Encoding "
                f"{part.transfer_encoding[:40]!r}",
                b,
            )


@rule(
    "MG315",
    "message-encoded",
    scope="part",
    summary="An attached message/rfc822 is base64 or quoted-printable encoded.",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.2.1 (only 7bit, 8bit or binary)",
    fixture=multipart(
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + binascii.b2a_base64(build()).rstrip()
        + b"\r\n"
    ),
    fix="The attached message is decoded and labelled 7bit or 8bit (lines over 998 make it "
    "application/octet-stream in base64 instead).",
)
def message_encoded(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.is_message and part.transfer_encoding not in _IDENTITY | {""}:
            yield (
                part,
                part.start,
                (f"{part.mime_type} is {part.transfer_encoding}-encoded; it must be 7bit or 8bit"),
            )


@rule(
    "MG316",
    "eight-bit-in-7bit",
    scope="part",
    summary="A part labelled 7bit (or with no Content-Transfer-Encoding) holds 8-bit bytes.",
    severity="error",
    fixable=True,
    source="RFC 2045 sections 2.7 and 6.2",
    fixture=build(body="Gr\u00fc\u00dfe\r\n".encode()),
    fix="The part is re-encoded as quoted-printable (text) or base64 and relabelled.",
)
def eight_bit_in_7bit(ctx: Context) -> Iterator[Hit]:
    if ctx.ascii:
        return
    for part in ctx.leaves:
        if part.transfer_encoding == "7bit":
            m = g.EIGHT_BIT.search(part.buffer, part.body_start, part.body_end)
            if m is not None:
                end = eight_bit_run(part.buffer, m.start(), part.body_end)
                yield part, m.start(), "8-bit bytes in a 7bit part", end


@rule(
    "MG317",
    "binary-transfer-encoding",
    scope="part",
    summary="A part uses the binary transfer encoding, which SMTP cannot carry without BINARYMIME.",
    severity="warning",
    fixable=True,
    source="RFC 2045 section 6.2; RFC 3030",
    fixture=build(
        mime=(b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: binary")
    ),
    fix="The part is re-encoded as base64.",
)
def binary_transfer_encoding(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.transfer_encoding == "binary":
            yield part, part.start, "binary transfer encoding"


@rule(
    "MG318",
    "invalid-base64",
    scope="part",
    summary="A base64 body holds characters outside the alphabet, wrong padding or a length "
    "that is not a multiple of 4.",
    severity="error",
    fixable=True,
    source="RFC 2045 section 6.8",
    fixture=build(
        body=b"SGVsbG8*gd29ybGQ\r\n",
        mime=(b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64"),
    ),
    fix="Re-encoded from what decodes.",
)
def invalid_base64(ctx: Context) -> Iterator[Hit]:
    for part in ctx.leaves:
        if part.transfer_encoding == "base64":
            problem = ctx.base64_body(part).problem
            if problem is not None:
                yield part, problem[0], problem[1]


def base64_problem(buf: bytes, start: int, end: int) -> tuple[int, str] | None:
    """Why ``buf[start:end]`` is not valid base64 (RFC 2045 section 6.8), or None."""
    return base64_body(buf, start, end).problem


@rule(
    "MG319",
    "invalid-quoted-printable",
    scope="part",
    summary="A quoted-printable body holds '=' not followed by two hex digits or a line break, "
    "or raw 8-bit bytes.",
    severity="warning",
    fixable=True,
    source="RFC 2045 section 6.7",
    fixture=build(
        body=b"100% =ZZ sure\r\n",
        mime=(b"Content-Type: text/plain", b"Content-Transfer-Encoding: quoted-printable"),
    ),
    fix="Re-encoded from what decodes (bad escapes are kept as literal text).",
)
def invalid_quoted_printable(ctx: Context) -> Iterator[Hit]:
    for part in ctx.leaves:
        if part.transfer_encoding != "quoted-printable":
            continue
        buf, bs, be = part.buffer, part.body_start, part.body_end
        m = g.QP_BAD_ESCAPE.search(buf, bs, be)
        if m is not None:
            end = min(m.start() + 3, line_end(buf, m.start(), be))
            yield part, m.start(), f"bad escape {buf[m.start() : m.start() + 3]!r}", end
        m = None if ctx.ascii else g.EIGHT_BIT.search(buf, bs, be)
        if m is not None:
            end = eight_bit_run(buf, m.start(), be)
            yield part, m.start(), "raw 8-bit bytes in a quoted-printable body", end


@rule(
    "MG320",
    "encoded-line-too-long",
    scope="part",
    summary="A base64 or quoted-printable line is longer than 76 characters.",
    severity="warning",
    fixable=True,
    source="RFC 2045 sections 6.7 and 6.8",
    fixture=build(
        body=b"QUFB" * 30 + b"\r\n",
        mime=(b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: base64"),
    ),
    fix="Re-encoded with 76-character lines.",
)
def encoded_line_too_long(ctx: Context) -> Iterator[Hit]:
    for part in ctx.leaves:
        if part.transfer_encoding in ("base64", "quoted-printable"):
            if part.transfer_encoding == "base64" and 0 < ctx.base64_body(part).width <= 76:
                continue  # lines of one width, known without looking at them again
            at = first_line_over(part.buffer, part.body_start, part.body_end, 76)
            if at >= 0:
                end = line_end(part.buffer, at, part.body_end)
                yield part, at, f"{part.transfer_encoding} line over 76 characters", end


@rule(
    "MG321",
    "unknown-charset",
    scope="part",
    summary="A charset parameter names a character set Python does not know.",
    severity="warning",
    fixable=False,
    source="RFC 2046 section 4.1.2; IANA character sets",
    fixture=build(mime=(b"Content-Type: text/plain; charset=x-klingon",)),
    fix="Reported only (text is read as UTF-8).",
)
def unknown_charset(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        cs = part.params.get("charset")
        if cs and lookup_charset(cs) is None:
            yield part, part.start, f"unknown charset {cs[:40]!r}"


#: transfer encodings whose decoding is the body as it is
_IDENTITY = frozenset({"7bit", "8bit", "binary"})
#: bytes of a body decoded at a time by _decodes
_WINDOW = 1 << 16


def _decodes(part: Part, codec: str) -> bool:
    """Whether the body of ``part`` (as it is) decodes in ``codec``, read a window at a
    time from the message; False also when it cannot tell (the caller then reads the
    body whole, for the exact position of the fault)."""
    buf, start, end = part.buffer, part.body_start, part.body_end
    if end - start < _WINDOW:
        return False  # a small body is read whole, as it always was
    if codec == "ascii":
        return ascii_span(buf, start, end)
    return decodes_in_windows(buf, start, end, codec)


def decodes_in_windows(buf: bytes, start: int, end: int, codec: str, window: int = _WINDOW) -> bool:
    """``buf[start:end]`` decodes in ``codec``: fed to its incremental decoder a window
    at a time (a character split between windows is joined), the text let go.  Windows
    are 16 bytes at least: a UTF-16 decoder given less than its BOM at first fails."""
    window = max(window, 16)
    try:
        decoder = codecs.getincrementaldecoder(codec)()
        view = memoryview(buf)
        for pos in range(start, end, window):
            decoder.decode(view[pos : min(end, pos + window)])
        decoder.decode(b"", True)
    except (UnicodeError, LookupError, TypeError):
        return False
    return True


@rule(
    "MG322",
    "undecodable-text",
    scope="part",
    summary="A text part does not decode in its declared charset.",
    severity="warning",
    fixable=False,
    source="RFC 2046 section 4.1.2",
    fixture=build(
        body=b"caf\xc3\r\n",
        mime=(b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: 8bit"),
    ),
    fix="Reported only (mail clients show replacement characters).",
)
def undecodable_text(ctx: Context) -> Iterator[Hit]:
    for part in ctx.leaves:
        if part.maintype != "text" or part.transfer_encoding not in KNOWN_ENCODINGS:
            continue
        codec = lookup_charset(part.charset or "us-ascii")
        if codec is None:
            continue
        if part.transfer_encoding in _IDENTITY and _decodes(part, codec):
            continue  # read where it lies (a text body of megabytes is not copied)
        data = part.decoded()
        if codec == "ascii" and data.isascii():
            continue
        try:
            data.decode(codec)
        except UnicodeDecodeError as exc:
            yield (
                part,
                part.body_start,
                (
                    f"text does not decode as {part.charset}: "
                    f"byte {data[exc.start : exc.start + 1]!r} at {exc.start:,} of the decoded body"
                ),
            )
        except LookupError:  # pragma: no cover - lookup_charset only returns known codecs
            continue


@rule(
    "MG325",
    "unencoded-8bit",
    scope="part",
    summary="A part carries 8-bit content without a transfer encoding (8bit).",
    severity="info",
    fixable=True,
    source="WorkMail RawMessageContent rule 3 (content outside 7-bit should be encoded); RFC 6152",
    fixture=build(
        body="Gr\u00fc\u00dfe\r\n".encode(),
        mime=(b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: 8bit"),
    ),
    fix="The part is re-encoded as quoted-printable (text) or base64.",
)
def unencoded_8bit(ctx: Context) -> Iterator[Hit]:
    if ctx.ascii:
        return
    for part in ctx.leaves:
        if part.transfer_encoding == "8bit":
            m = g.EIGHT_BIT.search(part.buffer, part.body_start, part.body_end)
            if m is not None:
                end = eight_bit_run(part.buffer, m.start(), part.body_end)
                yield part, m.start(), "8-bit content sent unencoded", end
