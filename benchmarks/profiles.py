"""``python -m benchmarks.profiles``: how many corpus messages each profile refuses, before
and after ``repair``.

For every profile in :data:`mimeguard.PROFILES` and every message of
``../shared/corpus`` (as :func:`benchmarks.corpus.real_corpus` reads it): is the
message refused as it is (``validate(...).ok`` is false), and is it still
refused after :func:`mimeguard.repair` under that profile (repair raising
:class:`~mimeguard.InvalidMessageError` counts as refused; the envelope sender
is unknown, so a missing From stays missing).  Prints a table, or JSON with
``--json``; ``--codes`` adds the error codes that remain after repair.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from mimeguard import PROFILES, InvalidMessageError, repair, validate

from .corpus import REAL_CORPUS, real_corpus


def count(root: Path = REAL_CORPUS, *, limit: int | None = None) -> dict[str, Any]:
    """Per profile: messages, refused before repair, refused after, and the remaining codes."""
    samples = real_corpus(root, limit=limit)
    out: dict[str, Any] = {"corpus": str(root), "messages": len(samples), "profiles": {}}
    for name in PROFILES:
        before = after = 0
        remaining: Counter[str] = Counter()
        for sample in samples:
            if validate(sample.data, profile=name).ok:
                continue
            before += 1
            try:
                fixed = repair(sample.data, profile=name)
            except InvalidMessageError as exc:
                after += 1
                remaining.update({f.code for f in exc.report.findings if f.severity == "error"})
                continue
            report = validate(fixed, profile=name)
            if not report.ok:
                after += 1
                remaining.update({f.code for f in report.findings if f.severity == "error"})
        out["profiles"][name] = {
            "refused_before_repair": before,
            "refused_after_repair": after,
            "remaining_codes": dict(remaining.most_common()),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiles")
    parser.add_argument("--corpus", type=Path, default=REAL_CORPUS)
    parser.add_argument("--limit", type=int, help="only the first N messages")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--codes", action="store_true", help="show the codes left after repair")
    args = parser.parse_args(argv)
    result = count(args.corpus, limit=args.limit)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if not result["messages"]:
        print(f"no messages under {args.corpus}")
        return 1
    print(f"{result['messages']} messages from {result['corpus']}")
    print(f"{'profile':<12} {'refused':>8} {'after repair':>13}")
    for name, row in result["profiles"].items():
        line = f"{name:<12} {row['refused_before_repair']:>8} {row['refused_after_repair']:>13}"
        if args.codes and row["remaining_codes"]:
            line += "  " + ", ".join(f"{c}×{n}" for c, n in row["remaining_codes"].items())
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
