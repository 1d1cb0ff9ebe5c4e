"""Render the results (a JSON-able dict) as markdown."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown"]

MB = 1 << 20


def _size(n: float) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n:.0f} B"


def _num(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def _throughput(res: dict[str, Any], corpus: str) -> list[str]:
    rows = [r for r in res["throughput"] if r["corpus"] == corpus]
    if not rows:
        return []
    info = res["corpora"][corpus]
    out = [
        f"#### {corpus}: {info['messages']} messages, {_size(info['bytes'])}",
        "",
        "| operation | library | MB/s | msg/s | mimeguard ÷ peer | raised | refused |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        ratio = "" if r["library"] == "mimeguard" else f"{_num(r['ratio'])}×"
        out.append(
            f"| {r['title']} | {r['library']} | {_num(r['mb_per_s'])} | {_num(r['msgs_per_s'], 0)}"
            f" | {ratio} | {r['raised'] or ''} | {r['refused'] or ''} |"
        )
    return [*out, ""]


def _validate_groups(res: dict[str, Any]) -> list[str]:
    rows = [r for r in res["throughput"] if r["op"] == "validate"]
    libs = list(dict.fromkeys(r["library"] for r in rows))
    corpora = list(dict.fromkeys(r["corpus"] for r in rows))
    out = [
        "| corpus | " + " | ".join(libs) + " |",
        "|---|" + "--:|" * len(libs),
    ]
    for c in corpora:
        cells = []
        for lib in libs:
            r = next((r for r in rows if r["corpus"] == c and r["library"] == lib), None)
            if r is None:
                cells.append("–")
            elif lib == "mimeguard":
                cells.append(f"{_num(r['mb_per_s'])} MB/s")
            else:
                cells.append(f"{_num(r['mb_per_s'])} MB/s ({_num(r['ratio'])}×)")
        out.append(f"| {c} | " + " | ".join(cells) + " |")
    return [*out, ""]


def markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = [
        f"Run {meta['date']} on {meta['machine']} ({meta['cpus']} CPUs), Python {meta['python']}, "
        f"mimeguard {meta['mimeguard']}, flanker {meta.get('flanker') or 'absent'}; "
        f"{'quick run' if meta['quick'] else 'full run'}, median of {meta['runs']} runs. "
        f"Max RSS of the whole run: {_size(res['max_rss_bytes'])}."
        + (
            f" Load average when it started: {meta['load_average']:.1f}."
            if meta.get("load_average") is not None
            else ""
        ),
        "",
        "### Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for t in res["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {t['measured']} | {met} |")
    lines += [
        "",
        "### Throughput",
        "",
        "Ratios are mimeguard's throughput over the peer's, timed in the same run on the same "
        "inputs (above 1: mimeguard is faster). *raised*: inputs on which the library raised; "
        "*refused*: edits mimeguard declined because the result would not validate.",
        "",
    ]
    for corpus in ("real", "synthetic"):
        lines += _throughput(res, corpus)
    lines += ["#### validate by corpus group", "", *_validate_groups(res)]
    lines += _round_trip(res) + _edits(res) + _memory(res) + _edit_cost(res)
    lines += _scaling(res) + _adversarial(res) + _profile(res)
    return "\n".join(lines).rstrip() + "\n"


def _round_trip(res: dict[str, Any]) -> list[str]:
    rt = res.get("round_trip") or {}
    if not rt:
        return []
    libs = list(dict.fromkeys(lib for c in rt.values() for lib in c))
    out = [
        "### Unchanged round trip: byte-identical outputs",
        "",
        "| corpus | " + " | ".join(libs) + " |",
        "|---|" + "--:|" * len(libs),
    ]
    for corpus, by_lib in rt.items():
        cells = []
        for lib in libs:
            r = by_lib.get(lib)
            if r is None:
                cells.append("–")
            else:
                cells.append(f"{r['identical']}/{r['total']} ({r['percent']:.0f}%)")
        out.append(f"| {corpus} | " + " | ".join(cells) + " |")
    return [*out, ""]


def _edits(res: dict[str, Any]) -> list[str]:
    acc = res.get("edit_outputs") or []
    if not acc:
        return []
    out = [
        "### Edit outputs WorkMail would take",
        "",
        "Outputs that pass `mimeguard.validate(out, original=input)` under the workmail "
        "profile, out of all inputs (a refused or failed edit produces no output).",
        "",
        "| corpus | operation | library | accepted | refused | raised |",
        "|---|---|---|--:|--:|--:|",
    ]
    for r in acc:
        out.append(
            f"| {r['corpus']} | {r['title']} | {r['library']} | {r['accepted']}/{r['total']} "
            f"| {r['refused'] or ''} | {r['raised'] or ''} |"
        )
    return [*out, ""]


def _memory(res: dict[str, Any]) -> list[str]:
    mem = res.get("memory") or []
    if not mem:
        return []
    out = [
        "### Peak memory (tracemalloc, above the input)",
        "",
        "| inputs | operation | library | max extra | max extra ÷ input size "
        "| besides the output returned |",
        "|---|---|---|--:|--:|--:|",
    ]
    for r in mem:
        working = r.get("max_working_ratio", r["max_ratio"])
        out.append(
            f"| {r['corpus']} | {r['title']} | {r['library']} | {_size(r['max_extra_bytes'])} "
            f"| {r['max_ratio']:.2f}× | {working:.2f}× |"
        )
    return [*out, ""]


def _edit_cost(res: dict[str, Any]) -> list[str]:
    ec = res.get("edit_cost")
    if not ec:
        return []
    out = [
        f"### add_disclaimer with and without a {_size(ec['attachment_bytes'])} attachment",
        "",
        "| library | without | with | difference |",
        "|---|--:|--:|--:|",
    ]
    for lib, r in ec["libraries"].items():
        if r.get("error"):
            out.append(f"| {lib} | – | – | {r['error']} |")
            continue
        out.append(
            f"| {lib} | {r['without_s'] * 1e3:.1f} ms | {r['with_s'] * 1e3:.1f} ms "
            f"| {r['delta_s'] * 1e3:+.1f} ms |"
        )
    return [*out, ""]


def _scaling(res: dict[str, Any]) -> list[str]:
    sc = res.get("scaling") or []
    if not sc:
        return []
    out = [
        "### Scaling of parse + validate",
        "",
        "| dimension | points (x: time, peak memory) | time exponent | last step "
        "| memory exponent |",
        "|---|---|--:|--:|--:|",
    ]
    for d in sc:
        pts = ", ".join(
            f"{_x(p['x'], d['unit'])}: {p['seconds'] * 1e3:.1f} ms, {_size(p['peak_bytes'])}"
            for p in d["points"]
        )
        out.append(
            f"| {d['dimension']} | {pts} | {d['time_exponent']:.2f} "
            f"| {d['time_exponent_last_step']:.2f} | {d['memory_exponent']:.2f} |"
        )
    edits = [d for d in sc if "pipeline_exponent" in d]
    if edits:
        out += [
            "",
            "The repairing edit pipeline on the worst cases:",
            "",
            "| dimension | points (x: time) | time exponent |",
            "|---|---|--:|",
        ]
        for d in edits:
            pts = ", ".join(
                f"{_x(p['x'], d['unit'])}: {p['pipeline_seconds'] * 1e3:.1f} ms"
                for p in d["points"]
            )
            out.append(f"| {d['dimension']} | {pts} | {d['pipeline_exponent']:.2f} |")
    return [*out, ""]


def _x(x: int, unit: str) -> str:
    return _size(x) if unit == "bytes" else f"{x:,}"


def _adversarial(res: dict[str, Any]) -> list[str]:
    adv = res.get("adversarial") or []
    if not adv:
        return []
    peers = list(dict.fromkeys(p for r in adv for p in r["peers"]))
    out = [
        "### Adversarial inputs (parse + validate; peers: parse + walk + decode, 10 s limit)",
        "",
        "| input | size | mimeguard | findings | " + " | ".join(peers) + " |",
        "|---|--:|--:|---|" + "--:|" * len(peers),
    ]
    for r in adv:
        cells = []
        for p in peers:
            pr = r["peers"].get(p)
            if pr is None:
                cells.append("–")
            elif pr["seconds"] is None:
                cells.append(pr["error"])
            else:
                err = f" ({pr['error']})" if pr["error"] else ""
                cells.append(f"{pr['seconds'] * 1e3:,.0f} ms{err}")
        mark = "" if r["under_limit"] else " **over 1 s**"
        out.append(
            f"| {r['case']} | {_size(r['bytes'])} | {r['seconds'] * 1e3:,.0f} ms{mark} "
            f"| {' '.join(r['findings'])} | " + " | ".join(cells) + " |"
        )
    return [*out, "", *_worst(adv)]


def _worst(adv: list[dict[str, Any]]) -> list[str]:
    rows = [r for r in adv if "pipeline_seconds" in r]
    if not rows:
        return []
    out = [
        "#### The worst cases: validate (< 1 s), the repairing pipeline (< 2 s), "
        "extra peak memory (≤ 1× input)",
        "",
        "Peak memory is measured on the same input at a tenth of its size (tracemalloc "
        "slows allocation-heavy code tenfold) and given against that input.",
        "",
        "| input | size | validate | pipeline | validate peak | pipeline peak "
        "| pipeline peak besides its output |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        v = "" if r["under_limit"] else " **over**"
        p = "" if r["pipeline_under_limit"] else " **over**"
        n = r.get("peak_input_bytes", r["bytes"]) or 1
        working = r["pipeline_peak_bytes"] - r.get("pipeline_output_bytes", 0)
        out.append(
            f"| {r['case']} | {_size(r['bytes'])} | {r['seconds'] * 1e3:,.0f} ms{v} "
            f"| {r['pipeline_seconds'] * 1e3:,.0f} ms{p} "
            f"| {_size(r['validate_peak_bytes'])} ({r['validate_peak_bytes'] / n:.2f}×) "
            f"| {_size(r['pipeline_peak_bytes'])} ({r['pipeline_peak_bytes'] / n:.2f}×) "
            f"| {working / n:.2f}× |"
        )
    return [*out, ""]


def _profile(res: dict[str, Any]) -> list[str]:
    prof = res.get("profile") or {}
    out: list[str] = []
    for corpus, p in prof.items():
        total = p["total_s"]
        out += [
            f"### Where validate spends its time: {corpus} (cProfile)",
            "",
            f"Profiled total {total:.3f} s (the profiler inflates call-heavy code); "
            f"parse {p['parse_s'] / total:.0%} of it.",
            "",
            "| module (own time) | s | share |",
            "|---|--:|--:|",
        ]
        for r in p["modules"][:10]:
            out.append(f"| {r['module']} | {r['own_s']:.3f} | {r['share']:.0%} |")
        out += ["", "| rule (cumulative) | s | share |", "|---|--:|--:|"]
        for r in p["rules"][:10]:
            out.append(f"| {r['rule']} | {r['cum_s']:.3f} | {r['share']:.0%} |")
        out += ["", "| function (own time) | calls | own s | cumulative s |", "|---|--:|--:|--:|"]
        for r in p["functions"][:10]:
            out.append(
                f"| `{r['function']}` | {r['calls']:,} | {r['tottime']:.3f} | {r['cumtime']:.3f} |"
            )
        out.append("")
    return out
