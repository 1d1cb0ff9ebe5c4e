"""``python -m benchmarks.compiled``: what compiling mimeguard with mypyc adds, in one run.

Issue 16 asks, for any target pure Python cannot meet, what an optional compiled
build adds, measured in the same run.  This builds two copies of the package in a
temporary folder, one as it is and one with the modules in :data:`COMPILED`
compiled by mypyc (the pure-Python modules beside them, the way black and mypy
ship their wheels), and times both, alternately, in child processes over the same
corpora, with the stdlib's compat32 parse+walk+decode timed in each child as the
reference the ratios are taken against.

Needs mypy (which brings mypyc) and a C compiler; prints a markdown table and
writes ``benchmarks/results/compiled.json``.  Not part of the test suite or of
``python -m benchmarks``: a build takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "compiled.json"

#: modules mypyc compiles: the parse, validate and edit paths.  Left pure: the
#: exception modules, the faces (command line, gateways, strategies), the modules
#: tests monkeypatch, and the read-only records whose constructor writes through
#: ``object.__setattr__`` (``message``: HeaderField and Part; ``_params``' frozen
#: dataclasses), which a mypyc native class refuses.
COMPILED = (
    "_abnf",
    "_scan",
    "_parser",
    "_charset",
    "_rfc2047",
    "_tokens",
    "_address",
    "_msgid",
    "_date",
    "_filenames",
    "_writer",
    "_attachments",
    "_magic",
    "_uu",
    "_spans",
    "_rules/headers",
    "_rules/encoding",
    "_rules/lines",
    "_rules/structure",
    "_rules/limits",
    "_rules/attachments",
    "_rules/_shared",
    "_incremental",
)

_CHILD = r"""
import hashlib, json, sys, time, gc, re
from benchmarks.corpus import real_corpus, synthetic_corpus
from benchmarks.peers import compat32_check, mg_parse, mg_validate, mg_pipeline
import mimeguard
ops = {"compat32 parse+walk+decode": compat32_check, "parse": mg_parse,
       "validate": mg_validate, "repairing pipeline": mg_pipeline}
groups = {"real": real_corpus(), "synthetic": synthetic_corpus()}
out = {"compiled": any(str(getattr(m, "__file__", "")).endswith(".so")
                       for n, m in sys.modules.items() if n.startswith("mimeguard."))}
digest = hashlib.sha256()
for group, samples in groups.items():
    for s in samples:  # what both builds must agree on: every finding, which edits refuse
        # (an edit's bytes differ run to run: new boundaries are random, repair dates now)
        digest.update(repr(mimeguard.validate(s.data, profile="workmail").findings).encode())
        try:
            mg_pipeline(s.data)
        except mimeguard.MimeguardError as exc:
            digest.update(type(exc).__name__.encode())
out["digest"] = digest.hexdigest()
for group, samples in groups.items():
    if not samples:
        continue
    size = sum(len(s.data) for s in samples)
    for name, fn in ops.items():
        best = float("inf")
        for _ in range(int(sys.argv[1])):
            gc.collect(); re.purge()
            t = time.perf_counter()
            for s in samples:
                try:
                    fn(s.data)
                except mimeguard.MimeguardError:
                    pass
            best = min(best, time.perf_counter() - t)
        out[f"{group}/{name}"] = {"seconds": best, "mb": size / 1e6}
print(json.dumps(out))
"""


def _build(dest: Path, compile_modules: tuple[str, ...]) -> None:
    shutil.copytree(ROOT / "mimeguard", dest / "mimeguard")
    if not compile_modules:
        return
    # mypyc type-checks first: the optional dependencies without stubs must be ignored
    # as pyproject.toml does (copying that file would hand setuptools its [project])
    (dest / "mypy.ini").write_text(
        "[mypy]\npython_version = 3.11\n"
        "[mypy-dkim.*,authres.*,chardet.*,boto3.*,botocore.*]\nignore_missing_imports = True\n",
        encoding="utf-8",
    )
    paths = [f"mimeguard/{m}.py" for m in compile_modules]
    env = {**os.environ, "MYPYC_OPT_LEVEL": "3"}
    subprocess.run(
        [sys.executable, "-m", "mypyc", *paths], cwd=dest, check=True, env=env, timeout=3600
    )


def _child(where: Path, runs: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{where}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(runs)],
        cwd=where,  # python -c puts the working folder first: the build, not the checkout
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.compiled", description=__doc__)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per child (best kept)")
    ap.add_argument("--rounds", type=int, default=2, help="children per build, alternating")
    ap.add_argument(
        "--workdir", type=Path, help="build here and keep the builds (reused when present)"
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mimeguard-mypyc-") as tmp:
        work = args.workdir or Path(tmp)
        pure, compiled = work / "pure", work / "compiled"
        build_s = 0.0
        if not (pure / "mimeguard").is_dir():
            _build(pure, ())
        if not any((compiled / "mimeguard").glob("*.so")):
            shutil.rmtree(compiled, ignore_errors=True)
            started = time.perf_counter()
            _build(compiled, COMPILED)
            build_s = time.perf_counter() - started
        results: dict[str, list[dict[str, Any]]] = {"pure": [], "compiled": []}
        for _ in range(args.rounds):
            for name, where in (("pure", pure), ("compiled", compiled)):
                results[name].append(_child(where, args.runs))
    if not results["compiled"][0]["compiled"]:
        print("mypyc produced no extension modules", file=sys.stderr)
        return 1
    if results["compiled"][0]["digest"] != results["pure"][0]["digest"]:
        print("the compiled build's findings or edits differ from pure Python", file=sys.stderr)
        return 1
    keys = [k for k in results["pure"][0] if "/" in k]
    best = {
        build: {k: min(r[k]["seconds"] for r in runs) for k in keys}
        for build, runs in results.items()
    }
    built = f"{build_s:.0f} s" if build_s else "reused"
    print(f"mypyc build of {len(COMPILED)} modules: {built}\n")
    print("| corpus / operation | pure MB/s | compiled MB/s | compiled ÷ pure |")
    print("|---|---|---|---|")
    rows = []
    for k in keys:
        size_mb = results["pure"][0][k]["mb"]
        p, c = best["pure"][k], best["compiled"][k]
        rows.append({"key": k, "pure_mb_s": size_mb / p, "compiled_mb_s": size_mb / c})
        print(f"| {k} | {size_mb / p:.1f} | {size_mb / c:.1f} | {p / c:.2f}× |")
    print("\n| corpus / operation | pure ÷ compat32 | compiled ÷ compat32 |")
    print("|---|---|---|")
    for k in keys:
        group, op = k.split("/", 1)
        if op.startswith("compat32"):
            continue
        ref = f"{group}/compat32 parse+walk+decode"
        ratio = {b: best[b][ref] / best[b][k] for b in best}
        print(f"| {k} | {ratio['pure']:.2f}× | {ratio['compiled']:.2f}× |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"build_seconds": build_s, "best": best, "rows": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
