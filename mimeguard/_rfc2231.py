"""RFC 2231 parameter values: the ``charset'language'`` prefix, ``%XX`` escapes and
section 3 continuations, decoded.

:mod:`mimeguard._params` scans a parameter list into :class:`Raw` records and hands
the RFC 2231 ones here.  Continuations written in order are joined as they are read
(:class:`Sections`), so 100,000 of them hold a few chunks, not a record each (issue
16); :func:`continued_value` joins any other set after sorting it.  Problems go to a
sink in the order ``mimeguard._params._assemble`` reports them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote_to_bytes

from mimeguard import _abnf as g
from mimeguard._charset import decode_8bit
from mimeguard._problem import Problem
from mimeguard._rfc2047 import (
    MAX_PROBLEMS,
    ProblemCollector,
    decode_words,
    has_encoded_word,
    lookup_charset,
)
from mimeguard._rfc2047 import short_repr as _q

__all__ = [
    "BAD_PARAM",
    "BAD_PERCENT_RE",
    "CHUNK",
    "Deferred",
    "Raw",
    "Sections",
    "Sink",
    "continued_value",
    "decodes_2047",
    "extended_value",
    "plain_value",
]

BAD_PARAM = "malformed-parameter"

_NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]++|[\x00-\x7f]++")
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# An encoded value with no bad escape: what Sections.feed undoes in one call.
_CLEAN_ENCODED = rf"(?:[{g.TOKEN_CHARS.replace('%', '')}]|%[0-9A-Fa-f]{{2}})++"
_NOTHING = re.compile(r"(?!)")
# RFC 2231 sections gathered before their text is joined: bounds what is held per section
CHUNK = 64


class Sink(Protocol):
    """Where problems go: a :class:`ProblemCollector` or a :class:`Deferred`."""

    def add(self, name: str, message: str, offset: int, end: int | None = None) -> None: ...


@dataclass(slots=True)
class Raw:
    """One ``name=value`` as written, before RFC 2231 assembly."""

    base: str  # lower-case name without the RFC 2231 suffix
    section: int | None  # RFC 2231 continuation number
    extended: bool  # RFC 2231 "*": value is charset'lang'%XX encoded
    value: str  # unquoted text
    quoted: bool
    span_start: int  # the ";" before it (or the name when that is missing)
    name_start: int
    value_start: int
    end: int  # end of the value as written


def _unpercent(text: str) -> tuple[bytes, bool]:
    """Undo ``%XX`` in ASCII ``text``; report whether a bad escape was kept."""
    parts = text.split("%")
    out = bytearray(parts[0].encode("ascii"))
    bad = False
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEXDIGITS and part[1] in _HEXDIGITS:
            out.append(int(part[:2], 16))
            out += part[2:].encode("ascii")
        else:
            bad = True
            out += b"%"
            out += part.encode("ascii")
    return bytes(out), bad


def _percent_decode(text: str, offset: int, sink: Sink) -> list[bytes | str]:
    """Undo RFC 2231 ``%XX`` escapes; raw non-ASCII characters stay text."""
    runs = [text] if text.isascii() else _NON_ASCII_RUN_RE.findall(text)
    pieces: list[bytes | str] = []
    bad = False
    for run in runs:
        if run.isascii():
            data, run_bad = _unpercent(run)
            pieces.append(data)
            bad = bad or run_bad
        else:
            pieces.append(run)
    if bad:
        sink.add(BAD_PARAM, "RFC 2231 value has a '%' not followed by two hex digits", offset)
    return pieces


def _decode_bytes(data: bytes, charset: str, offset: int, sink: Sink) -> str:
    """Decode RFC 2231 value bytes with the value's charset."""
    if not charset:
        # No charset given (RFC 2231 allows it to be empty): read as every other
        # undeclared 8-bit text is read.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            sink.add(BAD_PARAM, "RFC 2231 value has 8-bit data but no charset", offset)
            return decode_8bit(data)
    codec = lookup_charset(charset)
    if codec is None:
        sink.add(BAD_PARAM, f"RFC 2231 value uses unknown charset {_q(charset)}", offset)
        return decode_8bit(data)
    try:
        return data.decode(codec)
    except UnicodeError:
        sink.add(BAD_PARAM, f"RFC 2231 value holds bytes that are not valid {_q(charset)}", offset)
    try:
        return data.decode(codec, errors="replace")
    except (UnicodeError, ValueError):  # pragma: no cover - codec quirks
        return data.decode("latin-1")


def _join_pieces(
    pieces: list[bytes | str], charset: str, offset: int, sink: ProblemCollector
) -> str:
    """Decode byte pieces (merging neighbours, as continuations may split a character)."""
    out: list[str] = []
    pending: list[bytes] = []
    for piece in pieces:
        if isinstance(piece, bytes):
            pending.append(piece)
            continue
        if pending:
            out.append(_decode_bytes(b"".join(pending), charset, offset, sink))
            pending.clear()
        out.append(piece)
    if pending:
        out.append(_decode_bytes(b"".join(pending), charset, offset, sink))
    return "".join(out)


def _split_charset(raw: Raw, sink: Sink) -> tuple[str, str]:
    """Split ``charset'lang'rest`` of a first RFC 2231 section (section 3)."""
    charset, quote1, rest = raw.value.partition("'")
    _lang, quote2, rest = rest.partition("'")
    if not quote1 or not quote2:
        sink.add(BAD_PARAM, "RFC 2231 value lacks the charset'language' prefix", raw.value_start)
        return "", raw.value
    return charset, rest


def decodes_2047(base: str) -> bool:
    # A boundary must be matched literally against the body, so it is never
    # decoded: a decoded boundary would split the message differently.
    return base != "boundary"


def plain_value(base: str, text: str, offset: int, sink: ProblemCollector) -> str:
    """A non-RFC 2231 value, with RFC 2047 encoded-words decoded.

    Problem offsets inside the value are exact unless it had quoted-pairs.
    """
    if decodes_2047(base) and has_encoded_word(text):
        text, problems = decode_words(text)
        for problem in problems:
            sink.add(problem.name, problem.message, offset + problem.offset)
    return text


def extended_value(raw: Raw, sink: ProblemCollector) -> str:
    """A single ``name*=charset'lang'%XX`` value (RFC 2231 section 4)."""
    charset, rest = _split_charset(raw, sink)
    pieces = _percent_decode(rest, raw.value_start, sink)
    return _join_pieces(pieces, charset, raw.name_start, sink)


def continued_value(base: str, sections: dict[int, Raw], sink: ProblemCollector) -> str:
    """Join ``name*0``, ``name*1*``... in numeric order (RFC 2231 section 3)."""
    ordered = sorted(sections.items())
    first_number, first = ordered[0]
    expected = 0
    for number, raw in ordered:
        if number != expected:
            sink.add(
                BAD_PARAM, f"RFC 2231 parameter {_q(base)} lacks section {expected}", raw.name_start
            )
        expected = number + 1
    charset = ""
    pieces: list[bytes | str] = []
    # ASCII sections with no bad escape, undone together (one call, not one per section:
    # 100,000 sections stay cheap); each escape lies inside its own section, so the
    # joined text decodes to the joined bytes
    clean: list[str] = []
    for number, raw in ordered:
        if not raw.extended:
            if clean:
                pieces.append(unquote_to_bytes("".join(clean)))
                clean.clear()
            pieces.append(raw.value)  # only sections marked "*" are percent-encoded
            continue
        text = raw.value
        if number == 0:
            charset, text = _split_charset(raw, sink)
        if text.isascii() and BAD_PERCENT_RE.search(text) is None:
            clean.append(text)
            continue
        if clean:
            pieces.append(unquote_to_bytes("".join(clean)))
            clean.clear()
        pieces.extend(_percent_decode(text, raw.value_start, sink))
    if clean:
        pieces.append(unquote_to_bytes("".join(clean)))
    joined = _join_pieces(pieces, charset, first.name_start, sink)
    if first_number == 0 and not any(raw.extended for raw in sections.values()):
        # Plain continuations of an encoded-word: decode once joined.
        joined = plain_value(base, joined, first.value_start, sink)
    return joined


class Deferred:
    """Problems held back, to reach the sink in the order ``_params._assemble`` gives them
    (it reports after the whole scan); like the sink, it lists ``MAX_PROBLEMS`` and
    counts the rest, so 100,000 bad sections hold no more than that."""

    __slots__ = ("_count", "_listed", "_over")

    def __init__(self) -> None:
        self._listed: list[Problem] = []
        self._over: Problem | None = None
        self._count = 0

    def add(self, name: str, message: str, offset: int, end: int | None = None) -> None:
        if len(self._listed) < MAX_PROBLEMS:
            self._listed.append(Problem(name, message, offset, end))
            return
        if self._over is None:
            self._over = Problem(name, message, offset, end)
        self._count += 1

    def replay(self, sink: ProblemCollector) -> None:
        for problem in self._listed:
            sink.add(problem.name, problem.message, problem.offset, problem.end)
        over = self._over
        if over is not None:
            # the sink is full by now (it lists as many as this did): only the first
            # of these can be kept, the rest are counted
            for _ in range(self._count):
                sink.add(over.name, over.message, over.offset, over.end)


@dataclass(slots=True)
class Sections:
    """The RFC 2231 section 3 continuations of one parameter, joined as they are read.

    Only for sections written in order (``*0``, ``*1``, ``*2``...), where the order
    written is the numeric order :func:`continued_value` sorts into: the same text
    and problems, with nothing kept per section.  Its problems wait in two
    :class:`Deferred` (undoing ``%XX``, then decoding, the order of
    :func:`continued_value`) until :meth:`finish`.
    """

    first: Raw
    expected: int = 0
    charset: str = ""
    extended: bool = False  # some section is marked "*"
    #: ASCII text of "*" sections with no bad escape, undone together
    clean: list[str] = field(default_factory=list)
    #: undone bytes not decoded yet (None: no run of bytes open); a character may
    #: be split between sections, so a run is decoded when text or the end follows
    pending: bytearray | None = None
    #: the decoded text, in pieces of about ``CHUNK`` sections
    done: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    escapes: Deferred = field(default_factory=Deferred)
    decoding: Deferred = field(default_factory=Deferred)

    def feed(self, raw: Raw) -> bool:
        """Take the next section; False when it is not the one expected."""
        if raw.section != self.expected:
            return False
        self.expected += 1
        if not raw.extended:
            self._text(raw.value)  # only sections marked "*" are percent-encoded
            return True
        self.extended = True
        text = raw.value
        if raw.section == 0:
            self.charset, text = _split_charset(raw, self.escapes)
        if text.isascii() and BAD_PERCENT_RE.search(text) is None:
            self.clean.append(text)
            if len(self.clean) >= CHUNK:
                self._undo_clean()
            return True
        self._undo_clean()
        for piece in _percent_decode(text, raw.value_start, self.escapes):
            if isinstance(piece, bytes):
                self._bytes(piece)
            else:
                self._text(piece)
        return True

    def take(self, value: str, pos: int) -> int:
        """Read the next sections of this parameter from ``pos`` while each is the one
        expected, marked ``*``, unquoted and clean (the ``_FAST_PARAM_RE`` shapes
        that ``_params._scan`` reports nothing about and :meth:`feed` only gathers); return
        where the first other parameter starts.  100,000 such sections cost one
        regex match each instead of a record each."""
        match = _section_run(self.first.base).match
        expected = self.expected
        clean = self.clean
        while (m := match(value, pos)) is not None and int(m[1]) == expected:
            clean.append(m[2])
            expected += 1
            pos = m.end()
            if len(clean) >= CHUNK:
                self._undo_clean()
        if expected != self.expected:
            self.expected = expected
            self.extended = True
        return pos

    def _undo_clean(self) -> None:
        if self.clean:
            self._bytes(unquote_to_bytes("".join(self.clean)))
            self.clean.clear()

    def _bytes(self, data: bytes) -> None:
        if self.pending is None:
            self.pending = bytearray()
        self.pending += data

    def _text(self, text: str) -> None:
        self._undo_clean()
        self._decode()
        self._out(text)

    def _decode(self) -> None:
        if self.pending is not None:
            data, self.pending = bytes(self.pending), None
            self._out(_decode_bytes(data, self.charset, self.first.name_start, self.decoding))

    def _out(self, text: str) -> None:
        self.tail.append(text)
        if len(self.tail) >= CHUNK:
            self.done.append("".join(self.tail))
            self.tail.clear()

    def finish(self, base: str, sink: ProblemCollector) -> str:
        """The joined value; its problems go to ``sink``."""
        self._undo_clean()
        self._decode()
        self.escapes.replay(sink)
        self.decoding.replay(sink)
        joined = "".join(self.done) + "".join(self.tail)
        if not self.extended:
            # Plain continuations of an encoded-word: decode once joined.
            joined = plain_value(base, joined, self.first.value_start, sink)
        return joined


@functools.lru_cache(maxsize=32)
def _section_run(base: str) -> re.Pattern[str]:
    """One later section of ``base`` as :meth:`Sections.take` reads it: ``;``, the
    name in any ASCII case with a section number (no leading zero) and ``*``, ``=``
    and a clean encoded value, spanning what ``_FAST_PARAM_RE`` would match.  A
    ``base`` that is not a token is never taken: the scan reports each such name."""
    if g.TOKEN.fullmatch(base) is None:
        return _NOTHING
    return re.compile(
        rf"(?ai);[ \t]*+{re.escape(base)}\*([1-9][0-9]{{0,8}})\*=({_CLEAN_ENCODED})"
        r"[ \t]*+(?=;|\Z)"
    )
