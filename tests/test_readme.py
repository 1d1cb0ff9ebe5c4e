"""The README's Python examples run as written (docs that match the code)."""

from __future__ import annotations

import os
import re

import pytest

from .conftest import ROOT

BLOCKS = re.findall(
    r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL
)


@pytest.mark.parametrize("code", BLOCKS, ids=lambda c: c.splitlines()[0][:40])
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
