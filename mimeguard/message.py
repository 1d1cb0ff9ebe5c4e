"""The parsed message: a tree of parts, every piece a span of one buffer.

Nothing here copies or decodes the message up front.  A :class:`Part` records
where its header block, each header field, its body, its boundary lines,
preamble and epilogue lie in the buffer; values (content type, filename,
decoded body, text) are computed when asked for.

Part paths are dotted child indexes: the root is ``""``, its children ``"1"``,
``"2"``…, their children ``"1.1"``….  A ``message/rfc822`` part has exactly one
child, the attached message (so the attached message's root header block of
part ``"2"`` is part ``"2.1"``).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from . import _abnf as g
from ._charset import decode_8bit
from ._params import ContentType, Disposition, parse_content_type, parse_disposition_field
from ._rfc2047 import decode_words, lookup_charset
from ._stdlib_api import StdlibAPI
from .limits import DEFAULT_LIMITS, Limits

__all__ = ["HeaderField", "Message", "Part", "Span"]

Span = tuple[int, int]

_WSP = b" \t"
_ENCAPSULATING = frozenset({"message/rfc822", "message/global", "message/external-body"})
_DEFAULT_TEXT = parse_content_type("text/plain; charset=us-ascii")
_DEFAULT_RFC822 = parse_content_type("message/rfc822")
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})
#: "not computed yet", for the disposition cache (``None`` is a computed value)
_UNSET = Disposition("", _NO_PARAMS, ())
#: the key of :attr:`Part.is_attachment` in the part's memo (several rules ask it of every part)
_IS_ATTACHMENT = "_mimeguard_is_attachment"
_QP_PADDED_SOFT_BREAK = re.compile(rb"=[ \t]+(?=\r?\n)")


class HeaderField:
    """One header field: its raw bytes (folds and line ending included) and its value.

    ``name`` is the field name as written; ``value`` is the unfolded value
    (RFC 5322 section 2.2.3) with surrounding whitespace removed, raw 8-bit bytes
    read as UTF-8 (RFC 6532), else as :func:`~mimeguard._charset.decode_8bit`
    reads them; ``decoded`` also decodes RFC 2047 encoded-words, from the raw
    bytes, so an 8-bit byte inside a word is read in the word's own charset.  A
    line that is not a field (a line without a colon, a leading continuation
    line, an mbox ``From`` line) is kept as a field with ``valid`` false so no
    byte is lost.  Fields are values: every attribute is read-only.
    """

    __slots__ = ("_buf", "end", "lname", "name", "start", "valid", "value_start")

    _buf: bytes
    # Plain slots, read at attribute speed (rules read them in their hottest loops);
    # __setattr__ refuses every write, so a field is a value all the same.
    start: int
    end: int
    #: offset of the first byte after the colon
    value_start: int
    name: str
    #: the field name in lower case
    lname: str
    valid: bool

    def __init__(
        self, buf: bytes, start: int, end: int, value_start: int, name: str, valid: bool = True
    ) -> None:
        # the slots' own setters: __setattr__ refuses, and object.__setattr__ would look
        # each slot up by name (a field is made for every header line the parser reads)
        _SET_BUF(self, buf)
        _SET_START(self, start)
        _SET_END(self, end)
        _SET_VALUE_START(self, value_start)
        _SET_NAME(self, name)
        _SET_LNAME(self, name.lower())
        _SET_VALID(self, valid)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"HeaderField is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"HeaderField is read-only: cannot delete {name!r}")

    def _extended(self, end: int) -> HeaderField:
        """This field with its raw bytes running to ``end`` (a continuation line)."""
        return HeaderField(self._buf, self.start, end, self.value_start, self.name, self.valid)

    @property
    def span(self) -> Span:
        return (self.start, self.end)

    @property
    def buffer(self) -> bytes:
        """The bytes ``start``, ``value_start`` and ``end`` index into (no copy)."""
        return self._buf

    @property
    def raw(self) -> bytes:
        """The field exactly as it appears in the message, line ending included."""
        return self._buf[self.start : self.end]

    @property
    def raw_value(self) -> bytes:
        """The bytes after the colon, folding kept, final line ending removed."""
        # the end is found first and the bytes sliced once (issue 16: a field of
        # 100,000 folded lines was copied twice)
        return self._buf[self.value_start : self._value_end()]

    def _value_end(self) -> int:
        """Where the value ends: before the field's final line ending."""
        buf, start, end = self._buf, self.value_start, self.end
        if buf.endswith(b"\r\n", start, end):
            return end - 2
        if buf.endswith((b"\n", b"\r"), start, end):
            return end - 1
        return end

    def raw_view(self) -> memoryview:
        """:attr:`raw` where it lies in the message: a view, no copy (a reader of a
        field of 100,000 folded lines searches it without holding a second one)."""
        return memoryview(self._buf)[self.start : self.end]

    def value_view(self) -> memoryview:
        """:attr:`raw_value` where it lies in the message: a view, no copy."""
        return memoryview(self._buf)[self.value_start : self._value_end()]

    @property
    def unfolded(self) -> bytes:
        """The raw value unfolded (RFC 5322 section 2.2.3), surrounding whitespace removed."""
        # every CR and LF goes (g.EOL matches each of them): translate does it in one pass
        return self.raw_value.translate(None, b"\r\n").strip(_WSP)

    @property
    def value(self) -> str:
        return decode_8bit(self.unfolded)

    @property
    def decoded(self) -> str:
        """The value with RFC 2047 encoded-words decoded."""
        return decode_words(self.unfolded)[0]

    @property
    def is_folded(self) -> bool:
        return g.EOL.search(self._buf, self.value_start, self.end - 1) is not None

    def __repr__(self) -> str:
        return f"HeaderField({self.name!r}, {self.value[:60]!r})"


#: up to this many fields, :meth:`Part.header` reads them in order instead of indexing them
_SCANNED = 6


_SET_BUF, _SET_START, _SET_END, _SET_VALUE_START, _SET_NAME, _SET_LNAME, _SET_VALID = (
    getattr(HeaderField, slot).__set__
    for slot in ("_buf", "start", "end", "value_start", "name", "lname", "valid")
)


class Part(StdlibAPI):
    """One MIME entity: a header block and a body (RFC 2045 section 2.4).

    Spans are half-open ``(start, end)`` byte offsets into :attr:`buffer`.  A part
    is a value: its attributes are read-only, its sequences tuples and its
    parameter mappings read-only, so nothing reachable from one parse can change
    another (only the parser fills a part, through the ``_set_*`` methods).
    """

    __slots__ = (
        "_body_end",
        "_body_start",
        "_buf",
        "_children",
        "_content_type",
        "_delimiters",
        "_depth",
        "_disposition_cache",
        "_end",
        "_epilogue",
        "_header_end",
        "_headers",
        "_index",
        "_memo",
        "_opaque",
        "_parent",
        "_path",
        "_preamble",
        "_separator",
        "_start",
        "_transfer_encoding",
    )

    def __init__(
        self, buf: bytes, start: int, end: int, *, path: str, depth: int, parent: Part | None
    ) -> None:
        self._buf = buf
        self._start = start
        self._end = end
        self._path = path
        self._depth = depth
        self._parent = parent
        self._headers: tuple[HeaderField, ...] = ()
        #: fields by lower-case name, built on the first lookup (None: not yet)
        self._index: dict[str, tuple[HeaderField, ...]] | None = None
        self._header_end = start
        self._separator: Span | None = None
        self._body_start = start
        self._body_end = end
        self._children: tuple[Part, ...] = ()
        self._delimiters: tuple[Span, ...] = ()
        self._preamble: Span | None = None
        self._epilogue: Span | None = None
        self._opaque = False
        self._content_type: ContentType = _DEFAULT_TEXT
        self._transfer_encoding = "7bit"
        self._disposition_cache: Disposition | None = _UNSET
        #: values other modules derive from this part, computed once (a cache, not state)
        self._memo: dict[str, Any] = {}

    # -- construction: only the parser calls these, while it builds the tree ------------------

    def _set_header_block(
        self, headers: list[HeaderField], header_end: int, body_start: int, separator: Span | None
    ) -> None:
        self._headers = tuple(headers)
        self._index = None
        self._header_end = header_end
        self._body_start = body_start
        self._separator = separator

    def _set_mime(self, content_type: ContentType, transfer_encoding: str) -> None:
        self._content_type = content_type
        self._transfer_encoding = transfer_encoding

    def _set_multipart(
        self,
        children: list[Part],
        delimiters: list[Span],
        preamble: Span | None,
        epilogue: Span | None,
    ) -> None:
        self._children = tuple(children)
        self._delimiters = tuple(delimiters)
        self._preamble = preamble
        self._epilogue = epilogue

    def _set_opaque(self) -> None:
        """A parser limit stopped the parse of this part's body."""
        self._opaque = True

    # -- the read-only attributes ------------------------------------------------------------

    @property
    def start(self) -> int:
        return self._start

    @property
    def end(self) -> int:
        return self._end

    @property
    def path(self) -> str:
        return self._path

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def parent(self) -> Part | None:
        return self._parent

    @property
    def headers(self) -> tuple[HeaderField, ...]:
        """The header fields in order, invalid lines included (see :class:`HeaderField`)."""
        return self._headers

    @property
    def header_end(self) -> int:
        return self._header_end

    @property
    def separator(self) -> Span | None:
        """The empty line between header and body, ``None`` when missing."""
        return self._separator

    @property
    def body_start(self) -> int:
        return self._body_start

    @property
    def body_end(self) -> int:
        return self._body_end

    @property
    def children(self) -> tuple[Part, ...]:
        return self._children

    @property
    def delimiters(self) -> tuple[Span, ...]:
        """Delimiter lines, each from the line break before it (which belongs to the
        delimiter, RFC 2046 section 5.1.1) to the end of its own line break."""
        return self._delimiters

    @property
    def preamble(self) -> Span | None:
        return self._preamble

    @property
    def epilogue(self) -> Span | None:
        return self._epilogue

    @property
    def opaque(self) -> bool:
        """True when a parser limit stopped the parse of this part's body."""
        return self._opaque

    @property
    def content_type(self) -> ContentType:
        return self._content_type

    @property
    def transfer_encoding(self) -> str:
        """The Content-Transfer-Encoding token in lower case (``7bit`` when absent)."""
        return self._transfer_encoding

    # -- the buffer -------------------------------------------------------------------------

    @property
    def buffer(self) -> bytes:
        """The bytes every span of this part indexes into."""
        return self._buf

    @property
    def span(self) -> Span:
        return (self._start, self._end)

    @property
    def header_span(self) -> Span:
        return (self._start, self._header_end)

    @property
    def body_span(self) -> Span:
        return (self._body_start, self._body_end)

    @property
    def raw(self) -> bytes:
        return self._buf[self._start : self._end]

    @property
    def raw_headers(self) -> bytes:
        return self._buf[self._start : self._header_end]

    @property
    def raw_body(self) -> bytes:
        """The body as it appears in the message, still transfer-encoded."""
        return self._buf[self._body_start : self._body_end]

    # -- header access -----------------------------------------------------------------------

    def _fields(self) -> dict[str, tuple[HeaderField, ...]]:
        """The fields by lower-case name, in order: one index per part, built once, so a
        lookup costs the same in a 3-field part and a 10,000-field one."""
        index = self._index
        if index is None:
            grouped: dict[str, list[HeaderField]] = {}
            for field in self._headers:
                grouped.setdefault(field.lname, []).append(field)
            index = self._index = {k: tuple(v) for k, v in grouped.items()}
        return index

    def header(self, name: str) -> HeaderField | None:
        """The first field called ``name`` (case-insensitive), or ``None``."""
        lname = name.lower()
        if self._index is None and len(self._headers) <= _SCANNED:
            # a part of a few fields (most parts of a multipart) is read without an index
            for field in self._headers:
                if field.lname == lname:
                    return field
            return None
        found = self._fields().get(lname)
        return None if found is None else found[0]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The unfolded value of the first field called ``name``."""
        field = self.header(name)
        return default if field is None else field.value

    def get_all(self, name: str) -> list[HeaderField]:
        return list(self._fields().get(name.lower(), ()))

    # -- MIME attributes ---------------------------------------------------------------------

    @property
    def mime_type(self) -> str:
        """``maintype/subtype`` in lower case; ``text/plain`` when absent or unparsable."""
        return self._content_type.mime_type

    @property
    def maintype(self) -> str:
        return self._content_type.maintype

    @property
    def subtype(self) -> str:
        return self._content_type.subtype

    @property
    def params(self) -> Mapping[str, str]:
        """Content-Type parameters, RFC 2231 continuations and charsets decoded (read-only)."""
        return self._content_type.params

    @property
    def is_multipart(self) -> bool:
        return self._content_type.maintype == "multipart"

    @property
    def is_message(self) -> bool:
        """True for an attached message (``message/rfc822`` and ``message/global``)."""
        return self._content_type.mime_type in ("message/rfc822", "message/global")

    @property
    def encapsulates(self) -> bool:
        """True when the body is parsed as a message of its own: attached messages and
        ``message/external-body``, whose body is the external part's header
        (RFC 2046 section 5.2.3)."""
        return self._content_type.mime_type in _ENCAPSULATING

    @property
    def boundary(self) -> str | None:
        return self._content_type.params.get("boundary") if self.is_multipart else None

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter in lower case; ``us-ascii`` for text without one
        (RFC 2045 section 5.2), ``None`` for other types without one."""
        cs = self._content_type.params.get("charset")
        if cs:
            return cs.strip().lower()
        return "us-ascii" if self._content_type.maintype == "text" else None

    @property
    def _disposition(self) -> Disposition | None:
        d = self._disposition_cache
        if d is _UNSET:
            field = self.header("content-disposition")
            d = self._disposition_cache = None if field is None else parse_disposition_field(field)
        return d

    @property
    def disposition(self) -> str | None:
        """``"inline"``, ``"attachment"`` (or another token), ``None`` when absent."""
        d = self._disposition
        return None if d is None else (d.kind or None)

    @property
    def disposition_params(self) -> Mapping[str, str]:
        """Content-Disposition parameters (read-only)."""
        d = self._disposition
        return _NO_PARAMS if d is None else d.params

    @property
    def filename(self) -> str | None:
        """The file name a mail client would show: Content-Disposition ``filename``
        (``filename*`` per RFC 2231 preferred), else Content-Type ``name``; RFC 2047
        encoded names decoded."""
        name = self.disposition_params.get("filename") or self._content_type.params.get("name")
        return name or None

    @property
    def is_attachment(self) -> bool:
        """True for a part a mail client shows as an attachment rather than as body text."""
        found: bool | None = self._memo.get(_IS_ATTACHMENT)
        if found is None:
            found = self._memo[_IS_ATTACHMENT] = self._is_attachment()
        return found

    def _is_attachment(self) -> bool:
        if self.is_multipart:
            return False
        disposition = self.disposition
        if disposition == "attachment":
            return True
        if disposition == "inline":
            return False
        if self.filename is not None:
            return True
        return self._content_type.maintype != "text"

    @property
    def is_body_text(self) -> bool:
        """text/plain or text/html that is shown as the message's text."""
        return self.mime_type in ("text/plain", "text/html") and not self.is_attachment

    @property
    def attached(self) -> Message | None:
        """The attached message of a ``message/rfc822`` part, parsed."""
        if self.encapsulates and self._children and isinstance(self._children[0], Message):
            return self._children[0]
        return None

    @property
    def size(self) -> int:
        return self._end - self._start

    # -- body decoding -----------------------------------------------------------------------

    def decoded(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone (RFC 2045 section 6).

        Decoding is lenient, like mail clients: invalid base64 characters are
        skipped and bad quoted-printable escapes kept literally (the validator
        reports both).  Unknown encodings return the raw body.
        """
        return decode_body(self._buf[self._body_start : self._body_end], self._transfer_encoding)

    def text(self, errors: str = "replace") -> str:
        """The decoded body read in the part's charset.

        8-bit bytes under no charset, ``us-ascii`` or a charset no codec knows are
        read as clients read them (:func:`~mimeguard._charset.decode_8bit`); ``errors``
        applies to a declared charset the bytes do not fit.
        """
        data = self.decoded()
        label = self._content_type.params.get("charset")
        codec = lookup_charset(label) if label else None
        if codec is None or codec == "ascii":
            return decode_8bit(data)
        return data.decode(codec, errors)

    # -- the tree ----------------------------------------------------------------------------

    def walk(self) -> Iterator[Part]:
        """This part and every part below it, in document order (attached messages included)."""
        stack: list[Part] = [self]
        while stack:
            part = stack.pop()
            yield part
            if part.children:
                stack.extend(reversed(part.children))

    def ancestors(self) -> Iterator[Part]:
        part = self.parent
        while part is not None:
            yield part
            part = part.parent

    def find(self, path: str) -> Part | None:
        """The part at dotted ``path`` below (and relative to) this one."""
        part: Part = self
        if not path:
            return part
        for step in path.split("."):
            try:
                index = int(step)
            except ValueError:
                return None
            if not 1 <= index <= len(part.children):
                return None
            part = part.children[index - 1]
        return part

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path or 'root'} {self.mime_type} {self.size} bytes>"


class Message(Part):
    """A parsed message: the root part plus what the parser met on the way.

    Build one with :func:`mimeguard.parse`.  The bytes it was parsed from are
    kept (not copied) and :meth:`to_bytes` returns them unchanged.
    """

    __slots__ = ("_defects", "_limits", "_outer")

    def __init__(
        self,
        buf: bytes,
        start: int = 0,
        end: int | None = None,
        *,
        path: str = "",
        depth: int = 0,
        parent: Part | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(
            buf, start, len(buf) if end is None else end, path=path, depth=depth, parent=parent
        )
        self._limits = limits
        self._outer: Part | None = None
        self._defects: dict[str, list[tuple[Part, int, str]]] = {}

    def _attach(self, root: Message, outer: Part | None) -> None:
        """The parser's link of an attached message to the root it reports to."""
        self._defects = root._defects
        self._outer = outer

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def outer(self) -> Part | None:
        """For an attached message carried base64/QP-encoded (against RFC 2046), the
        part whose body was decoded to make this message's buffer."""
        return self._outer

    @property
    def data(self) -> bytes:
        return self._buf

    def to_bytes(self) -> bytes:
        """The message as bytes: exactly the input when nothing was edited."""
        if self._start == 0 and self._end == len(self._buf):
            return self._buf
        return self._buf[self._start : self._end]

    @property
    def parts(self) -> list[Part]:
        """Every part of the message in document order, the root first."""
        return list(self.walk())

    def defects(self, name: str) -> list[tuple[Part, int, str]]:
        """What the parser itself met, by rule name: ``(part, offset, message)`` (a copy)."""
        return list(self._defects.get(name, ()))

    def _defect(self, name: str, part: Part, offset: int, message: str) -> None:
        self._defects.setdefault(name, []).append((part, offset, message))

    def problems(self) -> Mapping[str, tuple[tuple[Part, int, str], ...]]:
        """Every defect the parser met, by rule name (a read-only copy)."""
        return MappingProxyType({k: tuple(v) for k, v in self._defects.items()})


def decode_body(raw: bytes, encoding: str) -> bytes:
    """Undo a Content-Transfer-Encoding, leniently (see :meth:`Part.decoded`)."""
    if encoding == "base64":
        return decode_base64(raw)
    if encoding == "quoted-printable":
        return decode_qp(raw)
    return raw


def decode_base64(raw: bytes) -> bytes:
    try:
        return binascii.a2b_base64(raw)
    except binascii.Error:
        pass
    # Wrong length (a truncated body): keep every byte the last partial quantum holds,
    # as the stdlib does; a single character left over carries no whole byte.
    clean = g.BASE64_BAD_CHAR.sub(b"", raw).translate(None, b" \t\r\n=")
    rest = len(clean) % 4
    clean = clean[:-1] if rest == 1 else clean + b"=" * (-len(clean) % 4)
    try:
        return binascii.a2b_base64(clean)
    except binascii.Error:  # pragma: no cover - the cleaned input is always valid
        return b""


def decode_qp(raw: bytes) -> bytes:
    # binascii handles "=" CRLF and "=" LF soft breaks itself; a soft break with
    # whitespace after the "=" (RFC 2045 section 6.7 rule 3) needs help.
    if _QP_PADDED_SOFT_BREAK.search(raw) is not None:
        raw = _QP_PADDED_SOFT_BREAK.sub(b"=", raw)
    return binascii.a2b_qp(raw)
