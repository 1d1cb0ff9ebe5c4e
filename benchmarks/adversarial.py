"""Adversarial inputs: each must parse and validate in under a second.

The four worst cases of issue 16 (a near-match boundary, a million encoded-words,
100,000 RFC 2231 sections, a 50 MB base64 body with a bad last character) also run
the repairing edit pipeline (budget 2 s) and have their extra peak memory measured
(budget 1x the input); :mod:`benchmarks.scaling` fits their exponents.

Peers run the same inputs in a child process with a time limit, so one that
goes quadratic cannot stall the suite (``python -m benchmarks.adversarial CASE
LIBRARY`` is that child).
"""

from __future__ import annotations

import base64
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
from mimeguard.limits import DEFAULT_LIMITS, Limits

from .corpus import MB, SEED, many_headers, many_parts, nested
from .measure import peak_extra, time_call

__all__ = ["CASES", "WORST", "Case", "pipeline", "run_adversarial"]

LIMIT_SECONDS = 1.0
PIPELINE_LIMIT_SECONDS = 2.0
#: the worst cases' peak memory is measured at this fraction of their size
MEMORY_SCALE = 0.1
#: a header block large enough to hold a million encoded-words or 100,000 sections:
#: under the default 1 MB limit the parser would stop reading them, and the case
#: would measure the limit rather than the readers
WIDE_HEADERS = Limits(max_header_bytes=64 << 20)
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


def _dkim_whitespace(scale: float) -> bytes:
    """A relaxed/relaxed DKIM signature over a body that ends in 2 MB of tabs and spaces
    with no line break after them (RFC 6376 section 3.4.4 reduces the run to nothing)."""
    return (
        _HEAD
        + b"Subject: whitespace\r\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
        + b" d=example.com; s=s; h=from:to:subject;\r\n"
        + b" bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hRuFU=; b=AAAA\r\n\r\nhello\r\n"
        + b"\t " * int(MB * scale)
    )


#: a 70-character boundary (RFC 2046 section 5.1.1, the longest allowed)
_BOUNDARY = b"b" * 69 + b"1"


def near_boundary(scale: float) -> bytes:
    """A million body lines that differ from the 70-character delimiter only in the last byte."""
    line = b"--" + _BOUNDARY[:-1] + b"2\r\n"
    return (
        _HEAD
        + b'Subject: near-match boundary\r\nContent-Type: multipart/mixed; boundary="'
        + _BOUNDARY
        + b'"\r\n\r\n--'
        + _BOUNDARY
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + line * int(1_000_000 * scale)
        + b"--"
        + _BOUNDARY
        + b"--\r\n"
    )


def encoded_words(scale: float) -> bytes:
    """A Subject of a million encoded-words, three to a folded line of 66 characters
    (RFC 2047 section 2, RFC 5322 section 2.1.1)."""
    n = int(1_000_000 * scale)
    line = b" ".join([b"=?utf-8?q?caf=C3=A9?="] * 3)
    words = b"\r\n ".join([line] * (n // 3) + [b"=?utf-8?b?Y2Fmw6k=?="] * (n % 3))
    return _HEAD + b"Subject: " + words + b"\r\n\r\nbody\r\n"


def rfc2231_sections(scale: float) -> bytes:
    """An attachment whose filename comes in 100,000 RFC 2231 section 3 continuations."""
    n = int(100_000 * scale)
    sections = b"".join(b";\r\n filename*%d*=%%41a" % i for i in range(1, n))
    return (
        _HEAD
        + b'Subject: RFC 2231 sections\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        + b"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\n"
        + b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        + b"Content-Disposition: attachment; filename*0*=utf-8''x"
        + sections
        + b"\r\n\r\nAAAA\r\n--b1--\r\n"
    )


def bad_base64(scale: float) -> bytes:
    """A 50 MB base64 attachment whose last character is outside the alphabet."""
    raw = random.Random(SEED).randbytes(int(50 * MB * scale) * 3 // 4)
    body = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    body = body[:-3] + b"!\r\n"
    return (
        _HEAD
        + b'Subject: bad base64\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        + b"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\n"
        + b'Content-Type: application/pdf; name="report.pdf"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n"
        + b'Content-Disposition: attachment; filename="report.pdf"\r\n\r\n'
        + body
        + b"--b1--\r\n"
    )


def pipeline(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The repairing edit pipeline of a WorkMail Lambda, under the ``rfc`` profile: the
    worst cases are over WorkMail's size quota, and a refusal would end the edit early."""
    out: bytes = (
        mimeguard.Editor(data, repair=True, profile="rfc", limits=limits)
        .add_disclaimer(text="This message came from outside.", html="<p>Outside.</p>")
        .rewrite_subject(prefix="[EXT] ")
        .strip_attachments(match=lambda p: p.disposition == "attachment")
        .to_bytes()
    )
    return out


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    build: Callable[[float], bytes]
    #: the parser limits it runs under
    limits: Limits = DEFAULT_LIMITS
    #: one of the worst cases: the pipeline is timed and peak memory measured too
    worst: bool = False


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
    Case("DKIM relaxed body: 2 MB of whitespace, no line break", _dkim_whitespace),
    Case("near-match boundary (1,000,000 lines)", near_boundary, worst=True),
    Case("1,000,000 encoded-words", encoded_words, WIDE_HEADERS, worst=True),
    Case("100,000 RFC 2231 sections", rfc2231_sections, WIDE_HEADERS, worst=True),
    Case("50 MB base64 with a bad last character", bad_base64, worst=True),
)
#: the worst cases of issue 16
WORST = tuple(c for c in CASES if c.worst)


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
    fn = _peer_fn(library)  # the peers have no header limit to raise
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
        validate = functools.partial(mimeguard.validate, limits=case.limits)
        seconds = time_call(functools.partial(validate, data), runs=runs)
        report = validate(data)
        codes = sorted({f.code for f in report.findings})
        row: dict[str, Any] = {
            "case": case.name,
            "bytes": len(data),
            "seconds": seconds,
            "under_limit": seconds < LIMIT_SECONDS,
            "findings": codes,
            "peers": {},
        }
        if case.worst:
            edit = functools.partial(pipeline, limits=case.limits)
            # one run: the pipeline is the slow part of the suite on these inputs
            row["pipeline_seconds"] = time_call(functools.partial(edit, data), runs=1)
            row["pipeline_under_limit"] = row["pipeline_seconds"] < PIPELINE_LIMIT_SECONDS
            # tracemalloc slows allocation-heavy paths tenfold: peaks are taken at a tenth
            # of the size and reported against that input
            small = case.build(scale * MEMORY_SCALE)
            row["peak_input_bytes"] = len(small)
            row["validate_peak_bytes"] = peak_extra(validate, small).bytes
            peak = peak_extra(edit, small)
            row["pipeline_peak_bytes"] = peak.bytes
            row["pipeline_output_bytes"] = peak.output
            del small
        del data
        if not quick:
            for library in peers:
                row["peers"][library] = _run_peer(case, library)
        out.append(row)
    return out


if __name__ == "__main__":
    _peer_child(sys.argv[1], sys.argv[2])
