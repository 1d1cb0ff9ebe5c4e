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

import functools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from mimeguard import _abnf as g
from mimeguard._problem import Problem
from mimeguard._rfc2047 import (
    ProblemCollector,
    has_encoded_word,
)
from mimeguard._rfc2047 import short_repr as _q
from mimeguard._rfc2231 import (
    BAD_PARAM,
    Deferred,
    Raw,
    Sections,
    Sink,
    continued_value,
    decodes_2047,
    extended_value,
    plain_value,
)
from mimeguard._tokens import scan_quoted, skip_cfws

if TYPE_CHECKING:  # message imports this module
    from mimeguard.message import HeaderField

__all__ = [
    "ContentType",
    "Disposition",
    "format_param",
    "parse_content_type",
    "parse_disposition",
    "parse_disposition_field",
    "parse_params",
    "plain_view",
    "set_param",
    "unfolded_windows",
]

BAD_TYPE = "malformed-content-type"
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
    #: ``type/subtype``, or ``""`` when the type part was unparsable (made once: every
    #: part of a large multipart is asked it by several rules)
    mime_type: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # read-only and owned: a parsed tree shares no mutable state (issue 13)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        both = self.maintype and self.subtype
        object.__setattr__(self, "mime_type", f"{self.maintype}/{self.subtype}" if both else "")


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
_SURROGATE_RE = g.SURROGATE
_ATTRIBUTE_CHARS = g.ATTRIBUTE_CHARS
_WSP = " \t\r\n"
_CFWS_START = frozenset(" \t\r\n(")
_MAX_PARAM_LINE = g.MAX_LINE_CHARS - 2  # " " + param + ";" fits when folded after ";"


def _skip_cfws(value: str, pos: int, sink: Sink, problem: str) -> int:
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
# A long field, read in windows
# ---------------------------------------------------------------------------

#: a field value longer than this (bytes as written) is read in windows when it can be
LEAN_OVER = 1 << 16
#: bytes of the field translated at a time
WINDOW = 1 << 12
# what a window boundary could fall inside of: a quoted string, a comment, a quoted-pair;
# and 8-bit bytes, which are decoded as a whole (decode_8bit guesses from all of them)
_NOT_PLAIN = re.compile(rb'["(\\\x80-\xff]')
# what makes the pieces of a value, again each time it is read
_Windows = Callable[[], Iterable[tuple[int, str]]]


def plain_view(field: HeaderField) -> memoryview | None:
    """The value of ``field`` where it lies when it is long (over :data:`LEAN_OVER`)
    and its windows read as the whole does: ASCII, no ``"``, ``(`` or ``\\``; else None."""
    if field.end - field.value_start <= LEAN_OVER:
        return None  # the usual case: no view made
    view = field.value_view()
    if len(view) <= LEAN_OVER or _NOT_PLAIN.search(view) is not None:
        return None
    return view


# the last ";" that follows neither ";" nor a blank: one match, backtracking from the end
_LAST_BOUNDARY = re.compile(r"(?s).*[^; \t](;)")


def unfolded_windows(
    view: memoryview, *, strip: bool, limit: int | None = None
) -> Iterator[tuple[int, str]]:
    """The ASCII value ``view`` unfolded (every CR and LF deleted, as
    :attr:`HeaderField.unfolded`; with ``strip``, surrounding blanks removed, as
    :attr:`HeaderField.value`; with ``limit``, cut after that many characters) in
    pieces ``(offset, text)`` that join to it, each but the first starting at a ``;``
    that follows neither ``;`` nor a blank.  Every parameter scanner here stops at such
    a ``;`` of a value with no quote or comment, and starts from it as from the start of
    a value: scanned one piece at a time, a value reads as it does whole.  A piece is
    cut at the last such ``;`` of each :data:`WINDOW` bytes, so that no more than about
    two windows are held while there are such ``;`` (a value without any is one piece:
    the pieces of it are joined once, time stays linear)."""
    parts: list[str] = []  # of the piece being gathered
    offset = 0  # of that piece in the unfolded text
    before = ""  # the character before the next window
    total = 0
    lead = strip
    for pos in range(0, len(view), WINDOW):
        window = bytes(view[pos : pos + WINDOW]).translate(None, b"\r\n").decode("ascii")
        if lead:
            window = window.lstrip(" \t")
            lead = not window
        if limit is not None:
            window = window[: limit - total]
            total += len(window)
        found = _LAST_BOUNDARY.match(window)
        if found is not None:
            cut = found.start(1)
        elif window[:1] == ";" and before and before not in "; \t":
            cut = 0  # right after the window before
        else:
            cut = -1
        if cut < 0:
            parts.append(window)
        else:
            parts.append(window[:cut])
            text = "".join(parts)
            yield offset, text
            offset += len(text)
            parts = [window[cut:]]
        if window:
            before = window[-1]
        if limit is not None and total >= limit:
            break
    last = "".join(parts)
    yield offset, last.rstrip(" \t") if strip else last


class _Shifted:
    """A sink that moves the offsets of a window's problems to the whole value's."""

    __slots__ = ("by", "sink")

    def __init__(self, sink: Sink, by: int) -> None:
        self.sink = sink
        self.by = by

    def add(self, name: str, message: str, offset: int, end: int | None = None) -> None:
        by = self.by
        self.sink.add(name, message, offset + by, None if end is None else end + by)


def _scan_windows(
    windows: _Windows,
    start: int,
    sink: Sink,
    take: Callable[[str, int], int] | None = None,
) -> Iterator[Raw]:
    """:func:`_scan` of the value the :func:`unfolded_windows` ``windows`` make, from
    ``start`` (in the first window), one window at a time: the same records, with offsets
    into the whole value."""
    for offset, text in windows():
        if not offset:
            yield from _scan(text, start, sink, take)
            continue
        for raw in _scan(text, 0, _Shifted(sink, offset), take):
            raw.span_start += offset
            raw.name_start += offset
            raw.value_start += offset
            raw.end += offset
            yield raw


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def _split_name(name: str, offset: int, sink: Sink) -> tuple[str, int | None, bool]:
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


def _scan(
    value: str, pos: int, sink: Sink, take: Callable[[str, int], int] | None = None
) -> Iterator[Raw]:
    """Read ``*(";" parameter)`` from ``pos``, reporting what is off.

    A generator: the reader of 100,000 RFC 2231 sections holds one record at a
    time.  Every problem of the scan is in ``sink`` once it is exhausted.  Before
    each parameter, ``take`` may read a run of them itself (parameters with no
    problem to report), returning where it stopped.
    """
    n = len(value)
    raws: list[Raw] = []
    while True:
        pos = _skip_cfws(value, pos, sink, BAD_PARAM)
        if pos >= n:
            return
        if take is not None and value[pos] == ";":
            pos = take(value, pos)
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


def _fast_raw(match: re.Match[str], sink: Sink) -> Raw:
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
    return Raw(base, section, extended, text, quoted, match.start(), name_start, value_start, end)


def _scan_one(value: str, pos: int, span_start: int, raws: list[Raw], sink: Sink) -> int:
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
        Raw(base, section, extended, text, quoted, span_start, name_start, value_start, end)
    )
    return after


def _assemble(raws: list[Raw], sink: ProblemCollector) -> dict[str, str]:
    """Apply RFC 2231 and first-wins duplicate rules to the raw parameters.

    The general reading, one record per parameter: :func:`_read_params` falls back
    to it when some RFC 2231 sections are not written in order.
    """
    plain: dict[str, Raw] = {}
    extended: dict[str, Raw] = {}
    sections: dict[str, dict[int, Raw]] = {}
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
    return _values(
        order, extended, plain, sections, lambda b: continued_value(b, sections[b], sink), sink
    )


def _values(
    order: Iterable[str],
    extended: Mapping[str, Raw],
    plain: Mapping[str, Raw],
    sections: Collection[str],
    joined: Callable[[str], str],
    sink: ProblemCollector,
) -> dict[str, str]:
    """Each parameter's value, in ``order``: its ``name*`` form, else its sections
    (``joined``), else its plain value."""
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
            params[base] = extended_value(extended[base], sink)
        elif base in sections:
            params[base] = joined(base)
        else:
            raw = plain[base]
            params[base] = plain_value(base, raw.value, raw.value_start, sink)
    return params


def _read_params(
    value: str, start: int, sink: ProblemCollector, windows: _Windows | None = None
) -> dict[str, str]:
    """:func:`_assemble` of :func:`_scan` from ``start`` (of ``windows`` when given,
    :func:`_scan_windows`, else of ``value``), reading RFC 2231 sections
    written in order as they come (:class:`Sections`) instead of keeping a record
    of each: 100,000 sections hold a few chunks, not 100,000 objects.

    Sections out of order, missing or repeated need the sort: then the records are
    read again (the problems of that second scan are the first's, already in
    ``sink``) and :func:`_assemble` reads them.  Problems come in the same order
    as :func:`_assemble` gives them: the scan's, the duplicates', then each
    parameter's.
    """
    plain: dict[str, Raw] = {}
    extended: dict[str, Raw] = {}
    sections: dict[str, Sections] = {}
    order: dict[str, None] = {}
    duplicates = Deferred()
    in_order = True
    last: Sections | None = None  # the parameter whose sections came last, in order

    def take(value: str, pos: int) -> int:
        return pos if last is None else last.take(value, pos)

    if windows is None:
        raws = _scan(value, start, sink, take)
    else:
        raws = _scan_windows(windows, start, sink, take)
    for raw in raws:
        if not in_order:
            continue  # the scan runs on for its problems
        order.setdefault(raw.base)
        if raw.section is not None:
            stream = sections.get(raw.base)
            if stream is None:
                stream = sections[raw.base] = Sections(raw)
            last = stream
            if not stream.feed(raw):
                in_order = False
                last = None
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
        if windows is None:
            raws = _scan(value, start, ProblemCollector())
        else:
            raws = _scan_windows(windows, start, ProblemCollector())
        return _assemble(list(raws), sink)
    duplicates.replay(sink)
    return _values(order, extended, plain, sections, lambda b: sections[b].finish(b, sink), sink)


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
    return _parse_disposition(value)


def parse_disposition_field(field: HeaderField) -> Disposition:
    """:func:`parse_disposition` of ``field.value``; a long value with no quote, comment,
    backslash or 8-bit byte (:func:`plain_view`) is read in windows of its unfolded text
    (:func:`unfolded_windows`), never whole: 100,000 folded RFC 2231 sections are not
    copied twice (issue 16).  The same disposition, problems and offsets."""
    view = plain_view(field)
    if view is None:
        return parse_disposition(field.value)
    windows = functools.partial(unfolded_windows, view, strip=True)
    return _parse_disposition(next(iter(windows()))[1], windows)


def _parse_disposition(value: str, windows: _Windows | None = None) -> Disposition:
    """The disposition type at the start of ``value``, then the parameters after it; with
    ``windows``, ``value`` is their first and the parameters are read in them."""
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
    params = _read_params(value, end, sink, windows)
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
    if printable and not (decodes_2047(name.lower()) and has_encoded_word(value)):
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
