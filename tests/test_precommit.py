"""The pre-commit hooks of .pre-commit-hooks.yaml, run for real with ``pre-commit try-repo``.

pre-commit installs this project into a virtual environment of its own (a
``pip install`` of the repository), then runs ``mimeguard check`` and
``mimeguard fix`` on the files of a throwaway git repository of fixtures.

``try-repo`` only sees files git tracks (uncommitted edits to tracked files
are folded in, new files are not), so the hook repository is a snapshot of
this checkout: the files git would commit (tracked plus untracked, not
ignored) or, outside a git checkout, the package and its metadata, committed
to a temporary repository.  That makes the test behave the same on a clean CI
checkout, on a dirty working tree and on an unpacked source archive.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
pytest.importorskip("pre_commit")

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "mimeguard tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "mimeguard tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
_NEEDED = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "LICENSE")


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    out = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def _source_files(env: dict[str, str]) -> list[str]:
    try:
        listed = _git(
            "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env
        )
        names = [n for n in listed.split("\0") if n]
    except subprocess.CalledProcessError:  # not a git checkout (or not one git trusts)
        names = [p.relative_to(ROOT).as_posix() for p in (ROOT / "mimeguard").rglob("*")]
        names += list(_NEEDED)
    return sorted(
        n
        for n in set(names)
        if (n.startswith("mimeguard/") or n in _NEEDED)
        and "__pycache__" not in n
        and (ROOT / n).is_file()
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Leave HOME alone (pip's user configuration may hold the package index) but keep
    # the user's git configuration (hooks, signing) out of the throwaway repositories.
    gitconfig = tmp_path_factory.mktemp("git") / "config"
    gitconfig.write_text("")
    return {
        **os.environ,
        **_GIT_ENV,
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
    }


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """A committed snapshot of this project: what ``try-repo`` installs the hooks from."""
    snap = tmp_path_factory.mktemp("hook-repo")
    for name in _source_files(env):
        dest = snap / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest)
    _git("init", "-q", cwd=snap, env=env)
    _git("add", "-A", cwd=snap, env=env)
    _git("commit", "-q", "-m", "snapshot", cwd=snap, env=env)
    return snap


@pytest.fixture
def fixtures(tmp_path: Path, env: dict[str, str]) -> Path:
    repo = tmp_path / "fixtures"
    repo.mkdir()
    _git("init", "-q", cwd=repo, env=env)
    (repo / "mail").mkdir()
    for name in ("clean-plain.eml", "clean-attachment.eml"):
        shutil.copy(EXAMPLES / name, repo / "mail" / name)
    shutil.copy(EXAMPLES / "clean-forwarded.eml", repo / "mail" / "forwarded.msg")
    (repo / "notes.txt").write_text("not a message\n")
    _git("add", "-A", cwd=repo, env=env)
    return repo


def _try(hook_repo: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run every hook of the repository (check, then fix) over every file of ``cwd``.

    ``try-repo`` installs the hooks into a fresh store each time (several
    seconds), so each call runs both hooks.
    """
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "--all-files"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _status(output: str) -> dict[str, str]:
    """``{"mimeguard check": "Passed", "mimeguard fix": "Failed"}`` from pre-commit's output."""
    out = {}
    for line in output.splitlines():
        for name in ("mimeguard check", "mimeguard fix"):
            if line.startswith(name + "."):
                out[name] = line.rsplit(".", 1)[-1].strip()
    return out


def test_hooks_pass_on_clean_fixtures_and_fail_on_broken_ones(
    hook_repo: Path, fixtures: Path, env: dict[str, str]
) -> None:
    done = _try(hook_repo, fixtures, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _status(done.stdout) == {"mimeguard check": "Passed", "mimeguard fix": "Passed"}

    broken = fixtures / "mail" / "broken.eml"
    shutil.copy(EXAMPLES / "broken-lf-line-endings.eml", broken)
    _git("add", "-A", cwd=fixtures, env=env)
    done = _try(hook_repo, fixtures, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _status(done.stdout) == {"mimeguard check": "Failed", "mimeguard fix": "Failed"}
    # check: one line per finding and the summary over the files pre-commit passed
    assert "mail/broken.eml:1:40: MG111 [*] [error]" in done.stdout
    assert "4 files checked\n1 error (1 fixable with `mimeguard fix`)\n" in done.stdout
    # fix: rewrote the file (so it fails, the pre-commit convention) and says so
    assert "mail/broken.eml: fixed" in done.stdout
    assert "files were modified by this hook" in done.stdout
    fixed = broken.read_bytes()
    assert fixed.count(b"\r\n") == fixed.count(b"\n")

    # A folder of intentionally broken fixtures, marked in pyproject.toml, passes
    # both hooks and is left alone; the repaired message passes too.
    bad = fixtures / "tests" / "broken"
    bad.mkdir(parents=True)
    for src in sorted(EXAMPLES.glob("broken-*.eml")):
        shutil.copy(src, bad / src.name)
    originals = {p.name: p.read_bytes() for p in bad.iterdir()}
    (fixtures / "pyproject.toml").write_text(
        '[tool.mimeguard]\nper-file-ignores = { "tests/broken/**" = ["ALL"] }\n'
    )
    _git("add", "-A", cwd=fixtures, env=env)
    done = _try(hook_repo, fixtures, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _status(done.stdout) == {"mimeguard check": "Passed", "mimeguard fix": "Passed"}
    assert {p.name: p.read_bytes() for p in bad.iterdir()} == originals


@pytest.mark.parametrize("doc", ["README.md", "docs/cli.md"])
def test_documented_config_snippet_is_valid(doc: str, tmp_path: Path) -> None:
    """The ``.pre-commit-config.yaml`` the docs show passes pre-commit's own validation,
    names hooks this repository defines, and pins ``rev`` to a full SHA placeholder (no
    tag exists yet) rather than a made-up version."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    snippet = text.split("```yaml\nrepos:", 1)[1].split("```", 1)[0]
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text("repos:" + snippet)
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    ids = [
        line.split("id:", 1)[1].split("#")[0].strip()
        for line in snippet.splitlines()
        if "id:" in line
    ]
    assert ids and all(f"- id: {i}\n" in hooks for i in ids)
    rev = next(line for line in snippet.splitlines() if "rev:" in line).split("rev:", 1)[1]
    rev = rev.split("#")[0].strip()
    assert len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)
    assert "a tag or a full commit SHA" in snippet
