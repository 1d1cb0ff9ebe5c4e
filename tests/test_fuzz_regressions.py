"""Every input the fuzzers found a bug with, replayed through the target that found it.

The inputs live in ``tests/fixtures/fuzz/`` and are named ``<target>-<what>.eml``; the
target (``fuzz/targets.py``) asserts the invariant that broke.  Bugs that are reported
but not fixed yet are listed in ``fuzz/known.py`` and run as strict ``xfail`` here: the
fix makes the test pass unexpectedly, which fails the suite until the entry is removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz import targets
from fuzz.known import KNOWN, known_issue

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "fuzz"
OPEN = {name: k for k in KNOWN for name in k.fixtures}


def _cases() -> list[object]:
    cases: list[object] = []
    for path in sorted(FIXTURES.glob("*.eml")):
        target = path.name.split("-", 1)[0]
        marks = []
        if path.name in OPEN:
            marks.append(pytest.mark.xfail(strict=True, reason=OPEN[path.name].summary))
        cases.append(pytest.param(path, target, id=path.name, marks=marks))
    return cases


@pytest.mark.parametrize(("path", "target"), _cases())
def test_fuzz_regression(path: Path, target: str) -> None:
    assert target in targets.TARGETS, f"{path.name}: no fuzz target {target!r}"
    targets.TARGETS[target].run(path.read_bytes())


def test_every_known_issue_has_its_fixture_and_matches_it() -> None:
    for k in KNOWN:
        for name in k.fixtures:
            path = FIXTURES / name
            assert path.is_file(), f"fuzz/known.py names a missing fixture {name}"
            failure: Exception | None = None
            try:
                targets.TARGETS[name.split("-", 1)[0]].run(path.read_bytes())
            except Exception as exc:  # any exception: that is the bug on file
                failure = exc
            if failure is None:
                pytest.fail(f"{name} passes: the bug is fixed, remove it from fuzz/known.py")
            assert known_issue(failure) is k, f"{name} fails differently now: {failure!r}"


def test_fixture_names_name_a_target() -> None:
    for path in FIXTURES.glob("*"):
        assert path.suffix == ".eml", path.name
        assert path.name.split("-", 1)[0] in targets.TARGETS, path.name


def test_the_differential_target_compares_quoted_parentheses() -> None:
    # a "(" inside a quoted boundary is no comment: the message is compared (found by the
    # properties target, when the harness skipped every Content-Type holding a "(")
    data = (
        b"From: a@example.com\r\nDate: Sat, 01 Jan 2000 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="a(b)"\r\n\r\n--a(b)\r\n\r\nhi\r\n--a(b)--\r\n'
    )
    assert targets.stdlib_differences(data) == []
