"""Build the part tree of a message over its buffer.

bytes -> :class:`~mimeguard.message.Message`.  The parser never raises for bad
mail; whatever it meets is recorded as a defect on the root message (rule name,
part, absolute offset, message) and the rule engine turns defects into findings.
It loops in Python once per header line and once per part; bodies are scanned
with precompiled patterns only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import _abnf as g
from ._defects import Defect
from ._params import ContentType, parse_content_type
from ._scan import field_end
from .limits import DEFAULT_LIMITS, Limits
from .message import HeaderField, Message, Part, Span, decode_body

__all__ = ["parse"]

_IDENTITY = frozenset({"", "7bit", "8bit", "binary"})
#: What a header line can look like when we decide whether a colon-less line was
#: a broken header (followed by more header lines) or the start of the body.
_HEADERISH = re.compile(rb"[ \t]|[^\x00-\x20:]+[ \t]*:")
#: A well-formed field in one match: a valid name (RFC 5322 section 3.6.8) right before
#: its colon, the rest of the line, and its continuation lines (section 2.2.3), each
#: line ended like g.LINE ends it.  Anything else goes through the line-by-line path.
_FIELD = g.FIELD
#: Content-Type fields up to this many bytes are remembered by the parse (see mime_headers)
_TYPE_KEY = 1 << 10
#: bytes a header field is first matched in (see header_fields)
_FIELD_WINDOW = 1 << 16
_CTE_TOKEN = re.compile(r'\s*"?([^\s";()]*)"?\s*;?\s*(?:\([^()]*\)\s*)?$')
_TEXT_PLAIN = parse_content_type("text/plain; charset=us-ascii")
_RFC822 = parse_content_type("message/rfc822")
#: What may follow ``--boundary`` on a delimiter line (RFC 2046 section 5.1.1): ``--`` for
#: the close delimiter, transport padding, then the line break.  The same grammar as
#: :func:`_abnf.boundary_delimiter`, without compiling a pattern per boundary.
_DELIMITER_TAIL = g.DELIMITER_TAIL
#: After this many lines that start like a delimiter but are not one, the boundary's own
#: pattern is compiled and the regex engine scans the rest (a body of look-alikes).
_LOOKALIKES = 32
#: how far past a "-" a delimiter is looked for before skipping to the next "-"
_WINDOW = 1 << 12


def _delimiters(buf: bytes, bnd: bytes, bs: int, be: int) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, close)`` of each delimiter line of ``bnd`` in ``buf[bs:be]``.

    ``start`` is the line feed before ``--boundary`` (or ``bs`` for a delimiter that
    opens the body), ``end`` the end of the line before its line break, ``close``
    whether it is the close delimiter.  Found with ``bytes.find``: compiling a
    pattern for each new boundary costs more than parsing a small message.
    """
    tail = _DELIMITER_TAIL.match
    dash = b"--" + bnd
    if buf.startswith(dash, bs, be):
        m = tail(buf, bs + len(dash), be)
        if m is not None:
            yield bs, m.end(), m.group(1) is not None
    needle = b"\n" + dash
    skip = len(needle)
    pos = bs
    misses = 0
    while True:
        # bytes.find of a short needle looks at most positions, but a single byte is found
        # with memchr: skip to the next "-" (base64 has none), look for the delimiter in a
        # window from there, and skip to the next "-" after the window
        i = buf.find(b"-", pos + 1, be)
        if i < 0:
            return
        # (at least twice the delimiter, so that the next search starts past this "-")
        window = min(be, i - 1 + max(_WINDOW, 2 * skip))
        i = buf.find(needle, i - 1, window)
        if i < 0:
            if window == be:
                return
            pos = window - skip  # a delimiter may straddle the end of the window
            continue
        m = tail(buf, i + skip, be)
        if m is None:
            misses += 1
            if misses > _LOOKALIKES:
                for m in g.boundary_delimiter(bnd)[1].finditer(buf, i + 1, be):
                    yield m.start(), m.end(), m.group(1) is not None
                return
            pos = i + 1
            continue
        yield i, m.end(), m.group(1) is not None
        pos = m.end()


def parse(data: bytes | bytearray | memoryview, *, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Parse ``data`` into a :class:`~mimeguard.Message`; never raises for bad mail.

    ``bytearray`` and ``memoryview`` are copied once into ``bytes``; ``bytes``
    is kept as is (not copied).  Raises :class:`TypeError` for ``str``.
    """
    if isinstance(data, str):
        raise TypeError(
            "parse() needs the message as bytes, not str: encode it first "
            "(for example data.encode('utf-8'), or read the file in binary mode)"
        )
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse() needs bytes, bytearray or memoryview, not {type(data).__name__}")
    buf = data if type(data) is bytes else bytes(data)
    msg = Message(buf, limits=limits)
    _Parser(msg).run()
    return msg


class _Boundaries:
    """The boundaries a header line of ``part`` may be a delimiter of: the enclosing ones,
    and its own once its Content-Type field is read.  Each field is looked at once, so a
    header of many lines that start with "--" costs linear time."""

    __slots__ = ("enclosing", "own", "part", "scanned")

    def __init__(self, part: Part) -> None:
        self.part = part
        self.enclosing = frozenset(
            b.encode("utf-8", "replace") for a in part.ancestors() if (b := a.boundary)
        )
        self.own: bytes | None = None
        self.scanned = 0

    def match(self, fields: list[HeaderField], line: bytes) -> bool:
        if self.own is None:
            for i in range(self.scanned, len(fields)):
                if fields[i].lname == "content-type":
                    own = parse_content_type(fields[i].value).params.get("boundary")
                    self.own = own.encode("utf-8", "replace") if own else b""
                    break
            self.scanned = len(fields)
        return line in self.enclosing or (bool(self.own) and line == self.own)


class _Parser:
    __slots__ = ("boundaries", "count", "limits", "root", "types")

    def __init__(self, root: Message) -> None:
        self.root = root
        self.limits = root.limits
        self.count = 1
        #: Content-Type values parsed so far in this message: parts often repeat one
        #: (ContentType is immutable, and default types are shared the same way)
        self.types: dict[bytes, ContentType] = {}
        #: the boundaries of the part whose header is being read, found when first needed
        self.boundaries: _Boundaries | None = None

    def defect(self, name: str, part: Part, offset: int, message: str) -> None:
        self.root._defect(name, part, offset, message)

    def run(self) -> None:
        root = self.root
        if len(root.buffer) > self.limits.max_message_bytes:
            self.defect(
                Defect.MESSAGE_SIZE_LIMIT,
                root,
                self.limits.max_message_bytes,
                f"message is {len(root.buffer):,} bytes, over the parse limit of "
                f"{self.limits.max_message_bytes:,}; its body is kept unparsed",
            )
            root._set_opaque()
        work: list[Part] = [root]
        while work:
            part = work.pop()
            self.fill(part)
            if part.children:
                work.extend(reversed(part.children))

    # -- one part ----------------------------------------------------------------------------

    def fill(self, part: Part) -> None:
        self.headers(part)
        self.mime_headers(part)
        if part.opaque:
            return
        if part.is_multipart:
            self.multipart(part)
        elif part.encapsulates:
            self.attached(part)

    def mime_headers(self, part: Part) -> None:
        ct_field = part.header("content-type")
        ct: ContentType | None
        if ct_field is not None:
            # keyed by the field's bytes: a part like many before it is not unfolded and
            # decoded again (its value is a function of them); a long field is not kept
            start, end = ct_field.value_start, ct_field.end
            key = part.buffer[start:end] if end - start <= _TYPE_KEY else None
            ct = None if key is None else self.types.get(key)
            if ct is None:
                ct = parse_content_type(ct_field.value)
                if not ct.mime_type:
                    # RFC 2045 section 5.2: an unparsable Content-Type means text/plain.
                    ct = ContentType(
                        maintype="text",
                        subtype="plain",
                        params={"charset": "us-ascii"},
                        problems=ct.problems,
                    )
                if key is not None:
                    self.types[key] = ct
        elif part.parent is not None and part.parent.mime_type == "multipart/digest":
            ct = _RFC822  # RFC 2046 section 5.1.5
        else:
            ct = _TEXT_PLAIN
        encoding = "7bit"
        cte = part.header("content-transfer-encoding")
        if cte is not None:
            # RFC 2045 section 6.1: a token, case-insensitive; CFWS around it is allowed
            # and a stray ";" or quotes are common enough to read past.
            token = _CTE_TOKEN.match(cte.value)
            encoding = (token.group(1).lower() if token else cte.value.lower()) or "7bit"
        part._set_mime(ct, encoding)

    def headers(self, part: Part) -> None:
        """RFC 5322 section 2.2: header fields up to the first empty line."""
        fields: list[HeaderField] = []
        header_end, body_start, separator = self.header_fields(part, fields)
        part._set_header_block(fields, header_end, body_start, separator)

    def header_fields(self, part: Part, fields: list[HeaderField]) -> tuple[int, int, Span | None]:
        """Append the fields of ``part`` to ``fields``; return where the block ends,
        where the body starts and the empty line between them."""
        buf, pos, end = part.buffer, part.start, part.end
        max_fields = self.limits.max_header_fields
        header_limit = part.start + self.limits.max_header_bytes
        line = g.LINE.match
        field = _FIELD.match
        # Lines are matched no further than two bytes past the limit: enough to tell that
        # a line passes it and to read the CRLF of an empty line right at it, and a 10 MB
        # header line is not read twice.
        stop = min(end, header_limit + 2)
        while pos < end:
            c = buf[pos]
            if c == 13 or c == 10:  # the empty line that ends the block (no field regex)
                nxt = line(buf, pos, stop).end()  # type: ignore[union-attr]  # always matches
                return pos, nxt, (pos, nxt)
            # matched in a window: a field past it (a million folds) ends where field_end says
            window = min(stop, pos + _FIELD_WINDOW)
            m = field(buf, pos, window)
            nxt = -1 if m is None else m.end()
            if m is None or (nxt == window < stop and (nxt := field_end(buf, pos, stop)) < 0):
                m = field(buf, pos, stop)
                nxt = -1 if m is None else m.end()
            if m is not None and nxt <= header_limit:
                # the common case, exactly as the branches below would take it line by line
                name = m.group(1)
                fields.append(HeaderField(buf, pos, nxt, pos + len(name) + 1, name.decode()))
                if len(fields) > max_fields:
                    return self.too_many_fields(part, fields, pos)
                pos = nxt
                continue
            nxt = line(buf, pos, stop).end()  # type: ignore[union-attr]  # LINE always matches
            if nxt > header_limit:
                self.defect(
                    Defect.HEADER_SIZE_LIMIT,
                    part,
                    pos,
                    f"header block is larger than {self.limits.max_header_bytes:,} bytes; "
                    "the rest of this part is kept unparsed",
                )
                return self.give_up_headers(part, pos)
            if c == 32 or c == 9:  # continuation line (RFC 5322 section 2.2.3)
                if fields:
                    fields[-1] = fields[-1]._extended(nxt)
                else:
                    self.defect(
                        Defect.FIRST_LINE_CONTINUATION,
                        part,
                        pos,
                        "the header block starts with a continuation line",
                    )
                    fields.append(HeaderField(buf, pos, nxt, pos, "", valid=False))
            else:
                eol = nxt
                while eol > pos and buf[eol - 1] in (10, 13):
                    eol -= 1
                colon = buf.find(b":", pos, eol)
                name = buf[pos:colon].rstrip(b" \t") if colon >= 0 else b""
                if colon >= 0 and b" " not in name and b"\t" not in name:
                    fields.append(
                        HeaderField(buf, pos, nxt, colon + 1, name.decode("utf-8", "replace"))
                    )
                    if not name:
                        self.defect(
                            Defect.EMPTY_HEADER_NAME,
                            part,
                            pos,
                            "header line starts with a colon: the field name is empty",
                        )
                    elif g.HEADER_NAME_OK.fullmatch(name) is None:
                        self.defect(
                            Defect.ILLEGAL_HEADER_NAME,
                            part,
                            pos,
                            f"field name {name!r} has characters outside printable US-ASCII",
                        )
                    elif len(name) != colon - pos:
                        self.defect(
                            Defect.HEADER_NAME_WHITESPACE,
                            part,
                            pos,
                            f"whitespace between field name {name.decode()!r} and colon "
                            "(obsolete syntax)",
                        )
                elif not fields and buf.startswith(b"From ", pos):
                    self.defect(
                        Defect.MBOX_FROM_LINE,
                        part,
                        pos,
                        "message starts with an mbox 'From ' envelope line, "
                        "which is not a header field",
                    )
                    fields.append(HeaderField(buf, pos, nxt, pos, "", valid=False))
                elif (
                    fields
                    and _HEADERISH.match(buf, nxt, end) is not None
                    and not self.is_delimiter(part, fields, buf, pos, eol)
                ):
                    self.defect(
                        Defect.HEADER_LINE_WITHOUT_COLON,
                        part,
                        pos,
                        "header line has no colon: "
                        f"{buf[pos : min(eol, pos + 40)].decode('utf-8', 'replace')!r}",
                    )
                    fields.append(HeaderField(buf, pos, nxt, pos, "", valid=False))
                else:
                    self.defect(
                        Defect.MISSING_HEADER_BODY_SEPARATOR,
                        part,
                        pos,
                        "no empty line between header and body; the body starts at "
                        f"{buf[pos : min(eol, pos + 40)].decode('utf-8', 'replace')!r}",
                    )
                    return pos, pos, None
                if len(fields) > max_fields:
                    return self.too_many_fields(part, fields, pos)
            pos = nxt
        return end, end, None

    def is_delimiter(
        self, part: Part, fields: list[HeaderField], buf: bytes, pos: int, eol: int
    ) -> bool:
        """Is the line at ``pos`` a delimiter line of this part's own boundary or of an
        enclosing one?  Then the header block ends there, as the stdlib and mime4j read
        it (RFC 2046 section 5.1.1), and the part after the delimiter is kept."""
        if not buf.startswith(b"--", pos):
            return False
        known = self.boundaries
        if known is None or known.part is not part:
            known = self.boundaries = _Boundaries(part)
        line = buf[pos + 2 : eol].rstrip(b" \t")
        return known.match(fields, line) or (
            line.endswith(b"--") and known.match(fields, line[:-2])
        )

    def too_many_fields(
        self, part: Part, fields: list[HeaderField], pos: int
    ) -> tuple[int, int, Span | None]:
        """The field at ``pos`` passes the header-field limit: drop it and stop there."""
        fields.pop()
        self.defect(
            Defect.HEADER_FIELD_LIMIT,
            part,
            pos,
            f"more than {self.limits.max_header_fields:,} header fields; "
            "the rest of this part is kept unparsed",
        )
        return self.give_up_headers(part, pos)

    def give_up_headers(self, part: Part, pos: int) -> tuple[int, int, Span | None]:
        """A header limit was hit: find where the block ends and keep the rest opaque."""
        buf = part.buffer
        part._set_opaque()
        m = g.BLANK_LINE.search(buf, max(pos - 2, part.start), part.end)
        if m is None:
            return part.end, part.end, None
        sep = m.start() + (2 if buf.startswith(b"\r\n", m.start()) else 1)
        return sep, m.end(), (sep, m.end())

    # -- multipart ---------------------------------------------------------------------------

    def multipart(self, part: Part) -> None:
        """RFC 2046 section 5.1.1: split the body at the delimiter lines."""
        boundary = part.content_type.params.get("boundary")
        if not boundary:
            self.defect(
                Defect.MULTIPART_MISSING_BOUNDARY,
                part,
                part.start,
                f"{part.mime_type} without a boundary parameter",
            )
            return
        bnd = boundary.encode("utf-8", "replace")
        for ancestor in part.ancestors():
            other = ancestor.boundary
            if other:
                ob = other.encode("utf-8", "replace")
                if bnd.startswith(ob) or ob.startswith(bnd):
                    self.defect(
                        Defect.NESTED_BOUNDARY_CONFLICT,
                        part,
                        part.start,
                        f"boundary {boundary!r} "
                        + ("equals" if ob == bnd else "overlaps")
                        + f" the boundary {other!r} of part {ancestor.path or 'root'}",
                    )
                    break
        children: list[Part] = []
        delimiters: list[Span] = []
        preamble, epilogue = self.split(part, boundary, bnd, children, delimiters)
        part._set_multipart(children, delimiters, preamble, epilogue)

    def split(
        self, part: Part, boundary: str, bnd: bytes, children: list[Part], delimiters: list[Span]
    ) -> tuple[Span | None, Span | None]:
        """Fill ``children`` and ``delimiters``; return the preamble and the epilogue."""
        buf, bs, be = part.buffer, part.body_start, part.body_end
        prev = -1  # end of the previous delimiter line
        index = 0
        preamble: Span | None = None
        base = part.path + "." if part.path else ""
        depth = part.depth + 1
        for start, stop, close in _delimiters(buf, bnd, bs, be):
            if start > bs and buf[start] == 10 and buf[start - 1] == 13:
                start -= 1
            start = max(start, prev)
            if prev < 0:
                preamble = (bs, start)
            elif not self.child(part, children, prev, start, base, index, depth):
                return preamble, None
            if buf.startswith(b"\r\n", stop, be):  # the line break stays inside the body
                stop += 2
            elif stop < be and buf[stop] in (10, 13):
                stop += 1
            delimiters.append((start, stop))
            prev = stop
            index += 1
            if close:
                return preamble, (prev, be)
        if prev < 0:
            self.defect(
                Defect.BOUNDARY_NOT_FOUND,
                part,
                bs,
                f"no delimiter line --{boundary} in the body of this {part.mime_type}",
            )
            return preamble, None
        self.defect(
            Defect.MISSING_CLOSING_BOUNDARY,
            part,
            be,
            f"the closing delimiter --{boundary}-- is missing",
        )
        self.child(part, children, prev, be, base, index, depth)
        return preamble, None

    def child(
        self,
        part: Part,
        children: list[Part],
        start: int,
        end: int,
        base: str,
        index: int,
        depth: int,
    ) -> bool:
        if depth > self.limits.max_depth:
            self.defect(
                Defect.DEPTH_LIMIT,
                part,
                start,
                f"nesting deeper than {self.limits.max_depth}; this part's body is kept unparsed",
            )
            children.clear()
            part._set_opaque()
            return False
        self.count += 1
        if self.count > self.limits.max_parts:
            self.defect(
                Defect.PART_LIMIT,
                part,
                start,
                f"more than {self.limits.max_parts:,} parts; "
                "the rest of this multipart is kept unparsed",
            )
            part._set_opaque()
            return False
        children.append(
            Part(part.buffer, start, end, path=f"{base}{index}", depth=depth, parent=part)
        )
        return True

    # -- message/rfc822 ----------------------------------------------------------------------

    def attached(self, part: Part) -> None:
        """RFC 2046 section 5.2.1: the body of message/rfc822 is a message."""
        depth = part.depth + 1
        path = f"{part.path}.1" if part.path else "1"
        if depth > self.limits.max_depth:
            self.defect(
                Defect.DEPTH_LIMIT,
                part,
                part.body_start,
                f"nesting deeper than {self.limits.max_depth}; "
                "the attached message is kept unparsed",
            )
            part._set_opaque()
            return
        self.count += 1
        if self.count > self.limits.max_parts:
            self.defect(
                Defect.PART_LIMIT,
                part,
                part.body_start,
                f"more than {self.limits.max_parts:,} parts; the attached message is kept unparsed",
            )
            part._set_opaque()
            return
        if part.transfer_encoding in _IDENTITY:
            inner = Message(
                part.buffer,
                part.body_start,
                part.body_end,
                path=path,
                depth=depth,
                parent=part,
                limits=self.limits,
            )
            inner._attach(self.root, None)
        else:
            # RFC 2046 forbids encoding message/rfc822, but mail clients decode it;
            # the attached message then lives in a buffer of its own.
            decoded = decode_body(part.raw_body, part.transfer_encoding)
            inner = Message(decoded, path=path, depth=depth, parent=part, limits=self.limits)
            inner._attach(self.root, part)
        part._set_multipart([inner], [], None, None)
