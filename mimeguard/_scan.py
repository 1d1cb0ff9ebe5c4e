"""One pass over the message bytes for the line-level rules.

Line endings, NUL and 8-bit bytes are counted over the whole buffer with
C-speed ``bytes`` methods, without copying it.  Long lines are looked for in
chunks of about 64 KiB that end at a line feed (so every line lies in one
chunk): each chunk is translated to a map of its line breaks, where a run of
more than 998 ordinary bytes is found with ``bytes.find``.  Only a chunk that
holds a long line is walked line by line.  No copy is larger than a chunk,
except when a single line is larger still.

Base64 bodies, most of the bytes of a large message, are looked at once
(:func:`base64_body`): deleting the alphabet leaves the line breaks, padding and
anything wrong, and when the body turns out to be lines of one width (checked on a
strided slice of the line-break positions) the line-level scan skips it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import _abnf as g

__all__ = [
    "Base64Body",
    "ByteStats",
    "ascii_span",
    "base64_body",
    "field_end",
    "first_line_over",
    "scan",
]

CHUNK = 1 << 16
#: below this many bytes, first_line_over splits a chunk into lines rather than search it
_SHORT = 1 << 15
#: keep at most this many long-line positions (all are counted)
MAX_LONG_LINES = 1000
_MAX_LINE = g.MAX_LINE_OCTETS
#: a chunk longer than this holds a line over the limit (it ends at the first LF past CHUNK)
_LONG_CHUNK = CHUNK + _MAX_LINE + 1

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


def scan(
    buf: bytes, start: int, end: int, regular: Iterable[tuple[int, int, int]] = ()
) -> ByteStats:
    """Line endings, NUL, 8-bit bytes and long lines of ``buf[start:end]``.

    ``regular`` lists ``(start, end, crlf)`` of sorted, disjoint regions known to be
    lines of at most 998 octets, each ended by CRLF (the last may end at the region's
    end), with ``crlf`` line breaks, no other CR or LF and only base64 characters besides
    (see :func:`base64_body`): they are counted, not scanned.  A region that does not
    start a line or end one is scanned like the rest.
    """
    st = ByteStats()
    pos = start
    for a, b, crlf in regular:
        if a < pos or b > end or (a > start and buf[a - 1] != 10):
            continue
        if b < end and buf[b] not in (10, 13):
            continue
        _irregular(st, buf, pos, a)  # a regular region is base64: ASCII, no NUL
        st.crlf += crlf
        pos = b
    _irregular(st, buf, pos, end)
    return st


def _irregular(st: ByteStats, buf: bytes, start: int, end: int) -> None:
    """Add what :func:`scan` tells of ``buf[start:end]``, a stretch it reads byte by byte."""
    first_nul = buf.find(b"\x00", start, end)
    if first_nul >= 0:
        st.nul += buf.count(b"\x00", start, end)
        if st.first_nul < 0:
            st.first_nul = first_nul
    _lines(st, buf, start, end)
    st.ascii = st.ascii and ascii_span(buf, start, end)


def ascii_span(buf: bytes, start: int, end: int) -> bool:
    """No byte of ``buf[start:end]`` is 8-bit (read a chunk at a time: memory stays flat)."""
    return all(buf[p : min(p + CHUNK, end)].isascii() for p in range(start, end, CHUNK))


def _lines(st: ByteStats, buf: bytes, start: int, end: int) -> None:
    """Add the line endings and long lines of ``buf[start:end]`` to ``st``."""
    if start >= end:
        return
    lf = buf.count(b"\n", start, end)
    cr = buf.count(b"\r", start, end)
    crlf = buf.count(b"\r\n", start, end) if lf and cr else 0
    # every CR starting a CRLF: no bare CR, and no regex search for one
    bare_cr = g.BARE_CR.search(buf, start, end) if cr != crlf else None
    st.crlf += crlf
    if lf != crlf:
        st.lf += lf - crlf
        if st.first_bare_lf < 0:
            m = g.BARE_LF.search(buf, start, end)
            st.first_bare_lf = -1 if m is None else m.start()
    if cr != crlf:
        st.cr += cr - crlf
        if st.first_bare_cr < 0:
            st.first_bare_cr = -1 if bare_cr is None else bare_cr.start()
    # Lines over 998 octets are exactly the runs of more than 998 bytes that are
    # neither CR nor LF (a CR ends a line too, like the parser reads it).
    if _lf_within(buf, start, end, _MAX_LINE):
        return
    run = _run(_MAX_LINE)
    pos = start
    while pos < end:
        stop = _chunk_end(buf, pos, end)
        size = stop - pos
        if size > _MAX_LINE and (size > _LONG_CHUNK or _may_hold_run(buf, pos, stop, run)):
            _long_lines(st, buf, pos, stop)
        pos = stop


def _may_hold_run(buf: bytes, pos: int, stop: int, run: bytes) -> bool:
    """False when ``buf[pos:stop]`` has no run of ``len(run)`` bytes that are neither CR
    nor LF.  A short chunk is split at LF (a piece holding such a run is at least as long;
    a CR in a long piece only costs the exact walk), which beats preparing a search for
    a 999-byte needle on a few kilobytes."""
    if stop - pos < _SHORT:
        return max(map(len, buf[pos:stop].split(b"\n"))) >= len(run)
    return run in buf[pos:stop].translate(_BREAKS)


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
        if eol - pos > _MAX_LINE:
            off = pos
            while off <= eol:
                r = buf.find(b"\r", off, eol)
                piece = eol if r < 0 else r
                if piece - off > _MAX_LINE:
                    st.long_line_count += 1
                    if len(st.long_lines) < MAX_LONG_LINES:
                        st.long_lines.append((off, piece - off))
                if r < 0:
                    break
                off = r + 1
        pos = eol + 1


def _lf_within(buf: bytes, start: int, end: int, limit: int) -> bool:
    """Is there an LF in every ``limit + 1`` bytes of ``buf[start:end]`` (so that no
    line is longer than ``limit``)?  One backward search per ``limit`` bytes or so,
    each from the end of the reach to its last LF: no copy, and on text of short lines
    a few times faster than translating it (it answers no at the first long line)."""
    pos = start
    while end - pos > limit:
        nl = buf.rfind(b"\n", pos, pos + limit + 1)
        if nl < 0:
            return False
        pos = nl + 1
    return True


def first_line_over(buf: bytes, start: int, end: int, limit: int) -> int:
    """Offset of the first line in ``buf[start:end]`` longer than ``limit``
    (line ending excluded), or -1.  Linear, chunked like :func:`scan`.

    Lines are split at LF; CRs at the end of a line belong to its ending.
    """
    if _lf_within(buf, start, end, limit):
        return -1
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


# -- base64 bodies -----------------------------------------------------------------------------

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: line breaks checked per strided slice in :func:`_regular_width`
_LINES_PER_SLICE = 1 << 13
_WS = b" \t\r\n"
_WS_PAD = _WS + b"="


@dataclass(frozen=True, slots=True)
class Base64Body:
    """What one pass over a base64 body tells."""

    #: (offset, message) of what makes it invalid base64 (RFC 2045 section 6.8), or None
    problem: tuple[int, str] | None
    #: the longest line, when the body is valid and its lines are of one width (the last
    #: may be shorter) ended by CRLF, with no other CR or LF; 0 otherwise
    width: int = 0
    #: its number of CRLFs, when ``width`` is set
    crlf: int = 0


def base64_body(buf: bytes, start: int, end: int) -> Base64Body:
    """Check ``buf[start:end]`` as base64 without decoding it, a chunk at a time.

    One ``translate`` per chunk deletes the alphabet; what is left (whitespace, ``=``,
    anything else) is small and tells the alphabet, the padding, the length in
    characters, and how many CR and LF there are.  When CR and LF come in pairs, the
    positions where a body of lines of one width has them are read as two strided
    slices; if all are there, there is no other line break and no line is longer.
    """
    total = 0  # base64 characters seen, whitespace excluded
    first_pad = -1
    pads = 0
    cr = lf = 0
    pos = start
    while pos < end:
        # a chunk's slice and its translation (allocated at full size) are alive at once:
        # two CHUNKs whatever the body (1 MiB chunks made a 1 MB message's validation
        # hold twice its size, for 4% less time on 20 MB)
        stop = min(end, pos + CHUNK)
        rest = buf[pos:stop].translate(None, _B64_ALPHABET)
        if rest.translate(None, _WS_PAD):
            # Report the first bad character of the 1 MiB window it lies in.
            w = start + ((pos - start) >> 20 << 20)
            bad = g.BASE64_BAD_CHAR.search(buf, w, min(end, w + (1 << 20)))
            at = w if bad is None else bad.start()
            return Base64Body((at, f"character {buf[at : at + 1]!r} is not base64"))
        n = rest.count(b"=")
        if n:
            if first_pad < 0:
                first_pad = total + buf[pos:stop].translate(None, _WS).find(b"=")
            pads += n
        cr += rest.count(b"\r")
        lf += rest.count(b"\n")
        total += stop - pos - len(rest) + n
        pos = stop
    if total % 4:
        return Base64Body((start, f"{total:,} base64 characters is not a multiple of 4"))
    if pads and (pads > 2 or first_pad != total - pads):
        return Base64Body((start, "'=' padding in the middle of the data or more than two of it"))
    if cr != lf:
        return Base64Body(None)
    return Base64Body(None, _regular_width(buf, start, end, cr), cr)


def _regular_width(buf: bytes, start: int, end: int, k: int) -> int:
    """The longest line of ``buf[start:end]``, which holds ``k`` CRs and ``k`` LFs, when
    all but the last CRLF-ended line have one width and the CRLFs are where that puts
    them; else 0.  Lines over 998 octets give 0 too."""
    if k == 0:
        width = end - start
        return width if width <= _MAX_LINE else 0
    w = buf.find(b"\r\n", start, end) - start
    last = buf.rfind(b"\r\n", start, end)
    if w <= 0 or w > _MAX_LINE:
        return 0
    step = w + 2
    tail_line = last - (start + (k - 1) * step)  # the last CRLF-ended line
    tail = end - (last + 2)  # what follows the last CRLF
    if not 0 <= tail_line <= w or tail > _MAX_LINE:
        return 0
    # the k - 1 CRLFs before the last one, read a block of lines at a time (memory stays flat)
    crs, lfs = b"\r" * _LINES_PER_SLICE, b"\n" * _LINES_PER_SLICE
    for first in range(0, k - 1, _LINES_PER_SLICE):
        n = min(_LINES_PER_SLICE, k - 1 - first)
        a = start + w + first * step
        b = a + n * step
        if buf[a:b:step] != crs[:n] or buf[a + 1 : b + 1 : step] != lfs[:n]:
            return 0
    return max(w, tail)


#: below this many bytes, field_end looks at the line breaks one by one
_FIELD_STEP = 1 << 12


def _all_folds(buf: bytes, a: int, b: int, stop: int) -> bool:
    """Every LF in ``buf[a:b]`` is followed, before ``stop``, by a space or a tab."""
    c = min(b + 1, stop)
    return buf.count(b"\n", a, b) == buf.count(b"\n ", a, c) + buf.count(b"\n\t", a, c)


def field_end(buf: bytes, pos: int, stop: int) -> int:
    """Where the header field starting at ``pos`` ends (RFC 5322 section 2.2.3: after the
    first line break not followed by a space or a tab), reading no further than ``stop``;
    -1 when a lone CR is a line break in it (the caller's regex decides then).

    A few ``count`` passes over windows that double, then halve around the end, so a field
    of a million folded lines costs a handful of C scans, not a regex step per byte.
    """
    a, size = pos, _FIELD_STEP
    while a < stop:  # windows that double while every line break folds
        b = min(stop, a + size)
        if not _all_folds(buf, a, b, stop):
            break
        a, size = b, size * 2
    else:
        end = stop
        return end if buf.count(b"\r", pos, end) == buf.count(b"\r\n", pos, end) else -1
    while b - a > _FIELD_STEP:  # the first unfolded LF lies in [a, b)
        mid = (a + b) // 2
        if _all_folds(buf, a, mid, stop):
            a = mid
        else:
            b = mid
    while True:
        lf = buf.find(b"\n", a, b)
        if lf < 0 or lf + 1 >= stop or buf[lf + 1] not in (32, 9):
            break
        a = lf + 1
    end = stop if lf < 0 else lf + 1
    if buf.count(b"\r", pos, end) != buf.count(b"\r\n", pos, end):
        return -1  # a lone CR ends a line too: not a count this reading can make
    return end
