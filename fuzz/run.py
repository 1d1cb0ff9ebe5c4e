"""Run mimeguard's atheris fuzz targets for a bounded time; collect crashes.

    python fuzz/run.py --seconds 60                      # every target, 60 s in total
    python fuzz/run.py --seconds 3600 --target repair    # one target (repeatable flag)
    python fuzz/run.py --reproduce FILE --target NAME    # replay one input, no atheris
    python fuzz/run.py --list

Each target runs in a subprocess of its own (atheris.Setup + atheris.Fuzz, mimeguard
instrumented for coverage) with its share of the time, ``-timeout``, ``-rss_limit_mb``
and the MIME dictionary ``fuzz/mime.dict``.  Seeds: ``examples/``, the rule fixtures,
``tests/fixtures/``, ``../shared/corpus`` when present and messages drawn from
``mimeguard.strategies``.  A target given a minute or more works in
``fuzz/corpus/<target>/`` (kept between runs, so long runs add up); a shorter one starts
from a fresh sample of the seeds, so that a bounded run stays bounded.  Crashes,
timeouts and out-of-memory inputs land in ``fuzz/crashes/<target>/`` with their log and
a reproducer command.  Bugs already on file in ``fuzz/known.py`` are skipped unless
``--report-known``.  The exit status is 1 when anything new was found.  See
docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS_DIR = HERE / "corpus"
CRASH_DIR = HERE / "crashes"
DICT = HERE / "mime.dict"
SHARED = ROOT.parent / "shared" / "corpus"
#: seconds a target subprocess needs besides fuzzing (imports, instrumentation, seeds)
STARTUP = 2.0
#: a target with less time than this starts from a sample of the seeds, in a fresh corpus
QUICK = 60
ARTIFACTS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")
#: targets run without coverage instrumentation: the scaling target measures time, and
#: atheris' comparison hooks cost time that grows with the size of what is compared
UNINSTRUMENTED = frozenset({"scaling"})
#: more modules instrumented for a target (imported first, so the instrumented code runs)
EXTRA_COVERAGE = {
    "differential": (
        "email.feedparser",
        "email.parser",
        "email.message",
        "email._header_value_parser",
        "email.policy",
    )
}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# -- seeds -----------------------------------------------------------------------------------


@functools.cache
def seed_inputs() -> tuple[bytes, ...]:
    """Every seed message: examples, test fixtures, the shared corpus, rule fixtures and
    messages drawn from the strategies, without duplicates, in that order."""
    return tuple(dict.fromkeys(_seeds()))


def _seeds() -> Iterator[bytes]:
    for path in sorted((ROOT / "examples").glob("*.eml")):
        yield path.read_bytes()
    fixtures = ROOT / "tests" / "fixtures"
    if fixtures.is_dir():
        for path in sorted(fixtures.rglob("*")):
            if path.is_file() and path.suffix not in (".py", ".md", ".json"):
                yield path.read_bytes()
    if SHARED.is_dir():
        for path in sorted(SHARED.rglob("*")):
            if path.is_file() and "LICENSE" not in path.name.upper() and path.suffix != ".md":
                yield path.read_bytes()
    import mimeguard

    for rule in mimeguard.RULES.values():
        src = rule.fixture_source
        if isinstance(src, bytes) and len(src) <= 64 * 1024:
            yield src
    yield from _strategy_seeds()


def _strategy_seeds(count: int = 40) -> list[bytes]:
    """A fixed set of valid and malformed messages from mimeguard.strategies."""
    try:
        from hypothesis import HealthCheck, given, settings

        from mimeguard import strategies
    except ImportError:
        return []
    out: list[bytes] = []

    @settings(
        database=None,
        derandomize=True,
        max_examples=count,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategies.messages(max_parts=6), strategies.malformed_messages())
    def collect(valid: bytes, malformed: tuple[bytes, frozenset[str]]) -> None:
        out.append(valid)
        out.append(malformed[0])

    collect()
    return out


def sample(seeds: tuple[bytes, ...], count: int) -> list[bytes]:
    """``count`` seeds spread over the sizes (the same ones every time)."""
    if len(seeds) <= count:
        return list(seeds)
    by_size = sorted(seeds, key=len)
    step = len(by_size) / count
    return [by_size[int(i * step)] for i in range(count)]


def prepare_corpus(name: str, max_len: int, seconds: int) -> Path:
    """The corpus directory for a run of ``seconds``, with the seeds in it.

    Long runs use ``fuzz/corpus/<name>/``, which keeps what earlier runs found; short
    ones a fresh ``fuzz/corpus/quick-<name>/`` with a sample of the seeds, since
    libFuzzer runs every input of its corpus once before it looks at the clock.
    """
    seeds = seed_inputs()
    if seconds >= QUICK:
        work = CORPUS_DIR / name
    else:
        work = CORPUS_DIR / f"quick-{name}"
        shutil.rmtree(work, ignore_errors=True)
        seeds = tuple(sample(seeds, max(24, seconds * 6)))
    work.mkdir(parents=True, exist_ok=True)
    for data in seeds:
        data = data[:max_len]
        path = work / ("seed-" + hashlib.sha1(data).hexdigest())
        if not path.exists():
            path.write_bytes(data)
    return work


# -- the child: one target under atheris ----------------------------------------------------


def child(name: str, argv: list[str]) -> None:
    """Run target ``name`` under atheris (called in the subprocess)."""
    import atheris

    if name not in UNINSTRUMENTED:
        with atheris.instrument_imports(include=["mimeguard"]):
            import mimeguard  # noqa: F401  # instrumented for coverage before anyone uses it
    extra = EXTRA_COVERAGE.get(name, ())
    if extra:
        with atheris.instrument_imports(include=[m.split(".")[0] for m in extra]):
            for module in extra:
                __import__(module)
    from fuzz import targets

    run = targets.TARGETS[name].run
    if os.environ.get("MIMEGUARD_FUZZ_KNOWN") != "report":
        run = _skip_known(run)
    atheris.Setup([sys.argv[0], *argv], run)
    atheris.Fuzz()


def _skip_known(run: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """``run``, returning normally on inputs that hit a bug listed in fuzz/known.py."""
    from fuzz.known import known_issue

    seen: set[str] = set()

    def wrapped(data: bytes) -> None:
        try:
            run(data)
        except Exception as exc:
            known = known_issue(exc)
            if known is None:
                raise
            if known.fixtures[0] not in seen:
                seen.add(known.fixtures[0])
                print(f"KNOWN-ISSUE {known.fixtures[0]}", file=sys.stderr, flush=True)

    return wrapped


# -- the parent ------------------------------------------------------------------------------

_EXECS = re.compile(rb"^#(\d+)\s", re.MULTILINE)
_FINAL = re.compile(rb"stat::number_of_executed_units:\s*(\d+)")
_KNOWN = re.compile(rb"^KNOWN-ISSUE (\S+)", re.MULTILINE)


def available(names: list[str] | None) -> list[str]:
    """The targets to run: all of them by default, minus those whose API is missing."""
    import mimeguard
    from fuzz import targets

    chosen = names or list(targets.TARGETS)
    out = []
    for name in chosen:
        if name not in targets.TARGETS:
            raise SystemExit(f"unknown target {name!r}; choose from {', '.join(targets.TARGETS)}")
        target = targets.TARGETS[name]
        missing = [a for a in target.needs if getattr(mimeguard, a, None) is None]
        if missing:
            print(f"-- {name}: skipped, mimeguard has no {', '.join(missing)} yet")
            continue
        absent = [m for m in target.modules if importlib.util.find_spec(m) is None]
        if absent:
            print(f"-- {name}: skipped, {', '.join(absent)} not installed")
            continue
        out.append(name)
    return out


class Run:
    """What one libFuzzer process did."""

    def __init__(self, execs: int, found: list[Path], wall: float, known: set[str]) -> None:
        self.execs = execs
        self.found = found
        self.wall = wall
        self.known = known


def run_target(name: str, seconds: int, extra: list[str], report_known: bool = False) -> Run:
    """Fuzz ``name`` for ``seconds`` of wall time (the process is stopped at the end)."""
    from fuzz import targets

    target = targets.TARGETS[name]
    start = time.monotonic()
    work = prepare_corpus(name, target.max_len, seconds)
    crashes = CRASH_DIR / name
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    log_path = crashes / "last-run.log"
    fuzz_time = max(1, round(seconds - (time.monotonic() - start) - STARTUP))
    args = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--",
        f"-max_total_time={fuzz_time}",
        f"-timeout={target.timeout}",
        "-rss_limit_mb=1536",
        f"-max_len={target.max_len}",
        f"-dict={DICT}",
        f"-artifact_prefix={crashes}{os.sep}",
        "-print_final_stats=1",
        "-reload=0",
        *target.flags,
        *extra,
        str(work),
    ]
    env = dict(os.environ)
    if report_known:
        env["MIMEGUARD_FUZZ_KNOWN"] = "report"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        # libFuzzer looks at the clock only between inputs, after a first pass over the
        # corpus: past the deadline it is interrupted (it still prints its statistics),
        # and killed if that does not stop it
        left = seconds - (time.monotonic() - start)
        stopped = False  # we interrupted it at the deadline
        try:
            proc.wait(timeout=max(1.0, left) + 5)
        except subprocess.TimeoutExpired:
            stopped = True
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=target.timeout + 5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    wall = time.monotonic() - start
    text = log_path.read_bytes()
    final = _FINAL.findall(text)
    counts = _EXECS.findall(text)
    execs = int(final[-1]) if final else int(counts[-1]) if counts else 0
    found = sorted(p for p in set(crashes.iterdir()) - before if p.name.startswith(ARTIFACTS))
    for artifact in found:
        shutil.copyfile(log_path, artifact.with_name(artifact.name + ".log"))
    # libFuzzer says so when the signal lands between inputs; when it lands in the Python
    # target, atheris ends with "KeyboardInterrupt: stopping." instead: ours, no finding
    interrupted = b"libFuzzer: run interrupted" in text or (
        stopped and b"KeyboardInterrupt: stopping." in text
    )
    if proc.returncode not in (0, None) and not found and not interrupted:
        # the target died without an artifact (an import error, say): show the log
        sys.stdout.write(text[-4000:].decode("utf-8", "replace"))
        found = [log_path]
    known = {m.decode() for m in _KNOWN.findall(text)}
    return Run(execs, found, wall, known)


def _excerpt(log: Path) -> str:
    text = log.read_text("utf-8", "replace")
    start = text.find("=== Uncaught Python exception")
    if start < 0:
        start = max(text.find("==ERROR"), text.find("ERROR: libFuzzer"))
    if start < 0:
        return ""
    return text[start : start + 3000]


def fuzz(
    names: list[str],
    seconds: float,
    extra: list[str],
    keep_going: bool = False,
    report_known: bool = False,
) -> int:
    """Run ``names`` one after the other, ``seconds`` of wall time in total."""
    from fuzz import targets

    deadline = time.monotonic() + seconds
    seed_inputs()  # gathered once, inside the budget
    weights = {n: targets.TARGETS[n].weight for n in names}
    rows = []
    all_found: list[tuple[str, Path]] = []
    for i, name in enumerate(names):
        left = deadline - time.monotonic()
        share = left * weights[name] / sum(weights[n] for n in names[i:])
        budget = max(2, round(share))
        print(f"-- {name}: {budget} s ({targets.TARGETS[name].doc})", flush=True)
        run = run_target(name, budget, extra, report_known)
        execs, found, wall, known = run.execs, list(run.found), run.wall, set(run.known)
        while keep_going and found and wall < budget - 5 and len(found) < 20:
            # a finding stops libFuzzer: start again on the grown corpus for the rest
            more = run_target(name, round(budget - wall), extra, report_known)
            execs, wall, known = execs + more.execs, wall + more.wall, known | more.known
            found += more.found
            if not any(p.name.startswith(ARTIFACTS) for p in more.found):
                break  # it failed on an input already reported (a seed): no use going on
        rows.append((name, wall, execs, len(found)))
        for fixture in sorted(known):
            print(f"   known issue met again (fuzz/known.py): tests/fixtures/fuzz/{fixture}")
        for artifact in found:
            all_found.append((name, artifact))
            print(f"   FOUND {artifact.relative_to(ROOT)}")
            if artifact.name.startswith(ARTIFACTS):
                log = artifact.with_name(artifact.name + ".log")
                print(_indent(_excerpt(log)))
                print(f"   reproduce: python fuzz/run.py --reproduce {artifact} --target {name}")
    print()
    print(f"{'target':<14}{'seconds':>9}{'execs':>12}{'execs/s':>10}{'found':>7}")
    for name, wall, execs, n in rows:
        print(f"{name:<14}{wall:>9.1f}{execs:>12,}{execs / max(wall, 1e-9):>10,.0f}{n:>7}")
    total_execs = sum(r[2] for r in rows)
    print(f"{'total':<14}{sum(r[1] for r in rows):>9.1f}{total_execs:>12,}")
    if all_found:
        print(f"\n{len(all_found)} finding(s): see fuzz/crashes/; each becomes a regression")
        print("fixture under tests/fixtures/fuzz/ (tests/test_fuzz_regressions.py) before the fix.")
        return 1
    return 0


def _indent(text: str) -> str:
    return "\n".join("   | " + line for line in text.splitlines())


def reproduce(path: Path, name: str) -> int:
    """Replay ``path`` through target ``name`` without atheris; 1 when it fails."""
    from fuzz import targets

    if name not in targets.TARGETS:
        raise SystemExit(f"unknown target {name!r}; choose from {', '.join(targets.TARGETS)}")
    data = path.read_bytes()
    start = time.perf_counter()
    try:
        targets.TARGETS[name].run(data)
    except Exception:
        traceback.print_exc()
        print(f"{name}: FAILED on {path} ({len(data):,} bytes)")
        return 1
    print(f"{name}: ok on {path} ({len(data):,} bytes, {time.perf_counter() - start:.3f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        rest = argv[3:] if argv[2:3] == ["--"] else argv[2:]
        child(argv[1], rest)
        return 0
    parser = argparse.ArgumentParser(
        description="Run mimeguard's atheris fuzz targets for a bounded time.",
        epilog="Extra libFuzzer flags go after --, e.g. -- -jobs=2 -workers=2",
    )
    parser.add_argument("--seconds", type=float, default=60, help="wall time for all targets")
    parser.add_argument("--target", action="append", help="run only this target (repeatable)")
    parser.add_argument("--reproduce", type=Path, metavar="FILE", help="replay FILE, no atheris")
    parser.add_argument("--list", action="store_true", help="list the targets")
    parser.add_argument(
        "--keep-going", action="store_true", help="after a finding, go on fuzzing that target"
    )
    parser.add_argument(
        "--report-known",
        action="store_true",
        help="stop on the bugs listed in fuzz/known.py too (they are skipped by default)",
    )
    parser.add_argument("--clean", action="store_true", help="empty fuzz/corpus/ first")
    parser.add_argument("libfuzzer", nargs="*", help="extra libFuzzer flags, after --")
    args = parser.parse_args(argv)
    if args.list:
        from fuzz import targets

        for t in targets.TARGETS.values():
            print(f"{t.name:<14}{t.doc}")
        return 0
    if args.reproduce:
        if not args.target or len(args.target) != 1:
            parser.error("--reproduce needs exactly one --target")
        return reproduce(args.reproduce, args.target[0])
    if args.clean and CORPUS_DIR.exists():
        shutil.rmtree(CORPUS_DIR)
    names = available(args.target)
    if not names:
        print("no target to run")
        return 0
    return fuzz(names, args.seconds, args.libfuzzer, args.keep_going, args.report_known)


if __name__ == "__main__":
    sys.exit(main())
