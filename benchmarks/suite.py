"""Run every benchmark, print a markdown report and write the results as JSON."""

from __future__ import annotations

import argparse
import cProfile
import datetime
import functools
import json
import os
import platform
import pstats
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mimeguard

from . import measure, peers
from .adversarial import run_adversarial
from .corpus import MB, REAL_CORPUS, SEED, Sample, real_corpus, synthetic_corpus
from .measure import max_rss, peak_extra, time_call, time_libraries
from .report import markdown
from .scaling import run_scaling

__all__ = ["RESULT_KEYS", "main", "run"]

HERE = Path(__file__).resolve().parent
LATEST = HERE / "results" / "latest.json"
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

#: the top-level keys of the JSON results (the smoke test checks them)
RESULT_KEYS = (
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
)

BIG = "messages ≥ 1 MB"
EDIT_COST_MG = "mimeguard add_disclaimer()"
# Stop repeating a library on a corpus once its runs add up to this many seconds.
BUDGET_SECONDS = 30.0


_T0 = time.perf_counter()


def _log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f} s] {msg}", file=sys.stderr, flush=True)


def _meta(quick: bool, runs: int) -> dict[str, Any]:
    try:
        from importlib.metadata import version

        flanker = version("flanker") if peers.flanker_available() else None
    except Exception:
        flanker = None
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()}, {cpu}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "mimeguard": mimeguard.__version__,
        "flanker": flanker,
        "quick": quick,
        "runs": runs,
        "seed": SEED,
        "edits": peers.edits_available(),
        # other work on the machine skews timings; ratios suffer less (same run, interleaved)
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def _groups(
    real: list[Sample], synthetic: list[Sample], *, split: bool = True
) -> dict[str, list[Sample]]:
    """The corpora to time: real mail, and the synthetic corpus group by group
    (``split``) or as one group."""
    out: dict[str, list[Sample]] = {}
    if real:
        out["real"] = real
    for s in synthetic:
        out.setdefault(f"synthetic/{s.group}" if split else "synthetic/all", []).append(s)
    return out


def _throughput(
    groups: dict[str, list[Sample]], runs: int, ops: Sequence[peers.Operation]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for op in ops:
        synth: dict[str, dict[str, Any]] = {}
        for corpus, samples in groups.items():
            _log(f"  {op.name} on {corpus}")
            timings = time_libraries(
                samples, op.libraries, runs=runs, refused=peers.refused, budget=BUDGET_SECONDS
            )
            size = sum(s.size for s in samples)
            rows += _rows(corpus, op, timings_to_rows(timings), size, len(samples))
            if corpus.startswith("synthetic/"):
                for lib, t in timings_to_rows(timings).items():
                    acc = synth.setdefault(lib, {"seconds": 0.0, "raised": 0, "refused": 0})
                    acc["seconds"] += t["seconds"]
                    acc["raised"] += t["raised"]
                    acc["refused"] += t["refused"]
        if synth:
            samples = [s for c, ss in groups.items() if c.startswith("synthetic/") for s in ss]
            rows += _rows(
                "synthetic", op, synth, sum(s.size for s in samples), len(samples), summed=True
            )
    return rows


def timings_to_rows(timings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lib: {
            "seconds": t.median,
            "runs": len(t.seconds),
            "raised": t.raised,
            "refused": t.refused,
            "errors": t.errors,
        }
        for lib, t in timings.items()
    }


def _rows(
    corpus: str,
    op: peers.Operation,
    by_lib: dict[str, dict[str, Any]],
    size: int,
    count: int,
    *,
    summed: bool = False,
) -> list[dict[str, Any]]:
    mg = by_lib[peers.MG]["seconds"]
    out = []
    for lib, t in by_lib.items():
        secs = t["seconds"]
        out.append(
            {
                "corpus": corpus,
                "op": op.name,
                "title": op.title,
                "library": lib,
                "messages": count,
                "bytes": size,
                "seconds": secs,
                "runs": t.get("runs"),
                "mb_per_s": size / MB / secs if secs else None,
                "msgs_per_s": count / secs if secs else None,
                # mimeguard's throughput over the peer's, in the same run
                "ratio": secs / mg if mg else None,
                "raised": t["raised"],
                "refused": t["refused"],
                "errors": t.get("errors", {}),
                "summed_from_groups": summed,
            }
        )
    return out


def _outputs(
    groups: dict[str, list[Sample]], ops: Sequence[peers.Operation]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Round-trip identity and, for edits, how many outputs validate clean."""
    round_trip: dict[str, dict[str, Any]] = {}
    accepted: list[dict[str, Any]] = []
    merged = _merge_synthetic(groups)
    for op in ops:
        if not op.produces_bytes:
            continue
        for corpus, samples in merged.items():
            _log(f"  outputs of {op.name} on {corpus}")
            for lib, fn in op.libraries.items():
                same = ok = raised = refused = 0
                for s in samples:
                    try:
                        out = fn(s.data)
                    except Exception as exc:
                        if peers.refused(exc):
                            refused += 1
                        else:
                            raised += 1
                        continue
                    assert isinstance(out, bytes)
                    if op.name == "round_trip":
                        same += out == s.data
                    elif mimeguard.validate(out, original=s.data).ok:
                        ok += 1
                if op.name == "round_trip":
                    n = len(samples)
                    round_trip.setdefault(corpus, {})[lib] = {
                        "identical": same,
                        "total": n,
                        "percent": 100.0 * same / n if n else 0.0,
                        "raised": raised,
                    }
                else:
                    accepted.append(
                        {
                            "corpus": corpus,
                            "op": op.name,
                            "title": op.title,
                            "library": lib,
                            "accepted": ok,
                            "total": len(samples),
                            "refused": refused,
                            "raised": raised,
                        }
                    )
    return round_trip, accepted


def _merge_synthetic(groups: dict[str, list[Sample]]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for corpus, samples in groups.items():
        key = "synthetic" if corpus.startswith("synthetic/") else corpus
        out.setdefault(key, []).extend(samples)
    return out


def _memory(
    groups: dict[str, list[Sample]], ops: Sequence[peers.Operation], quick: bool
) -> list[dict[str, Any]]:
    """Peak extra memory per operation and library: on messages of 1 MB and more (where
    the ratio to the input means something) and on a few small ones."""
    big = [s for ss in groups.values() for s in ss if s.size >= MB]
    small = [s for ss in groups.values() for s in ss if s.size < MB]
    rng = random.Random(SEED)
    small = rng.sample(small, min(len(small), 3 if quick else 40))
    if quick:  # the smoke run only checks that memory is measured
        ops = [op for op in ops if op.name in ("validate", "pipeline")]
    rows: list[dict[str, Any]] = []
    tracemalloc.start()
    try:
        for label, samples in ((BIG, big), ("messages < 1 MB", small)):
            if not samples:
                continue
            for op in ops:
                if op.name == "round_trip":
                    continue
                for lib, fn in op.libraries.items():
                    _log(f"  memory of {op.name}/{lib} on {label}")
                    extras = []
                    for s in samples:
                        peak = peak_extra(fn, s.data)
                        extras.append((peak.bytes, s.size, peak.bytes - peak.output))
                    rows.append(
                        {
                            "corpus": label,
                            "op": op.name,
                            "title": op.title,
                            "library": lib,
                            "messages": len(samples),
                            "max_extra_bytes": max(e for e, _, _ in extras),
                            "max_ratio": max(e / n for e, n, _ in extras),
                            "median_ratio": statistics.median(e / n for e, n, _ in extras),
                            # what an edit holds besides the bytes it returns
                            "max_working_ratio": max(w / n for _, n, w in extras),
                        }
                    )
    finally:
        tracemalloc.stop()
    return rows


def _edit_cost(quick: bool, runs: int) -> dict[str, Any] | None:
    """add_disclaimer on one message with and without a large attachment."""
    if not peers.edits_available():
        return None
    from .corpus import attachment_pair

    size = MB if quick else 20 * MB
    without, with_ = attachment_pair(size)
    libs: dict[str, peers.Fn] = {
        EDIT_COST_MG: peers.mg_add_disclaimer,
        "mimeguard Editor(repair=True)": peers.mg_disclaimer,
        "mimeguard validate alone (for scale)": peers.mg_validate,
        peers.SMTP: peers.smtp_disclaimer,
    }
    if peers.flanker_available():
        libs[peers.FLANKER] = peers.flanker_disclaimer
    out: dict[str, Any] = {"attachment_bytes": len(with_) - len(without), "libraries": {}}
    for lib, fn in libs.items():
        _log(f"  edit cost of {lib}")
        try:
            fn(without)
            fn(with_)
        except Exception as exc:
            out["libraries"][lib] = {"error": f"raised {type(exc).__name__}"}
            continue
        t0 = time_call(functools.partial(fn, without), runs=runs)
        t1 = time_call(functools.partial(fn, with_), runs=runs)
        out["libraries"][lib] = {"without_s": t0, "with_s": t1, "delta_s": t1 - t0}
    return out


def _profile(groups: dict[str, list[Sample]]) -> dict[str, dict[str, Any]]:
    """cProfile of validate over each corpus: time per module, per rule, top functions."""
    from mimeguard.rules import RULES

    rule_of: dict[tuple[str, int, str], str] = {}
    for r in RULES.values():
        code = r.check.__code__
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        rule_of[key] = "parser-defect rules" if key in rule_of else f"{r.code} {r.name}"
    package = Path(mimeguard.__file__).resolve().parent
    out: dict[str, dict[str, Any]] = {}
    for corpus, samples in _merge_synthetic(groups).items():
        prof = cProfile.Profile()
        prof.enable()
        for s in samples:
            mimeguard.validate(s.data)
        prof.disable()
        entries: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        total = sum(tt for (_cc, _nc, tt, _ct, _callers) in entries.values())
        modules: dict[str, float] = {}
        rules: dict[str, float] = {}
        functions = []
        parse_s = 0.0
        for (file, line, func), (_cc, nc, tt, ct, _callers) in entries.items():
            path = Path(file)
            if file == "~":
                module = "C functions and methods (bytes, re, …)"
            elif path.resolve().is_relative_to(package):
                module = "mimeguard/" + path.resolve().relative_to(package).as_posix()
            else:
                module = "Python stdlib (functools, dataclasses, …)"
            modules[module] = modules.get(module, 0.0) + tt
            if (file, line, func) in rule_of:
                name = rule_of[(file, line, func)]
                rules[name] = rules.get(name, 0.0) + ct
            if func == "parse" and module == "mimeguard/_parser.py":  # not re's _parser
                parse_s = ct
            label = f"{path.name}:{line}({func})" if line else func
            functions.append({"function": label, "calls": nc, "tottime": tt, "cumtime": ct})
        functions.sort(key=lambda r: -r["tottime"])
        out[corpus] = {
            "total_s": total,
            "parse_s": parse_s,
            "modules": sorted(
                ({"module": m, "own_s": t, "share": t / total} for m, t in modules.items()),
                key=lambda r: -r["own_s"],
            ),
            "rules": sorted(
                ({"rule": n, "cum_s": t, "share": t / total} for n, t in rules.items()),
                key=lambda r: -r["cum_s"],
            )[:12],
            "functions": functions[:12],
        }
    return out


def _find(rows: list[dict[str, Any]], **want: str) -> dict[str, Any] | None:
    return next((r for r in rows if all(r[k] == v for k, v in want.items())), None)


def _targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    tp = res["throughput"]
    out: list[dict[str, Any]] = []
    for peer, need in ((peers.COMPAT32, 3.0), (peers.DEFAULT, 30.0)):
        for corpus in ("real", "synthetic"):
            r = _find(tp, corpus=corpus, op="validate", library=peer)
            if r is None:
                continue
            out.append(
                {
                    "target": f"validate ≥ {need:g}× {peer} ({corpus})",
                    "measured": f"{r['ratio']:.2f}×",
                    "value": r["ratio"],
                    "met": r["ratio"] >= need,
                }
            )
    ec = res.get("edit_cost")
    if ec and "delta_s" in ec["libraries"].get(EDIT_COST_MG, {}):
        d = ec["libraries"][EDIT_COST_MG]["delta_s"]
        big = ec["attachment_bytes"] >= 20 * 10**6
        out.append(
            {
                "target": f"add_disclaimer: {ec['attachment_bytes'] / MB:.0f} MB attachment "
                "costs ≤ 30 ms more",
                "measured": f"{d * 1e3:+.1f} ms",
                "value": d,
                "met": d <= 0.030 if big else None,
            }
        )
    mem = [r for r in res["memory"] if r["library"] == peers.MG and r["corpus"] == BIG]
    for r in mem:
        if r["op"] == "parse":
            continue
        # an edit returns new bytes about the size of its input: what it holds besides
        # them is the working memory the target is about (both are shown)
        working = r.get("max_working_ratio", r["max_ratio"])
        beside = "" if r["op"] == "validate" else " besides its output"
        out.append(
            {
                "target": f"extra peak memory of {r['op']}{beside} ≤ 1× input (messages ≥ 1 MB)",
                "measured": f"{working:.2f}×"
                + ("" if r["op"] == "validate" else f" ({r['max_ratio']:.2f}× with it)"),
                "value": working,
                "met": working <= 1.0,
            }
        )
    for corpus, by_lib in res["round_trip"].items():
        r = by_lib.get(peers.MG)
        if r is not None:
            out.append(
                {
                    "target": f"unchanged round trip byte-identical ({corpus})",
                    "measured": f"{r['percent']:.0f}%",
                    "value": r["percent"],
                    "met": r["identical"] == r["total"],
                }
            )
    for d in res["scaling"]:
        out.append(
            {
                "target": f"scaling exponent ≤ 1.1 ({d['dimension']})",
                "measured": f"{d['time_exponent']:.2f}",
                "value": d["time_exponent"],
                "met": d["time_exponent"] <= 1.1,
            }
        )
        if "pipeline_exponent" in d:
            out.append(
                {
                    "target": f"scaling exponent ≤ 1.1 ({d['dimension']}, pipeline)",
                    "measured": f"{d['pipeline_exponent']:.2f}",
                    "value": d["pipeline_exponent"],
                    "met": d["pipeline_exponent"] <= 1.1,
                }
            )
    adv = res["adversarial"]
    if adv:
        slow = [r["case"] for r in adv if not r["under_limit"]]
        worst = max(adv, key=lambda r: r["seconds"])
        out.append(
            {
                "target": "every adversarial input parses + validates in < 1 s",
                "measured": f"slowest {worst['seconds'] * 1e3:.0f} ms ({worst['case']})"
                + (f"; over: {', '.join(slow)}" if slow else ""),
                "value": worst["seconds"],
                "met": not slow,
            }
        )
    worst = [r for r in adv if "pipeline_seconds" in r]
    if worst:
        slow = [r["case"] for r in worst if not r["pipeline_under_limit"]]
        top = max(worst, key=lambda r: r["pipeline_seconds"])
        out.append(
            {
                "target": "the repairing pipeline on each worst case in < 2 s",
                "measured": f"slowest {top['pipeline_seconds'] * 1e3:.0f} ms ({top['case']})"
                + (f"; over: {', '.join(slow)}" if slow else ""),
                "value": top["pipeline_seconds"],
                "met": not slow,
            }
        )

        def ratios(r: dict[str, Any]) -> tuple[float, float]:
            n = max(r.get("peak_input_bytes", r["bytes"]), 1)
            edit = r["pipeline_peak_bytes"]
            working = edit - r.get("pipeline_output_bytes", 0)
            return max(r["validate_peak_bytes"], working) / n, max(
                r["validate_peak_bytes"], edit
            ) / n

        ratio, raw = max(ratios(r) for r in worst)
        out.append(
            {
                "target": "extra peak memory on the worst cases ≤ 1× input "
                "(the pipeline's besides its output)",
                "measured": f"{ratio:.2f}× ({raw:.2f}× with the output)",
                "value": ratio,
                "met": ratio <= 1.0,
            }
        )
    return out


def run(
    *,
    quick: bool,
    runs: int | None = None,
    corpus: Path = REAL_CORPUS,
    sections: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Run the suite (``sections`` names parts to skip) and return the results."""
    runs = runs or (1 if quick else 5)
    measure.COLLECT = not quick
    started = time.perf_counter()
    res: dict[str, Any] = {"meta": _meta(quick, runs)}
    _log("corpora")
    real = real_corpus(corpus, limit=10 if quick else None)
    synthetic = synthetic_corpus(quick=quick)
    groups = _groups(real, synthetic, split=not quick)
    res["corpora"] = {
        name: {"messages": len(ss), "bytes": sum(s.size for s in ss)}
        for name, ss in {**groups, **_merge_synthetic(groups)}.items()
    }
    ops = peers.OPERATIONS
    _log("throughput")
    res["throughput"] = [] if "throughput" in sections else _throughput(groups, runs, ops)
    _log("outputs")
    res["round_trip"], res["edit_outputs"] = (
        ({}, []) if "outputs" in sections else _outputs(groups, ops)
    )
    _log("memory")
    res["memory"] = [] if "memory" in sections else _memory(groups, ops, quick)
    del groups, real, synthetic
    _log("edit cost")
    res["edit_cost"] = None if "edit_cost" in sections else _edit_cost(quick, max(runs, 3))
    _log("scaling")
    res["scaling"] = [] if "scaling" in sections else run_scaling(quick=quick, runs=max(runs, 3))
    _log("adversarial")
    peer_names = [peers.COMPAT32, peers.DEFAULT]
    if peers.flanker_available():
        peer_names.append(peers.FLANKER)
    res["adversarial"] = (
        []
        if "adversarial" in sections
        else run_adversarial(quick=quick, runs=max(runs, 3), peers=peer_names)
    )
    _log("profile")
    res["profile"] = (
        {}
        if "profile" in sections or quick
        else _profile(_groups(real_corpus(corpus), synthetic_corpus()))
    )
    res["targets"] = _targets(res)
    res["max_rss_bytes"] = max_rss()
    res["meta"]["seconds"] = time.perf_counter() - started
    return res


def _update_readme(text: str) -> None:
    readme = README.read_text()
    head, sep, rest = readme.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"{README} has no {START} … {END} section")
    README.write_text(f"{head}{START}\n{text}{END}{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark mimeguard against the stdlib email package and flanker.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run (a few seconds)")
    parser.add_argument("--runs", type=int, help="timed runs per measurement (default 5; quick 1)")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the JSON results "
        "(default benchmarks/results/latest.json; with --quick, none unless given)",
    )
    parser.add_argument("--corpus", type=Path, default=REAL_CORPUS, help="the real-mail corpus")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated sections to skip: throughput, outputs, memory, edit_cost, "
        "scaling, adversarial, profile",
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="put the table into benchmarks/README.md"
    )
    args = parser.parse_args(argv)
    sections = frozenset(s.strip() for s in args.skip.split(",") if s.strip())
    res = run(quick=args.quick, runs=args.runs, corpus=args.corpus, sections=sections)
    text = markdown(res)
    print(text)
    out = args.out if args.out is not None else (None if args.quick else LATEST)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1, sort_keys=False) + "\n")
        _log(f"results written to {out}")
    if args.update_readme:
        _update_readme(text)
    return 0
