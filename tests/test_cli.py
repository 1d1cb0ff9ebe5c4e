"""The command line, through ``mimeguard.cli.main`` (output captured) and the installed script.

Every command and option is exercised here; the pre-commit hooks are in
test_precommit.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

import mimeguard
from mimeguard import RULES, get_rule
from mimeguard._cli_check import Settings, Task, check_one, split_mbox
from mimeguard._config import path_matches
from mimeguard._rules._fixture import CLEAN, build
from mimeguard.cli import main

from .conftest import EXAMPLES, ROOT

SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0-subset.schema.json"
LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): "
    r"(?P<code>MG\d{3})(?P<fixable> \[\*\])? \[(?P<sev>error|warning|info)\] (?P<msg>.+)$"
)
SUMMARY = re.compile(
    r"(?P<files>[\d,]+) files? checked(?P<rest>.*)\n"
    r"(?P<errors>[\d,]+) errors?(?: \((?P<fe>[\d,]+) fixable[^)]*\))?"
    r"(?:, (?P<warnings>[\d,]+) warnings?(?: \((?P<fw>[\d,]+) fixable[^)]*\))?)?\n\Z"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")

BARE_LF = CLEAN.replace(b"\r\n", b"\n")
NO_DATE = build(drop=(b"Date",))
WARNING_ONLY = get_rule("MG105").fixture  # header-name-whitespace: a warning everywhere
SES_ONLY = get_rule("MG204").fixture  # duplicate-ses-header: only under the ses profile
UNFIXABLE = get_rule("MG205").fixture  # invalid-from: reported, never repaired
SIGNED = build(
    body=(
        b"--sig\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSigned text.\r\n"
        b"--sig\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nTUlNRQ==\r\n--sig--\r\n"
    ),
    mime=(
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b'micalg=sha-256; boundary="sig"',
    ),
)


# -- helpers --------------------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``main`` in this process; return (status, stdout, stderr)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def script() -> list[str]:
    """The installed console script (the real entry point), else ``python -m mimeguard``."""
    exe = Path(sys.executable).with_name("mimeguard")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mimeguard"]


def sh(
    *args: str,
    cwd: Path = ROOT,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*script(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def counts(out: str) -> tuple[int, int, int]:
    """(files, errors, warnings) from the two summary lines that end the text output."""
    m = SUMMARY.search(out)
    assert m is not None, out
    return int(m["files"].replace(",", "")), int(m["errors"]), int(m["warnings"] or 0)


def finding_lines(out: str) -> list[re.Match[str]]:
    return [m for line in out.splitlines() if (m := LINE.match(line))]


def set_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder (with a pyproject.toml so no outer configuration leaks in)."""
    (tmp_path / "pyproject.toml").write_text("[tool.mimeguard]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


# -- check: basics -------------------------------------------------------------------------------


def test_check_examples_prints_one_line_per_finding_and_a_summary(
    capsys: pytest.CaptureFixture[str], in_root: Path
) -> None:
    status, out, err = cli(capsys, "check", "examples/", "--format", "concise")
    assert status == 1
    lines = out.splitlines()
    found = finding_lines(out)
    assert len(found) == 7 == len(lines) - 2
    assert {m["path"] for m in found} == {
        f"examples/{p.name}" for p in EXAMPLES.glob("broken-*.eml")
    }
    assert "examples/broken-missing-closing-boundary.eml:13:1: MG301 [*] [error] " in out
    assert counts(out) == (10, 7, 0)
    assert err == ""


def test_check_clean_files_exit_0(capsys: pytest.CaptureFixture[str], in_root: Path) -> None:
    status, out, _ = cli(capsys, "check", *map(str, sorted(EXAMPLES.glob("clean-*.eml"))))
    assert status == 0
    assert out == "4 files checked\n0 errors\n"


def test_part_path_is_shown(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    inner = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nCaf\xc3\xa9\r\n"
    data = build(
        body=b"--b1\r\n" + inner + b"--b1--\r\n",
        mime=(b'Content-Type: multipart/mixed; boundary="b1"',),
    )
    write(work, "m.eml", data)
    status, out, _ = cli(capsys, "check", "m.eml")
    assert status == 1
    assert re.search(r"^m\.eml:\d+:\d+: MG316 \[\*\] \[error\] .* \(part 1\)$", out, re.M), out


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    done = sh("check", "examples/")
    assert done.returncode == 1
    assert counts(done.stdout.decode()) == (10, 7, 0)
    module = subprocess.run(
        [sys.executable, "-m", "mimeguard", "check", str(EXAMPLES / "clean-plain.eml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 0 and module.stdout == "1 file checked\n0 errors\n"


def test_missing_file_is_reported_and_the_others_still_checked(
    capsys: pytest.CaptureFixture[str], in_root: Path
) -> None:
    status, out, err = cli(capsys, "check", "nope.eml", "examples/broken-missing-date.eml")
    assert status == 2
    assert "nope.eml: error: No such file or directory" in err
    assert "examples/broken-missing-date.eml:1:1: MG202 [*] [error] no Date field" in out
    assert out.splitlines()[-2:] == [
        "1 file checked, 1 could not be checked",
        "1 error (1 fixable with `mimeguard fix`)",
    ]


def test_unreadable_file_is_an_io_error(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    (work / "dir.eml").mkdir()  # a folder named like a message is searched, not read
    write(work, "x.eml", CLEAN)
    assert cli(capsys, "check", "x.eml", "dir.eml")[0] == 0
    status, _, err = cli(capsys, "check", "x.eml", "missing/*.eml")
    assert status == 2
    assert "missing/*.eml: error: no file matches this pattern" in err


def test_globs_folders_and_include(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "mail/a.eml", CLEAN)
    write(work, "mail/deep/er/b.msg", BARE_LF)
    write(work, "mail/c.MBOX", b"From a@b Mon Nov 23 10:00:00 2026\r\n" + CLEAN)
    write(work, "mail/d.txt", NO_DATE)
    write(work, "mail/.hidden/e.eml", NO_DATE)
    write(work, "mail/node_modules/f.eml", NO_DATE)
    write(work, "mail/venv/pyvenv.cfg", b"")
    write(work, "mail/venv/g.eml", NO_DATE)
    status, out, _ = cli(capsys, "check", "mail")
    assert status == 1
    assert {m["path"] for m in finding_lines(out)} == {"mail/deep/er/b.msg"}
    assert counts(out) == (3, 1, 0)

    status, out, _ = cli(capsys, "check", "mail", "--include", "*.txt")
    assert {m["path"] for m in finding_lines(out)} == {"mail/deep/er/b.msg", "mail/d.txt"}
    assert counts(out) == (4, 2, 0)

    status, out, _ = cli(capsys, "check", "mail/**/*.msg", "mail/a.eml", "mail/a.eml")
    assert counts(out) == (2, 1, 0)  # each file once

    status, out, err = cli(capsys, "check", "mail/.hidden/e.eml")  # named: checked anyway
    assert status == 1 and "MG202" in out

    empty = work / "empty"
    empty.mkdir()
    status, out, err = cli(capsys, "check", "empty")
    assert status == 0 and "no message files found" in err
    assert out == "0 files checked\n0 errors\n"


def test_default_path_is_the_current_folder(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "sub/a.eml", NO_DATE)
    status, out, _ = cli(capsys, "check")
    assert status == 1 and "sub/a.eml:1:1: MG202" in out


def test_stdin(
    capsys: pytest.CaptureFixture[str], work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_stdin(monkeypatch, NO_DATE)
    status, out, _ = cli(capsys, "check", "-", "--format", "concise")
    assert status == 1
    assert out.splitlines() == [
        "-:1:1: MG202 [*] [error] no Date field",
        "1 file checked",
        "1 error (1 fixable with `mimeguard fix`)",
    ]

    (work / "pyproject.toml").write_text(
        '[tool.mimeguard]\nper-file-ignores = { "fixtures/**" = ["missing-date"] }\n'
    )
    set_stdin(monkeypatch, NO_DATE)
    status, out, _ = cli(capsys, "check", "-", "--stdin-filename", "fixtures/x.eml")
    assert status == 0 and out == "1 file checked\n0 errors\n"

    done = sh("check", "-", stdin=BARE_LF, cwd=work)
    assert done.returncode == 1 and b"-:1:" in done.stdout


def test_mbox_messages_are_checked_one_by_one(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    first = CLEAN
    second = NO_DATE
    box = (
        b"From alice@example.com Mon Nov 23 10:00:00 2026\r\n"
        + first
        + b"\r\nFrom bob@example.org Mon Nov 23 11:00:00 2026\r\n"
        + second
    )
    write(work, "box.mbox", box)
    status, out, _ = cli(capsys, "check", "box.mbox", "--format", "concise")
    assert status == 1
    line_of_second = box[: box.index(second)].count(b"\n") + 1
    assert out.splitlines() == [
        f"box.mbox:{line_of_second}:1: MG202 [*] [error] no Date field (message 2)",
        "1 file checked",
        "1 error (1 fixable with `mimeguard fix`)",
    ]
    assert split_mbox(box) == [
        (box.index(first), box.index(first) + len(first)),
        (box.index(second), len(box)),
    ]
    assert split_mbox(CLEAN) == [(0, len(CLEAN))]


# -- check: rule selection ------------------------------------------------------------------------


def test_select_and_ignore(capsys: pytest.CaptureFixture[str], in_root: Path) -> None:
    status, out, _ = cli(capsys, "check", "examples/", "--select", "MG2,MG3")
    assert {m["code"] for m in finding_lines(out)} == {"MG202", "MG301", "MG316"}
    status, out, _ = cli(capsys, "check", "examples/", "--select", "MG2", "--select", "bare-lf")
    assert {m["code"] for m in finding_lines(out)} == {"MG202", "MG111"}
    status, out, _ = cli(
        capsys, "check", "examples/", "--ignore", "MG1,missing-date", "--extend-ignore", "MG3"
    )
    assert status == 0 and finding_lines(out) == []
    status, out, _ = cli(
        capsys, "check", "examples/", "--select", "MG2", "--extend-select", "MG301"
    )
    assert {m["code"] for m in finding_lines(out)} == {"MG202", "MG301"}
    status, _, err = cli(capsys, "check", "examples/", "--select", "MG999")
    assert status == 2 and "no rule code starts with 'MG999'" in err
    status, _, err = cli(capsys, "check", "examples/", "--ignore", "no-such-rule")
    assert status == 2 and "unknown rule 'no-such-rule'" in err


def test_profiles(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "ses.eml", SES_ONLY)
    assert cli(capsys, "check", "ses.eml")[0] == 0
    status, out, _ = cli(capsys, "check", "ses.eml", "--profile", "ses")
    assert status == 1 and "MG204 [*] [error]" in out
    status, _, err = cli(capsys, "check", "ses.eml", "--profile", "nope")
    assert status == 2 and "invalid choice" in err


def test_warnings_as_errors(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "w.eml", WARNING_ONLY)
    status, out, _ = cli(capsys, "check", "w.eml")
    assert status == 0
    assert "MG105 [*] [warning]" in out and counts(out) == (1, 0, 1)
    status, out, _ = cli(capsys, "check", "w.eml", "--warnings-as-errors")
    assert status == 1
    assert "MG105 [*] [error]" in out and counts(out) == (1, 1, 0)


def test_statistics_and_quiet(capsys: pytest.CaptureFixture[str], in_root: Path) -> None:
    status, out, _ = cli(capsys, "check", "examples/", "--statistics")
    assert status == 1
    lines = out.splitlines()
    assert finding_lines(out) == []
    assert re.fullmatch(r"\s+1  MG101  \[\*\]  \[error\]\s+missing-header-body-separator", lines[0])
    assert len(lines) == 9 and counts(out) == (10, 7, 0)

    status, out, _ = cli(capsys, "check", "examples/", "-q", "--format", "concise")
    assert status == 1 and len(finding_lines(out)) == 7 == len(out.splitlines())
    status, out, _ = cli(capsys, "check", "examples/clean-plain.eml", "-q")
    assert status == 0 and out == ""


def test_output_file(capsys: pytest.CaptureFixture[str], in_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    status, out, _ = cli(capsys, "check", "examples/", "--format", "json", "-o", str(target))
    assert status == 1 and out == ""
    assert json.loads(target.read_text())["summary"]["errors"] == 7
    status, _, err = cli(capsys, "check", "examples/", "-o", str(tmp_path / "no" / "x"))
    assert status == 2 and "No such file or directory" in err


# -- check: formats -------------------------------------------------------------------------------


def test_json_format(capsys: pytest.CaptureFixture[str], in_root: Path) -> None:
    status, out, _ = cli(
        capsys, "check", "examples/", "nope.eml", "--format", "json", "--statistics"
    )
    assert status == 2
    doc = json.loads(out)
    assert doc["tool"] == "mimeguard" and doc["version"] == mimeguard.__version__
    assert doc["profile"] == "workmail"
    assert doc["files"][0] == {"path": "nope.eml", "error": "No such file or directory"}
    checked = doc["files"][1:]
    assert len(checked) == 10
    by_path = {f["path"]: f for f in checked}
    entry = by_path["examples/broken-missing-closing-boundary.eml"]
    assert entry["ok"] is False and entry["errors"] == 1 and entry["messages"] == 1
    assert entry["findings"] == [
        {
            "code": "MG301",
            "name": "missing-closing-boundary",
            "severity": "error",
            "message": "the closing delimiter --cut-0001-- is missing",
            "part": "",
            "offset": 374,
            "end": 374,
            "line": 13,
            "column": 1,
            "end_line": 13,
            "end_column": 1,
            "fixable": True,
        }
    ]
    assert by_path["examples/clean-plain.eml"]["findings"] == []
    summary = doc["summary"]
    assert summary["files"] == 10 and summary["errors"] == 7 and summary["exit_code"] == 2
    assert summary["failures"] == [{"path": "nope.eml", "error": "No such file or directory"}]
    assert {s["code"] for s in summary["statistics"]} == {
        "MG101", "MG110", "MG111", "MG115", "MG202", "MG301", "MG316"
    }  # fmt: skip


def _sarif_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def _assert_uri_reference(uri: str) -> None:
    parsed = urllib.parse.urlsplit(uri)
    assert not re.search(r"[\s\\]", uri), uri
    assert parsed.scheme in ("", "file"), uri


def test_sarif_validates_against_the_sarif_2_1_0_schema(
    capsys: pytest.CaptureFixture[str], work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for src in EXAMPLES.glob("*.eml"):
        shutil.copy(src, work / src.name)
    write(work, "with space/w.eml", WARNING_ONLY)
    write(work, "box.mbox", b"From a@b Mon Nov 23 10:00:00 2026\r\n" + NO_DATE)
    write(work, "r.eml", get_rule("MG325").fixture)  # an info under the rfc profile
    absolute = write(tmp_path_factory.mktemp("outside"), "a.eml", NO_DATE).resolve()
    status, out, _ = cli(
        capsys, "check", ".", str(absolute), "nope.eml", "--format", "sarif", "--profile", "rfc"
    )
    assert status == 2
    log = json.loads(out)
    errors = sorted(_sarif_validator().iter_errors(log), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:3])

    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mimeguard" and driver["version"] == mimeguard.__version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels["MG325"] == "note" and levels["MG401"] == "none"  # rfc profile
    results = run["results"]
    assert results, "no results"
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        loc = res["locations"][0]["physicalLocation"]
        _assert_uri_reference(loc["artifactLocation"]["uri"])
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "broken-missing-date.eml" in uris and "with%20space/w.eml" in uris
    assert absolute.as_uri() in uris
    assert any(r["level"] == "note" for r in results)
    mbox = [r for r in results if r["ruleId"] == "MG202" and "box.mbox" in str(r)]
    assert mbox and mbox[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
    assert "nope.eml" in invocation["toolExecutionNotifications"][0]["message"]["text"]

    # A clean run is valid too (no results, a successful invocation).
    status, out, _ = cli(capsys, "check", "clean-plain.eml", "--format", "sarif", "--statistics")
    log = json.loads(out)
    assert status == 0 and not list(_sarif_validator().iter_errors(log))
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_github_annotations(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "a,b:c.eml", NO_DATE)
    write(work, "w.eml", WARNING_ONLY)
    status, out, _ = cli(capsys, "check", "a,b:c.eml", "w.eml", "gone.eml", "--format", "github")
    assert status == 2
    lines = out.splitlines()
    assert "::error title=mimeguard::gone.eml: No such file or directory" in lines
    assert (
        "::error file=a%2Cb%3Ac.eml,line=1,col=1,title=MG202 missing-date::no Date field" in lines
    )
    assert any(line.startswith("::warning file=w.eml,line=") for line in lines)
    assert counts(out) == (2, 1, 1)
    write(work, "r.eml", get_rule("MG325").fixture)
    status, out, _ = cli(capsys, "check", "r.eml", "--format", "github", "--profile", "rfc")
    assert status == 0 and out.startswith("::notice file=r.eml,")


# -- check: colour, progress, parallel, streaming -------------------------------------------------


def test_colour(
    capsys: pytest.CaptureFixture[str], in_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = cli(capsys, "check", "examples/broken-missing-date.eml")[1]
    assert not ANSI.search(out)  # captured output is not a terminal
    out = cli(capsys, "check", "examples/broken-missing-date.eml", "--color", "always")[1]
    assert "\x1b[1;31mMG202\x1b[0m" in out
    assert ANSI.sub("", out).splitlines()[0] == (
        "examples/broken-missing-date.eml:1:1: MG202 [*] [error] no Date field"
    )
    monkeypatch.setenv("NO_COLOR", "1")
    out = cli(capsys, "check", "examples/broken-missing-date.eml", "--color", "auto")[1]
    assert not ANSI.search(out)
    out = cli(capsys, "check", "examples/", "--format", "json", "--color", "always")[1]
    assert not ANSI.search(out)


def _run_on_tty(
    args: list[str], *, cwd: Path, env: dict[str, str], tty: str
) -> tuple[bytes, bytes]:
    """Run the script with ``tty`` ("stdout" or "stderr") on a pseudo-terminal."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    kwargs: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    kwargs[tty] = slave
    proc = subprocess.Popen(
        [*script(), *args], cwd=cwd, env={**os.environ, **env}, stdin=subprocess.DEVNULL, **kwargs
    )
    os.close(slave)
    captured = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        captured += chunk
    os.close(master)
    other = proc.stderr if tty == "stdout" else proc.stdout
    assert other is not None
    rest = other.read()
    proc.wait(timeout=60)
    return captured, rest


def test_colour_and_progress_on_a_terminal(tmp_path: Path) -> None:
    for i in range(40):
        write(tmp_path, f"m{i:02}.eml", NO_DATE if i % 10 == 0 else CLEAN)
    env = {"NO_COLOR": "", "TERM": "xterm"}
    tty_out, _ = _run_on_tty(["check", ".", "--jobs", "1"], cwd=tmp_path, env=env, tty="stdout")
    assert b"\x1b[1;31mMG202\x1b[0m" in tty_out
    tty_out, _ = _run_on_tty(
        ["check", "."], cwd=tmp_path, env={**env, "NO_COLOR": "1"}, tty="stdout"
    )
    assert b"MG202" in tty_out and b"\x1b[" not in tty_out

    tty_err, out = _run_on_tty(["check", ".", "--jobs", "2"], cwd=tmp_path, env=env, tty="stderr")
    assert b"checked 40/40 files (100%)" in tty_err
    assert tty_err.endswith(b"\r\x1b[K")  # the progress line is cleared at the end
    assert counts(out.decode()) == (40, 4, 0)
    assert b"\x1b[" not in out  # stdout is a pipe: no colour

    tty_err, _ = _run_on_tty(["check", ".", "-q"], cwd=tmp_path, env=env, tty="stderr")
    assert b"checked" not in tty_err
    piped = sh("check", ".", cwd=tmp_path)
    assert piped.stderr == b""  # no progress when stderr is not a terminal


def test_parallel_output_matches_serial(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    examples = sorted(EXAMPLES.glob("*.eml"))
    for i in range(300):
        shutil.copy(examples[i % len(examples)], work / f"m{i:03}.eml")
    s1, out1, _ = cli(capsys, "check", ".", "--jobs", "1")
    s2, out2, _ = cli(capsys, "check", ".", "--jobs", "2")
    s0, out0, _ = cli(capsys, "check", ".")  # default: one job per CPU
    assert s1 == s2 == s0 == 1
    assert out1 == out2 == out0
    assert counts(out1) == (300, 210, 0)
    names = [m["path"] for m in finding_lines(out2)]
    assert names == sorted(names)  # results come back in order


def test_check_one_runs_the_worker_code_path() -> None:
    settings = Settings("workmail", None, (), warnings_as_errors=True)
    result = check_one(Task("-", "w.eml", (), WARNING_ONLY), settings)
    assert result.error is None and [h.severity for h in result.hits] == ["error"]
    result = check_one(Task("/nonexistent/x.eml", "x.eml"), settings)
    assert result.error == "No such file or directory" and result.hits == ()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_results_stream_before_the_batch_ends(tmp_path: Path) -> None:
    """The last file is a named pipe nobody writes to yet: the findings of the
    files before it must be printed while the batch is still running."""
    for i in range(30):
        write(tmp_path, f"a{i:02}.eml", NO_DATE)
    fifo = tmp_path / "z.eml"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [*script(), "check", ".", "--jobs", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while seen.count(b"MG202") < 30 and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                seen += os.read(proc.stdout.fileno(), 65536)
        assert seen.count(b"MG202") == 30, seen
        assert proc.poll() is None  # still waiting for the pipe
        assert b"files," not in seen
    finally:
        # Unblock the worker.  Opening a pipe for writing without blocking fails
        # until the reader has opened it, so wait for the worker to get there
        # (without hanging when it never does).
        give_up = time.monotonic() + 30
        while True:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > give_up or proc.poll() is not None:
                    proc.kill()
                    raise
                time.sleep(0.05)
        os.write(fd, NO_DATE)
        os.close(fd)
    rest, _ = proc.communicate(timeout=60)
    assert counts((seen + rest).decode()) == (31, 31, 0)


# -- configuration --------------------------------------------------------------------------------


def test_configuration_from_pyproject(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "mail/ok.eml", WARNING_ONLY)
    write(work, "mail/lf.eml", BARE_LF)
    write(work, "mail/ses.eml", SES_ONLY)
    write(work, "fixtures/broken/nodate.eml", NO_DATE)
    write(work, "fixtures/broken/lf.eml", BARE_LF)
    write(work, "fixtures/other/nodate.eml", NO_DATE)
    write(work, "skip/me.eml", NO_DATE)
    write(work, "mail/extra.txt", NO_DATE)
    (work / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n"
        "[tool.mimeguard]\n"
        'profile = "ses"\n'
        'ignore = ["MG105"]\n'
        'exclude = ["skip"]\n'
        'include = ["*.txt"]\n'
        "[tool.mimeguard.per-file-ignores]\n"
        '"fixtures/broken/**" = ["ALL"]\n'
        '"nodate.eml" = ["missing-date"]\n'
    )
    status, out, _ = cli(capsys, "check")
    found = {(m["path"], m["code"]) for m in finding_lines(out)}
    assert found == {
        ("mail/lf.eml", "MG111"),
        ("mail/ses.eml", "MG204"),  # profile = "ses"
        ("mail/extra.txt", "MG202"),  # include
    }
    assert counts(out) == (7, 3, 0)

    # Found from a subfolder; patterns stay relative to the pyproject.toml folder.
    sub = work / "fixtures"
    os.chdir(sub)
    status, out, _ = cli(capsys, "check", ".")
    assert status == 0 and out == "3 files checked\n0 errors\n"
    os.chdir(work)

    # Flags override: profile, select/ignore, exclude, include.
    status, out, _ = cli(
        capsys, "check", "--profile", "workmail", "--ignore", "MG111", "--exclude", "fixtures"
    )
    found = {(m["path"], m["code"]) for m in finding_lines(out)}
    assert found == {
        ("mail/ok.eml", "MG105"),
        ("mail/extra.txt", "MG202"),
        ("skip/me.eml", "MG202"),
    }

    status, out, _ = cli(capsys, "check", "--isolated", "mail")
    assert {m["code"] for m in finding_lines(out)} == {"MG105", "MG111"}

    other = work / "other.toml"
    other.write_text('[tool.mimeguard]\nselect = ["MG105"]\n')
    status, out, _ = cli(capsys, "check", "--config", str(other), "mail")
    assert {m["code"] for m in finding_lines(out)} == {"MG105"}


def test_exclude_applies_to_named_files_only_with_force_exclude(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    (work / "pyproject.toml").write_text('[tool.mimeguard]\nexclude = ["vendor/**"]\n')
    write(work, "vendor/x.eml", NO_DATE)
    assert cli(capsys, "check", ".")[0] == 0
    assert cli(capsys, "check", "vendor/x.eml")[0] == 1
    status, out, _ = cli(capsys, "check", "--force-exclude", "vendor/x.eml")
    assert status == 0 and out == "0 files checked\n0 errors\n"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.mimeguard]\nprofile = 'smtp'\n", "profile must be one of rfc, workmail, ses"),
        ("[tool.mimeguard]\nselct = ['MG1']\n", "unknown key 'selct'"),
        ("[tool.mimeguard]\nselect = 'MG999'\n", "no rule code starts with 'MG999'"),
        ("[tool.mimeguard]\nignore = [1]\n", "expected a list of strings"),
        ("[tool.mimeguard]\nper-file-ignores = ['x']\n", "per-file-ignores must be a table"),
        (
            "[tool.mimeguard.per-file-ignores]\n'x/**' = ['nope']\n",
            "per-file-ignores 'x/**': unknown rule 'nope'",
        ),
        ("[tool.mimeguard\n", "invalid TOML"),
    ],
)
def test_bad_configuration_exits_2(
    capsys: pytest.CaptureFixture[str], work: Path, toml: str, message: str
) -> None:
    (work / "pyproject.toml").write_text(toml)
    status, out, err = cli(capsys, "check", ".")
    assert status == 2 and out == ""
    assert message in err
    status, _, err = cli(capsys, "check", ".", "--config", "missing.toml")
    assert status == 2 and "missing.toml: no such configuration file" in err


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*.eml", "a/b/c.eml", True),
        ("*.eml", "a/b/c.msg", False),
        ("broken", "tests/broken/x.eml", True),
        ("tests/broken", "tests/broken/x.eml", True),
        ("tests/broken/", "tests/broken/deep/x.eml", True),
        ("tests/broken/**", "tests/broken/deep/x.eml", True),
        ("tests/*/x.eml", "tests/broken/x.eml", True),
        ("tests/*.eml", "tests/broken/x.eml", False),
        ("tests/**/x.eml", "tests/x.eml", True),
        ("tests/**/x.eml", "tests/a/b/x.eml", True),
        ("./tests/**", "tests/a.eml", True),
        ("broken", "tests/broken-x.eml", False),
        ("m[0-9].eml", "m5.eml", True),
        ("m[!0-9].eml", "m5.eml", False),
        ("m?.eml", "m5.eml", True),
    ],
)
def test_path_patterns(pattern: str, path: str, hit: bool) -> None:
    assert path_matches(pattern, path) is hit


# -- fix ------------------------------------------------------------------------------------------


@pytest.fixture
def edit_api() -> None:
    pytest.importorskip("mimeguard.edit")


@pytest.mark.usefixtures("edit_api")
def test_fix_in_place_keeps_permissions(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    lf = write(work, "lf.eml", BARE_LF)
    lf.chmod(0o640)
    clean = write(work, "clean.eml", CLEAN)
    before = clean.stat().st_mtime_ns
    status, out, err = cli(capsys, "fix", ".")
    assert status == 1 and out == ""  # the report is on stderr
    assert "lf.eml: fixed:\n  repaired: every line ending is now CRLF\n" in err
    assert err.endswith("2 files checked, 1 fixed, 0 still broken\n")
    assert lf.read_bytes() == CLEAN
    assert stat.S_IMODE(lf.stat().st_mode) == 0o640
    assert clean.stat().st_mtime_ns == before  # untouched
    assert sorted(p.name for p in work.iterdir()) == ["clean.eml", "lf.eml", "pyproject.toml"]
    status, out, err = cli(capsys, "fix", ".")
    assert status == 0 and err == "2 files checked, 0 fixed, 0 still broken\n" and out == ""
    assert cli(capsys, "check", ".")[0] == 0


@pytest.mark.usefixtures("edit_api")
def test_fix_diff_writes_nothing(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    path = write(work, "lf.eml", BARE_LF)
    status, out, err = cli(capsys, "fix", "--diff", "lf.eml")
    assert status == 1
    assert path.read_bytes() == BARE_LF
    lines = out.split("\n")
    assert lines[:2] == ["--- a/lf.eml", "+++ b/lf.eml"]
    assert "-From: Alice Example <alice@example.com>" in lines
    assert "+From: Alice Example <alice@example.com>\r" in lines  # the CR is kept
    assert "lf.eml: would fix:" not in out  # stdout is the patch alone
    assert err.splitlines()[0] == "lf.eml: would fix:"
    assert err.splitlines()[-1] == "1 file checked, 1 would be fixed, 0 still broken"


@pytest.mark.usefixtures("edit_api")
def test_fix_reports_what_it_cannot_fix(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    path = write(work, "bad-from.eml", UNFIXABLE)
    status, out, err = cli(capsys, "fix", "bad-from.eml")
    assert status == 1 and out == ""
    assert "bad-from.eml: cannot fix:\n" in err and "MG205 [error]" in err
    assert err.endswith("1 file checked, 0 fixed, 1 still broken\n")
    assert path.read_bytes() == UNFIXABLE
    assert cli(capsys, "fix", "missing.eml")[0] == 2


@pytest.mark.usefixtures("edit_api")
def test_fix_respects_per_file_ignores(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    (work / "pyproject.toml").write_text(
        '[tool.mimeguard.per-file-ignores]\n"broken/**" = ["ALL"]\n'
    )
    kept = write(work, "broken/lf.eml", BARE_LF)
    box = write(work, "box.mbox", b"From a@b Mon Nov 23 10:00:00 2026\n" + NO_DATE)
    status, _, err = cli(capsys, "fix", ".")
    assert kept.read_bytes() == BARE_LF
    assert box.read_bytes().endswith(NO_DATE)
    assert status == 1 and "box.mbox: not fixed: mbox files are checked, not rewritten" in err
    status, _, _ = cli(capsys, "fix", "broken", "--select", "MG2")
    assert status == 0 and kept.read_bytes() == BARE_LF


@pytest.mark.usefixtures("edit_api")
def test_fix_stdin_to_stdout(work: Path) -> None:
    done = sh("fix", "-", stdin=BARE_LF, cwd=work)
    assert done.returncode == 1
    assert done.stdout == CLEAN
    assert b"-: fixed:" in done.stderr
    done = sh("fix", "-", stdin=CLEAN, cwd=work)
    assert done.returncode == 0 and done.stdout == CLEAN


def test_atomic_write_leaves_the_file_alone_on_failure(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mimeguard._cli_edit import atomic_write

    path = write(work, "m.eml", b"old")
    link = work / "link.eml"
    link.symlink_to(path)
    atomic_write(str(link), b"new")
    assert link.is_symlink() and path.read_bytes() == b"new"

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write(str(path), b"newer")
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in work.iterdir()) == ["link.eml", "m.eml", "pyproject.toml"]


# -- edit -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("edit_api")
def test_edit_disclaimer_subject_and_strip(work: Path) -> None:
    src = write(work, "in.eml", (EXAMPLES / "clean-attachment.eml").read_bytes())
    done = sh(
        "edit",
        "in.eml",
        "--disclaimer-text",
        "External sender",
        "--subject-prefix",
        "[EXT] ",
        "--subject-suffix",
        " (scanned)",
        "--strip",
        "*.pdf",
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert b"Subject: [EXT] Quarterly report (scanned)\r\n" in out
    assert b"External sender" in out
    assert b"report-q3.pdf" in out and b"JVBERi0" not in out  # replaced by a notice
    assert mimeguard.validate(out).ok
    err = done.stderr.decode()
    assert "disclaimer (part 1): text/plain, bottom" in err
    assert "removed (part 2): report-q3.pdf" in err
    assert src.read_bytes() == (EXAMPLES / "clean-attachment.eml").read_bytes()


@pytest.mark.usefixtures("edit_api")
def test_edit_files_position_output_and_preset(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    write(work, "alt.eml", (EXAMPLES / "clean-alternative.eml").read_bytes())
    (work / "note.txt").write_text("Plain note from a file\n")
    (work / "note.html").write_text("<p>HTML note from a file</p>\n")
    status, _, err = cli(
        capsys,
        "edit",
        "alt.eml",
        "--disclaimer-text",
        "note.txt",
        "--disclaimer-html",
        "note.html",
        "--position",
        "top",
        "-o",
        "alt.eml",
    )
    assert status == 0, err
    out = (work / "alt.eml").read_bytes()
    assert b"Plain note from a file" in out and b"HTML note from a file" in out
    assert "disclaimer (part 1): text/plain, top" in err
    assert "disclaimer (part 2): text/html, top" in err

    exe = build(
        body=(
            b"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHi\r\n"
            b"--b1\r\nContent-Type: application/octet-stream; name=run.exe\r\n"
            b"Content-Disposition: attachment; filename=run.exe\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAA==\r\n--b1--\r\n"
        ),
        mime=(b'Content-Type: multipart/mixed; boundary="b1"',),
    )
    write(work, "exe.eml", exe)
    status, _, err = cli(
        capsys, "edit", "exe.eml", "--strip-preset", "ses-blocked", "--strip-notice",
        "gone: {filename}", "-o", "out.eml",
    )  # fmt: skip
    assert status == 0, err
    assert b"gone: run.exe" in (work / "out.eml").read_bytes()
    status, _, err = cli(capsys, "edit", "exe.eml", "--repair", "-q", "-o", "same.eml")
    assert status == 0 and err == ""
    assert (work / "same.eml").read_bytes() == exe


@pytest.mark.usefixtures("edit_api")
def test_edit_signed_messages(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "signed.eml", SIGNED)
    status, _, err = cli(capsys, "edit", "signed.eml", "--disclaimer-text", "x", "-o", "o.eml")
    assert status == 0 and "skipped" in err
    assert (work / "o.eml").read_bytes() == SIGNED
    status, _, err = cli(
        capsys, "edit", "signed.eml", "--disclaimer-text", "x", "--on-signed", "error"
    )
    assert status == 1 and "multipart/signed" in err
    status, _, err = cli(
        capsys, "edit", "signed.eml", "--disclaimer-text", "x", "--on-signed", "wrap", "-o", "w"
    )
    assert status == 0 and "wrapped" in err
    assert mimeguard.parse((work / "w").read_bytes()).mime_type == "multipart/mixed"


@pytest.mark.usefixtures("edit_api")
def test_edit_usage_and_refusals(capsys: pytest.CaptureFixture[str], work: Path) -> None:
    write(work, "m.eml", CLEAN)
    write(work, "bad.eml", UNFIXABLE)
    assert "nothing to do" in cli(capsys, "edit", "m.eml")[2]
    status, _, err = cli(capsys, "edit", "m.eml", "--disclaimer-html", "x.html")
    assert status == 2 and "needs --disclaimer-text" in err
    status, _, err = cli(
        capsys, "edit", "m.eml", "--disclaimer-text", "x", "--disclaimer-html", "x.html"
    )
    assert status == 2 and "x.html: No such file or directory" in err
    status, _, err = cli(capsys, "edit", "nope.eml", "--repair")
    assert status == 2 and "nope.eml: No such file or directory" in err
    status, _, err = cli(capsys, "edit", "bad.eml", "--subject-prefix", "[X] ")
    assert status == 1 and "MG205" in err
    status, _, err = cli(capsys, "edit", "m.eml", "--disclaimer-text", "   ")
    assert status == 2 and "empty" in err
    status, _, err = cli(capsys, "edit", "m.eml", "--position", "middle")
    assert status == 2 and "invalid choice" in err


# -- explain, rules, tree -------------------------------------------------------------------------


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "explain", "MG301")
    assert status == 0
    rule = get_rule("MG301")
    assert out.startswith("MG301  missing-closing-boundary\n\n" + rule.summary)
    assert "rfc: error   workmail: error   ses: error" in out
    assert rule.source in out and rule.fix in out
    assert "Bad example (workmail profile):" in out
    assert "→ " in out and "MG301 [error]" in out
    assert "Good example (" in out and "no MG301 finding" in out
    assert cli(capsys, "explain", "missing-closing-boundary")[1] == out
    assert cli(capsys, "explain", "mg301")[1] == out

    status, out, _ = cli(capsys, "explain", "bare-lf")
    assert "[LF]" in out and "Good example (the bad example after `mimeguard fix`)" in out
    status, out, _ = cli(capsys, "explain", "MG204")
    assert "Bad example (ses profile):" in out and "workmail: not checked" in out

    status, _, err = cli(capsys, "explain", "MG999")
    assert status == 2 and "unknown rule 'MG999'" in err


def test_explain_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    for rule in RULES.values():
        status, out, _ = cli(capsys, "explain", rule.code, "--format", "json")
        assert status == 0
        doc = json.loads(out)
        assert doc["code"] == rule.code and doc["name"] == rule.name
        assert doc["severity"] == dict(rule.severity)
        assert doc["bad_example"] and doc["good_example"]
        assert doc["bad_example_findings"], f"{rule.code}: the bad example does not trigger it"
        assert all(f["code"] == rule.code for f in doc["bad_example_findings"])
        assert len(doc["bad_example"]) <= 25  # big fixtures are cut


def test_rules(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "rules")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["code", "name", *mimeguard.PROFILES, "fix", "summary"]
    rows = [line for line in lines if re.match(r"MG\d{3} ", line)]
    assert [r.split()[0] for r in rows] == list(RULES)
    assert re.match(
        r"MG204\s+duplicate-ses-header\s+-\s+-\s+error\s+error\s+(-\s+){4}yes ",
        rows[list(RULES).index("MG204")],
    )
    status, out, _ = cli(capsys, "rules", "--format", "json")
    doc = json.loads(out)
    assert [d["code"] for d in doc] == list(RULES)
    assert doc[0] == {
        "code": "MG101",
        "name": RULES["MG101"].name,
        "summary": RULES["MG101"].summary,
        "severity": dict(RULES["MG101"].severity),
        "source": RULES["MG101"].source,
        "fix": RULES["MG101"].fix,
        "fixable": True,
    }


def test_tree(
    capsys: pytest.CaptureFixture[str], in_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, _ = cli(capsys, "tree", "examples/clean-forwarded.eml")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("examples/clean-forwarded.eml: 617 bytes, 4 parts, workmail")
    assert lines[1].split() == [
        "path",
        "content",
        "type",
        "charset",
        "encoding",
        "size",
        "filename",
    ]
    assert lines[2].split() == ["root", "multipart/mixed", "-", "7bit", "617", "-"]
    assert lines[3].split()[:3] == ["1", "├─", "text/plain"]
    assert lines[4].split()[:3] == ["2", "└─", "message/rfc822"]
    assert lines[5].split()[:3] == ["2.1", "└─", "text/plain"]

    status, out, _ = cli(capsys, "tree", "examples/clean-attachment.eml")
    assert "report-q3.pdf" in out and "base64" in out

    status, out, _ = cli(capsys, "tree", "examples/broken-missing-closing-boundary.eml")
    assert "not ok (1 error, 0 warnings)" in out
    assert re.search(r"^\s+↳ 13:1: MG301 \[error\] the closing delimiter", out, re.M)

    set_stdin(monkeypatch, (EXAMPLES / "broken-8bit-header.eml").read_bytes())
    status, out, _ = cli(capsys, "tree", "-", "--format", "json", "--profile", "rfc")
    doc = json.loads(out)
    assert doc["profile"] == "rfc" and doc["path"] == "-"
    root = doc["parts"][0]
    assert root["path"] == "" and root["content_type"] == "text/plain"
    assert {f["code"] for f in root["findings"]} == {"MG115", "MG316"}
    assert cli(capsys, "tree", "nope.eml")[0] == 2


# -- help and version -----------------------------------------------------------------------------

COMMANDS = ("check", "fix", "edit", "explain", "rules", "tree")


def test_help_and_version_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--help")
    assert status == 0 and "examples:" in out
    for command in COMMANDS:
        assert f"  {command} " in out
        status, out_c, _ = cli(capsys, command, "--help")
        assert status == 0
        assert f"usage: mimeguard {command}" in out_c and "examples:" in out_c
        assert f"mimeguard {command}" in out_c.split("examples:")[1]
        status, out_v, _ = cli(capsys, command, "--version")
        assert status == 0 and out_v == f"mimeguard {mimeguard.__version__}\n"
    assert cli(capsys, "--version")[1] == f"mimeguard {mimeguard.__version__}\n"
    status, _, err = cli(capsys)
    assert status == 2 and "usage: mimeguard" in err
    status, _, err = cli(capsys, "frobnicate")
    assert status == 2 and "invalid choice" in err
    status, _, err = cli(capsys, "check", "--jobs", "-1")
    assert status == 2 and "--jobs" in err
    done = sh("check", "--help")
    assert done.returncode == 0 and b"--warnings-as-errors" in done.stdout


def test_check_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "check", "--help")
    for option in (
        "--profile", "--select", "--ignore", "--warnings-as-errors", "--format", "--statistics",
        "--quiet", "--jobs", "--include", "--exclude", "--force-exclude", "--stdin-filename",
        "--output-file", "--color", "--config", "--isolated", "--extend-select", "--extend-ignore",
    ):  # fmt: skip
        assert option in out, option


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    for i in range(200):
        write(tmp_path, f"m{i:03}.eml", NO_DATE)
    proc = subprocess.Popen(
        [*script(), "check", ".", "--jobs", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert b"Traceback" not in err


@pytest.mark.parametrize(
    "command", ["mimeguard check examples/", "mimeguard tree examples/clean-forwarded.eml"]
)
def test_docs_show_real_output(
    capsys: pytest.CaptureFixture[str], in_root: Path, command: str
) -> None:
    """The sample sessions in docs/cli.md are what the commands print."""
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = docs.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    _, out, _ = cli(capsys, *command.split()[1:])
    assert out == block


# -- ruff's habits: fixable marks, the closing summary, skipped files -----------------------------


def test_summary_counts_fixable_findings_and_skipped_files(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    write(work, "mail/lf.eml", BARE_LF)  # MG111: fixable error
    write(work, "mail/bad-from.eml", UNFIXABLE)  # MG205: an error repair cannot fix
    write(work, "mail/w.eml", WARNING_ONLY)  # MG105: fixable warning
    write(work, "mail/notes.txt", NO_DATE)  # not an included name
    write(work, "mail/README", b"")
    write(work, "mail/old/x.eml", NO_DATE)
    (work / "pyproject.toml").write_text('[tool.mimeguard]\nexclude = ["mail/old/x.eml"]\n')
    status, out, _ = cli(capsys, "check", "mail")
    assert status == 1
    marks = {m["code"]: bool(m["fixable"]) for m in finding_lines(out)}
    assert marks["MG111"] and marks["MG105"] and not marks["MG205"]
    assert marks == {code: get_rule(code).fixable for code in marks}  # from the registry
    assert out.splitlines()[-2:] == [
        "3 files checked, 2 skipped (not matching --include), 1 excluded",
        f"{sum(1 for m in finding_lines(out) if m['sev'] == 'error')} errors "
        f"({sum(1 for m in finding_lines(out) if m['sev'] == 'error' and m['fixable'])} "
        "fixable with `mimeguard fix`), 1 warning (1 fixable)",
    ]
    # named files are not a search: nothing is skipped
    status, out, _ = cli(capsys, "check", "mail/w.eml")
    assert out.splitlines()[-2:] == [
        "1 file checked",
        "0 errors, 1 warning (1 fixable with `mimeguard fix`)",
    ]


def test_statistics_has_a_fixable_column_and_output_format_is_an_alias(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    write(work, "lf.eml", BARE_LF)
    write(work, "bad-from.eml", UNFIXABLE)
    status, out, _ = cli(capsys, "check", ".", "--statistics")
    rows = {line.split()[1]: line for line in out.splitlines()[:-2]}
    assert re.fullmatch(r"\s+1  MG111  \[\*\]  \[error\]\s+bare-lf", rows["MG111"])
    assert re.fullmatch(r"\s+1  MG205       \[error\]\s+invalid-from", rows["MG205"])
    status, out, _ = cli(capsys, "check", ".", "--output-format", "json", "--statistics")
    doc = json.loads(out)
    stats = {row["code"]: row["fixable"] for row in doc["summary"]["statistics"]}
    assert stats == {"MG111": True, "MG205": False}
    assert doc["summary"]["fixable"] == 1
    assert doc["summary"]["skipped"] == {"not_included": 1, "excluded": 0}  # pyproject.toml
    status, _, err = cli(capsys, "check", ".", "--output-format", "xml")
    assert status == 2 and "invalid choice" in err


def test_explain_takes_prefixes_like_select(capsys: pytest.CaptureFixture[str]) -> None:
    family = [code for code in RULES if code.startswith("MG4")]
    assert len(family) > 1
    status, out, _ = cli(capsys, "explain", "mg4")
    assert status == 0
    shown = re.findall(r"^(MG\d{3})  ", out, re.M)
    assert shown == family  # every one, in code order, each once
    status, out, _ = cli(capsys, "explain", "MG4", "--output-format", "json")
    assert [d["code"] for d in json.loads(out)] == family
    # a full code or a name is still one object
    status, out, _ = cli(capsys, "explain", "MG301", "--format", "json")
    assert json.loads(out)["code"] == "MG301"
    status, out, _ = cli(capsys, "explain", "bare-lf", "--format", "json")
    assert json.loads(out)["code"] == "MG111"
    for spec in ("MG9", "MG3010", "nonsense-rule"):
        status, _, err = cli(capsys, "explain", spec)
        assert status == 2 and "error" in err, spec


# -- fix --diff is a patch git applies ------------------------------------------------------------

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, **_GIT_ENV},
        check=False,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.usefixtures("edit_api")
def test_fix_diff_applies_with_git_apply(work: Path) -> None:
    cases = {
        "lf.eml": BARE_LF,  # every line changes only by its CR
        "no final newline.eml": BARE_LF.rstrip(b"\n"),  # a name with spaces, no last LF
        "cr.eml": CLEAN.replace(
            b"Subject: Quarterly report\r\n", b"Subject: Quarterly\rreport\r\n"
        ),
        "eight.eml": build(
            b"Subject: Caf\xc3\xa9 \xff", drop=(b"Subject",)
        ),  # raw 8-bit, not UTF-8
        "nodate.eml": NO_DATE,  # a field added
    }
    for name, data in cases.items():
        write(work, name, data)
    assert _git(work, "init", "-q").returncode == 0
    assert _git(work, "add", "-A").returncode == 0
    assert _git(work, "commit", "-qm", "broken").returncode == 0
    done = sh("fix", "--diff", *cases, cwd=work)  # a subprocess: the patch holds raw 8-bit bytes
    assert done.returncode == 1, done.stderr
    patch = done.stdout
    assert b"would fix" not in patch and b"would fix" in done.stderr
    for name, data in cases.items():
        assert (work / name).read_bytes() == data  # --diff writes nothing
    checked = _git(work, "apply", "--check", "-", stdin=patch)
    assert checked.returncode == 0, checked.stderr
    applied = _git(work, "apply", "--whitespace=nowarn", "-", stdin=patch)
    assert applied.returncode == 0, applied.stderr
    # what git applied is what fix writes: nothing is left to change
    again = sh("fix", "--diff", *cases, cwd=work)
    assert again.stdout == b"", again.stderr
    for name in cases:
        fixed = (work / name).read_bytes()
        assert mimeguard.validate(fixed).ok, name
        if name != "nodate.eml":  # the repaired Date is the current time
            assert fixed == mimeguard.repair(cases[name]), name


def test_render_diff_marks_a_missing_final_newline() -> None:
    from mimeguard._cli_edit import render_diff

    patch = b"".join(render_diff(b"a\nb", b"a\r\nb\r\n", "m.eml"))
    assert patch.endswith(b"-b\n\\ No newline at end of file\n+a\r\n+b\r\n")
    assert b"".join(render_diff(b"same\r\n", b"same\r\n", "m.eml")) == b""


# -- mbox: one position scheme, the mailbox's own LF endings do not count ------------------------


def test_mbox_with_lf_endings_is_judged_as_crlf(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    lf_box = (
        b"From a@b Mon Nov 23 10:00:00 2026\n"
        + BARE_LF
        + b"\nFrom c@d Mon Nov 23 11:00:00 2026\n"
        + NO_DATE.replace(b"\r\n", b"\n")
    )
    write(work, "lf.mbox", lf_box)
    _, out, _ = cli(capsys, "check", "lf.mbox")
    found = finding_lines(out)
    assert [m["code"] for m in found] == ["MG202"]  # no MG111 for the mailbox's LFs
    second = lf_box.index(b"From c@d")
    assert int(found[0]["line"]) == lf_box[:second].count(b"\n") + 2
    assert found[0]["msg"].endswith("(message 2)")

    # a CRLF mailbox holding a bare-LF message: that message is wrong and is reported
    crlf_box = b"From a@b Mon Nov 23 10:00:00 2026\r\n" + CLEAN + b"\r\nFrom c@d x\r\n" + BARE_LF
    write(work, "crlf.mbox", crlf_box)
    _, out, _ = cli(capsys, "check", "crlf.mbox")
    assert [(m["code"], m["msg"][-11:]) for m in finding_lines(out)] == [("MG111", "(message 2)")]


def test_mbox_offsets_point_into_the_file_and_fix_uses_the_same_positions(
    capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    eight = build(b"Subject: Caf\xc3\xa9", drop=(b"Subject",)).replace(b"\r\n", b"\n")
    mixed = NO_DATE.replace(b"To:", b"X-Crlf: y\r\nTo:", 1).replace(b"\r\n", b"\n", 3)
    box = (
        b"From a@b Mon Nov 23 10:00:00 2026\n"
        + eight
        + b"\nFrom c@d Mon Nov 23 11:00:00 2026\n"
        + mixed
    )
    write(work, "box.mbox", box)
    status, out, _ = cli(capsys, "check", "box.mbox", "--format", "json")
    findings = json.loads(out)["files"][0]["findings"]
    by_code = {f["code"]: f for f in findings}
    hit = by_code["MG115"]
    assert box[hit["offset"] : hit["offset"] + 2] == b"\xc3\xa9"  # offset in the mbox file
    assert box.count(b"\n", 0, hit["offset"]) + 1 == hit["line"]
    assert hit["message_index"] == 1
    date = by_code["MG202"]
    assert date["message_index"] == 2
    assert 0 <= date["offset"] <= len(box)

    status, text, _ = cli(capsys, "check", "box.mbox")
    status, _, err = cli(capsys, "fix", "box.mbox")
    assert status == 1
    listed = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    # the same line:col, code and message number as check (fix lists the errors)
    expected = [
        f"{m['line']}:{m['col']}: {m['code']} [{m['sev']}] {m['msg']}"
        for m in finding_lines(text)
        if m["sev"] == "error"
    ]
    assert listed == expected and len(expected) >= 2


# -- git: attributes that rewrite line endings -----------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_check_warns_once_when_git_would_normalise_line_endings(
    capsys: pytest.CaptureFixture[str], work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["a.eml", "sub/ünï cøde.eml", "sub/tab\there.eml", "box.mbox", "m.msg"]
    for name in names:
        write(work, name, CLEAN)
    write(work, "untracked.eml", CLEAN)
    (work / ".gitattributes").write_text("* text=auto\n")
    assert _git(work, "init", "-q").returncode == 0
    assert _git(work, "add", *names, ".gitattributes").returncode == 0
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(work))  # no user configuration (core.autocrlf) leaks in

    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        if cmd and cmd[0] == "git":
            calls.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting)
    status, out, err = cli(capsys, "check", ".")
    assert status == 0 and counts(out) == (6, 0, 0)
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1  # once per run
    assert "(text=auto) and 4 more" in warnings[0] and "*.eml -text" in warnings[0]
    assert "untracked.eml" not in err
    assert len(calls) <= 4  # batched: never one git process per file

    (work / ".gitattributes").write_text("* text=auto\n*.eml -text\n*.msg -text\n")
    _, _, err = cli(capsys, "check", ".")
    assert "box.mbox (text=auto)" in err and "more" not in err  # only the .mbox is left
    (work / ".gitattributes").write_text("* text=auto\n*.eml -text\n*.msg -text\n*.mbox -text\n")
    assert "warning" not in cli(capsys, "check", ".")[2]

    (work / ".gitattributes").write_text("*.eml eol=crlf\n")
    _, _, err = cli(capsys, "check", "a.eml")
    assert "a.eml (eol=crlf)" in err
    (work / ".gitattributes").write_text("")
    assert "warning" not in cli(capsys, "check", ".")[2]
    assert _git(work, "config", "core.autocrlf", "input").returncode == 0
    _, _, err = cli(capsys, "check", "m.msg")
    assert "m.msg (core.autocrlf=input)" in err


def test_no_git_warning_outside_a_repository(
    capsys: pytest.CaptureFixture[str], work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mimeguard import _gitattrs

    write(work, "a.eml", CLEAN)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(work.parent))
    assert _gitattrs.normalised(["a.eml"]) == []
    monkeypatch.setenv("PATH", "")  # no git at all
    status, _, err = cli(capsys, "check", "a.eml")
    assert status == 0 and err == ""
