"""Line and byte rules: line endings, line length, NUL, header-line syntax (RFC 5322 section 2)."""

from __future__ import annotations

from collections.abc import Iterator

from .. import _abnf as g
from .._defects import Defect
from .._registry import Context, Hit, parser_rule, rule, severities  # noqa: F401  # old form
from .._spans import eight_bit_run
from ..message import Part
from ._fixture import CLEAN, build

__all__: list[str] = []

_SYNTAX_FIX = "Not fixable: which bytes were meant as header and which as body is a guess."

parser_rule(
    "MG101",
    Defect.MISSING_HEADER_BODY_SEPARATOR,
    summary="A line that is not a header field appears before the empty line that ends the "
    "header block.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.1; SES: 'header and a body, separated by a blank line'",
    fixture=b"From: a@example.com\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n<!DOCTYPE html>\r\n"
    b"<html></html>\r\n",
    fix="An empty line is inserted before the first line that is not a header field.",
)
parser_rule(
    "MG102",
    Defect.HEADER_LINE_WITHOUT_COLON,
    summary="A line inside the header block is neither a field (name and colon) nor a "
    "continuation.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.2",
    fixture=build(b"This is not a header", b"X-Next: 1"),
    fix="The line is removed from the header block.",
)
parser_rule(
    "MG103",
    Defect.EMPTY_HEADER_NAME,
    summary="A header line starts with a colon: the field name is empty.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 3.6.8 (field-name = 1*ftext); SES: 'empty header names are illegal'",
    fixture=build(b": no name"),
    fix="The field is removed.",
)
parser_rule(
    "MG104",
    Defect.ILLEGAL_HEADER_NAME,
    summary="A field name holds characters outside printable US-ASCII.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 3.6.8 (ftext = %d33-57 / %d59-126)",
    fixture=build("X-Caf\u00e9: 1".encode()),
    fix="The field is removed.",
)
parser_rule(
    "MG105",
    Defect.HEADER_NAME_WHITESPACE,
    summary="Whitespace between a field name and its colon (obsolete syntax).",
    severity="warning",
    fixable=True,
    source="RFC 5322 section 4.5 (obs-optional)",
    fixture=build(b"X-Spaced : 1"),
    fix="The whitespace is removed.",
)
parser_rule(
    "MG106",
    Defect.FIRST_LINE_CONTINUATION,
    summary="The header block starts with a continuation line (leading whitespace).",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.2.3",
    fixture=b" folded\r\n" + CLEAN,
    fix="The stray line is removed.",
)
parser_rule(
    "MG107",
    Defect.MBOX_FROM_LINE,
    summary="The message starts with an mbox 'From ' envelope line, which is not a header field.",
    severity="error",
    fixable=True,
    source="RFC 4155 (mbox); RFC 5322 section 2.2",
    fixture=b"From alice@example.com Mon Nov 23 10:00:00 2026\r\n" + CLEAN,
    fix="The envelope line is removed.",
)


@rule(
    "MG110",
    "line-too-long",
    summary="A line is longer than 998 octets (1,000 with CRLF).",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.1.1; RFC 5321 section 4.5.3.1.6; WorkMail RawMessageContent rule 4",
    fixture=build(body=b"x" * 1200 + b"\r\n"),
    fix="Header fields are refolded; a body part is re-encoded as quoted-printable.",
)
def line_too_long(ctx: Context) -> Iterator[Hit]:
    found: dict[str, list[int]] = {}  # part path -> [first offset, count, longest, first's length]
    parts: dict[str, Part] = {}
    limit = ctx.profile.max_line_octets  # the scan finds lines over 998; a profile may allow more
    for offset, length in ctx.stats.long_lines:
        if length <= limit:
            continue
        part = ctx.part_at(offset)
        entry = found.get(part.path)
        if entry is None:
            found[part.path] = [offset, 1, length, length]
            parts[part.path] = part
        else:
            entry[1] += 1
            entry[2] = max(entry[2], length)
    for path, (first, count, longest, size) in found.items():
        lines = "a line" if count == 1 else f"{count:,} lines"
        yield (
            parts[path],
            first,
            f"{lines} over {limit:,} octets (longest {longest:,})",
            first + size,
        )


@rule(
    "MG111",
    "bare-lf",
    summary="Lines end with a bare LF instead of CRLF.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.3 (CR and LF only together as CRLF)",
    fixture=CLEAN.replace(b"\r\n", b"\n"),
    fix="Every line ending becomes CRLF.",
)
def bare_lf(ctx: Context) -> Iterator[Hit]:
    st = ctx.stats
    if st.lf and not st.crlf:
        at = st.first_bare_lf
        yield ctx.part_at(at), at, f"all {st.lf:,} lines end with a bare LF, not CRLF", at + 1


@rule(
    "MG112",
    "bare-cr",
    summary="A CR that is not followed by LF.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.3",
    fixture=build(body=b"one\rtwo\r\n"),
    fix="Each bare CR becomes CRLF (in a header it becomes a space, so no new field appears).",
)
def bare_cr(ctx: Context) -> Iterator[Hit]:
    st = ctx.stats
    if st.cr:
        at = st.first_bare_cr
        yield ctx.part_at(at), at, f"{st.cr:,} bare CR (carriage return without LF)", at + 1


@rule(
    "MG113",
    "mixed-line-endings",
    summary="Some lines end with CRLF and others with a bare LF.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.3",
    fixture=build(b"X-Mixed: yes").replace(b"Hello Bob,\r\n", b"Hello Bob,\n"),
    fix="Every line ending becomes CRLF.",
)
def mixed_line_endings(ctx: Context) -> Iterator[Hit]:
    st = ctx.stats
    if st.lf and st.crlf:
        at = st.first_bare_lf
        text = f"{st.lf:,} lines end with a bare LF and {st.crlf:,} with CRLF"
        yield ctx.part_at(at), at, text, at + 1


@rule(
    "MG114",
    "nul-byte",
    summary="The message contains NUL bytes.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 2.3 (NUL is not allowed); RFC 2045 section 2.7",
    fixture=build(body=b"before\x00after\r\n"),
    fix="The part is re-encoded as base64 when it is an attachment; NUL bytes in text or "
    "headers are removed.",
)
def nul_byte(ctx: Context) -> Iterator[Hit]:
    st = ctx.stats
    if st.nul:
        at = st.first_nul
        yield ctx.part_at(at), at, f"{st.nul:,} NUL bytes", at + 1


def _eight_bit_fields(ctx: Context, kept: bool) -> Iterator[Hit]:
    """Header fields with raw 8-bit bytes: those the edit left byte-identical to a field
    of the original message (``kept``), or the others."""
    if ctx.ascii:
        return
    original: frozenset[bytes] = frozenset()
    if ctx.original is not None:
        original = frozenset(
            g.EOL.sub(b"\r\n", f.raw)
            for p in ctx.original.walk()
            if not p.buffer.isascii()
            for f in p.headers
        )
    if kept and not original:
        return
    for part in ctx.parts:
        buf = part.buffer
        if g.EIGHT_BIT.search(buf, part.start, part.header_end) is None:
            continue
        for field in part.headers:
            m = g.EIGHT_BIT.search(buf, field.start, field.end)
            if m is None:
                continue
            if (g.EOL.sub(b"\r\n", field.raw) in original) is kept:
                label = field.name or "a header line"
                tail = ", as it arrived" if kept else ""
                end = eight_bit_run(buf, m.start(), field.end)
                yield part, m.start(), f"{label} holds raw 8-bit bytes{tail}", end


@rule(
    "MG115",
    "header-8bit",
    summary="A header field holds raw 8-bit bytes instead of RFC 2047 encoded-words (a field "
    "left byte-identical to the original message is MG117 instead).",
    severity="warning",
    fixable=True,
    source="RFC 5322 section 2.2 (US-ASCII only; RFC 6532 needs SMTPUTF8, which SES and "
    "WorkMail do not offer); RFC 2047",
    fixture=build("X-Greeting: Gr\u00fc\u00dfe".encode()),
    fix="Re-encoded as RFC 2047 encoded-words (UTF-8 when it decodes as UTF-8, else read as "
    "mail clients read undeclared 8-bit text). Immutable headers are left alone and stay "
    "an error unless the edit left them as they arrived (MG117).",
)
def header_8bit(ctx: Context) -> Iterator[Hit]:
    yield from _eight_bit_fields(ctx, kept=False)


@rule(
    "MG117",
    "header-8bit-unchanged",
    summary="validate(new, original=old): a header field with raw 8-bit bytes that the edit "
    "left byte-identical to the original. Under workmail a warning: WorkMail's content rules "
    "only recommend encoding non-ASCII content, the field arrived that way, and the headers "
    "WorkMail treats as immutable may not be re-encoded, so refusing the edit would send the "
    "message on without it. SES rejects raw 8-bit headers, so it stays an error there.",
    severity="warning",
    fixable=False,
    no_injector="it compares with an original message, which malformed_messages does not return",
    source="WorkMail RawMessageContent rules 3 ('should be encoded', a recommendation) and 6 "
    "(immutable headers), REFERENCE.md section 2; RFC 5322 section 2.2; SES: 7-bit headers only",
    fixture=build("To: J\u00f6rg <j@example.com>".encode()),
    fixture_original=build("To: J\u00f6rg <j@example.com>".encode()),
    fix="Not fixable in the edit: the field is kept as it arrived; repair, run before the "
    "edit, encodes the fields it may change (MG115).",
)
def header_8bit_unchanged(ctx: Context) -> Iterator[Hit]:
    yield from _eight_bit_fields(ctx, kept=True)
