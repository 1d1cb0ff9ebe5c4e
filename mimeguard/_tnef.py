"""The attachments inside a TNEF stream (``winmail.dat``, application/ms-tnef).

Outlook unpacks TNEF and shows the files it holds, so a filter must read them too.
This reads only what a filter needs: each attachment's names (attAttachTitle and the
MAPI properties PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME, PR_DISPLAY_NAME,
PR_ATTACH_EXTENSION) and the first bytes of its data, recursing into embedded
messages.  Layout: [MS-OXTNEF] section 2.1.3 (attributes) and 2.1.3.4 (MAPI
properties).  Anything that does not parse raises :class:`TnefError`: a caller that
filters fails closed.

``tnefparse`` (PyPI) was read and not used: it decodes every payload, logs and
swallows malformed property errors (a half-read stream looks complete), and is
2,300 lines for the 150 needed here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["SIGNATURE", "TnefAttachment", "TnefError", "read_tnef"]

SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
_MAX_ATTRIBUTES = 100_000
_MAX_DEPTH = 8
_HEAD = 512

_ATT_ATTACH_RENDDATA = 0x00069002  # starts an attachment
_ATT_ATTACH_TITLE = 0x00018010
_ATT_ATTACH_DATA = 0x0006800F
_ATT_ATTACHMENT = 0x00069005
_NAME_PROPS = frozenset({0x3707, 0x3704, 0x3001, 0x3703})
_PR_ATTACH_DATA = 0x3701
# an embedded message (PR_ATTACH_DATA_OBJ) starts with IID_IMessage
_IID_IMESSAGE = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_FIXED = {
    0x0002: 4,  # PtypInteger16, padded to 4
    0x0003: 4,
    0x0004: 4,
    0x0005: 8,
    0x0006: 8,
    0x0007: 8,
    0x000A: 4,
    0x000B: 4,  # PtypBoolean, padded to 4
    0x0014: 8,
    0x0040: 8,
    0x0048: 16,
}
_VARIABLE = frozenset({0x000D, 0x001E, 0x001F, 0x0102})


class TnefError(ValueError):
    """The stream is not readable TNEF."""


@dataclass(frozen=True, slots=True)
class TnefAttachment:
    """One file inside a TNEF stream: its names and the first bytes of its data."""

    names: tuple[str, ...]
    head: bytes


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise TnefError(f"truncated at byte {self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])


def _text(raw: bytes, unicode: bool) -> str:
    if unicode:
        return raw.decode("utf-16-le", "replace").split("\x00", 1)[0]
    # PT_STRING8 is in the message code page: cp1252 is what Outlook writes by far
    return raw.split(b"\x00", 1)[0].decode("cp1252", "replace")


def _mapi(data: bytes, depth: int) -> tuple[list[str], bytes, list[TnefAttachment]]:
    """Names, data head and embedded attachments of an attAttachment property list."""
    r = _Reader(data)
    names: list[str] = []
    head = b""
    inner: list[TnefAttachment] = []
    for _ in range(r.u32()):
        ptype, pid = r.u16(), r.u16()
        if pid >= 0x8000:  # a named property: GUID, kind, id or name
            r.take(16)
            if r.u32() == 0:
                r.take(4)
            else:
                n = r.u32()
                r.take(n + (-n % 4))
        multi = bool(ptype & 0x1000)
        ptype &= ~0x1000
        count = r.u32() if multi else 1
        if ptype in _VARIABLE:
            if not multi:  # a single variable-size value still has its count (1)
                count = r.u32()
            for _ in range(count):
                n = r.u32()
                value = r.take(n)
                r.take(-n % 4)
                if pid in _NAME_PROPS and ptype in (0x001E, 0x001F):
                    names.append(_text(value, ptype == 0x001F))
                elif pid == _PR_ATTACH_DATA:
                    if ptype == 0x000D and value.startswith(_IID_IMESSAGE):
                        inner += read_tnef(value[len(_IID_IMESSAGE) :], _depth=depth + 1)
                    elif ptype == 0x000D:
                        inner.append(TnefAttachment((), value[:_HEAD]))
                    else:
                        head = value[:_HEAD]
        elif ptype in _FIXED:
            r.take(_FIXED[ptype] * count)
        elif ptype == 0x0001:  # PtypNull
            pass
        else:
            raise TnefError(f"unknown MAPI property type 0x{ptype:04x}")
    return names, head, inner


def read_tnef(data: bytes, *, _depth: int = 0) -> list[TnefAttachment]:
    """Every attachment of the TNEF stream ``data``; raises :class:`TnefError`."""
    if _depth > _MAX_DEPTH:
        raise TnefError("embedded messages nested too deep")
    if not data.startswith(SIGNATURE):
        raise TnefError("no TNEF signature")
    r = _Reader(data, 6)  # signature, legacy key
    out: list[TnefAttachment] = []
    names: list[str] | None = None
    head = b""

    def close() -> None:
        if names is not None:
            out.append(TnefAttachment(tuple(names), head))

    for _ in range(_MAX_ATTRIBUTES):
        if r.pos == len(data):
            break
        level = r.take(1)[0]
        if level not in (1, 2):
            raise TnefError(f"bad attribute level {level} at byte {r.pos - 1}")
        attribute = r.u32()
        length = r.u32()
        value = r.take(length)
        checksum = r.u16()
        if sum(value) & 0xFFFF != checksum:
            raise TnefError(f"bad checksum of attribute 0x{attribute:08x}")
        if level != 2:
            continue
        if attribute == _ATT_ATTACH_RENDDATA:
            close()
            names, head = [], b""
        if names is None:
            names, head = [], b""
        if attribute == _ATT_ATTACH_TITLE:
            names.append(_text(value, False))
        elif attribute == _ATT_ATTACH_DATA:
            if value.startswith(_IID_IMESSAGE):
                out += read_tnef(value[len(_IID_IMESSAGE) :], _depth=_depth + 1)
            head = value[:_HEAD]
        elif attribute == _ATT_ATTACHMENT:
            found, data_head, inner = _mapi(value, _depth)
            names += found
            head = head or data_head
            out += inner
    else:
        raise TnefError("too many attributes")
    close()
    return out
