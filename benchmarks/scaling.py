"""Scaling curves: parse + validate time and peak memory against one input dimension.

Each dimension grows one thing and keeps the rest of the message small: the
size of one base64 attachment, the number of parts, the number of header
fields, the nesting depth; and the four worst cases of :mod:`benchmarks.adversarial`
(near-match boundary lines, encoded-words, RFC 2231 sections, a base64 body with
a bad last character), for which the repairing edit pipeline is timed too.  The
fitted exponent is the least-squares slope of log(time) against log(x); 1.0 is
linear.  Small inputs carry a fixed cost, so the slope between the last two points
is reported too: it is the one a quadratic corner would show first.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mimeguard
from mimeguard.limits import DEFAULT_LIMITS, Limits

from . import adversarial
from .corpus import MB, SEED, many_headers, many_parts, nested, with_attachment
from .measure import peak_extra, time_call

__all__ = ["DIMENSIONS", "Dimension", "fit_exponent", "run_scaling"]


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    unit: str
    build: Callable[[int], bytes]
    full: tuple[int, ...]
    quick: tuple[int, ...]
    limits: Limits = DEFAULT_LIMITS
    #: time the repairing edit pipeline too (the worst cases)
    pipeline: bool = False


def _rng() -> random.Random:
    return random.Random(SEED)


DIMENSIONS = (
    Dimension(
        "message size",
        "bytes",
        lambda x: with_attachment(_rng(), 0, x, 1),
        tuple(mb * MB for mb in (1, 2, 4, 8, 16, 32, 64)),
        (MB // 8, MB // 4, MB // 2),
    ),
    Dimension(
        "parts",
        "parts",
        lambda x: many_parts(_rng(), 0, x),
        (10, 100, 1_000, 3_000, 10_000),
        (10, 30, 100),
    ),
    Dimension(
        "header fields",
        "fields",
        lambda x: many_headers(_rng(), 0, x),
        (10, 100, 1_000, 10_000, 30_000, 100_000),
        (10, 100, 300),
    ),
    Dimension(
        "nesting depth",
        "levels",
        lambda x: nested(_rng(), 0, x),
        (1, 2, 4, 8, 16, 32, 64),
        (1, 2, 4),
    ),
    Dimension(
        "near-match boundary lines",
        "lines",
        lambda x: adversarial.near_boundary(x / 1_000_000),
        (125_000, 250_000, 500_000, 1_000_000),
        (1_000, 2_000, 4_000),
        pipeline=True,
    ),
    Dimension(
        "encoded-words",
        "words",
        lambda x: adversarial.encoded_words(x / 1_000_000),
        (125_000, 250_000, 500_000, 1_000_000),
        (1_000, 2_000, 4_000),
        adversarial.WIDE_HEADERS,
        pipeline=True,
    ),
    Dimension(
        "RFC 2231 sections",
        "sections",
        lambda x: adversarial.rfc2231_sections(x / 100_000),
        (12_500, 25_000, 50_000, 100_000),
        (250, 500, 1_000),
        adversarial.WIDE_HEADERS,
        pipeline=True,
    ),
    Dimension(
        "base64 body with a bad last character",
        "bytes",
        lambda x: adversarial.bad_base64(x / (50 * MB)),
        tuple(mb * MB for mb in (6, 12, 25, 50)),
        (MB // 8, MB // 4, MB // 2),
        pipeline=True,
    ),
)


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x)."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / den if den else 0.0


def _validate(data: bytes, limits: Limits = DEFAULT_LIMITS) -> object:
    return mimeguard.validate(data, limits=limits)


def run_scaling(*, quick: bool, runs: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for dim in DIMENSIONS:
        points: list[dict[str, Any]] = []
        for x in dim.quick if quick else dim.full:
            data = dim.build(x)
            validate = functools.partial(_validate, limits=dim.limits)
            seconds = time_call(functools.partial(validate, data), runs=runs)
            peak = peak_extra(validate, data).bytes
            point = {"x": x, "bytes": len(data), "seconds": seconds, "peak_bytes": peak}
            if dim.pipeline:
                edit = functools.partial(adversarial.pipeline, data, dim.limits)
                point["pipeline_seconds"] = time_call(edit, runs=1)  # the slow part: once
            points.append(point)
            del data
        xs = [float(p["x"]) for p in points]
        times = [float(p["seconds"]) for p in points]
        peaks = [float(p["peak_bytes"]) for p in points]
        tail = fit_exponent(xs[-2:], times[-2:])
        row: dict[str, Any] = {
            "dimension": dim.name,
            "unit": dim.unit,
            "points": points,
            "time_exponent": fit_exponent(xs, times),
            "time_exponent_last_step": tail,
            "memory_exponent": fit_exponent(xs, peaks),
        }
        if dim.pipeline:
            row["pipeline_exponent"] = fit_exponent(xs, [p["pipeline_seconds"] for p in points])
        out.append(row)
    return out
