"""What a part's first bytes say it is: executables found by their magic numbers.

Only the start of a body is read: the first 4 KiB of a base64 body (decoded) or of a
quoted-printable or unencoded one, so the check costs the same for a 1 KB part and a
30 MB one.
"""

from __future__ import annotations

import binascii
import re

from .message import Part, decode_qp

__all__ = ["HEAD_BYTES", "executable_kind", "head", "part_executable"]

#: decoded bytes read from the start of a body
HEAD_BYTES = 512
_RAW_READ = 4096
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")

# (magic, what it is); offsets are all 0
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "Windows executable (PE/MZ)"),
    (b"\x7fELF", "ELF executable"),
    (b"\xfe\xed\xfa\xce", "Mach-O executable (32-bit)"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable (32-bit)"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable (64-bit)"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable (64-bit)"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal binary"),
    (b"\xbe\xba\xfe\xca", "Mach-O universal binary"),
    (b"\xca\xfe\xba\xbf", "Mach-O universal binary (64-bit)"),
    (b"\xbf\xba\xfe\xca", "Mach-O universal binary (64-bit)"),
    (b"#!", "script with an interpreter line (#!)"),
)
# A Java class shares 0xCAFEBABE with fat Mach-O: both are code.  OLE compound files
# (MSI, Office with macros) are not matched: telling an installer or a macro from a
# legacy .doc needs the storage directory, which is not in the first bytes.


def head(part: Part, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` decoded bytes of ``part``'s body (fewer when it is shorter)."""
    buf, start, end = part.buffer, part.body_start, part.body_end
    raw = buf[start : min(end, start + _RAW_READ)]
    cte = part.transfer_encoding
    if cte == "base64":
        clean = _B64_JUNK.sub(b"", raw)
        clean = clean[: len(clean) - len(clean) % 4]
        try:
            return binascii.a2b_base64(clean)[:size]
        except binascii.Error:  # pragma: no cover - the cleaned input is valid
            return b""
    if cte == "quoted-printable":
        return decode_qp(raw)[:size]
    return raw[:size]


#: decoded bytes the magic numbers need (a UTF-8 BOM and "#!" is the longest)
_MAGIC_BYTES = 6


def part_executable(part: Part) -> str | None:
    """What executable ``part``'s body starts with, or ``None``: 6 decoded bytes read."""
    if part.transfer_encoding == "base64":
        raw = part.buffer[part.body_start : min(part.body_end, part.body_start + 256)]
        clean = _B64_JUNK.sub(b"", raw)[:8]
        start = binascii.a2b_base64(clean[: len(clean) - len(clean) % 4])
    else:
        start = head(part, _MAGIC_BYTES)
    return executable_kind(start)


def executable_kind(data: bytes) -> str | None:
    """What executable ``data`` (the start of a file) is, or ``None``."""
    stripped = data.lstrip(b"\xef\xbb\xbf")  # a BOM before "#!" still runs on some shells
    for magic, kind in _MAGICS:
        if stripped.startswith(magic):
            return kind
    return None
