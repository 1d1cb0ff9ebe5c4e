"""The source lines under a finding, made printable, with a caret line under its bytes.

``mimeguard check`` prints, under each finding, the line(s) its byte span covers
and ``^~~~`` under the span, the way packaging renders its parse errors.  Mail
lines hold anything: control characters and 8-bit bytes are shown escaped
(``\\t``, ``\\x00``, ``\\xe9``) so each byte has a fixed printed width and the
caret stays under it, and a long line is windowed around the span so that no
printed line runs much past :data:`WIDTH` columns.  Only a window of bytes is
looked at, however long the line: the cost is per finding, not per byte.
"""

from __future__ import annotations

__all__ = ["WIDTH", "Excerpt", "excerpt"]

#: printed columns of source shown per line (the ellipses and indent come on top)
WIDTH = 96
#: lines of a span shown at most (a span crossing folds covers several)
MAX_LINES = 3
#: columns of context kept left of the span when a long line is windowed
_LEFT = 24
_ELLIPSIS = "…"

#: per byte, how it prints: printable ASCII as itself, everything else escaped
_SHOW = tuple(
    chr(b) if 0x20 <= b < 0x7F else {9: "\\t", 10: "\\n", 13: "\\r"}.get(b, f"\\x{b:02x}")
    for b in range(256)
)

#: ``(source, carets)`` pairs: a printable line and, under it, ``^~~`` under the span
Excerpt = tuple[tuple[str, str], ...]


def excerpt(data: bytes, offset: int, end: int) -> Excerpt:
    """The lines of ``data`` that ``[offset, end)`` touches, each with its caret line.

    A zero-length span (a point) gets one ``^`` at its offset, after the line's
    last byte when it points at the line ending or the end of the buffer.
    """
    size = len(data)
    offset = max(0, min(offset, size))
    end = max(offset, min(end, size))
    out: list[tuple[str, str]] = []
    start = data.rfind(b"\n", 0, offset) + 1
    while len(out) < MAX_LINES:
        stop = data.find(b"\n", start)
        stop = size if stop < 0 else stop
        text_end = stop - 1 if stop > start and data[stop - 1] == 0x0D else stop
        a = min(max(offset, start), text_end)  # a span may start on the line ending
        b = min(end, text_end)
        out.append(_render(data, start, text_end, a - start, max(a, b) - start, not out))
        if end <= stop + 1 or stop >= size:
            break
        start = stop + 1
    return tuple(out)


def _render(
    data: bytes, start: int, stop: int, a: int, b: int, first_line: bool
) -> tuple[str, str]:
    """Line ``data[start:stop]`` printed, with carets under its bytes ``[a, b)`` (line-relative).

    On the span's first line an empty ``[a, b)`` (a point, or a span starting at
    the line ending) still gets one ``^``.
    """
    # Bytes beyond what a window of WIDTH columns can show are never escaped.
    lo = max(0, a - WIDTH)
    hi = min(stop - start, min(max(b, a + 1), a + 4 * WIDTH) + WIDTH)
    pieces = [_SHOW[c] for c in data[start + lo : start + hi]]
    cols = [0]
    for p in pieces:
        cols.append(cols[-1] + len(p))
    ca = cols[a - lo]
    cb = cols[min(b, hi) - lo]
    total = cols[-1]
    first = 0  # the first piece shown
    if lo > 0 or total > WIDTH:
        left = ca - _LEFT if cb - ca <= WIDTH - _LEFT else ca - 4
        w0 = max(0, min(left, total - WIDTH))
        while cols[first] < w0:
            first += 1
    last = first
    while last < len(pieces) and cols[last + 1] - cols[first] <= WIDTH:
        last += 1
    shown = "".join(pieces[first:last])
    head = _ELLIPSIS if lo + first > 0 else ""
    tail = _ELLIPSIS if lo + last < stop - start else ""
    origin = cols[first] - len(head)
    right = cols[last] + len(tail)
    if ca == cb:
        carets = " " * (ca - origin) + "^" if first_line else ""
    else:
        width = min(cb, right) - ca
        carets = " " * (ca - origin) + "^" + "~" * max(0, width - 1)
    return head + shown + tail, carets
