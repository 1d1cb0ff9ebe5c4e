"""Serialise an edited part tree by splicing spans of the original buffer.

An edit builds a :class:`Node` tree that mirrors the parsed parts.  A node
with no change below it is written as its original span, byte for byte; a
changed node writes its (possibly new) header lines, the original separator,
and either a new body, its original body span, or its children between
delimiter lines.  New header lines are folded without changing their meaning
(RFC 5322 section 2.2.3; see CPython CVE-2024-6923: a fold never starts a new
field).
"""

from __future__ import annotations

import binascii
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import overload

from . import _abnf as g
from ._params import set_param
from ._rfc2047 import encode_header
from ._scan import first_line_over
from .message import HeaderField, Part

__all__ = [
    "CRLF",
    "HeaderLine",
    "Node",
    "Spliced",
    "as_bytes",
    "crlf",
    "encode_body",
    "field_value",
    "fold_structured",
    "head_of",
    "header_line",
    "looks_like_delimiter",
    "new_boundary",
    "serialise",
]

CRLF = b"\r\n"
_EOLS = g.EOL_TEXT
#: a run without whitespace outside quotes and comments: where a fold may not go
_WORD = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|\((?:[^()\\]|\\.)*\)?|[^\s"(]+)+')


@overload
def crlf(data: str) -> str: ...
@overload
def crlf(data: bytes) -> bytes: ...
def crlf(data: str | bytes) -> str | bytes:
    """``data`` with every line ending (CRLF, bare CR, bare LF) written CRLF.

    Three C-speed replaces: a regex substitution costs a Python call per line. Data
    whose every CR and LF is already a CRLF is returned as it is, found by three counts,
    which copy nothing (a text body of 70 MB is not copied three times for no change).
    (Overloads, not a type variable: mypyc narrows a union by isinstance, not AnyStr.)"""
    if isinstance(data, str):
        if data.count("\n") == data.count("\r") == data.count("\r\n"):
            return data
        return data.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    if data.count(b"\n") == data.count(b"\r") == data.count(b"\r\n"):
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


class Spliced:
    """A header line or a body held as pieces (bytes, and views of the message they were
    read from) and joined only when the tree is written: a Subject of megabytes given a
    prefix, or a text body of megabytes given a disclaimer, is not copied before the
    output is (issue 16)."""

    __slots__ = ("pieces",)

    def __init__(self, *pieces: bytes | memoryview) -> None:
        self.pieces = pieces

    @property
    def head(self) -> bytes:
        """The first piece; of a header line, bytes holding its name and colon."""
        first = self.pieces[0] if self.pieces else b""
        return first if isinstance(first, bytes) else bytes(first[:256])

    def __bytes__(self) -> bytes:
        return b"".join(self.pieces)

    def __len__(self) -> int:
        return sum(len(p) for p in self.pieces)


#: a header line of an edited tree: a complete line ending in CRLF
HeaderLine = bytes | Spliced


def head_of(line: HeaderLine) -> bytes:
    """The start of ``line``, which holds its name and colon (the whole line as bytes)."""
    return line if isinstance(line, bytes) else line.head


def as_bytes(data: bytes | Spliced) -> bytes:
    """``data`` joined (it is read once more: a spliced line or body is rarely read)."""
    return data if isinstance(data, bytes) else bytes(data)


class Node:
    """A part in an edited tree: the original part (if any) plus overrides."""

    __slots__ = ("body", "boundary", "children", "headers", "part", "preamble", "removed")

    def __init__(self, part: Part | None = None) -> None:
        self.part = part
        #: replacement header fields, each a complete line ending in CRLF
        self.headers: list[HeaderLine] | None = None
        #: replacement body bytes (already transfer-encoded)
        self.body: bytes | Spliced | None = None
        #: children, when the part is (or becomes) a multipart or attached message
        self.children: list[Node] = []
        #: boundary to write delimiters with; ``None`` keeps the original delimiter spans
        self.boundary: bytes | None = None
        #: preamble to write before the first delimiter of a new multipart
        self.preamble: bytes = b""
        self.removed = False

    @classmethod
    def mirror(cls, part: Part) -> Node:
        """A node tree over ``part`` and everything below it, all unchanged."""
        node = cls(part)
        node.children = [cls.mirror(c) for c in part.children]
        return node

    # -- headers ---------------------------------------------------------------------------

    def header_lines(self) -> list[HeaderLine]:
        """The header lines as they will be written (a copy the caller may change)."""
        if self.headers is not None:
            return list(self.headers)
        if self.part is None:
            return []
        return [f.raw for f in self.part.headers]

    def fields(self) -> list[tuple[str, HeaderLine]]:
        """(lower-case name, raw line) for each header line."""
        return [(name, _line(line)) for name, line in self.named_lines()]

    def named_lines(self) -> list[tuple[str, HeaderLine | HeaderField]]:
        """:meth:`fields` with the part's own fields not yet copied out of its buffer."""
        if self.headers is not None or self.part is None:
            out: list[tuple[str, HeaderLine | HeaderField]] = []
            for line in self.header_lines():
                head = head_of(line)
                out.append((_name(head, 0, len(head)), line))
            return out
        return [(_name(f.buffer, f.start, f.end), f) for f in self.part.headers]

    def set_header(
        self, name: str, value_line: HeaderLine | None, *, first_only: bool = True
    ) -> None:
        """Replace the first field called ``name`` with ``value_line`` (a full line), drop
        the others when not ``first_only``; append it when absent; ``None`` removes.
        A field replaced or dropped is never copied (a Subject of megabytes)."""
        lname = name.lower()
        out: list[HeaderLine] = []
        done = False
        for fname, line in self.named_lines():
            if fname == lname:
                if not done and value_line is not None:
                    out.append(value_line)
                    done = True
                    continue
                if not first_only or value_line is None or done:
                    continue
            out.append(_line(line))
        if not done and value_line is not None:
            out.append(value_line)
        self.headers = out

    def get_value(self, name: str) -> str | None:
        """The unfolded value of the first field called ``name`` as it will be written."""
        lname = name.lower()
        for fname, line in self.fields():
            if fname == lname:
                return field_value(as_bytes(line))
        return None

    def set_param(self, header: str, param: str, value: str | None) -> None:
        """Change one parameter of a structured field (Content-Type, Content-Disposition)."""
        current = self.get_value(header)
        if current is None:
            return
        self.set_header(header, fold_structured(header, set_param(current, param, value)))

    # -- state -----------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        if self.part is None or self.headers is not None or self.body is not None:
            return True
        if self.boundary is not None or self.removed:
            return True
        return _children_changed(self, self.part)

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()


def _name(buf: bytes, start: int, end: int) -> str:
    """The lower-case name of the header line ``buf[start:end]`` ("" without a colon)."""
    colon = buf.find(b":", start, end)
    if colon <= start:
        return ""
    return buf[start:colon].strip().decode("ascii", "replace").lower()


def _line(line: HeaderLine | HeaderField) -> HeaderLine:
    return line.raw if isinstance(line, HeaderField) else line


def field_value(line: bytes) -> str:
    """The unfolded value of the header ``line`` (a whole field), UTF-8 read leniently.

    Every CR and LF goes (as ``_EOLS.sub`` would take them) in C: a folded field of
    megabytes is not walked one line break at a time. ASCII is unfolded as bytes, one
    copy; other bytes are read first, so a line break inside a bad UTF-8 sequence
    splits it as before.
    """
    value = line[line.find(b":") + 1 :]
    if value.isascii():
        return value.translate(None, b"\r\n").decode("ascii").strip()
    text = value.decode("utf-8", "replace")
    return text.replace("\r", "").replace("\n", "").strip()


#: spans at least this long are collected as memoryviews, not copied: the output is
#: then the only copy of an attachment that is carried over (peak memory ≈ 1× input)
_VIEW_FROM = 4096

_Chunks = list[bytes | memoryview]


def serialise(node: Node) -> bytes:
    out: _Chunks = []
    _write(node, out)
    return b"".join(out)


def _span(buf: bytes, start: int, end: int) -> bytes | memoryview:
    """``buf[start:end]``, without a copy when it is long."""
    if end - start >= _VIEW_FROM:
        return memoryview(buf)[start:end]
    return buf[start:end]


def _write(node: Node, out: _Chunks) -> None:
    part = node.part
    if part is not None and not node.dirty:
        out.append(_span(part.buffer, part.start, part.end))
        return
    # header block and separator
    if node.headers is None and part is not None:
        out.append(_span(part.buffer, part.start, part.header_end))
    else:
        for line in node.headers or ():
            if isinstance(line, Spliced):
                out += line.pieces
            else:
                out.append(line)
    if part is not None and part.separator is not None and node.headers is None:
        out.append(part.buffer[part.separator[0] : part.separator[1]])
    else:
        out.append(CRLF)
    # body
    if isinstance(node.body, Spliced):
        out += node.body.pieces
    elif node.body is not None:
        out.append(node.body)
    elif part is not None and not _children_changed(node, part):
        out.append(_span(part.buffer, part.body_start, part.body_end))
    elif part is not None and part.encapsulates and node.boundary is None:
        for child in node.children:  # an attached message: its one child is the body
            _write(child, out)
    else:
        _write_multipart(node, out)


def _children_changed(node: Node, part: Part) -> bool:
    if node.boundary is not None or len(node.children) != len(part.children):
        return True
    return any(
        c.part is not o or c.dirty for c, o in zip(node.children, part.children, strict=True)
    )


def _write_multipart(node: Node, out: _Chunks) -> None:
    part = node.part
    if node.boundary is not None:
        boundary = node.boundary
    else:
        boundary = (part.boundary if part is not None and part.boundary else "").encode()
    # a parser limit stopped the parse of this multipart: the parts past its last parsed
    # delimiter are carried over as they are, from that delimiter on (never dropped)
    tail = _unparsed_tail(part)
    if tail is not None and part is not None and boundary != (part.boundary or "").encode():
        raise ValueError("a multipart kept partly unparsed cannot be given a new boundary")
    lead = False
    if part is not None and part.preamble is not None:
        out.append(_span(part.buffer, *part.preamble))
        lead = part.preamble[1] > part.preamble[0]
    elif node.preamble:
        out.append(node.preamble)
        lead = True
    for child in node.children:
        if child.removed:
            continue
        out.append((CRLF if lead else b"") + b"--" + boundary + CRLF)
        lead = True
        _write(child, out)
    if tail is not None and part is not None:
        start = tail if lead else part.delimiters[-1][0] + _leading_eol(part)
        out.append(_span(part.buffer, start, part.body_end))
        return
    out.append((CRLF if lead else b"") + b"--" + boundary + b"--" + CRLF)
    if part is not None and part.epilogue is not None:
        out.append(_span(part.buffer, *part.epilogue))


def _unparsed_tail(part: Part | None) -> int | None:
    """Where the unparsed rest of an opaque multipart starts (its last parsed delimiter
    line, line break before it included), ``None`` when the whole body was parsed."""
    if part is None or not part.opaque or not part.delimiters or part.epilogue is not None:
        return None
    return part.delimiters[-1][0]


def _leading_eol(part: Part) -> int:
    """Length of the line break a delimiter span starts with (RFC 2046 section 5.1.1)."""
    buf, at = part.buffer, part.delimiters[-1][0]
    if buf.startswith(b"\r\n", at):
        return 2
    return 1 if buf[at : at + 1] in (b"\n", b"\r") else 0


# -- header lines --------------------------------------------------------------------------


def header_line(name: str, text: str) -> bytes:
    """``Name: text`` as a folded CRLF line; non-ASCII text becomes RFC 2047 encoded-words."""
    return f"{name}: {encode_header(text, name=name)}\r\n".encode("ascii")


def fold_structured(name: str, value: str, width: int = g.MAX_LINE_CHARS) -> bytes:
    """``Name: value`` for a structured field, folded only at whitespace outside quoted
    strings and comments, so the meaning cannot change (RFC 5322 section 3.2.2)."""
    line = f"{name}:"
    bare = len(line)
    lines: list[str] = []
    for word in _WORD.findall(_EOLS.sub(" ", value)):
        if len(line) + 1 + len(word) > width and len(line) > bare:
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


#: stems for new boundaries, tried in turn: a boundary must not start with an enclosing
#: or enclosed one (RFC 2046 section 5.1.2), and an input may use "=" or "=_" already
_STEMS = (b"=_mimeguard_", b"mimeguard_", b"_mimeguard_", b"MG.", b"0mg.", b"'mg'")


def new_boundary(avoid: bytes = b"", taken: Iterable[str] = ()) -> bytes:
    """A fresh RFC 2046 boundary that does not occur in ``avoid`` and neither starts
    with nor begins any boundary in ``taken`` (the message's other boundaries)."""
    others = [t.encode("ascii", "replace") for t in taken if t]
    stem = next(
        (s for s in _STEMS if not any(s.startswith(t) for t in others)),
        b"=_mimeguard_",  # every stem clashes: validation reports the conflict
    )
    for _ in range(64):
        b = stem + uuid.uuid4().hex.encode()
        if b not in avoid and not any(b.startswith(t) or t.startswith(b) for t in others):
            return b
    return b


# -- bodies --------------------------------------------------------------------------------


def looks_like_delimiter(
    data: bytes, boundaries: Iterable[bytes] | None = None, start: int = 0, end: int | None = None
) -> bool:
    """Could a line of ``data[start:end]`` be read as a delimiter line (RFC 2046 section
    5.1.1)?  (Read where it lies: a span of a message is not copied.)

    A line is a delimiter of boundary ``b`` when it starts with ``--b`` (transport
    padding and a closing ``--`` may follow, and many parsers match the prefix
    alone).  With ``boundaries=None`` every line starting with ``--`` counts, so the
    answer holds for any boundary an enclosing multipart has or will be given.
    """
    heads = [b"--"] if boundaries is None else [b"--" + b for b in boundaries if b]
    stop = len(data) if end is None else end
    return any(
        data.startswith(head, start, stop)
        or data.find(b"\n" + head, start, stop) >= 0
        or data.find(b"\r" + head, start, stop) >= 0
        for head in heads
    )


def _guard_qp(qp: bytes) -> bytes:
    """``qp`` with no line starting with ``--`` and none over 76 characters (b2a_qp can
    write 77 when it escapes trailing whitespace); see :func:`_qp_line`."""
    starts = [0] if qp.startswith(b"--") else []
    at = qp.find(b"\n--")
    while at >= 0:
        starts.append(at + 1)
        at = qp.find(b"\n--", at + 1)
    at = first_line_over(qp, 0, len(qp), g.MAX_ENCODED_LINE)
    while at >= 0:
        starts.append(at)
        end = qp.find(b"\n", at)
        at = -1 if end < 0 else first_line_over(qp, end + 1, len(qp), g.MAX_ENCODED_LINE)
    if not starts:
        return qp
    out: list[bytes] = []
    pos = 0
    for start in sorted(set(starts)):
        end = qp.find(b"\n", start)
        end = len(qp) if end < 0 else end
        if end > start and qp[end - 1] == 13:
            end -= 1
        out += (qp[pos:start], _qp_line(qp[start:end]))
        pos = end
    out.append(qp[pos:])
    return b"".join(out)


def _qp_line(line: bytes) -> bytes:
    """A quoted-printable line as lines of at most 76 characters, none starting with
    ``--``: a leading ``-`` is written ``=2D`` (RFC 2045 section 6.7 rules 1 and 5)."""
    out: list[bytes] = []
    while line.startswith(b"--") or len(line) > g.MAX_ENCODED_LINE:
        head = b"=2D" if line.startswith(b"--") else line[:1]
        if len(head) + len(line) - 1 <= g.MAX_ENCODED_LINE:
            out.append(head + line[1:])
            return b"".join(out)
        cut = 75 - len(head)  # head + line[1:cut] + "=" is at most 75 characters
        if line[cut - 1 : cut] == b"=":
            cut -= 1
        elif line[cut - 2 : cut - 1] == b"=":
            cut -= 2
        out.append(head + line[1:cut] + b"=\r\n")
        line = line[cut:]
    out.append(line)
    return b"".join(out)


def encode_body(data: bytes, encoding: str, *, text: bool) -> bytes:
    """Transfer-encode ``data`` (RFC 2045 section 6) with lines of at most 76 characters.

    No encoded line starts with ``--``: base64 has no ``-`` and quoted-printable
    writes a leading one as ``=2D``, so the body never holds a delimiter line of
    any multipart it is put in (RFC 2046 section 5.1.1).
    """
    if encoding == "base64":
        encoded = binascii.b2a_base64(data, newline=False)
        width = g.MAX_ENCODED_LINE
        lines = [encoded[i : i + width] for i in range(0, len(encoded), width)]
        return CRLF.join(lines) + CRLF if lines else b""
    if encoding == "quoted-printable":
        if text:
            data = crlf(data)
        qp = binascii.b2a_qp(data, istext=text)
        if not text:
            qp = qp.replace(b"\n", b"\r\n")  # b2a_qp breaks soft lines with LF in binary mode
        elif qp.count(b"\n") != qp.count(b"\r\n"):
            # b2a_qp takes the line ending of the first line: data with none gets LF soft breaks
            qp = qp.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return _guard_qp(qp)
    return data
