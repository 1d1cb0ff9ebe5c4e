"""From an offset in a header field's unfolded value back to the message bytes.

Header-value parsers read :attr:`HeaderField.value`: the raw value with every
line ending removed (RFC 5322 section 2.2.3: unfolding; obs-fold lines and bare
CR or LF included), surrounding whitespace stripped, and 8-bit bytes read by
:func:`~mimeguard._charset.decode_8bit`.  They report problems at offsets into
that string.  :class:`ValueMap` undoes each step, so a finding can point at the
exact bytes of the bad token:

- a character maps to the bytes that encode it: exact for ASCII, for UTF-8
  (RFC 6532; ``surrogateescape`` text too) and for one-byte-per-character
  readings (Windows-1252, single-byte guesses).  Any other reading (UTF-8 with
  characters cut short, a multi-byte charset chardet guessed) has no exact map:
  every offset then maps to the whole value, which holds the token all the same;
- the line endings unfolding removed are put back: a span that crosses a fold
  covers it, and a span never starts or ends on a line ending;
- a span that starts or ends inside an RFC 2047 encoded-word grows to the whole
  word: the word's bytes are what a reader can find and fix.
"""

from __future__ import annotations

import bisect

from . import _abnf as g
from ._problem import Problem
from ._rfc2047 import _WORD_8BIT_RE
from .message import HeaderField

__all__ = [
    "ValueMap",
    "eight_bit_run",
    "field_bytes",
    "field_span",
    "line_end",
    "problem_span",
    "value_span",
]

_WSP = b" \t"


class ValueMap:
    """Offsets in one field's ``value`` (or its ``unfolded`` bytes) → offsets in its buffer."""

    __slots__ = (
        "_base",
        "_cuts",
        "_exact",
        "_length",
        "_shift",
        "_size",
        "_starts",
        "_text",
        "_unfolded",
        "_words",
    )

    def __init__(self, field: HeaderField, text: str | None = None) -> None:
        """``text`` is the string the parser read, when not ``field.value`` (e.g. the
        unfolded bytes read with ``surrogateescape``)."""
        raw = field.raw_value
        joined = g.EOL.sub(b"", raw)
        lead = len(joined) - len(joined.lstrip(_WSP))
        unfolded = joined.strip(_WSP)
        self._unfolded = unfolded
        self._base = field.value_start
        # _cuts[i] is where (in the joined value) the i-th removed line ending was, and
        # _shift[i] how many line-ending bytes precede everything from there on
        cuts: list[int] = []
        shift: list[int] = []
        removed = 0
        for m in g.EOL.finditer(raw):
            removed += m.end() - m.start()
            cuts.append(m.end() - removed)
            shift.append(removed)
        self._cuts = cuts
        self._shift = shift
        self._size = lead  # offset of the unfolded value in the joined one
        if text is None and unfolded.isascii():
            self._length = len(unfolded)  # field.value is these bytes: no need to decode it
            self._text = ""
            self._exact = "same"
        else:
            text = field.value if text is None else text
            self._length = len(text)
            self._text = text
            self._exact = _char_map_kind(text, unfolded)
        self._words = (
            [(m.start(), m.end()) for m in _WORD_8BIT_RE.finditer(unfolded.decode("latin-1"))]
            if b"=?" in unfolded
            else []
        )
        self._starts = [ws for ws, _ in self._words]

    def byte_offset(self, index: int) -> int:
        """The offset in ``unfolded`` of character ``index`` of ``value`` (``-1``: no exact map)."""
        index = max(0, min(index, self._length))
        kind = self._exact
        if kind == "same":
            return index
        if kind == "utf-8":
            return len(self._text[:index].encode("utf-8", "surrogateescape"))
        return -1

    def span(self, start: int, end: int | None = None) -> tuple[int, int]:
        """The buffer span of characters ``[start, end)`` of the value (``end``: a point)."""
        a = self.byte_offset(start)
        b = a if end is None else self.byte_offset(max(start, end))
        if a < 0 or b < 0:
            return self.unfolded_span(0, len(self._unfolded))
        return self.unfolded_span(a, None if end is None else b)

    def unfolded_span(self, start: int, end: int | None = None) -> tuple[int, int]:
        """The buffer span of bytes ``[start, end)`` of the unfolded value.

        A point (``end`` ``None``) at or inside an encoded-word is the whole word.
        """
        size = len(self._unfolded)
        start = max(0, min(start, size))
        point = end is None
        end = start if end is None else max(start, min(end, size))
        words = self._words
        if words:  # sorted and apart (finditer): the word holding a point is found by bisection
            starts = self._starts
            i = bisect.bisect_right(starts, start) - 1
            if i >= 0:
                ws, we = words[i]
                if ws < start < we or (point and start == ws):
                    start = ws
                    end = max(end, we)
            j = bisect.bisect_right(starts, end) - 1
            if j >= 0:
                ws, we = words[j]
                if ws < end < we:
                    end = we
        a = self._to_buffer(start)
        if end == start:
            return a, a
        return a, self._to_buffer(end - 1) + 1

    def value_span(self) -> tuple[int, int]:
        """The buffer span of the whole (stripped) value."""
        return self.unfolded_span(0, len(self._unfolded))

    def _to_buffer(self, index: int) -> int:
        joined = index + self._size
        # the line endings removed at or before this byte: a byte at a cut follows the fold
        i = bisect.bisect_right(self._cuts, joined)
        return self._base + joined + (self._shift[i - 1] if i else 0)


def _char_map_kind(text: str, unfolded: bytes) -> str:
    """How characters of ``text`` map to bytes of ``unfolded``: ``same``, ``utf-8`` or ``none``."""
    if len(text) == len(unfolded):
        return "same"  # ASCII, Windows-1252 and every other byte-per-character reading
    try:
        if text.encode("utf-8", "surrogateescape") == unfolded:
            return "utf-8"
    except UnicodeEncodeError:  # a lone surrogate outside U+DC80..U+DCFF
        pass
    return "none"


#: the map last built, with the field bytes it maps: a rule asks for the spans of every
#: problem of one field in turn, and building the map reads the whole field (a field
#: with thousands of problems must not be read once per problem).  Keyed by the bytes,
#: not the field object, so no message buffer is kept alive by it.
_LAST: list[tuple[int, bytes, ValueMap]] = []


def _map_of(field: HeaderField) -> ValueMap:
    raw = field.raw_value
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] == field.value_start and last[1] == raw:
        return last[2]
    found = ValueMap(field)
    _LAST[:] = [(field.value_start, raw, found)]
    return found


def field_span(field: HeaderField, start: int, end: int | None = None) -> tuple[int, int]:
    """The buffer span of ``field.value[start:end]`` (``end`` ``None``: a point at ``start``)."""
    return _map_of(field).span(start, end)


def problem_span(field: HeaderField, problem: Problem) -> tuple[int, int]:
    """The buffer span of the token a parser of ``field.value`` reported ``problem`` at."""
    return _map_of(field).span(problem.offset, problem.end)


def value_span(field: HeaderField) -> tuple[int, int]:
    """The buffer span of the field's value, folds inside it included, surrounding WSP not."""
    return _map_of(field).value_span()


def field_bytes(field: HeaderField) -> tuple[int, int]:
    """The buffer span of the whole field, name to value, without its final line ending."""
    return field.start, field.value_start + len(field.raw_value)


_EIGHT_BIT_BYTES = bytes(range(0x80, 0x100))
#: how far a run of 8-bit bytes is followed (a word of text, not a binary body)
_MAX_RUN = 4096


def eight_bit_run(buf: bytes, start: int, stop: int) -> int:
    """The end of the run of 8-bit bytes at ``buf[start]`` (at most :data:`_MAX_RUN` long)."""
    piece = buf[start : min(stop, start + _MAX_RUN)]
    return start + len(piece) - len(piece.lstrip(_EIGHT_BIT_BYTES))


def line_end(buf: bytes, start: int, stop: int) -> int:
    """The end of the line holding ``buf[start]``, its CR or LF excluded (at most ``stop``)."""
    lf = buf.find(b"\n", start, stop)
    end = stop if lf < 0 else lf
    cr = buf.find(b"\r", start, end)
    return end if cr < 0 else cr
