"""RFC 2231 sections read as they come give what the record-per-parameter reading gave.

``_params._read_params`` joins sections written in order without keeping a record of
each (issue 16: 100,000 sections held 33× the message in records).  The reference is
``_params._assemble`` over the full list of records, the reading it replaced and the one
it still falls back to for sections out of order.  Both are compared on generated
parameter lists built to sit on the edges: sections in order, shuffled, repeated, with
gaps or no ``*0``, ``*`` and plain sections mixed, bad escapes, 8-bit text, charsets,
quoted sections, comments and folding between tokens, and counts past the chunk and
problem limits.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimeguard
from mimeguard import _params
from mimeguard._problem import Problem
from mimeguard._rfc2047 import MAX_PROBLEMS, ProblemCollector
from mimeguard.limits import Limits

_BASES = ("filename", "FileName", "name", "boundary", "a")
_VALUES = (
    "x",
    "%41a",
    "%41%42",
    "%c3",
    "%a9",
    "%C3%A9",
    "%",
    "%4",
    "%zz",
    "a%",
    "%%41",
    "é",
    "é%41",
    "%41é%",
    "\udcff",
    "=?utf-8?q?caf=C3=A9?=",
    "=?utf-8?q?=C3?=",
    "=?utf-8?b?w6k=?=",
    "=?",
    "?=",
    '"quoted"',
    '"q\\"x"',
    '"%41"',
    '"é"',
    '""',
    '"open',
    "",
    "a b",
    "a(c)b",
    "a;b",
    "'",
    "''",
    "x'y",
)
_PREFIXES = ("utf-8''", "UTF-8'en'", "iso-8859-1''", "bogus''", "''", "utf-8'", "", "us-ascii''")
_SEPARATORS = ("; ", ";", ";\t", " ; ", ";(note) ", ";;", "; (open", ";  ", "", ";\x80")
_AROUND_EQUALS = ("=", " =", "= ", " = ", "(c)=")


def _reference(value: str, start: int) -> tuple[dict[str, str], list[Problem]]:
    sink = ProblemCollector()
    params = _params._assemble(list(_params._scan(value, start, sink)), sink)
    return params, sink.finish()


def _streamed(value: str, start: int) -> tuple[dict[str, str], list[Problem]]:
    sink = ProblemCollector()
    params = _params._read_params(value, start, sink)
    return params, sink.finish()


def _same(value: str) -> None:
    """Same values and the same problems, in the same order, ends included."""
    got, want = _streamed(value, 0), _reference(value, 0)
    assert got[0] == want[0]
    assert _problem_tuples(got[1]) == _problem_tuples(want[1])


@st.composite
def _param(draw: st.DrawFn, base: str, number: int | None) -> str:
    star = draw(st.booleans()) if number is not None else draw(st.integers(0, 3)) == 0
    if number is None:
        name = base + ("*" if star else "")
    else:
        zero = "0" if number and draw(st.integers(0, 9)) == 0 else ""
        name = f"{base}*{zero}{number}" + ("*" if star else "")
    text = draw(st.sampled_from(_VALUES))
    if star and number in (None, 0) and draw(st.integers(0, 4)):
        text = draw(st.sampled_from(_PREFIXES)) + text
    sep = draw(st.sampled_from(_SEPARATORS)) if draw(st.integers(0, 3)) == 0 else "; "
    equals = draw(st.sampled_from(_AROUND_EQUALS)) if draw(st.integers(0, 5)) == 0 else "="
    return f"{sep}{name}{equals}{text}"


_SHAPES = ("in order", "in order", "in order", "shuffled", "gap", "repeat", "no *0", "plain")


@st.composite
def _param_lists(draw: st.DrawFn) -> str:
    groups: list[list[str]] = []
    for base in draw(st.lists(st.sampled_from(_BASES), min_size=1, max_size=4)):
        shape = draw(st.sampled_from(_SHAPES))
        count = draw(st.integers(1, 8))
        numbers: list[int | None] = list(range(count))
        if shape == "shuffled":
            numbers = draw(st.permutations(numbers))
        elif shape == "gap":
            numbers.pop(draw(st.integers(0, count - 1)))
        elif shape == "repeat":
            numbers.insert(draw(st.integers(0, count)), draw(st.integers(0, count - 1)))
        elif shape == "no *0":
            numbers = numbers[1:] or [1]
        elif shape == "plain":
            numbers = [None] * draw(st.integers(1, 2))
        groups.append([draw(_param(base, n)) for n in numbers])
    # interleave the parameters, each base keeping its own order
    out: list[str] = []
    while any(groups):
        group = draw(st.sampled_from([g for g in groups if g]))
        out.append(group.pop(0))
    return "".join(out)


@settings(max_examples=1500, deadline=None)
@given(_param_lists())
def test_streamed_sections_read_as_the_records_did(value: str) -> None:
    _same(value)


@contextlib.contextmanager
def _records() -> Iterator[None]:
    """Every reader of parameters reads records again, as before issue 16's change."""

    def reference(value: str, start: int, sink: ProblemCollector) -> dict[str, str]:
        return _params._assemble(list(_params._scan(value, start, sink)), sink)

    saved = _params._read_params
    _params._read_params = reference
    try:
        yield
    finally:
        _params._read_params = saved


def _problem_tuples(problems: Sequence[Problem]) -> list[tuple[object, ...]]:
    return [(p.name, p.message, p.offset, p.end) for p in problems]


@settings(max_examples=300, deadline=None)
@given(_param_lists(), st.sampled_from(("attachment", "inline", "", "x/y", "a b", "(c")))
def test_content_type_and_disposition_read_as_before(params: str, head: str) -> None:
    disposition = _params.parse_disposition(head + params)
    content_type = _params.parse_content_type("text/plain" + params)
    with _records():
        want_disposition = _params.parse_disposition(head + params)
        want_content_type = _params.parse_content_type("text/plain" + params)
    assert disposition == want_disposition
    assert _problem_tuples(disposition.problems) == _problem_tuples(want_disposition.problems)
    assert content_type == want_content_type
    assert _problem_tuples(content_type.problems) == _problem_tuples(want_content_type.problems)


def _many(count: int, seed: int) -> Iterator[str]:
    """``count`` sections of ``filename`` in order, each drawn from the values above."""
    rng = random.Random(seed)
    yield "; filename*0*=" + rng.choice(_PREFIXES) + rng.choice(_VALUES[:15])
    for number in range(1, count):
        star = "*" if rng.random() < 0.8 else ""
        text = rng.choice(_VALUES) if rng.random() < 0.3 else "%41a"
        yield f";{rng.choice(('', ' ', '  '))}filename*{number}{star}={text}"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("count", [_params._CHUNK - 1, _params._CHUNK + 1, 3 * _params._CHUNK])
def test_long_runs_cross_the_chunks_and_the_problem_limit(count: int, seed: int) -> None:
    value = "".join(_many(count, seed))
    _same(value)
    # more bad sections than the collector lists: the summary counts the same
    got = _streamed(value, 0)[1]
    if len(got) > MAX_PROBLEMS:
        assert got[-1].message == _reference(value, 0)[1][-1].message


def test_every_section_bad_keeps_the_limit_and_the_count() -> None:
    value = "; filename*0*=utf-8''%" + "".join(f"; filename*{n}*=%zz" for n in range(1, 5000))
    got, want = _streamed(value, 0), _reference(value, 0)
    assert got == want
    assert len(got[1]) == MAX_PROBLEMS + 1
    assert got[1][-1].message == f"{5000 - MAX_PROBLEMS} further problems were not listed"


def test_a_late_section_out_of_order_falls_back_to_the_sort() -> None:
    value = "".join(f"; filename*{n}*=%41a" for n in range(3000)) + "; filename*7*=dup"
    value += "; filename*3001=x"
    params, problems = _streamed(value, 0)
    assert (params, problems) == _reference(value, 0)
    assert [p.message for p in problems] == [
        "parameter 'filename*7' appears more than once; the first is used",
        "RFC 2231 parameter 'filename' lacks section 3000",
        "RFC 2231 value lacks the charset'language' prefix",
    ]


def test_in_order_sections_keep_no_record_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-order run never reaches the record-per-parameter reading."""

    def refuse(raws: object, sink: object) -> dict[str, str]:
        raise AssertionError("fell back to the records")

    value = "; filename*0*=utf-8''x" + "".join(f"; filename*{n}*=%41a" for n in range(1, 5000))
    want = _reference(value, 0)
    monkeypatch.setattr(_params, "_assemble", refuse)
    assert _streamed(value, 0) == want
    assert want[0]["filename"] == "x" + "Aa" * 4999


def _field(params: str, fold: str) -> bytes:
    """A message whose attachment carries ``params``, folded before each ``;``."""
    value = params.replace(";", fold + ";") if fold else params
    return (
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: application/octet-stream"
        + value.encode("utf-8", "surrogateescape")
        + b"\r\nContent-Disposition: attachment"
        + value.encode("utf-8", "surrogateescape")
        + b"\r\n\r\nAAAA\r\n--b--\r\n"
    )


def _findings(data: bytes, profile: str) -> list[tuple[object, ...]]:
    report = mimeguard.validate(data, profile=profile, limits=Limits(max_header_bytes=1 << 24))
    return [(f.code, f.part, f.offset, f.end, f.message) for f in report.findings]


@settings(max_examples=150, deadline=None)
@given(_param_lists(), st.sampled_from(("", "\r\n ", "\r\n\t", " \r\n ")), st.booleans())
def test_findings_are_the_records_findings(params: str, fold: str, eight_bit: bool) -> None:
    """End to end: codes, paths, offsets, ends and messages, folded anywhere."""
    if eight_bit:
        params = params.replace("é", "\udce9")  # a raw Latin-1 byte in the header
    data = _field(params, fold)
    got = {profile: _findings(data, profile) for profile in ("rfc", "workmail")}
    with _records():
        want = {profile: _findings(data, profile) for profile in ("rfc", "workmail")}
    assert got == want
