"""Shared test helpers: the example messages and the third-party corpus (when present)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CORPUS = ROOT.parent / "shared" / "corpus"

#: seconds a "linear time" test may take: a hang guard, not a speed goal (speed is measured
#: by benchmarks/, never by tests). Quadratic work on these inputs takes hours, so a budget
#: this generous still tells linear from quadratic on a loaded 2-core machine.
HANG_GUARD = 60.0

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def corpus_files() -> list[Path]:
    """Every message of ../shared/corpus (empty when the corpus is absent)."""
    if not CORPUS.is_dir():
        return []
    skip = {".md", ".txt"}
    files = []
    for p in sorted(CORPUS.rglob("*")):
        if not p.is_file() or "LICENSE" in p.name.upper():
            continue
        if p.suffix.lower() in skip and not p.name.startswith("msg_"):
            continue
        files.append(p)
    return files


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.eml"))


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
