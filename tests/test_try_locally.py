"""examples/workmail-lambda: try_locally.py runs the handler without AWS, as its README says.

Also checks that the SAM example installs as written: its requirements are
mimeguard's own dependencies, and the vendored layout (the package copied next
to handler.py) is the one the function imports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import mimeguard

from .conftest import EXAMPLES, ROOT

LAMBDA = EXAMPLES / "workmail-lambda"
SCRIPT = LAMBDA / "try_locally.py"


def _run(*args: str, cwd: Path = ROOT, script: Path = SCRIPT, **env: str) -> tuple[str, bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIMEGUARD_")}
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        capture_output=True,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode("utf-8", "replace"), done.stdout


def _log(out: str) -> dict[str, object]:
    lines = out.split("== log line\n", 1)[1].split("\n== rule response", 1)[0].splitlines()
    records = [json.loads(line) for line in lines]
    processed = [r for r in records if r.get("event") == "processed"]
    assert len(processed) == 1
    return processed[0]


def test_try_locally_prints_the_log_line_and_the_edited_message() -> None:
    out, raw = _run(str(EXAMPLES / "clean-attachment.eml"))
    record = _log(out)
    assert record["status"] == "updated"
    assert [e["kind"] for e in record["edits"]] == ["disclaimer"]  # type: ignore[attr-defined,index]
    response = json.loads(out.split("== rule response\n", 1)[1].splitlines()[0])
    assert response == {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}
    edited = raw.split(b" bytes)\n", 1)[1]
    report = mimeguard.validate(edited)
    assert report.ok
    body = mimeguard.parse(edited).get_body(("plain",))
    assert body is not None and "CAUTION: This email came from outside" in body.text()
    # the attachment is copied byte for byte
    original = mimeguard.parse((EXAMPLES / "clean-attachment.eml").read_bytes()).children[1]
    assert mimeguard.parse(edited).children[1].raw == original.raw


def test_try_locally_takes_the_template_settings_and_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "edited.eml"
    out, _ = _run("-o", str(target), MIMEGUARD_SUBJECT_PREFIX="[External] ")
    assert _log(out)["status"] == "updated"
    assert f"written to {target}" in out
    assert mimeguard.parse(target.read_bytes())["Subject"].startswith("[External] ")


def test_try_locally_reports_a_message_it_leaves_alone(tmp_path: Path) -> None:
    signed = mimeguard.get_rule("MG323").fixture  # a broken signed message: never edited
    path = tmp_path / "signed.eml"
    path.write_bytes(signed)
    out, _ = _run(str(path))
    assert _log(out)["status"] != "updated"
    assert "delivered unchanged" in out


def test_sam_requirements_are_the_package_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["aws"])
    lines = (LAMBDA / "requirements.txt").read_text().splitlines()
    listed = {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}
    assert listed == wanted  # and no "mimeguard": it is not on PyPI, the package is vendored


def test_the_vendored_layout_of_the_readme_runs(tmp_path: Path) -> None:
    """``cp -r examples/workmail-lambda my-disclaimer && cp -r mimeguard my-disclaimer/``."""
    app = tmp_path / "my-disclaimer"
    shutil.copytree(LAMBDA, app)
    shutil.copytree(ROOT / "mimeguard", app / "mimeguard")
    out, _ = _run(
        str(EXAMPLES / "clean-plain.eml"), cwd=app, script=app / "try_locally.py", PYTHONPATH=""
    )
    assert f"from {app / 'mimeguard'}" in out  # the copy, not an installed mimeguard
    assert _log(out)["status"] == "updated"
