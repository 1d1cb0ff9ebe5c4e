"""The README's Python examples run as written (docs that match the code)."""

from __future__ import annotations

import os
import re

import pytest

from .conftest import ROOT

_README = (ROOT / "README.md").read_text(encoding="utf-8")
# Each block is padded with blank lines so that its line numbers are the README's: tools
# that read the source back by line (Hypothesis, tracebacks) find the right lines.
BLOCKS = [
    "\n" * _README.count("\n", 0, m.start(1)) + m.group(1)
    for m in re.finditer(r"```python\n(.*?)```", _README, re.DOTALL)
]


@pytest.mark.parametrize("code", BLOCKS, ids=lambda c: c.strip().splitlines()[0][:40])
def test_readme_example_runs(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    if "boto3" in code or "handler(" in code:
        pytest.skip("needs AWS; covered by tests/test_workmail.py")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    finally:
        os.chdir(cwd)


def test_readme_check_output_is_real(capsys: pytest.CaptureFixture[str]) -> None:
    from mimeguard.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"\$ mimeguard check examples/\n(.*?)```", readme, re.DOTALL)
    assert shown is not None
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        status = main(["check", "examples/", "--jobs", "1"])
    finally:
        os.chdir(cwd)
    assert status == 1
    assert capsys.readouterr().out == shown.group(1)


def test_readme_documents_the_stdlib_shaped_api() -> None:
    """Every stdlib-shaped method and every public header parser is in the README's table."""
    import mimeguard
    from mimeguard import headers
    from mimeguard._stdlib_api import StdlibAPI

    table = _README.split("### Coming from `email` or flanker", 1)[1].split("\n### ", 1)[0]
    methods = [n for n in vars(StdlibAPI) if not n.startswith("_")] + ["__getitem__"]
    for name in methods:
        shown = 'msg["Subject"]' if name == "__getitem__" else name
        assert shown in table, name
    for name in ("parse_addresses", "parse_date"):
        assert name in table and name in mimeguard.__all__ and name in headers.__all__
