"""The README's shell commands work as written, on a fresh copy of the project.

Every line of every ``sh`` block is either run (in a committed snapshot of this
checkout, the way a fresh clone looks, with the exit status the README gives)
or listed in ``SKIPPED`` with the reason; a new command in the README fails this
test until it is one or the other.  The snapshot's ``.venv`` gets what the
README installs into it; the commands that need the test extras run with the
interpreter of this test run, which has them (installing them again would
repeat CI's own install step).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

README = (ROOT / "README.md").read_text(encoding="utf-8")
LINES = [
    line.strip()
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    for line in block.splitlines()
    if line.strip()
]

#: commands not run here, each with the reason (matched on the command before its comment)
SKIPPED = {
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest": (
        "this is the test suite itself: .ci/run does exactly this install and run"
    ),
    ".venv/bin/python fuzz/run.py --seconds 60": ".ci/run runs this fuzz step",
    ".venv/bin/python fuzz/run.py --seconds 3600 --target repair --keep-going": "an hour",
    ".venv/bin/python -m benchmarks": "the full benchmark takes about ten minutes",
    ".venv/bin/mimeguard gateway --config examples/gateway/gateway.toml": (
        "a server that runs until it is stopped: tests/test_gateway_postfix.py runs it end to "
        "end through a real Postfix, tests/test_gateway.py on loopback ports"
    ),
}
#: the exit status the README promises, where it is not 0
STATUS = {
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/mimeguard check examples/": 1,
}
#: commands that use the test extras: run with this interpreter (see the module docstring)
WITH_TEST_EXTRAS = (".venv/bin/python fuzz/", ".venv/bin/python -m benchmarks")

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _command(line: str) -> str:
    """The line without its trailing ``# comment``."""
    return re.sub(r"\s+#.*$", "", line)


def _snapshot(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the snapshot needs git ls-files")
    for name in filter(None, listed.stdout.decode().split("\0")):
        src = ROOT / name
        if src.is_file() and "__pycache__" not in name:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    env = {**os.environ, **_GIT_ENV}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "snapshot"]):
        subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=dest, env=env, check=True)


def test_every_readme_command_is_run_or_skipped_with_a_reason() -> None:
    commands = {_command(line) for line in LINES}
    assert set(SKIPPED) <= commands, set(SKIPPED) - commands  # no stale entries
    assert set(STATUS) <= commands


def test_readme_shell_commands_work_as_written(tmp_path: Path) -> None:
    clone = tmp_path / "mimeguard"
    clone.mkdir()
    _snapshot(clone)
    ran = 0
    for line in LINES:
        command = _command(line)
        if command in SKIPPED:
            continue
        run = command
        if command.startswith(WITH_TEST_EXTRAS):
            run = command.replace(".venv/bin/python", f'"{sys.executable}"', 1)
        done = subprocess.run(
            ["bash", "-c", run],
            cwd=clone,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        expected = STATUS.get(command, 0)
        assert done.returncode == expected, f"{command}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        ran += 1
    assert ran >= 5
    # what the install lines left behind: a working command, from the committed HEAD
    version = subprocess.run(
        [str(clone / ".venv" / "bin" / "mimeguard"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    import mimeguard

    assert version.stdout.strip() == f"mimeguard {mimeguard.__version__}"
