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
import re
from collections.abc import Iterator, Sequence
from typing import AnyStr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimeguard
from mimeguard import _abnf, _filenames, _params, _rfc2231
from mimeguard._problem import Problem
from mimeguard._rfc2047 import MAX_PROBLEMS, ProblemCollector
from mimeguard.limits import Limits
from mimeguard.message import HeaderField

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


@pytest.mark.parametrize(
    "value",
    [
        ";\x80filename*0=x;\x80filename*1*=x",  # found by the test above
        "; a@b*0=x; a@b*1*=y; a@b*2*=z",
        ";f\u212aname*0=x;f\u212aname*1*=x;fKname*2*=y",  # Kelvin sign: lower() is "k"
    ],
)
def test_later_sections_of_a_name_that_is_no_token_are_each_reported(value: str) -> None:
    """``Sections.take`` reads only what the scan would report nothing about: a name
    that is not a token is reported at each section, as the records reported it."""
    _same(value)


@contextlib.contextmanager
def _records() -> Iterator[None]:
    """Every reader of parameters reads records again, as before issue 16's change."""

    def reference(
        value: str, start: int, sink: ProblemCollector, windows: _params._Windows | None = None
    ) -> dict[str, str]:
        if windows is None:
            return _params._assemble(list(_params._scan(value, start, sink)), sink)
        return _params._assemble(list(_params._scan_windows(windows, start, sink)), sink)

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
        name = rng.choice(("filename", "filename", "FileName", "FILENAME", "filenam"))
        digits = f"0{number}" if rng.random() < 0.02 else str(number)
        equals = rng.choice(_AROUND_EQUALS) if rng.random() < 0.05 else "="
        yield f";{rng.choice(('', ' ', '  ', chr(9)))}{name}*{digits}{star}{equals}{text}"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("count", [_rfc2231.CHUNK - 1, _rfc2231.CHUNK + 1, 3 * _rfc2231.CHUNK])
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


@pytest.mark.parametrize(
    "name",
    # dotless and dotted i, the Kelvin sign and the long s fold to ASCII letters under
    # Unicode case folding: none of them is the name filename or a
    ["f\u0131lename", "f\u0130lename", "fil\u212aname", "\u017fa", "FILENAME", "fileName"],
)
@pytest.mark.parametrize("base", ["filename", "sa", "a"])
def test_later_sections_are_their_own_name_in_ascii_case_only(name: str, base: str) -> None:
    value = f"; {base}*0*=utf-8''x; {name}*1*=%41; {base}*1*=b; {name}*2*=c"
    _same(value)
    _same(value.replace("*0*=utf-8''x", "*0=x"))


@pytest.mark.parametrize("first", ['"=?utf-8?q?a?="', "=?utf-8?q?a?=", '"=?utf-8?q?"', "x"])
@pytest.mark.parametrize("later", ["*=%41", "*=b", "=c", '="=?utf-8?q?b?="'])
def test_a_plain_first_section_then_encoded_ones(first: str, later: str) -> None:
    """A "*" section after a plain *0 stops the RFC 2047 reading of the joined value."""
    value = f"; filename*0={first}; filename*1{later}; filename*2*=%42"
    _same(value)


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


# -- the name readings (issue 11's security control) read as they did ---------------------


def _reference_readings(fields: list[HeaderField]) -> tuple[list[str], list[str], bool]:
    """``_filenames._readings`` as it was: every parameter listed, then every section of
    a parameter listed, then its first MAX_SECTIONS distinct ones kept (each at its last
    place; the cap was 64, and names cut there hid their end), and whether there were
    more (the names cannot be judged)."""
    values: list[str] = []
    groups: list[list[tuple[int, bool, str, int]]] = []
    overflow = False
    for field in fields:
        sections: dict[str, list[tuple[int, bool, str, int]]] = {}
        for order, (name, value, raw) in enumerate(_filenames.field_params(field)):
            base, star, suffix = name.partition("*")
            if base not in ("name", "filename"):
                continue
            if not star:
                values.append(value)
                if raw != value:
                    values.append(raw)
                continue
            if suffix == "":
                values += _filenames._extended(value)
                continue
            m = _filenames._SECTION.match("*" + suffix)
            if m is None:
                values.append(value)
                continue
            sections.setdefault(base, []).append((int(m.group(1)), m.group(2) == "*", value, order))
        for pieces in sections.values():
            distinct = {(p[0], p[1], p[2]): p for p in pieces}
            kept = {k: distinct[k] for k in list(distinct)[: _filenames.MAX_SECTIONS]}
            overflow = overflow or len(distinct) > _filenames.MAX_SECTIONS
            groups.append(list(kept.values()))
    if not groups:
        return _filenames._decoded(values), _filenames._decoded(values), False
    out = []
    for partial in (True, False):
        found = list(values)
        for unique in groups:
            found += _filenames._sections(unique, partial)
        out.append(_filenames._decoded(found))
    return out[0], out[1], overflow


_NAME_VALUES = ("a.exe", "%2eexe", "x", '"q;x"', "é", "\udce9", "=?utf-8?q?a.exe?=", "a b", "")


@st.composite
def _name_fields(draw: st.DrawFn) -> bytes:
    out = [draw(st.sampled_from((b"Content-Disposition: attachment", b"Content-Type: a/b")))]
    count = draw(st.sampled_from((1, 3, 63, 64, 65, 70, 130)))
    numbers = list(range(count))
    if draw(st.booleans()):
        numbers = draw(st.permutations(numbers))
    numbers += draw(st.lists(st.integers(0, count + 1), max_size=8))  # repeats, a gap
    base = draw(st.sampled_from(("filename", "name", "FILENAME")))
    for number in numbers:
        star = "*" if draw(st.booleans()) else ""
        prefix = "utf-8''" if star and number == 0 and draw(st.booleans()) else ""
        value = prefix + draw(st.sampled_from(_NAME_VALUES))
        fold = draw(st.sampled_from(("\r\n ", " ", "", "\r\n\t(c) ")))
        out.append(f";{fold}{base}*{number}{star}={value}".encode("utf-8", "surrogateescape"))
    if draw(st.booleans()):
        out.append(b'; filename="plain.txt"')
    return b"".join(out) + b"\r\n"


@settings(max_examples=400, deadline=None)
@given(st.lists(_name_fields(), min_size=1, max_size=2))
def test_name_readings_are_the_listed_readings(fields: list[bytes]) -> None:
    """Sections kept as they come give every reading the lists gave, in order: around 64
    sections (the old cap), with repeats (the kept copy is the last), shuffled, folded,
    8-bit."""
    part = mimeguard.parse(b"".join(fields) + b"\r\nbody\r\n")
    names = _filenames._name_fields(part)
    assert _filenames.name_reading_sets(names) == _reference_readings(names)


@pytest.mark.parametrize(
    "count", [64, 65, _filenames.MAX_SECTIONS, _filenames.MAX_SECTIONS + 1, 100_000 // 50]
)
def test_many_sections_read_as_listed(count: int) -> None:
    field = "".join(f";\r\n filename*{n}*=%41a" for n in range(1, count))
    data = f"Content-Disposition: attachment; filename*0*=utf-8''x{field}\r\n\r\nbody"
    part = mimeguard.parse(data.encode())
    names = _filenames._name_fields(part)
    found = _filenames.name_reading_sets(names)
    assert found == _reference_readings(names)
    assert found[2] == (count > _filenames.MAX_SECTIONS)  # section 0 and count - 1 more


@pytest.mark.parametrize("spelling", [b"name", b"NAME", b"nAmE", b"Name", b"naMe"])
@pytest.mark.parametrize("around", [b"", b"\xc3\xa9", b"\r\n ", b"\xff"])
def test_mentions_name_in_every_case(spelling: bytes, around: bytes) -> None:
    for raw in (b"; file" + spelling + around + b"=x", b"; x=y" + around, around + spelling):
        part = mimeguard.parse(b"Content-Type: a/b" + raw + b"\r\n\r\nbody")
        for field in part.headers:
            assert _filenames.mentions_name(field) == (b"name" in field.raw.lower())


# -- the regexes made possessive match what they matched ----------------------------------


def _backtracking(pattern: re.Pattern[AnyStr], *possessive: AnyStr) -> re.Pattern[AnyStr]:
    """``pattern`` with the given possessive runs made plain again."""
    source = pattern.pattern
    for run in possessive:
        assert run in source
        source = source.replace(run, run.replace(run[-2:], run[-2:-1]))
    return re.compile(source)


_SIMPLE_OLD = (
    _backtracking(_filenames._SIMPLE, "\\x7f]*+", ")[ \\t]*)*+"),
    _backtracking(_filenames._SIMPLE_2231, "\\x7f]*+", ")[ \\t]*)*+"),
)
_FIELD_OLD = _backtracking(_abnf.FIELD, b")*+")


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "; ",
                ";",
                "\t",
                " ",
                "=",
                '"',
                "\\",
                "(",
                ")",
                "*",
                "?",
                "%",
                "'",
                "a",
                "B",
                "0",
                "1",
                "-",
                "_",
                "é",
                "\x00",
                "filename",
                "*0*",
                "=x",
                '="q"',
                "\x7f",
                "{",
            ]
        ),
        max_size=40,
    )
)
def test_possessive_simple_readers_match_as_before(pieces: list[str]) -> None:
    text = "".join(pieces)
    for new, old in zip((_filenames._SIMPLE, _filenames._SIMPLE_2231), _SIMPLE_OLD, strict=True):
        assert (new.fullmatch(text) is None) == (old.fullmatch(text) is None)


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"a",
                b"X-Y",
                b":",
                b" ",
                b"\t",
                b"\r\n",
                b"\n",
                b"\r",
                b"\r\r\n",
                b"v",
                b"\x80",
                b"\r\n ",
                b"\r\n\t",
                b"\n ",
                b"\r ",
            ]
        ),
        max_size=30,
    )
)
def test_possessive_field_matches_as_before(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    for pos in range(min(len(data), 4)):
        new, old = _abnf.FIELD.match(data, pos), _FIELD_OLD.match(data, pos)
        assert (new and new.span()) == (old and old.span())
        assert (new and new.group(1)) == (old and old.group(1))


@pytest.mark.parametrize(
    "tail", [b"\r\n", b"\n", b"\r", b"", b"\r\r\n", b"\n\r", b"\n\n", b"\r\n\r\n"]
)
@pytest.mark.parametrize("value", [b"", b" v", b" v\r\n w", b"\r\n"])
def test_raw_value_drops_one_line_ending(value: bytes, tail: bytes) -> None:
    buf = b"X: " + value + tail + b"Y: z\r\n"
    end = 3 + len(value) + len(tail)
    field = HeaderField(buf, 0, end, 2, "X")
    raw = buf[2:end]
    if raw.endswith(b"\r\n"):
        want = raw[:-2]
    elif raw.endswith((b"\n", b"\r")):
        want = raw[:-1]
    else:
        want = raw
    assert field.raw_value == want


@pytest.mark.parametrize("size", [10, _filenames._MAX_VALUE - 1, _filenames._MAX_VALUE + 7])
@pytest.mark.parametrize("breaks", [b"\r\n ", b"\n ", b"\r ", b"\r\n\t"])
def test_an_ascii_field_unfolds_as_the_text_did(size: int, breaks: bytes) -> None:
    """Unfolded before decoding and cut before decoding: the text the readings saw."""
    unit = b"; filename*1*=%41a" + breaks
    body = (unit * (size // len(unit) + 2))[: size + 40]
    part = mimeguard.parse(
        b"Content-Disposition: attachment" + body + b"\r\n\r\nx",
        limits=Limits(max_header_bytes=1 << 24),
    )
    field = part.header("content-disposition")
    assert field is not None
    raw = field.raw_value[: _filenames._MAX_VALUE * 2]
    assert _filenames._unfold(field) == [
        _abnf.EOL_TEXT.sub("", raw.decode("utf-8", "replace"))[: _filenames._MAX_VALUE]
    ]
