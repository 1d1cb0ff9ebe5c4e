"""Timing and memory: medians of interleaved runs, tracemalloc peaks, max RSS.

Every library is timed in the same run on the same inputs, in rotating order,
so a noisy neighbour slows them alike.  Before each timed run the garbage
collector runs and the ``re`` cache is cleared: real mail brings a new
boundary with every message, and both mimeguard and the stdlib would compile
per-boundary patterns there, so a warm cache over a repeated corpus would
flatter whichever library compiles more.
"""

from __future__ import annotations

import contextlib
import gc
import re
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from .corpus import Sample

__all__ = ["COLLECT", "Peak", "Timing", "max_rss", "peak_extra", "time_call", "time_libraries"]

Fn = Callable[[bytes], object]
T = TypeVar("T")


@dataclass(slots=True)
class Timing:
    """The runs of one library over one set of inputs."""

    seconds: list[float] = field(default_factory=list)
    #: inputs on which the function raised (a peer's error or a mimeguard crash)
    raised: int = 0
    #: inputs mimeguard declined on purpose (``MimeguardError``)
    refused: int = 0
    #: exception type name -> count, from the first run
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


#: run the garbage collector before each measurement (off for the quick smoke run,
#: where a collection costs more than the measurement)
COLLECT = True


def _fresh() -> None:
    if COLLECT:
        gc.collect()
    re.purge()


def time_libraries(
    samples: Sequence[Sample],
    libraries: dict[str, Fn],
    *,
    runs: int,
    refused: Callable[[BaseException], bool],
    budget: float = float("inf"),
) -> dict[str, Timing]:
    """Run every library over ``samples`` ``runs`` times, interleaved.

    After the first run, a library whose runs so far took more than ``budget``
    seconds in all stops early (at least three runs are kept when ``runs`` asks
    for three or more), so one slow peer does not hold up the suite.
    """
    names = list(libraries)
    out = {name: Timing() for name in names}
    for r in range(runs):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t = out[name]
            if r >= min(3, runs) and sum(t.seconds) > budget:
                continue
            fn = libraries[name]
            _fresh()
            start = time.perf_counter()
            if r == 0:
                for s in samples:
                    try:
                        fn(s.data)
                    except Exception as exc:
                        if refused(exc):
                            t.refused += 1
                        else:
                            t.raised += 1
                            kind = type(exc).__name__
                            t.errors[kind] = t.errors.get(kind, 0) + 1
            else:
                for s in samples:
                    with contextlib.suppress(Exception):
                        fn(s.data)
            t.seconds.append(time.perf_counter() - start)
    return out


def time_call(fn: Callable[[], object], *, runs: int) -> float:
    """Median seconds of ``fn()`` over ``runs`` calls (cache cleared before each)."""
    times = []
    for _ in range(runs):
        _fresh()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Peak(NamedTuple):
    """What :func:`peak_extra` measured."""

    #: peak bytes allocated while the call ran, above what was live before
    bytes: int
    #: the call returned (it did not raise)
    ok: bool
    #: the size of the bytes it returned (an edit's output, counted in ``bytes``)
    output: int


def peak_extra(fn: Callable[[T], object], data: T) -> Peak:
    """Peak bytes allocated while ``fn(data)`` runs, above what was live before
    (the input is already allocated, so it is not counted); whether it raised; and the
    size of the bytes it returned, so that an edit's working memory beyond its own
    output can be told."""
    if COLLECT:
        gc.collect()
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        ok = True
        try:
            result = fn(data)
        except Exception:
            ok = False
            result = None
        peak = tracemalloc.get_traced_memory()[1] - base
        output = len(result) if isinstance(result, (bytes, bytearray)) else 0
        del result
    finally:
        if not started:
            tracemalloc.stop()
    return Peak(peak, ok, output)


def max_rss() -> int:
    """The largest resident set of this process so far, in bytes."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024
