"""A long field read in windows reads as it does whole (issue 16: the memory of 100,000
folded RFC 2231 sections).

``_params.parse_disposition_field`` and ``_filenames.iter_field_params`` read a long
plain field (no quote, comment, backslash or 8-bit byte) in windows of its unfolded text
(``_params.unfolded_windows``), split before a ``;``, instead of copying it whole.  The
reference is the whole reading, forced by a window threshold no field reaches; the
windowed one is forced on every field, with windows of a few bytes, so that a boundary
falls at every place: folds at every position (CRLF-WSP, bare CR or LF), runs of ``;``,
blanks around the value, sections out of order, repeated, past the 256-section cap,
values cut at the reading limit.  Then end to end: the findings and the edit outputs,
and the extra peak memory of the worst case.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimeguard
from benchmarks.measure import peak_extra
from mimeguard import _filenames, _params
from mimeguard._problem import Problem
from mimeguard._rfc2047 import MAX_PROBLEMS
from mimeguard.limits import Limits
from mimeguard.message import HeaderField

from . import attachment_cases as ac
from . import test_attachment_evasion as evasion
from .conftest import HANG_GUARD
from .test_sections_perf import _param_lists

_NEVER = 1 << 62
_NOT_PLAIN = re.compile(r'["(\\\x80-\U0010ffff]')
_FOLDS = ("\r\n ", "\r\n\t", "\r\n", "\n", "\r", " \r\n ", "\r\n  \t")
_WIDE = Limits(max_header_bytes=1 << 24)
_NEW_BOUNDARY = re.compile(rb"=_mimeguard_[0-9a-f]+")  # a fresh boundary is random


def _same_bytes(data: bytes) -> bytes:
    return _NEW_BOUNDARY.sub(b"=_mimeguard_", data)


@contextlib.contextmanager
def _windows(over: int, size: int = 1 << 14) -> Iterator[None]:
    """Fields over ``over`` bytes are read in windows of ``size`` bytes."""
    saved = _params.LEAN_OVER, _params.WINDOW
    _params.LEAN_OVER, _params.WINDOW = over, size
    try:
        yield
    finally:
        _params.LEAN_OVER, _params.WINDOW = saved


def _problems(problems: Sequence[Problem]) -> list[tuple[object, ...]]:
    return [(p.name, p.message, p.offset, p.end) for p in problems]


def _header_field(value: bytes, name: bytes = b"Content-Disposition") -> HeaderField:
    buf = b"X: y\r\n" + name + b":" + value + b"\r\n"
    start = 6
    return HeaderField(buf, start, len(buf), start + len(name) + 1, name.decode())


@st.composite
def _plain_values(draw: st.DrawFn) -> str:
    """A disposition value with no quote, comment, backslash or 8-bit character, folded
    (or broken by a bare CR or LF) at drawn places, with blanks and ``;`` around."""
    head = draw(st.sampled_from(("attachment", "inline", "", " attachment", "a b", "x/y")))
    text = _NOT_PLAIN.sub("", head + draw(_param_lists()))
    text = text + draw(st.sampled_from(("", ";", "; ", ";;", " ", "\t", "; ;")))
    text = draw(st.sampled_from(("", " ", "  \t", ";"))) + text
    places = draw(st.lists(st.integers(0, len(text)), max_size=12))
    for place in sorted(places, reverse=True):
        text = text[:place] + draw(st.sampled_from(_FOLDS)) + text[place:]
    return text


@settings(max_examples=600, deadline=None)
@given(_plain_values(), st.integers(1, 40))
def test_a_disposition_read_in_windows_is_the_whole_reading(value: str, size: int) -> None:
    field = _header_field(value.encode("ascii"))
    want = _params.parse_disposition(field.value)
    with _windows(-1, size):
        assert _params.plain_view(field) is not None
        got = _params.parse_disposition_field(field)
    assert got == want
    assert _problems(got.problems) == _problems(want.problems)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from('ab;= \t"(\\\xe9*%'), max_size=40), st.integers(1, 9))
def test_a_value_windows_cannot_read_is_read_whole(value: str, size: int) -> None:
    """A quote, a comment, a backslash or an 8-bit byte: no windows (a boundary could
    fall inside a quoted string, and 8-bit text is decoded as a whole)."""
    field = _header_field(value.encode("utf-8"))
    with _windows(-1, size):
        got = _params.parse_disposition_field(field)
        plain = _params.plain_view(field)
    assert (plain is None) == (_NOT_PLAIN.search(value) is not None)
    want = _params.parse_disposition(field.value)
    assert got == want
    assert _problems(got.problems) == _problems(want.problems)


@settings(max_examples=500, deadline=None)
@given(_plain_values(), st.integers(1, 40), st.booleans(), st.integers(1, 300))
def test_windows_join_to_the_unfolded_value(value: str, size: int, strip: bool, cut: int) -> None:
    field = _header_field(value.encode("ascii"))
    limit = None if strip else cut
    if strip:
        want = field.value
    else:
        want = field.raw_value.translate(None, b"\r\n").decode("ascii")[:cut]
    with _windows(-1, size):
        pieces = list(_params.unfolded_windows(field.value_view(), strip=strip, limit=limit))
    assert "".join(text for _, text in pieces) == want
    at = 0
    for index, (offset, text) in enumerate(pieces):
        assert offset == at
        at += len(text)
        if index:  # a later window starts at a ";" after neither ";" nor a blank
            assert text.startswith(";")
            assert want[offset - 1] not in "; \t"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_plain_values(), min_size=1, max_size=3),
    st.integers(1, 40),
    st.sampled_from((_NEVER, 5, 40, 400)),
)
def test_name_readings_in_windows_are_the_whole_readings(
    values: list[str], size: int, cut: int
) -> None:
    """Every parameter, every reading and the overflow flag of the attachment filter
    (the security control), also when the reading limit cuts the value."""
    names = (b"Content-Disposition", b"Content-Type")
    fields = [_header_field(v.encode("ascii"), names[i % 2]) for i, v in enumerate(values)]
    saved = _filenames._MAX_VALUE
    _filenames._MAX_VALUE = min(cut, saved)
    try:
        with _windows(_NEVER):
            want = (
                [_filenames.field_params(f) for f in fields],
                _filenames.name_reading_sets(fields),
            )
        with _windows(-1, size):
            got = [_filenames.field_params(f) for f in fields], _filenames.name_reading_sets(fields)
    finally:
        _filenames._MAX_VALUE = saved
    assert got == want


def _sections(count: int, last: bytes, fold: bytes = b"\r\n ") -> bytes:
    """``filename*0*`` then ``count`` more sections, then ``last``."""
    many = b"".join(b";%s filename*%d*=%%41a" % (fold, i) for i in range(1, count + 1))
    return b"filename*0*=utf-8''x" + many + last


def _message(value: bytes) -> bytes:
    return ac.with_text(ac.disposition(value, ac.payload("SECTIONMARK")))


def _outcome(data: bytes) -> tuple[object, ...]:
    report = mimeguard.validate(data, profile="workmail", limits=_WIDE)
    findings = [(f.code, f.part, f.offset, f.end, f.message) for f in report.findings]
    return findings, ac.strip(data, ("*.exe",)), _same_bytes(ac.pipeline(data))


@pytest.mark.parametrize(
    ("count", "last"),
    [
        (69, b";\r\n filename*70*=%2Eexe"),  # the .exe in section 70
        (69, b";\r\n filename*70*=exe%2E"),  # and written backwards
        (300, b";\r\n filename*301*=%2Eexe"),  # past the cap: fail closed
        (3000, b""),  # harmless, past the cap
        (40, b";\r\n filename*3*=%2Eexe"),  # a section repeated: the sort
        (40, b";\r\n filename*45*=%2Eexe"),  # a gap
        (40, b";\r\n filename*41=.exe;"),  # a plain last section, a ";" after
        (40, b";\r\n filename*41*=%2Eexe; x"),  # a problem: the whole reading
    ],
)
@pytest.mark.parametrize("size", [1, 7, 1 << 14])
def test_sections_judged_in_windows_as_whole(count: int, last: bytes, size: int) -> None:
    """Findings (MG404 and the rest), strip and the pipeline, byte for byte."""
    data = _message(_sections(count, last))
    with _windows(_NEVER):
        want = _outcome(data)
    with _windows(-1, size):
        got = _outcome(data)
    assert got == want


def test_the_exe_in_a_long_field_is_still_stripped() -> None:
    """At the default threshold (the field is long enough to be read in windows)."""
    data = _message(_sections(69, b";\r\n filename*70*=%2Eexe" + b";\r\n x-pad=a" * 8000))
    assert len(data) > _params.LEAN_OVER
    assert ac.leaks(ac.strip(data, ("*.exe",)), "SECTIONMARK") == []


def test_a_long_disposition_is_never_copied_whole() -> None:
    """Reading 10,000 folded sections holds well under one copy of the field (the whole
    reading held two, with the raw copy and the unfolded one)."""
    field = _header_field(b"attachment; " + _sections(10_000, b""))
    size = len(field.raw_value)
    _params.parse_disposition_field(field)  # warm: the regexes compiled
    _filenames.name_reading_sets([field])
    assert (
        peak := peak_extra(_params.parse_disposition_field, field)
    ).ok and peak.bytes < size // 2
    assert (
        peak := peak_extra(lambda f: _filenames.name_reading_sets([f]), field)
    ).ok and peak.bytes < size // 2


def test_validate_of_10000_sections_holds_less_than_the_message() -> None:
    data = _message(_sections(10_000, b""))
    mimeguard.validate(data, limits=_WIDE)
    assert (
        peak := peak_extra(lambda d: mimeguard.validate(d, limits=_WIDE), data)
    ).ok and peak.bytes < len(data)


@pytest.mark.parametrize("c", evasion.CASES, ids=lambda c: c.id)
def test_the_evasion_corpus_in_windows(c: evasion.Case) -> None:
    """Every blocked file of the evasion corpus, its fields read in windows of 3 bytes:
    no byte of it leaves, and strip and the pipeline give what the whole reading gives."""
    marker = f"MARK{c.id}"
    data = c.build(ac.payload(marker))
    with _windows(-1, 3):
        got = ac.strip(data, c.match), ac.pipeline(data, c.match)
    assert ac.leaks(got[0], marker) == []
    assert ac.leaks(got[1], marker) == []
    want = ac.strip(data, c.match), ac.pipeline(data, c.match)
    assert [_same_bytes(out) for out in got] == [_same_bytes(out) for out in want]


@pytest.mark.parametrize(("name", "build"), evasion.HARMLESS, ids=[h[0] for h in evasion.HARMLESS])
def test_the_harmless_look_alikes_in_windows(name: str, build: evasion.Build) -> None:
    marker = f"KEEP{name}"
    data = build(evasion._pdf(marker))
    with _windows(-1, 3):
        got = ac.strip(data, ac.WITH_MAGIC), ac.pipeline(data, ac.WITH_MAGIC)
    assert all(ac.leaks(out, marker) for out in got)  # kept
    want = ac.strip(data, ac.WITH_MAGIC), ac.pipeline(data, ac.WITH_MAGIC)
    assert [_same_bytes(out) for out in got] == [_same_bytes(out) for out in want]


@pytest.mark.parametrize(
    "params",
    [
        b"; x=" + b"a\r\n " * 1_000_000,  # no ";" to cut at: one piece, gathered linearly
        b";\r\n " * 1_000_000,  # ";" after a blank only
        b";" * 4_000_000,
        b"; a=b" * 800_000,  # a boundary in every few bytes
        b"; filename*0*=x" + b"; filename*1*=%41" * 200_000,  # sections past the cap, in order
    ],
)
def test_windows_stay_linear(params: bytes) -> None:
    field = _header_field(b"attachment" + params)
    started = time.perf_counter()
    got = _params.parse_disposition_field(field)
    names = _filenames.name_reading_sets([field])
    assert time.perf_counter() - started < HANG_GUARD
    assert len(got.problems) <= MAX_PROBLEMS + 1
    assert names[2] or len(names[0]) <= _filenames.MAX_CANDIDATES + 1
