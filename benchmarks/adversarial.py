"""Adversarial inputs: each must parse and validate in under a second.

Peers run the same inputs in a child process with a time limit, so one that
goes quadratic cannot stall the suite (``python -m benchmarks.adversarial CASE
LIBRARY`` is that child).
"""

from __future__ import annotations

import functools
import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mimeguard

from .corpus import MB, SEED, many_headers, many_parts, nested
from .measure import time_call

__all__ = ["CASES", "Case", "run_adversarial"]

LIMIT_SECONDS = 1.0
PEER_TIMEOUT = 10.0

_HEAD = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob Example <bob@example.org>\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <adversarial@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
)


def _header_line(scale: float) -> bytes:
    return _HEAD + b"Subject: " + b"a" * int(10 * MB * scale) + b"\r\n\r\nbody\r\n"


def _body_line(scale: float) -> bytes:
    return _HEAD + b"Subject: long line\r\n\r\n" + b"b" * int(10 * MB * scale) + b"\r\n"


def _lookalikes(scale: float) -> bytes:
    """A multipart whose body is lines that start like its delimiter but are not."""
    rng = random.Random(SEED)
    tails = (b"x", b"--x", b" -", b"-", b"0", b"--  x", b"\t.", b"b")
    lines = []
    size = 0
    while size < 10 * MB * scale:
        if rng.random() < 0.9:
            line = b"--b1" + rng.choice(tails)
        else:
            line = b"--" + b"b" * rng.randint(0, 3)
        lines.append(line)
        size += len(line) + 2
    return (
        _HEAD
        + b'Subject: look-alikes\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        + b"--b1\r\nContent-Type: text/plain\r\n\r\n"
        + b"\r\n".join(lines)
        + b"\r\n--b1--\r\n"
    )


def _encoded_word_flood(scale: float) -> bytes:
    unit = b"=?utf-8?q?=?=?b?=?"
    n = int(1_000_000 * scale) // len(unit)
    return _HEAD + b"Subject: " + unit * n + b"\r\n\r\nbody\r\n"


def _semicolons(scale: float) -> bytes:
    return (
        _HEAD
        + b"Subject: semicolons\r\nContent-Type: text/plain"
        + b";" * int(1_000_000 * scale)
        + b"\r\n\r\nbody\r\n"
    )


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    build: Callable[[float], bytes]


CASES = (
    Case("100,000 header fields", lambda s: many_headers(random.Random(SEED), 0, int(100_000 * s))),
    Case("10 MB header line", _header_line),
    Case("10 MB body line", _body_line),
    Case("10,000 sibling parts", lambda s: many_parts(random.Random(SEED), 0, int(10_000 * s))),
    Case("nesting to the depth limit (64)", lambda s: nested(random.Random(SEED), 0, 64)),
    Case(
        "nesting past the limit (1,000)",
        lambda s: nested(random.Random(SEED), 0, max(100, int(1000 * s))),
    ),
    Case("10 MB of boundary look-alike lines", _lookalikes),
    Case("1 MB flood of =? encoded-word starts", _encoded_word_flood),
    Case("1 MB of ; in a Content-Type", _semicolons),
)


def _peer_fn(library: str) -> Callable[[bytes], object]:
    from . import peers

    for op in peers.OPERATIONS:
        if op.name == "validate":
            return op.libraries[library]
    raise KeyError(library)  # pragma: no cover


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so the peers' own handlers let it through."""


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


def _peer_child(case_name: str, library: str) -> None:
    case = next(c for c in CASES if c.name == case_name)
    data = case.build(1.0)
    fn = _peer_fn(library)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, PEER_TIMEOUT)
    start = time.perf_counter()
    error = None
    try:
        fn(data)
    except _Timeout:
        print(json.dumps({"seconds": None, "error": f"timeout (> {PEER_TIMEOUT:.0f} s)"}))
        return
    except Exception as exc:
        error = type(exc).__name__
    seconds = time.perf_counter() - start
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps({"seconds": seconds, "error": error}))


def _run_peer(case: Case, library: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.adversarial", case.name, library]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PEER_TIMEOUT + 20)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"timeout (> {PEER_TIMEOUT:.0f} s)"}
    try:
        line = proc.stdout.strip().splitlines()[-1]
        result: dict[str, Any] = json.loads(line)
    except (IndexError, ValueError):
        return {"seconds": None, "error": f"child failed: {proc.stderr.strip()[-200:]}"}
    return result


def run_adversarial(*, quick: bool, runs: int, peers: list[str]) -> list[dict[str, Any]]:
    """Time parse + validate on every case; ``peers`` also run it (full size only)."""
    scale = 0.02 if quick else 1.0
    out: list[dict[str, Any]] = []
    for case in CASES:
        data = case.build(scale)
        seconds = time_call(functools.partial(mimeguard.validate, data), runs=runs)
        report = mimeguard.validate(data)
        codes = sorted({f.code for f in report.findings})
        row: dict[str, Any] = {
            "case": case.name,
            "bytes": len(data),
            "seconds": seconds,
            "under_limit": seconds < LIMIT_SECONDS,
            "findings": codes,
            "peers": {},
        }
        del data
        if not quick:
            for library in peers:
                row["peers"][library] = _run_peer(case, library)
        out.append(row)
    return out


if __name__ == "__main__":
    _peer_child(sys.argv[1], sys.argv[2])
