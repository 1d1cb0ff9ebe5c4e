"""Ambiguous attachments: parts that mail clients read differently.

A filter reads one name, one type, one set of parts; a client that reads another
delivers what the filter never saw.  Each ambiguity is an error under the
``workmail`` and ``ses`` profiles (CI and pre-commit catch such fixtures) and a
warning under ``rfc``; ``strip_attachments`` takes the safe side of each (see
docs/attachments.md).  An inner multipart reusing an enclosing boundary is MG305.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from .._attachments import all_saved_names, boundary_readings, outside_structure, type_readings
from .._filenames import final_extension
from .._lists import SES_BLOCKED_EXTENSIONS
from .._magic import part_executable
from .._params import parse_disposition
from .._registry import Context, Hit, rule
from ..findings import Severity
from ._fixture import TEXT_PART, build, multipart

__all__: list[str] = []

#: readings that disagree are a warning as RFC text and an error under every service
#: profile (mimeguard.profiles: AMBIGUOUS_READINGS), where a filter must take the safe side
_AMBIGUOUS: Severity = "warning"
_EXE = base64.b64encode(b"MZ\x90\x00 not really a program").decode()
_FIX = "Not fixable by repair: strip_attachments judges every reading and removes the part "
_STRIP_FIX = _FIX + "when any reading is blocked."


def _attachment(headers: bytes, body: str = _EXE) -> bytes:
    return headers + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body.encode() + b"\r\n"


@rule(
    "MG330",
    "filename-readings-disagree",
    scope="part",
    summary="Readings of a part's file name (filename, filename*, name, repeated "
    "parameters or fields, encodings, client clean-up) end in different extensions.",
    severity=_AMBIGUOUS,
    fixable=False,
    source="RFC 2183 section 2.3, RFC 2231 sections 3-4, RFC 2045 section 5.1; client "
    "behaviour (docs/attachments.md)",
    fixture=multipart(
        TEXT_PART,
        _attachment(
            b"Content-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="invoice.pdf"; filename="invoice.exe"'
        ),
    ),
    fix=_STRIP_FIX,
)
def filename_readings_disagree(ctx: Context) -> Iterator[Hit]:
    for part in ctx.leaves:
        # lone continuation sections are for blocking, not evidence of disagreement
        names = all_saved_names(part, partial=False)
        if len(names) < 2:
            continue
        # a Latin-1/UTF-8 mix-up of an 8-bit extension (U+FFFD) is a charset problem
        # (MG115), not a different file type
        extensions = sorted({e for n in names if "\ufffd" not in (e := final_extension(n))})
        if len(extensions) > 1:
            shown = ", ".join(f".{e}" if e else "(none)" for e in extensions[:6])
            yield part, part.start, f"the file name reads with different extensions: {shown}"


@rule(
    "MG331",
    "type-readings-disagree",
    scope="part",
    summary="Repeated Content-Type or Content-Disposition fields of a part say different "
    "things (first-wins and last-wins parsers disagree).",
    severity=_AMBIGUOUS,
    fixable=False,
    source="RFC 2045 section 5, RFC 2183 section 2 (one field each); client behaviour",
    fixture=multipart(
        TEXT_PART,
        _attachment(
            b"Content-Type: text/plain\r\nContent-Type: application/x-msdownload\r\n"
            b"Content-Disposition: inline\r\nContent-Disposition: attachment"
        ),
    ),
    fix=_STRIP_FIX,
)
def type_readings_disagree(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if len(part.headers) < 2:
            continue  # no field is repeated (most parts of a large multipart)
        types = type_readings(part)
        fields = [f for f in part.headers if f.lname == "content-disposition"]
        kinds = {parse_disposition(f.value).kind or "" for f in fields} if len(fields) > 1 else ()
        if len(types) > 1:
            yield part, part.start, f"Content-Type reads as {', '.join(sorted(types))}"
        elif len(kinds) > 1:
            yield part, part.start, f"Content-Disposition reads as {', '.join(sorted(kinds))}"


@rule(
    "MG332",
    "executable-content-mislabelled",
    scope="part",
    summary="A part starts with an executable's magic bytes (MZ, ELF, Mach-O, #!) but no "
    "reading of its name ends in an executable extension.",
    # a warning everywhere: the services judge by name and accept the message; it is
    # a filter's concern, not a compliance error
    severity="warning",
    fixable=False,
    source="Amazon SES unsupported attachment types (by extension); a renamed executable "
    "runs all the same",
    fixture=multipart(
        TEXT_PART,
        _attachment(
            b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"'
        ),
    ),
    fix="Not fixable by repair: strip_attachments(match=[*SES_BLOCKED, EXECUTABLES]) removes it.",
)
def executable_content_mislabelled(ctx: Context) -> Iterator[Hit]:
    for part in ctx.leaves:
        if part.is_body_text:
            continue
        kind = part_executable(part)
        if kind is None:
            continue
        names = all_saved_names(part)
        if not any(final_extension(n) in SES_BLOCKED_EXTENSIONS for n in names):
            yield part, part.body_start, f"the content is a {kind}, the name does not say so"


def _outside(ctx: Context, where: str) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.is_multipart and where in outside_structure(part):
            span = part.preamble if where == "preamble" else part.epilogue
            assert span is not None
            yield part, span[0], f"the {where} holds MIME structure some clients show as parts"


@rule(
    "MG333",
    "entity-in-preamble",
    scope="part",
    summary="The preamble of a multipart holds MIME structure (header fields, a delimiter "
    "line, a uuencoded file) that some clients read as a part.",
    severity=_AMBIGUOUS,
    fixable=False,
    source="RFC 2046 section 5.1.1 (the preamble is to be ignored)",
    fixture=build(
        body=b"Content-Type: application/x-msdownload; name=a.exe\r\n\r\nMZ\r\n"
        b"--b1\r\n" + TEXT_PART + b"\r\n--b1--\r\n",
        mime=(b'Content-Type: multipart/mixed; boundary="b1"',),
    ),
    fix="Not fixable by repair: strip_attachments drops the preamble.",
)
def entity_in_preamble(ctx: Context) -> Iterator[Hit]:
    yield from _outside(ctx, "preamble")


@rule(
    "MG334",
    "entity-in-epilogue",
    scope="part",
    summary="The epilogue of a multipart holds MIME structure: a part after the close "
    "delimiter, header fields, a uuencoded file.",
    severity=_AMBIGUOUS,
    fixable=False,
    source="RFC 2046 section 5.1.1 (the epilogue is to be ignored)",
    fixture=build(
        body=b"--b1\r\n" + TEXT_PART + b"\r\n--b1--\r\n--b1\r\n"
        b"Content-Type: application/x-msdownload; name=a.exe\r\n\r\nMZ\r\n--b1--\r\n",
        mime=(b'Content-Type: multipart/mixed; boundary="b1"',),
    ),
    fix="Not fixable by repair: strip_attachments drops the epilogue.",
)
def entity_in_epilogue(ctx: Context) -> Iterator[Hit]:
    yield from _outside(ctx, "epilogue")


@rule(
    "MG335",
    "boundary-readings-disagree",
    scope="part",
    summary="A multipart has more than one boundary value (a repeated parameter or field): "
    "parsers split it at different lines.",
    severity=_AMBIGUOUS,
    fixable=False,
    source="RFC 2046 section 5.1.1 (one boundary parameter); client behaviour",
    fixture=build(
        body=b"--b1\r\n" + TEXT_PART + b"\r\n--b1--\r\n",
        mime=(b'Content-Type: multipart/mixed; boundary="b1"; boundary="b2"',),
    ),
    fix="Not fixable by repair: strip_attachments reads the body with every boundary and "
    "removes the multipart when one reading holds a blocked file.",
)
def boundary_readings_disagree(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.is_multipart:
            bounds = boundary_readings(part)
            if len(bounds) > 1:
                shown = ", ".join(repr(b[:40]) for b in bounds[:4])
                yield part, part.start, f"boundary reads as {shown}"
