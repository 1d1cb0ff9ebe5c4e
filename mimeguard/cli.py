"""Command line: ``mimeguard check PATH…`` prints findings, one per line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .profiles import PROFILES
from .validation import validate

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mimeguard")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate messages")
    check.add_argument("paths", nargs="+")
    check.add_argument("--profile", choices=list(PROFILES), default="workmail")
    args = parser.parse_args(argv)
    errors = warnings = files = 0
    status = 0
    for p in args.paths:
        path = Path(p)
        targets = sorted(path.rglob("*.eml")) if path.is_dir() else [path]
        for t in targets:
            try:
                data = t.read_bytes()
            except OSError as exc:
                print(f"{t}: {exc}", file=sys.stderr)
                status = 2
                continue
            files += 1
            report = validate(data, profile=args.profile)
            for f in report.findings:
                where = f" (part {f.part})" if f.part else ""
                print(f"{t}:{f.line}:{f.column}: {f.code} [{f.severity}] {f.message}{where}")
            errors += report.count("error")
            warnings += report.count("warning")
    print(f"{files} files, {errors} errors, {warnings} warnings")
    if status:
        return status
    return 1 if errors else 0
