"""MIME structure rules: content types, boundaries, nesting (RFC 2045, RFC 2046, RFC 1847)."""

from __future__ import annotations

from collections.abc import Iterator

from .. import _abnf as g
from .._defects import Defect
from .._registry import Context, Hit, parser_rule, rule
from .._spans import problem_span
from ._fixture import TEXT_PART, build, multipart

__all__: list[str] = []

parser_rule(
    "MG301",
    Defect.MISSING_CLOSING_BOUNDARY,
    summary="A multipart body has no closing delimiter (--boundary--).",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.1.1",
    fixture=multipart(TEXT_PART, close=False),
    fix="The closing delimiter is added at the end of the multipart body.",
)
parser_rule(
    "MG302",
    Defect.BOUNDARY_NOT_FOUND,
    summary="The boundary of a multipart never appears in its body.",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.1.1",
    fixture=build(
        body=b"no parts here\r\n", mime=(b'Content-Type: multipart/mixed; boundary="b1"',)
    ),
    fix="The body is wrapped as a single text/plain part (when it is text) so nothing is lost.",
)
parser_rule(
    "MG303",
    Defect.MULTIPART_MISSING_BOUNDARY,
    summary="A multipart Content-Type has no boundary parameter.",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.1.1 (boundary is required)",
    fixture=build(body=b"--b1\r\n\r\nx\r\n--b1--\r\n", mime=(b"Content-Type: multipart/mixed",)),
    fix="When the body has a delimiter line and its close delimiter, the boundary they use "
    "is set; otherwise the body becomes one text/plain part under a new boundary.",
)
parser_rule(
    "MG305",
    Defect.NESTED_BOUNDARY_CONFLICT,
    summary="A nested multipart's boundary equals, or is a prefix of, an enclosing one's "
    "(or the reverse).",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.1.2 (a boundary must not appear inside the encapsulated parts)",
    fixture=multipart(
        b'Content-Type: multipart/alternative; boundary="b1x"\r\n\r\n'
        b"--b1x\r\n" + TEXT_PART + b"\r\n--b1x--\r\n"
    ),
    fix="An overlapping inner boundary is replaced by a new one; equal boundaries are not "
    "fixable (the parts cannot be told apart).",
)


@rule(
    "MG304",
    "invalid-boundary",
    scope="part",
    summary="A boundary is longer than 70 characters, ends in a space or holds characters "
    "outside RFC 2046's bchars.",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.1.1 (boundary := 0*69<bchars> bcharsnospace)",
    fixture=multipart(TEXT_PART, boundary=b"b" * 71),
    fix="The multipart gets a new, valid boundary (its parts are copied unchanged).",
)
def invalid_boundary(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        b = part.boundary
        if not b or g.BOUNDARY_OK.fullmatch(b) is not None:
            continue
        if len(b) > 70:
            why = f"is {len(b)} characters long (at most 70)"
        elif b.endswith(" "):
            why = "ends in a space"
        else:
            why = "holds characters outside RFC 2046's bchars"
        yield part, part.start, f"boundary {b[:72]!r} {why}"


@rule(
    "MG306",
    "empty-multipart",
    scope="part",
    summary="A multipart has no body part at all.",
    severity="error",
    fixable=True,
    source="RFC 2046 section 5.1.1 (multipart-body needs one body-part)",
    fixture=build(body=b"--b1--\r\n", mime=(b'Content-Type: multipart/mixed; boundary="b1"',)),
    fix="An empty text/plain part is added.",
)
def empty_multipart(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.is_multipart and part.delimiters and not part.children and not part.opaque:
            yield part, part.body_start, f"{part.mime_type} has no body part"


@rule(
    "MG310",
    "malformed-content-type",
    scope="part",
    summary="Content-Type cannot be parsed as type/subtype (it is then read as text/plain).",
    severity="error",
    fixable=True,
    source="RFC 2045 section 5.1",
    fixture=build(body=b"x\r\n", mime=(b"Content-Type: text",)),
    fix="A bare 'text' becomes text/plain (how RFC 2045 reads it); otherwise not fixable.",
)
def malformed_content_type(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        for p in part.content_type.problems:
            if p.name == "malformed-content-type":
                f = part.header("content-type")
                a, b = (part.start, part.start) if f is None else problem_span(f, p)
                yield part, a, f"Content-Type: {p.message}", b


@rule(
    "MG311",
    "malformed-content-disposition",
    scope="part",
    summary="Content-Disposition is not a disposition type with parameters.",
    severity="warning",
    fixable=False,
    source="RFC 2183 section 2",
    fixture=multipart(
        b"Content-Type: application/pdf\r\nContent-Disposition: ; filename=a.pdf"
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
    ),
    fix="Reported only.",
)
def malformed_content_disposition(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        f = part.header("content-disposition")
        if f is None:
            continue
        for p in part._disposition.problems if part._disposition else ():
            if p.name == "malformed-content-disposition":
                a, b = problem_span(f, p)
                yield part, a, f"Content-Disposition: {p.message}", b


@rule(
    "MG312",
    "malformed-parameter",
    scope="part",
    summary="A Content-Type or Content-Disposition parameter is malformed (quoting, RFC 2231 "
    "continuations or charset, duplicates).",
    severity="warning",
    fixable=False,
    source="RFC 2045 section 5.1; RFC 2231",
    fixture=build(body=b"x\r\n", mime=(b"Content-Type: text/plain; charset",)),
    fix="Reported only.",
)
def malformed_parameter(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        f = part.header("content-type")
        for p in part.content_type.problems:
            if p.name == "malformed-parameter" and f is not None:
                a, b = problem_span(f, p)
                yield part, a, f"Content-Type: {p.message}", b
        d = part._disposition
        if d is not None:
            f = part.header("content-disposition")
            assert f is not None
            for p in d.problems:
                if p.name == "malformed-parameter":
                    a, b = problem_span(f, p)
                    yield part, a, f"Content-Disposition: {p.message}", b


@rule(
    "MG323",
    "malformed-signed",
    scope="part",
    summary="multipart/signed without exactly two parts, without a protocol parameter, or whose "
    "second part does not match the protocol.",
    severity="error",
    fixable=False,
    source="RFC 1847 section 2.1",
    fixture=multipart(TEXT_PART, subtype=b"signed"),
    fix="Not fixable: changing a signed message breaks its signature.",
)
def malformed_signed(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.mime_type != "multipart/signed" or part.opaque or not part.delimiters:
            continue
        protocol = part.params.get("protocol", "").strip().lower()
        if not protocol:
            yield part, part.start, "multipart/signed has no protocol parameter"
        if len(part.children) != 2:
            yield (
                part,
                part.body_start,
                (f"multipart/signed has {len(part.children)} parts instead of 2"),
            )
        elif protocol and part.children[1].mime_type != protocol:
            yield (
                part,
                part.children[1].start,
                (f"the signature part is {part.children[1].mime_type}, not {protocol}"),
            )


@rule(
    "MG324",
    "malformed-encrypted",
    scope="part",
    summary="multipart/encrypted without exactly two parts, without a protocol parameter, or "
    "whose first part does not match the protocol.",
    severity="error",
    fixable=False,
    source="RFC 1847 section 2.2",
    fixture=multipart(TEXT_PART, subtype=b"encrypted"),
    fix="Not fixable: the content is encrypted.",
)
def malformed_encrypted(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if part.mime_type != "multipart/encrypted" or part.opaque or not part.delimiters:
            continue
        protocol = part.params.get("protocol", "").strip().lower()
        if not protocol:
            yield part, part.start, "multipart/encrypted has no protocol parameter"
        if len(part.children) != 2:
            yield (
                part,
                part.body_start,
                (f"multipart/encrypted has {len(part.children)} parts instead of 2"),
            )
        elif protocol and part.children[0].mime_type != protocol:
            yield (
                part,
                part.children[0].start,
                (f"the control part is {part.children[0].mime_type}, not {protocol}"),
            )
