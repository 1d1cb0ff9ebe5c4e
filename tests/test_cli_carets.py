"""``mimeguard check`` draws the source line and ``^~~`` under each finding's bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mimeguard._carets import MAX_LINES, WIDTH, excerpt
from mimeguard._rules._fixture import build
from mimeguard.cli import main

#: the widest a printed source line may be: the window plus an ellipsis each side
_MAX_COLUMNS = WIDTH + 2


def _escaped(raw: bytes) -> str:
    """How ``excerpt`` prints bytes: printable ASCII as is, everything else escaped."""
    names = {9: "\\t", 10: "\\n", 13: "\\r"}
    return "".join(chr(b) if 0x20 <= b < 0x7F else names.get(b, f"\\x{b:02x}") for b in raw)


def _under(source: str, carets: str) -> str:
    """The part of ``source`` the carets are drawn under."""
    start = len(carets) - len(carets.lstrip(" "))
    return source[start : len(carets)]


# -- exact renderings ------------------------------------------------------------------------------


def test_a_token_in_a_header() -> None:
    data = b"From: a@example.com\r\nCc: bob@@example.org\r\n\r\n"
    i = data.index(b"bob")
    assert excerpt(data, i, i + 16) == (("Cc: bob@@example.org", "    ^~~~~~~~~~~~~~~~"),)


def test_tabs_nul_and_8bit_are_escaped_and_the_caret_stays_under_them() -> None:
    data = b"Subject:\tcaf\xc3\xa9\x00 ok\r\n"
    i = data.index(b"caf")
    ((source, carets),) = excerpt(data, i, i + 6)
    assert source == "Subject:\\tcaf\\xc3\\xa9\\x00 ok"
    assert carets == "          ^~~~~~~~~~~~~~~"
    assert _under(source, carets) == "caf\\xc3\\xa9\\x00"


def test_a_zero_length_span_is_one_caret() -> None:
    data = b"Date: Tue, 1 Dec 2026 10:00:00\r\n"
    end = data.index(b"\r")
    assert excerpt(data, end, end) == (("Date: Tue, 1 Dec 2026 10:00:00", " " * end + "^"),)
    assert excerpt(data, 0, 0) == (("Date: Tue, 1 Dec 2026 10:00:00", "^"),)


def test_a_span_at_the_end_of_the_buffer() -> None:
    data = b"Subject: x\r\n\r\nno newline at the end"
    assert excerpt(data, len(data), len(data)) == (
        ("no newline at the end", " " * len("no newline at the end") + "^"),
    )
    # an offset past the buffer is clamped to it, never an IndexError
    assert excerpt(data, len(data) + 50, len(data) + 90) == excerpt(data, len(data), len(data))
    assert excerpt(b"", 0, 0) == (("", "^"),)


def test_a_span_crossing_a_fold_draws_each_line() -> None:
    data = b"Subject: one\r\n two\r\n\tthree\r\nX: y\r\n"
    a, b = data.index(b"one"), data.index(b"three") + 5
    assert excerpt(data, a, b) == (
        ("Subject: one", "         ^~~"),
        (" two", "^~~~"),
        ("\\tthree", "^~~~~~~"),
    )


def test_a_span_over_many_lines_shows_the_first_few() -> None:
    data = b"".join(b"line %d\r\n" % i for i in range(20))
    assert len(excerpt(data, 0, len(data))) == MAX_LINES


def test_a_span_starting_on_a_line_ending_still_gets_a_caret() -> None:
    data = b"one\r\ntwo\r\n"
    at = data.index(b"\r")
    assert excerpt(data, at, at + 1) == (("one", "   ^"),)
    lf = data.index(b"\n")
    assert excerpt(data, lf, lf + 1) == (("one", "   ^"),)


# -- long lines --------------------------------------------------------------------------------


def test_a_10000_byte_line_is_windowed_around_the_span() -> None:
    data = b"X-Long: " + b"a" * 5000 + b"BAD" + b"b" * 5000 + b"\r\n"
    i = data.index(b"BAD")
    ((source, carets),) = excerpt(data, i, i + 3)
    assert len(source) <= _MAX_COLUMNS and len(carets) <= _MAX_COLUMNS
    assert source.startswith("…") and source.endswith("…")
    assert _under(source, carets) == "BAD"


def test_a_10000_byte_line_of_8bit_bytes_is_windowed_too() -> None:
    data = b"\xff" * 5000 + b"\x00" + b"\xfe" * 5000
    i = data.index(b"\x00")
    ((source, carets),) = excerpt(data, i, i + 1)
    assert len(source) <= _MAX_COLUMNS
    assert _under(source, carets) == "\\x00"


def test_a_span_longer_than_the_window_is_cut_at_the_window() -> None:
    data = b"x" * 10_000
    ((source, carets),) = excerpt(data, 10, 9_990)
    assert len(source) <= _MAX_COLUMNS and len(carets) <= _MAX_COLUMNS
    assert carets.lstrip(" ").startswith("^~")


def test_a_point_at_the_end_of_a_long_line() -> None:
    data = b"y" * 10_000 + b"\r\n"
    ((source, carets),) = excerpt(data, 10_000, 10_000)
    assert len(source) <= _MAX_COLUMNS and len(carets) <= _MAX_COLUMNS + 1
    assert carets.endswith("^") and source.startswith("…") and not source.endswith("…")


@given(
    st.binary(max_size=300),
    st.integers(min_value=-5, max_value=320),
    st.integers(min_value=0, max_value=320),
)
def test_any_bytes_any_span(data: bytes, offset: int, length: int) -> None:
    """Whatever the bytes, the excerpt is printable, bounded and its carets sit under the span."""
    lines = excerpt(data, offset, offset + length)
    assert 1 <= len(lines) <= MAX_LINES
    for source, carets in lines:
        assert source.isprintable() and carets.isprintable()
        assert len(source) <= _MAX_COLUMNS and len(carets) <= _MAX_COLUMNS + 1
        assert set(carets) <= {" ", "^", "~"}
    first_source, first_carets = lines[0]
    assert "^" in first_carets
    a = max(0, min(offset, len(data)))
    b = max(a, min(offset + length, len(data)))
    line_end = min((i for i in (data.find(b"\r", a), data.find(b"\n", a)) if i >= 0), default=-1)
    if b > a and (line_end < 0 or b <= line_end) and b - a < 20 and "…" not in first_source:
        # a short span inside one line: the carets are exactly under its escaped bytes
        assert _under(first_source, first_carets) == _escaped(data[a:b])


# -- the command line ------------------------------------------------------------------------------


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, *args: str) -> str:
    (tmp_path / "pyproject.toml").write_text("[tool.mimeguard]\n")
    (tmp_path / "m.eml").write_bytes(data)
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        main(["check", "m.eml", "--profile", "rfc", "--jobs", "1", "--quiet", *args])
    finally:
        os.chdir(cwd)
    return capsys.readouterr().out


def test_check_draws_carets_under_a_bad_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    data = build(b"Date: Tue, 1 December 2026 10:00:00 +0000", drop=(b"Date",))
    out = _check(tmp_path, capsys, data, "--select", "MG207")
    line = data[: data.index(b"\r\n", data.index(b"Date:"))].rsplit(b"\n", 1)[1].decode()
    col = line.index("December")
    assert out.splitlines()[1:] == [
        f"    {line}",
        "    " + " " * col + "^~~~~~~~",
    ]
    lineno = data[: data.index(b"December")].count(b"\n") + 1
    assert out.startswith(f"m.eml:{lineno}:{col + 1}:")


def test_check_colours_the_carets_with_color(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build(b"Date: Tue, 1 December 2026 10:00:00 +0000", drop=(b"Date",))
    out = _check(tmp_path, capsys, data, "--select", "MG207", "--color", "always")
    carets = out.splitlines()[2]
    assert "\x1b[" in carets and "^~~~~~~~" in carets
    assert "\x1b[" not in out.splitlines()[1]  # the source line itself is left plain


def test_concise_and_machine_formats_carry_no_carets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build(b"Date: Tue, 1 December 2026 10:00:00 +0000", drop=(b"Date",))
    out = _check(tmp_path, capsys, data, "--select", "MG207", "--format", "concise")
    assert len(out.splitlines()) == 1 and "^" not in out
    doc = json.loads(_check(tmp_path, capsys, data, "--select", "MG207", "--format", "json"))
    (hit,) = doc["files"][0]["findings"]
    assert data[hit["offset"] : hit["end"]] == b"December"
    assert hit["end_line"] == hit["line"] and hit["end_column"] == hit["column"] + 8
    sarif = json.loads(_check(tmp_path, capsys, data, "--select", "MG207", "--format", "sarif"))
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert data[region["byteOffset"] : region["byteOffset"] + region["byteLength"]] == b"December"
    assert region["endLine"] == region["startLine"]
    assert region["endColumn"] == region["startColumn"] + 8


def test_github_annotations_carry_the_span(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build(b"Date: Tue, 1 December 2026 10:00:00 +0000", drop=(b"Date",))
    out = _check(tmp_path, capsys, data, "--select", "MG207", "--format", "github")
    line = data[: data.index(b"December")].count(b"\n") + 1
    col = data.index(b"December") - data.rfind(b"\n", 0, data.index(b"December"))
    assert out.startswith(
        f"::error file=m.eml,line={line},col={col},endLine={line},endColumn={col + 8},"
        "title=MG207 invalid-date::"
    )


def test_mbox_spans_are_in_the_whole_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = build(b"Date: Tue, 1 December 2026 10:00:00 +0000", drop=(b"Date",))
    box = b"From a@b Tue Dec  1 00:00:00 2026\n" + one.replace(b"\r\n", b"\n") + b"\n"
    box = box + box
    (tmp_path / "pyproject.toml").write_text("[tool.mimeguard]\n")
    (tmp_path / "m.mbox").write_bytes(box)
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        main(["check", "m.mbox", "--profile", "rfc", "--jobs", "1", "--quiet", "--select",
              "MG207", "--format", "json"])  # fmt: skip
    finally:
        os.chdir(cwd)
    hits = json.loads(capsys.readouterr().out)["files"][0]["findings"]
    assert len(hits) == 2
    for hit in hits:
        assert box[hit["offset"] : hit["end"]] == b"December"
