"""One pass over the message bytes for the line-level rules.

The buffer is read in chunks of about 1 MiB that end at a line feed, so every
line lies in one chunk and each chunk stays in cache while it is counted,
split and tested with C-speed ``bytes`` methods.  Only a chunk that holds a
line over 998 octets, a bare CR or a bare LF is looked at more closely.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _grammar as g

__all__ = ["ByteStats", "first_line_over", "scan"]

CHUNK = 1 << 20
#: keep at most this many long-line positions (all are counted)
MAX_LONG_LINES = 1000


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
    pos = start
    while pos < end:
        stop = end
        if pos + CHUNK < end:
            nl = buf.find(b"\n", pos + CHUNK, end)
            stop = end if nl < 0 else nl + 1
        chunk = buf[pos:stop]
        lf = chunk.count(b"\n")
        cr = chunk.count(b"\r")
        crlf = chunk.count(b"\r\n") if lf and cr else 0
        st.crlf += crlf
        if lf != crlf:
            st.lf += lf - crlf
            if st.first_bare_lf < 0:
                m = g.BARE_LF.search(buf, pos, stop)
                st.first_bare_lf = -1 if m is None else m.start()
        if cr != crlf:
            st.cr += cr - crlf
            if st.first_bare_cr < 0:
                m = g.BARE_CR.search(buf, pos, stop)
                st.first_bare_cr = -1 if m is None else m.start()
        if st.ascii and not chunk.isascii():
            st.ascii = False
        nul = chunk.count(b"\x00")
        if nul:
            if st.first_nul < 0:
                st.first_nul = pos + chunk.find(b"\x00")
            st.nul += nul
        if _over(chunk, 998):
            _long_lines(st, chunk.split(b"\n"), pos)
        pos = stop
    return st


def _over(chunk: bytes, limit: int) -> bool:
    """Cheap test: might a line of ``chunk`` be longer than ``limit``?

    Splitting at CRLF, and then at LF, gives pieces no shorter than the real
    lines, so when either split has no piece over ``limit`` no line is.
    """
    return max(map(len, chunk.split(b"\r\n"))) > limit and max(map(len, chunk.split(b"\n"))) > limit


def _long_lines(st: ByteStats, lines: list[bytes], pos: int) -> None:
    """Record the lines over 998 octets (a CR ends a line too, like the parser reads it)."""
    for line in lines:
        n = len(line)
        if n > 998:
            body = line[:-1] if line.endswith(b"\r") else line
            off = pos
            for piece in body.split(b"\r") if b"\r" in body else (body,):
                if len(piece) > 998:
                    st.long_line_count += 1
                    if len(st.long_lines) < MAX_LONG_LINES:
                        st.long_lines.append((off, len(piece)))
                off += len(piece) + 1
        pos += n + 1


def first_line_over(buf: bytes, start: int, end: int, limit: int) -> int:
    """Offset of the first line in ``buf[start:end]`` longer than ``limit``
    (line ending excluded), or -1.  Linear, chunked like :func:`scan`."""
    pos = start
    while pos < end:
        stop = end
        if pos + CHUNK < end:
            nl = buf.find(b"\n", pos + CHUNK, end)
            stop = end if nl < 0 else nl + 1
        chunk = buf[pos:stop]
        if _over(chunk, limit):
            for line in chunk.split(b"\n"):
                n = len(line)
                if n > limit and len(line.rstrip(b"\r")) > limit:
                    return pos
                pos += n + 1
        pos = stop
    return -1
