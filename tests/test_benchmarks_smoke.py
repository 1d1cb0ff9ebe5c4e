"""The benchmark suite still runs: ``python -m benchmarks --quick`` completes and writes
its JSON.  Timings are never asserted here (they depend on the machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

EXPECTED_KEYS = {
    "meta",
    "corpora",
    "throughput",
    "round_trip",
    "edit_outputs",
    "memory",
    "edit_cost",
    "scaling",
    "adversarial",
    "profile",
    "targets",
    "max_rss_bytes",
}


def test_quick_run_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "### Targets" in proc.stdout  # the markdown report was printed

    res = json.loads(out.read_text())
    assert set(res) == EXPECTED_KEYS
    assert res["meta"]["quick"] is True

    ops = {r["op"] for r in res["throughput"]}
    assert {"parse", "validate", "round_trip"} <= ops
    libraries = {r["library"] for r in res["throughput"]}
    assert {"mimeguard", "stdlib compat32", "stdlib default"} <= libraries
    for row in res["throughput"]:
        assert row["seconds"] > 0
        assert {"mb_per_s", "msgs_per_s", "ratio", "raised", "refused"} <= set(row)

    assert res["round_trip"]["synthetic"]["mimeguard"]["percent"] == 100.0
    assert {d["dimension"] for d in res["scaling"]} == {
        "message size",
        "parts",
        "header fields",
        "nesting depth",
        "near-match boundary lines",
        "encoded-words",
        "RFC 2231 sections",
        "base64 body with a bad last character",
    }
    assert all("time_exponent" in d for d in res["scaling"])
    assert len(res["adversarial"]) >= 8
    assert res["targets"]
    assert res["max_rss_bytes"] > 0


def test_result_keys_match_the_suite() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.suite import RESULT_KEYS
    finally:
        sys.path.remove(str(ROOT))
    assert set(RESULT_KEYS) == EXPECTED_KEYS
