"""One pass over the message bytes for the line-level rules.

Line endings, NUL and 8-bit bytes are counted over the whole buffer with
C-speed ``bytes`` methods, without copying it.  Long lines are looked for in
chunks of about 64 KiB that end at a line feed (so every line lies in one
chunk): each chunk is translated to a map of its line breaks, where a run of
more than 998 ordinary bytes is found with ``bytes.find``.  Only a chunk that
holds a long line is walked line by line.  No copy is larger than a chunk,
except when a single line is larger still.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _grammar as g

__all__ = ["ByteStats", "first_line_over", "scan"]

CHUNK = 1 << 16
#: below this many bytes, first_line_over splits a chunk into lines rather than search it
_SHORT = 1 << 15
#: keep at most this many long-line positions (all are counted)
MAX_LONG_LINES = 1000

#: Every byte becomes ``x`` except CR and LF, which stay: in the translated chunk a
#: run of ``x`` is a piece of a line between line breaks.
_BREAKS = bytes(b if b in (10, 13) else 120 for b in range(256))
_RUNS: dict[int, bytes] = {}


def _run(limit: int) -> bytes:
    run = _RUNS.get(limit)
    if run is None:
        run = _RUNS[limit] = b"x" * (limit + 1)
    return run


@dataclass(slots=True)
class ByteStats:
    crlf: int = 0
    lf: int = 0  #: bare LF
    cr: int = 0  #: bare CR
    first_bare_lf: int = -1
    first_bare_cr: int = -1
    nul: int = 0
    first_nul: int = -1
    ascii: bool = True
    #: (offset, length) of lines longer than 998 octets, line ending excluded
    long_lines: list[tuple[int, int]] = field(default_factory=list)
    long_line_count: int = 0


def scan(buf: bytes, start: int, end: int) -> ByteStats:
    st = ByteStats()
    lf = buf.count(b"\n", start, end)
    cr = buf.count(b"\r", start, end)
    bare_cr = g.BARE_CR.search(buf, start, end) if cr else None
    crlf = 0
    if lf and cr:
        # Without a bare CR every CR starts a CRLF (cheaper than counting CRLFs).
        crlf = cr if bare_cr is None else buf.count(b"\r\n", start, end)
    st.crlf = crlf
    if lf != crlf:
        st.lf = lf - crlf
        m = g.BARE_LF.search(buf, start, end)
        st.first_bare_lf = -1 if m is None else m.start()
    if cr != crlf:
        st.cr = cr - crlf
        st.first_bare_cr = -1 if bare_cr is None else bare_cr.start()
    first_nul = buf.find(b"\x00", start, end)
    if first_nul >= 0:
        st.nul = buf.count(b"\x00", start, end)
        st.first_nul = first_nul
    if start == 0 and end == len(buf):
        st.ascii = buf.isascii()
    else:
        st.ascii = all(buf[p : min(p + CHUNK, end)].isascii() for p in range(start, end, CHUNK))
    # Lines over 998 octets are exactly the runs of more than 998 bytes that are
    # neither CR nor LF (a CR ends a line too, like the parser reads it).
    run = _run(998)
    pos = start
    while pos < end:
        stop = _chunk_end(buf, pos, end)
        size = stop - pos
        if size > 998 and (size > CHUNK + 999 or run in buf[pos:stop].translate(_BREAKS)):
            _long_lines(st, buf, pos, stop)
        pos = stop
    return st


def _chunk_end(buf: bytes, pos: int, end: int) -> int:
    """End of the chunk starting at ``pos``: just after the first LF ``CHUNK`` bytes on."""
    if pos + CHUNK >= end:
        return end
    nl = buf.find(b"\n", pos + CHUNK, end)
    return end if nl < 0 else nl + 1


def _long_lines(st: ByteStats, buf: bytes, pos: int, stop: int) -> None:
    """Record the runs of more than 998 bytes without CR or LF in ``buf[pos:stop]``."""
    while pos < stop:
        nl = buf.find(b"\n", pos, stop)
        eol = stop if nl < 0 else nl
        if eol - pos > 998:
            off = pos
            while off <= eol:
                r = buf.find(b"\r", off, eol)
                piece = eol if r < 0 else r
                if piece - off > 998:
                    st.long_line_count += 1
                    if len(st.long_lines) < MAX_LONG_LINES:
                        st.long_lines.append((off, piece - off))
                if r < 0:
                    break
                off = r + 1
        pos = eol + 1


def first_line_over(buf: bytes, start: int, end: int, limit: int) -> int:
    """Offset of the first line in ``buf[start:end]`` longer than ``limit``
    (line ending excluded), or -1.  Linear, chunked like :func:`scan`.

    Lines are split at LF; CRs at the end of a line belong to its ending.
    """
    run = _run(limit)
    pos = start
    while pos < end:
        stop = _chunk_end(buf, pos, end)
        size = stop - pos
        if size > limit and (size > CHUNK + limit + 1 or _may_be_over(buf, pos, stop, run)):
            # (a chunk much longer than CHUNK holds a long line: walked, not translated)
            at = _first_over(buf, pos, stop, limit)
            if at >= 0:
                return at
        pos = stop
    return -1


def _may_be_over(buf: bytes, pos: int, stop: int, run: bytes) -> bool:
    """False when no line of ``buf[pos:stop]`` is longer than ``len(run) - 1``.

    Without a run of that many bytes that are neither CR nor LF, and without a bare CR
    (one inside a line), no line is too long.  On short inputs ``bytes.find`` does not
    switch to its linear algorithm and a run of ``x`` needs many comparisons per byte
    where lines are shorter than the run, so short chunks are split into lines instead:
    a line longer than the limit makes a longer piece in both splits.
    """
    if stop - pos < _SHORT:
        chunk = buf[pos:stop]
        limit = len(run) - 1
        return (
            max(map(len, chunk.split(b"\r\n"))) > limit
            and max(map(len, chunk.split(b"\n"))) > limit
        )
    return run in buf[pos:stop].translate(_BREAKS) or g.BARE_CR.search(buf, pos, stop) is not None


def _first_over(buf: bytes, pos: int, stop: int, limit: int) -> int:
    while pos < stop:
        nl = buf.find(b"\n", pos, stop)
        eol = stop if nl < 0 else nl
        if eol - pos > limit:
            body = eol
            while body > pos and buf[body - 1] == 13:
                body -= 1
            if body - pos > limit:
                return pos
        pos = eol + 1
    return -1
