"""uuencoded files inside a body: ``begin <mode> <name>`` … ``end`` (POSIX uuencode).

Outlook Express, Thunderbird and many webmail readers show such a block in a text
body as an attachment, so a filter must see it; ``x-uuencode`` parts may carry their
name only in the ``begin`` line.
"""

from __future__ import annotations

import binascii
import re

from . import _abnf as g

__all__ = ["UuBlock", "uu_blocks", "uu_head"]

# "begin" mode name (mode octal; "begin-base64" is uuencode -m)
_BEGIN = re.compile(rb"(?m)^[ \t]*begin(?:-base64)?[ \t]+[0-7]{1,6}[ \t]+([^\r\n]*?)[ \t]*\r?$")
_END = re.compile(rb"(?m)^[ \t]*(?:end|====)[ \t]*\r?$")
_EOL = g.EOL

UuBlock = tuple[int, int, bytes]


def uu_blocks(data: bytes) -> list[UuBlock]:
    """``(start, end, name)`` of each block in ``data``; a block without ``end``
    runs to the end of ``data`` (a reader decodes what it can)."""
    out: list[UuBlock] = []
    pos = 0
    while True:
        m = _BEGIN.search(data, pos)
        if m is None:
            return out
        e = _END.search(data, m.end())
        end = len(data) if e is None else e.end()
        if e is not None and data.startswith(b"\r\n", end):
            end += 2
        elif e is not None and end < len(data) and data[end] in b"\r\n":
            end += 1
        out.append((m.start(), end, m.group(1)))
        pos = end


def uu_head(data: bytes, start: int, end: int, size: int = 512) -> bytes:
    """The first ``size`` decoded bytes of the block at ``data[start:end]``."""
    lines = _EOL.split(data[start : min(end, start + 64 * 1024)])
    out = bytearray()
    b64 = b"begin-base64" in lines[0] if lines else False
    for line in lines[1:]:
        if len(out) >= size or line.strip() in (b"end", b"===="):
            break
        try:
            out += binascii.a2b_base64(line) if b64 else binascii.a2b_uu(line)
        except binascii.Error:
            break
    return bytes(out[:size])
