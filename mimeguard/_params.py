"""Content-Type and Content-Disposition values and their parameters.

Grammar: RFC 2045 section 5.1 (``type "/" subtype *(";" parameter)``), RFC
2183 section 2 (``disposition-type *(";" parameter)``) and RFC 2231 (parameter
value charsets, languages and continuations).  RFC 822 comments may appear
between tokens and are skipped.  The parsers are lenient in the way mail
clients are and never raise: each deviation becomes a
:class:`~mimeguard._problem.Problem`.

Everything is a single left-to-right scan with possessive regex runs, so time
is linear in the length of the value; RFC 2231 sections written in order are
joined as they are read, so memory is not one record per section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
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
from mimeguard._tokens import scan_quoted, skip_cfws

__all__ = [
    "ContentType",
    "Disposition",
    "format_param",
    "parse_content_type",
    "parse_disposition",
    "parse_params",
    "set_param",
]

BAD_TYPE = "malformed-content-type"
BAD_PARAM = "malformed-parameter"
BAD_DISPOSITION = "malformed-content-disposition"


@dataclass(frozen=True, slots=True)
class ContentType:
    """A parsed Content-Type value (RFC 2045 section 5.1).

    ``maintype`` and ``subtype`` are lower case, and both are ``""`` when the
    type part cannot be read (missing, empty or containing non-token
    characters); RFC 2045 section 5.2 then says to assume text/plain.
    """

    maintype: str
    subtype: str
    params: Mapping[str, str]
    problems: tuple[Problem, ...]

    def __post_init__(self) -> None:
        # read-only and owned: a parsed tree shares no mutable state (issue 13)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def mime_type(self) -> str:
        """``type/subtype``, or ``""`` when the type part was unparsable."""
        if not self.maintype or not self.subtype:
            return ""
        return f"{self.maintype}/{self.subtype}"


@dataclass(frozen=True, slots=True)
class Disposition:
    """A parsed Content-Disposition value (RFC 2183 section 2)."""

    kind: str
    params: Mapping[str, str]
    problems: tuple[Problem, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


# ---------------------------------------------------------------------------
# Lexical scanning
# ---------------------------------------------------------------------------

_TOKEN_RE = g.TOKEN
# An unquoted value: a token, 8-bit characters allowed (reported apart).
_WORD_RE = re.compile(rf"[{g.TOKEN_CHARS}\x80-\U0010ffff]*+")
_SEMIS_RE = re.compile(r"[; \t\r\n]*+")
_TO_SEMI_OR_QUOTE_RE = re.compile(r'[^;"]*+')
# A type, subtype or disposition word: everything up to a delimiter, so that
# a stray character makes the whole word invalid instead of splitting it.
_TYPE_RE = re.compile(r'[^/;( \t\r\n"]*+')
_SUBTYPE_RE = re.compile(r'[^;( \t\r\n"]*+')
_NAME_RE = re.compile(r'[^=;"( \t\r\n]*+')
_EXT_NAME_RE = g.EXT_NAME
# The common well-formed ``; name=value`` in one match, to keep long parameter
# lists fast; anything unusual falls back to the step-by-step scan.
_FAST_PARAM_RE = re.compile(
    rf"(;[ \t]*+)([{g.TOKEN_CHARS}]++)[ \t]*+=[ \t]*+"
    rf'(?:([{g.TOKEN_CHARS}]++)|"([ !#-\[\]-~]*+)")[ \t]*+(?=;|\Z)'
)
_NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]++|[\x00-\x7f]++")
_SURROGATE_RE = g.SURROGATE
_ATTRIBUTE_CHARS = g.ATTRIBUTE_CHARS
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_WSP = " \t\r\n"
_CFWS_START = frozenset(" \t\r\n(")
_MAX_PARAM_LINE = g.MAX_LINE_CHARS - 2  # " " + param + ";" fits when folded after ";"
# RFC 2231 sections gathered before their text is joined: bounds what is held per section
_CHUNK = 64


class _Sink(Protocol):
    """Where problems go: a :class:`ProblemCollector` or a :class:`_Deferred`."""

    def add(self, name: str, message: str, offset: int, end: int | None = None) -> None: ...


def _skip_cfws(value: str, pos: int, sink: ProblemCollector, problem: str) -> int:
    """Skip whitespace and comments (RFC 822 section 3.4.3, :func:`_tokens.skip_cfws`)."""
    if pos >= len(value) or value[pos] not in _CFWS_START:
        return pos  # the usual case, without a call
    pos, unclosed = skip_cfws(value, pos)
    if unclosed >= 0:
        sink.add(problem, "comment is not closed", unclosed, pos)
    return pos


def _skip_to_semicolon(value: str, pos: int) -> int:
    """Index of the next ``;`` outside quoted-strings, or ``len(value)``."""
    n = len(value)
    while pos < n:
        match = _TO_SEMI_OR_QUOTE_RE.match(value, pos)
        assert match is not None
        pos = match.end()
        if pos >= n or value[pos] == ";":
            return pos
        pos = scan_quoted(value, pos)[1]
    return n


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Raw:
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


def _split_name(name: str, offset: int, sink: ProblemCollector) -> tuple[str, int | None, bool]:
    """Split an RFC 2231 name into (base, section, extended)."""
    lower = name.lower()
    if "*" not in lower:
        return lower, None, False
    match = _EXT_NAME_RE.fullmatch(lower)
    if match is None:
        sink.add(BAD_PARAM, f"parameter name {_q(name)} is not a valid RFC 2231 name", offset)
        return lower, None, False
    base, section, star = match.groups()
    if section is None:
        return base, None, True
    if len(section) > 1 and section[0] == "0":
        sink.add(BAD_PARAM, f"RFC 2231 section number in {_q(name)} has a leading zero", offset)
    return base, int(section), star is not None


def _scan(value: str, pos: int, sink: ProblemCollector) -> Iterator[_Raw]:
    """Read ``*(";" parameter)`` from ``pos``, reporting what is off.

    A generator: the reader of 100,000 RFC 2231 sections holds one record at a
    time.  Every problem of the scan is in ``sink`` once it is exhausted.
    """
    n = len(value)
    raws: list[_Raw] = []
    while True:
        pos = _skip_cfws(value, pos, sink, BAD_PARAM)
        if pos >= n:
            return
        fast = _FAST_PARAM_RE.match(value, pos) if value[pos] == ";" else None
        if fast is not None:
            yield _fast_raw(fast, sink)
            pos = fast.end()
            continue
        if value[pos] == ";":
            # One pass over a run of ";" so a megabyte of them stays cheap.
            run_start = pos
            while True:
                match = _SEMIS_RE.match(value, pos)
                assert match is not None
                pos = _skip_cfws(value, match.end(), sink, BAD_PARAM)
                if pos >= n or value[pos] != ";":
                    break
            span_start = value.rfind(";", run_start, pos)
            if pos >= n:
                sink.add(BAD_PARAM, "value ends with ';' and no parameter", span_start)
                return
            if span_start != run_start:
                sink.add(BAD_PARAM, "empty parameter between two ';'", run_start)
        else:
            sink.add(BAD_PARAM, "parameter is not preceded by ';'", pos)
            span_start = pos
        pos = _scan_one(value, pos, span_start, raws, sink)
        yield from raws
        raws.clear()


def _fast_raw(match: re.Match[str], sink: ProblemCollector) -> _Raw:
    """Build the record of a parameter matched by ``_FAST_PARAM_RE``."""
    name_start = match.start(2)
    base, section, extended = _split_name(match[2], name_start, sink)
    if match[3] is not None:
        text, quoted, value_start, end = match[3], False, match.start(3), match.end(3)
    else:
        text, quoted, value_start, end = match[4], True, match.start(4), match.end(4) + 1
        if extended:
            sink.add(
                BAD_PARAM,
                f"RFC 2231 encoded value of {_q(match[2])} should not be quoted",
                value_start,
            )
    return _Raw(base, section, extended, text, quoted, match.start(), name_start, value_start, end)


def _scan_one(
    value: str, pos: int, span_start: int, raws: list[_Raw], sink: ProblemCollector
) -> int:
    """Read one parameter at ``pos``; return where the next ``;`` may be."""
    n = len(value)
    name_start = pos
    match = _NAME_RE.match(value, pos)
    assert match is not None
    name = match.group()
    if not name:
        sink.add(BAD_PARAM, "parameter has no name", pos)
        return _skip_to_semicolon(value, pos)
    if not _TOKEN_RE.fullmatch(name):
        sink.add(BAD_PARAM, f"parameter name {_q(name)} is not a token", pos, match.end())
    pos = _skip_cfws(value, match.end(), sink, BAD_PARAM)
    if pos >= n or value[pos] != "=":
        sink.add(BAD_PARAM, f"parameter {_q(name)} has no '=' and value", name_start)
        return _skip_to_semicolon(value, pos)
    base, section, extended = _split_name(name, name_start, sink)
    # Whitespace around "=" is not RFC 2045 but very common: accept silently.
    pos = _skip_cfws(value, pos + 1, sink, BAD_PARAM)
    value_start = pos
    if pos < n and value[pos] == '"':
        text, end, closed = scan_quoted(value, pos)
        if not closed:
            sink.add(BAD_PARAM, f"quoted value of {_q(name)} is not closed", pos, end)
        after = _skip_cfws(value, end, sink, BAD_PARAM)
        if after < n and value[after] != ";":
            sink.add(BAD_PARAM, f"unexpected text after the quoted value of {_q(name)}", after)
            junk = after
            after = _skip_to_semicolon(value, junk)
            end = junk + len(value[junk:after].rstrip(_WSP))
        quoted = True
        value_start += 1
    else:
        token = _WORD_RE.match(value, pos)
        assert token is not None
        end = token.end()
        after = _skip_cfws(value, end, sink, BAD_PARAM)
        if after < n and value[after] != ";":
            # Mail clients take an unquoted value up to the next ";".  The
            # search starts past any comment already skipped, so no text is
            # scanned twice (nested comments would otherwise be quadratic).
            after = value.find(";", after)
            if after < 0:
                after = n
            end = pos + len(value[pos:after].rstrip(_WSP))
            sink.add(
                BAD_PARAM,
                f"unquoted value of {_q(name)} contains characters that need quoting",
                pos,
                end,
            )
        text = value[pos:end]
        if not text:
            sink.add(BAD_PARAM, f"parameter {_q(name)} has an empty value", name_start)
        quoted = False
    if not extended and section is None and not text.isascii():
        sink.add(
            BAD_PARAM,
            f"value of {_q(name)} has 8-bit characters instead of RFC 2231 encoding",
            value_start,
            end,
        )
    if extended and quoted:
        sink.add(
            BAD_PARAM, f"RFC 2231 encoded value of {_q(name)} should not be quoted", value_start
        )
    raws.append(
        _Raw(base, section, extended, text, quoted, span_start, name_start, value_start, end)
    )
    return after


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


def _percent_decode(text: str, offset: int, sink: _Sink) -> list[bytes | str]:
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


def _decode_bytes(data: bytes, charset: str, offset: int, sink: _Sink) -> str:
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


def _split_charset(raw: _Raw, sink: _Sink) -> tuple[str, str]:
    """Split ``charset'lang'rest`` of a first RFC 2231 section (section 3)."""
    charset, quote1, rest = raw.value.partition("'")
    _lang, quote2, rest = rest.partition("'")
    if not quote1 or not quote2:
        sink.add(BAD_PARAM, "RFC 2231 value lacks the charset'language' prefix", raw.value_start)
        return "", raw.value
    return charset, rest


def _decodes_2047(base: str) -> bool:
    # A boundary must be matched literally against the body, so it is never
    # decoded: a decoded boundary would split the message differently.
    return base != "boundary"


def _plain_value(base: str, text: str, offset: int, sink: ProblemCollector) -> str:
    """A non-RFC 2231 value, with RFC 2047 encoded-words decoded.

    Problem offsets inside the value are exact unless it had quoted-pairs.
    """
    if _decodes_2047(base) and has_encoded_word(text):
        text, problems = decode_words(text)
        for problem in problems:
            sink.add(problem.name, problem.message, offset + problem.offset)
    return text


def _extended_value(raw: _Raw, sink: ProblemCollector) -> str:
    """A single ``name*=charset'lang'%XX`` value (RFC 2231 section 4)."""
    charset, rest = _split_charset(raw, sink)
    pieces = _percent_decode(rest, raw.value_start, sink)
    return _join_pieces(pieces, charset, raw.name_start, sink)


def _continued_value(base: str, sections: dict[int, _Raw], sink: ProblemCollector) -> str:
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
        if text.isascii() and _BAD_PERCENT_RE.search(text) is None:
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
        joined = _plain_value(base, joined, first.value_start, sink)
    return joined


def _assemble(raws: list[_Raw], sink: ProblemCollector) -> dict[str, str]:
    """Apply RFC 2231 and first-wins duplicate rules to the raw parameters.

    The general reading, one record per parameter: :func:`_read_params` falls back
    to it when some RFC 2231 sections are not written in order.
    """
    plain: dict[str, _Raw] = {}
    extended: dict[str, _Raw] = {}
    sections: dict[str, dict[int, _Raw]] = {}
    order: dict[str, None] = {}
    for raw in raws:
        order.setdefault(raw.base)
        if raw.section is not None:
            kept = sections.setdefault(raw.base, {}).setdefault(raw.section, raw)
        elif raw.extended:
            kept = extended.setdefault(raw.base, raw)
        else:
            kept = plain.setdefault(raw.base, raw)
        if kept is not raw:
            # the label is built only for a duplicate (100,000 sections make none)
            if raw.section is not None:
                label = f"{raw.base}*{raw.section}"
            else:
                label = f"{raw.base}*" if raw.extended else raw.base
            sink.add(
                BAD_PARAM,
                f"parameter {_q(label)} appears more than once; the first is used",
                raw.name_start,
            )
    params: dict[str, str] = {}
    for base in order:
        # RFC 2231 forms win over a plain fallback (RFC 2231 section 4.1 and
        # RFC 6266 appendix D practice of sending both).
        if base in extended:
            if base in sections:
                sink.add(
                    BAD_PARAM,
                    f"parameter {_q(base)} is given both as name* and as name*0, name*1...",
                    extended[base].name_start,
                )
            params[base] = _extended_value(extended[base], sink)
        elif base in sections:
            params[base] = _continued_value(base, sections[base], sink)
        else:
            raw = plain[base]
            params[base] = _plain_value(base, raw.value, raw.value_start, sink)
    return params


class _Deferred:
    """Problems held back, to reach the sink in the order :func:`_assemble` gives them
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
class _Sections:
    """The RFC 2231 section 3 continuations of one parameter, joined as they are read.

    Only for sections written in order (``*0``, ``*1``, ``*2``...), where the order
    written is the numeric order :func:`_continued_value` sorts into: the same text
    and problems, with nothing kept per section.  Its problems wait in two
    :class:`_Deferred` (undoing ``%XX``, then decoding, the order of
    :func:`_continued_value`) until :meth:`finish`.
    """

    first: _Raw
    expected: int = 0
    charset: str = ""
    extended: bool = False  # some section is marked "*"
    #: ASCII text of "*" sections with no bad escape, undone together
    clean: list[str] = field(default_factory=list)
    #: undone bytes not decoded yet (None: no run of bytes open); a character may
    #: be split between sections, so a run is decoded when text or the end follows
    pending: bytearray | None = None
    #: the decoded text, in pieces of about ``_CHUNK`` sections
    done: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    escapes: _Deferred = field(default_factory=_Deferred)
    decoding: _Deferred = field(default_factory=_Deferred)

    def feed(self, raw: _Raw) -> bool:
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
        if text.isascii() and _BAD_PERCENT_RE.search(text) is None:
            self.clean.append(text)
            if len(self.clean) >= _CHUNK:
                self._undo_clean()
            return True
        self._undo_clean()
        for piece in _percent_decode(text, raw.value_start, self.escapes):
            if isinstance(piece, bytes):
                self._bytes(piece)
            else:
                self._text(piece)
        return True

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
        if len(self.tail) >= _CHUNK:
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
            joined = _plain_value(base, joined, self.first.value_start, sink)
        return joined


def _read_params(value: str, start: int, sink: ProblemCollector) -> dict[str, str]:
    """:func:`_assemble` of :func:`_scan` from ``start``, reading RFC 2231 sections
    written in order as they come (:class:`_Sections`) instead of keeping a record
    of each: 100,000 sections hold a few chunks, not 100,000 objects.

    Sections out of order, missing or repeated need the sort: then the records are
    read again (the problems of that second scan are the first's, already in
    ``sink``) and :func:`_assemble` reads them.  Problems come in the same order
    as :func:`_assemble` gives them: the scan's, the duplicates', then each
    parameter's.
    """
    plain: dict[str, _Raw] = {}
    extended: dict[str, _Raw] = {}
    sections: dict[str, _Sections] = {}
    order: dict[str, None] = {}
    duplicates = _Deferred()
    in_order = True
    for raw in _scan(value, start, sink):
        if not in_order:
            continue  # the scan runs on for its problems
        order.setdefault(raw.base)
        if raw.section is not None:
            stream = sections.get(raw.base)
            if stream is None:
                stream = sections[raw.base] = _Sections(raw)
            if not stream.feed(raw):
                in_order = False
                sections.clear()
            continue
        kept = (extended if raw.extended else plain).setdefault(raw.base, raw)
        if kept is not raw:
            label = f"{raw.base}*" if raw.extended else raw.base
            duplicates.add(
                BAD_PARAM,
                f"parameter {_q(label)} appears more than once; the first is used",
                raw.name_start,
            )
    if not in_order:
        return _assemble(list(_scan(value, start, ProblemCollector())), sink)
    duplicates.replay(sink)
    params: dict[str, str] = {}
    for base in order:
        if base in extended:
            if base in sections:
                sink.add(
                    BAD_PARAM,
                    f"parameter {_q(base)} is given both as name* and as name*0, name*1...",
                    extended[base].name_start,
                )
            params[base] = _extended_value(extended[base], sink)
        elif base in sections:
            params[base] = sections[base].finish(base, sink)
        else:
            raw = plain[base]
            params[base] = _plain_value(base, raw.value, raw.value_start, sink)
    return params


def parse_params(value: str, start: int) -> tuple[dict[str, str], list[Problem]]:
    """Parse ``*(";" parameter)`` from index ``start`` of ``value``.

    ``start`` is just after the type (or disposition) token, so text there
    should begin with ``;``.  Names are lower-cased; values have quoting,
    RFC 2231 continuations and charsets, and RFC 2047 encoded-words in
    non-RFC 2231 values (except ``boundary``) undone.  Offsets of problems
    are indexes into ``value``.
    """
    sink = ProblemCollector()
    params = _read_params(value, start, sink)
    return params, sink.finish()


def parse_content_type(value: str) -> ContentType:
    """Parse a Content-Type value (RFC 2045 section 5.1)."""
    sink = ProblemCollector()
    n = len(value)
    pos = _skip_cfws(value, 0, sink, BAD_TYPE)
    if pos >= n:
        sink.add(BAD_TYPE, "value is empty", pos)
        return ContentType("", "", {}, tuple(sink.finish()))
    type_start = pos
    match = _TYPE_RE.match(value, pos)
    assert match is not None
    maintype = match.group()
    pos = _skip_cfws(value, match.end(), sink, BAD_TYPE)
    subtype = ""
    ok = True
    if not maintype:
        sink.add(BAD_TYPE, "media type is missing", type_start)
        ok = False
    elif not _TOKEN_RE.fullmatch(maintype):
        sink.add(BAD_TYPE, f"media type {_q(maintype)} is not a token", type_start, match.end())
        ok = False
    if pos < n and value[pos] == "/":
        pos = _skip_cfws(value, pos + 1, sink, BAD_TYPE)
        sub_start = pos
        match = _SUBTYPE_RE.match(value, pos)
        assert match is not None
        subtype = match.group()
        pos = match.end()
        if not subtype:
            sink.add(BAD_TYPE, "subtype after '/' is empty", sub_start)
            ok = False
        elif not _TOKEN_RE.fullmatch(subtype):
            sink.add(BAD_TYPE, f"subtype {_q(subtype)} is not a token", sub_start, pos)
            ok = False
    elif maintype:
        sink.add(BAD_TYPE, f"media type {_q(maintype)} has no '/subtype'", type_start)
        ok = False
    if not maintype:
        pos = _skip_to_semicolon(value, pos)
    params = _read_params(value, pos, sink)
    if not ok:
        return ContentType("", "", params, tuple(sink.finish()))
    return ContentType(maintype.lower(), subtype.lower(), params, tuple(sink.finish()))


def parse_disposition(value: str) -> Disposition:
    """Parse a Content-Disposition value (RFC 2183 section 2)."""
    sink = ProblemCollector()
    pos = _skip_cfws(value, 0, sink, BAD_DISPOSITION)
    match = _SUBTYPE_RE.match(value, pos)
    assert match is not None
    kind = match.group()
    if not kind:
        sink.add(BAD_DISPOSITION, "disposition type is missing", pos)
    elif not _TOKEN_RE.fullmatch(kind):
        sink.add(BAD_DISPOSITION, f"disposition type {_q(kind)} is not a token", pos, match.end())
        kind = ""
    end = match.end()
    if not match.group():
        end = _skip_to_semicolon(value, end)
    params = _read_params(value, end, sink)
    return Disposition(kind.lower(), params, tuple(sink.finish()))


# ---------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------


def _params_start(value: str, sink: ProblemCollector) -> int:
    """Index just after ``type/subtype`` or a disposition token."""
    pos = _skip_cfws(value, 0, sink, BAD_TYPE)
    match = _TYPE_RE.match(value, pos)
    assert match is not None
    end = match.end()
    pos = _skip_cfws(value, end, sink, BAD_TYPE)
    if pos < len(value) and value[pos] == "/":
        pos = _skip_cfws(value, pos + 1, sink, BAD_TYPE)
        match = _SUBTYPE_RE.match(value, pos)
        assert match is not None
        end = match.end()
    if not match.group():
        end = _skip_to_semicolon(value, end)
    return end


def set_param(value: str, name: str, new: str | None) -> str:
    """Return ``value`` with parameter ``name`` replaced, added or removed.

    Every form of the parameter (plain, RFC 2231 ``name*`` and its sections)
    is removed and, unless ``new`` is None, the first is replaced by
    :func:`format_param` output; a new parameter is appended as
    ``; name=value``.  All other text is kept exactly as written.
    """
    sink = ProblemCollector()
    base, _section, _extended = _split_name(name, 0, sink)
    rendered = None if new is None else format_param(base, new)
    matches = [raw for raw in _scan(value, _params_start(value, sink), sink) if raw.base == base]
    if not matches:
        if rendered is None:
            return value
        head = value.rstrip(_WSP)
        return f"{head}{' ' if head.endswith(';') else '; '}{rendered}"
    out: list[str] = []
    cursor = 0
    for index, raw in enumerate(matches):
        if index == 0 and rendered is not None:
            out += (value[cursor : raw.name_start], rendered)
        else:
            out.append(value[cursor : raw.span_start])
        cursor = raw.end
    out.append(value[cursor:])
    return "".join(out)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _percent_units(text: str) -> list[str]:
    """RFC 2231 encoding of each character of ``text`` (never split)."""
    return [
        char if char in _ATTRIBUTE_CHARS else "".join(f"%{b:02X}" for b in char.encode("utf-8"))
        for char in text
    ]


def _sections(name: str, units: list[str], extended: bool) -> str:
    """Spread ``units`` over RFC 2231 sections of at most 76 characters each."""
    out: list[str] = []
    star = "*" if extended else ""
    index = 0
    number = 0
    while index < len(units):
        head = f"{name}*{number}{star}="
        if extended and number == 0:
            head += "utf-8''"
        room = _MAX_PARAM_LINE - len(head) - (0 if extended else 2)
        taken: list[str] = []
        size = 0
        while index < len(units) and (not taken or size + len(units[index]) <= room):
            taken.append(units[index])
            size += len(units[index])
            index += 1
        body = "".join(taken)
        out.append(head + (body if extended else f'"{body}"'))
        number += 1
    return "; ".join(out)


def format_param(name: str, value: str) -> str:
    """Render ``name=value`` for a Content-Type or Content-Disposition.

    A token is written bare, other printable ASCII as a quoted-string (RFC
    2045 section 5.1, with ``\\"`` and ``\\\\`` escaped), anything else as
    RFC 2231 ``name*=utf-8''%XX``.  Values too long for one 78-character line
    when folded after ``;`` are split into RFC 2231 sections joined by ``"; "``.
    Raises ValueError if ``name`` is not a token without ``*``.
    """
    if not _TOKEN_RE.fullmatch(name) or "*" in name:
        raise ValueError(f"invalid parameter name {name!r}")
    value = _SURROGATE_RE.sub("\ufffd", value)
    printable = all(" " <= char <= "~" for char in value)
    if printable and not (_decodes_2047(name.lower()) and has_encoded_word(value)):
        if value and _TOKEN_RE.fullmatch(value):
            simple = f"{name}={value}"
        else:
            simple = f"{name}={_quote(value)}"
        if len(simple) <= _MAX_PARAM_LINE:
            return simple
        units = [_quote(char)[1:-1] for char in value]
        return _sections(name, units, extended=False)
    # Not plain ASCII, or would be mistaken for RFC 2047: RFC 2231 keeps it literal.
    units = _percent_units(value)
    simple = f"{name}*=utf-8''{''.join(units)}"
    if len(simple) <= _MAX_PARAM_LINE:
        return simple
    return _sections(name, units, extended=True)
