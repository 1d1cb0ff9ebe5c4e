"""The engine behind ``mimeguard check``: validate many files, stream small results.

Each file is read and validated where it is checked (in a worker process with
``--jobs`` > 1) and only a :class:`FileResult` (plain tuples of findings) comes
back, in the order the files were given.  At most a few chunks per worker are
in flight, so memory stays flat however many files there are.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from . import _abnf as g
from ._carets import Excerpt, excerpt
from .validation import validate

__all__ = [
    "FileResult",
    "Located",
    "Settings",
    "Task",
    "check_one",
    "default_jobs",
    "mbox_hits",
    "placed",
    "run",
    "split_mbox",
]

_BARE_LF = g.BARE_LF
_FROM_LINE = re.compile(rb"^From [^\r\n]*(?:" + g.EOL.pattern + rb")?", re.MULTILINE)


class Located(NamedTuple):
    """One finding, positioned in the file (for mbox files: in the whole mailbox)."""

    code: str
    name: str
    severity: str
    message: str
    part: str
    offset: int
    line: int
    column: int
    #: 1-based number of the message in an mbox file, 0 for a single message
    msgno: int = 0
    #: exclusive end of the span ``[offset, end)`` (``-1``: a point at ``offset``)
    end: int = -1
    #: 1-based line and column of ``end`` (0 until :func:`placed` fills them in)
    end_line: int = 0
    end_column: int = 0
    #: the source lines under the span with their caret lines (``mimeguard._carets``)
    excerpt: Excerpt = ()


class FileResult(NamedTuple):
    display: str
    hits: tuple[Located, ...] = ()
    size: int = 0
    messages: int = 1
    #: why the file could not be checked (``None`` when it was)
    error: str | None = None


class Task(NamedTuple):
    path: str
    display: str
    #: codes ignored for this file on top of the global ones (``per-file-ignores``)
    ignore: tuple[str, ...] = ()
    #: the bytes, for standard input (read in the parent process)
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    profile: str = "workmail"
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    warnings_as_errors: bool = False


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def split_mbox(data: bytes) -> list[tuple[int, int]]:
    """The ``(start, end)`` of every message of an mbox file, ``From_`` lines excluded.

    A message starts after a ``From `` line at the start of the file or after an
    empty line; the empty line before the next ``From `` line is the separator,
    not part of the message.  Data that does not start with ``From `` is one message.
    """
    if not data.startswith(b"From "):
        return [(0, len(data))]
    starts = [
        m
        for m in _FROM_LINE.finditer(data)
        if m.start() == 0 or data.endswith((b"\n\n", b"\r\n\r\n"), 0, m.start())
    ]
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(starts):
        start = m.end()
        end = starts[i + 1].start() if i + 1 < len(starts) else len(data)
        if data.endswith(b"\r\n\r\n", start, end):
            end -= 2
        elif data.endswith(b"\n\n", start, end):
            end -= 1
        spans.append((start, max(start, end)))
    return spans


def check_one(task: Task, settings: Settings) -> FileResult:
    """Read and validate one file; never raises."""
    try:
        data = task.data
        if data is None:
            with open(task.path, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        return FileResult(task.display, error=exc.strerror or str(exc))
    try:
        return _check_bytes(task, data, settings)
    except Exception as exc:  # a bug in mimeguard: report it, go on with the other files
        return FileResult(task.display, error=f"internal error: {type(exc).__name__}: {exc}")


def _check_bytes(task: Task, data: bytes, settings: Settings) -> FileResult:
    ignore = settings.ignore + task.ignore
    mbox = task.path.lower().endswith(".mbox") or task.display.lower().endswith(".mbox")
    if not mbox:
        hits = placed(data, tuple(_hits(data, settings, ignore)))
        return FileResult(task.display, hits, len(data), 1)
    hits, messages = mbox_hits(data, settings, ignore)
    return FileResult(task.display, placed(data, hits), len(data), messages)


def placed(data: bytes, hits: tuple[Located, ...]) -> tuple[Located, ...]:
    """``hits`` (positioned in ``data``) with the line and column of their end and their excerpt."""
    out = []
    for hit in hits:
        end = max(hit.offset, hit.end)
        line = hit.line + data.count(b"\n", hit.offset, end)
        column = end - (data.rfind(b"\n", 0, end) + 1) + 1
        out.append(
            hit._replace(
                end=end, end_line=line, end_column=column, excerpt=excerpt(data, hit.offset, end)
            )
        )
    return tuple(out)


def mbox_hits(
    data: bytes, settings: Settings, ignore: tuple[str, ...]
) -> tuple[tuple[Located, ...], int]:
    """The findings of every message of an mbox file, and the number of messages.

    Positions are in the whole file: the line of the mbox, the byte offset in it and
    the message number (``msgno``); ``check`` and ``fix`` both report them so.  In an
    mbox written with LF line endings (its ``From_`` line ends with a bare LF) each
    message is judged as if its lines ended with CRLF: the LFs are the mailbox's
    storage format, not the message's (RFC 4155 §2), and would otherwise make every
    message fail MG111.
    """
    spans = split_mbox(data)
    first = data.find(b"\n")
    lf_box = data.startswith(b"From ") and first > 0 and data[first - 1 : first] != b"\r"
    hits: list[Located] = []
    for index, (start, end) in enumerate(spans, 1):
        message = data[start:end]
        base_line = data.count(b"\n", 0, start) if start else 0
        to_original: Callable[[int], int] | None = None
        if lf_box:
            message, to_original = _as_crlf(message)
        for hit in _hits(message, settings, ignore):
            offset = to_original(hit.offset) if to_original else hit.offset
            end = to_original(hit.end) if to_original else hit.end
            hits.append(
                hit._replace(
                    offset=offset + start, end=end + start, line=hit.line + base_line, msgno=index
                )
            )
    return tuple(hits), len(spans)


def _as_crlf(message: bytes) -> tuple[bytes, Callable[[int], int]]:
    """``message`` with every bare LF made CRLF, and the map back to offsets in ``message``."""
    if b"\r" not in message:
        converted = message.replace(b"\n", b"\r\n")
        # every LF before offset c in the result was preceded by one inserted CR
        return converted, lambda c: c - converted.count(b"\n", 0, c)
    inserted: list[int] = []
    for k, m in enumerate(_BARE_LF.finditer(message)):  # rare: an LF mbox holding CRLF mail
        inserted.append(m.start() + k)
    converted = _BARE_LF.sub(b"\r\n", message)
    return converted, lambda c: c - bisect.bisect_left(inserted, c)


def _hits(message: bytes, settings: Settings, ignore: tuple[str, ...]) -> Iterator[Located]:
    report = validate(message, profile=settings.profile, select=settings.select, ignore=ignore)
    for f in report.findings:
        severity = f.severity
        if settings.warnings_as_errors and severity == "warning":
            severity = "error"
        yield Located(
            f.code, f.name, severity, f.message, f.part, f.offset, f.line, f.column, end=f.end
        )


# -- running many -------------------------------------------------------------------------------

_SETTINGS = Settings()


def _init(settings: Settings) -> None:
    global _SETTINGS
    _SETTINGS = settings


def _check_chunk(tasks: Sequence[Task]) -> list[FileResult]:
    return [check_one(t, _SETTINGS) for t in tasks]


def _chunks(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    it = iter(tasks)
    while chunk := list(islice(it, size)):
        yield chunk


def run(tasks: Sequence[Task], settings: Settings, jobs: int) -> Iterator[FileResult]:
    """Check ``tasks`` and yield their results in order, as soon as each is ready.

    With one job (or one file) everything runs in this process; otherwise in
    ``jobs`` worker processes, with at most four chunks per worker in flight.
    """
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield check_one(task, settings)
        return
    workers = min(jobs, len(tasks))
    size = max(1, min(64, len(tasks) // (workers * 16)))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(settings,))
    try:
        pending: deque[Future[list[FileResult]]] = deque()
        chunks = _chunks(tasks, size)
        for chunk in islice(chunks, workers * 4):
            pending.append(pool.submit(_check_chunk, chunk))
        while pending:
            results = pending.popleft().result()
            nxt = next(chunks, None)
            if nxt is not None:
                pending.append(pool.submit(_check_chunk, nxt))
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
