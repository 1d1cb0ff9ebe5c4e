"""Builders for the attachment evasion corpus: messages, TNEF streams, uuencoded files.

Each blocked case carries a unique marker in its payload so a test can prove that no
byte of it is left anywhere in the output (raw, base64, uuencoded or decoded).
"""

from __future__ import annotations

import base64
import binascii
import quopri
import struct

import mimeguard
from mimeguard import EXECUTABLES, SES_BLOCKED, InvalidMessageError
from mimeguard._uu import uu_blocks, uu_head

HEAD = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob Example <bob@example.org>\r\n"
    b"Subject: Documents\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <20261123100000.9@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
)
TEXT = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob, see attached.\r\n"
WITH_MAGIC = (*SES_BLOCKED, EXECUTABLES)


def payload(marker: str, magic: bytes = b"MZ") -> bytes:
    """A payload that holds ``marker`` several times (any surviving slice shows)."""
    return magic + (b" " + marker.encode()) * 8 + b"\r\n"


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def part(headers: bytes, data: bytes, cte: bytes = b"base64") -> bytes:
    """A MIME entity: ``headers`` (CRLF-separated, no final CRLF) and a body."""
    if cte == b"base64":
        body = b64(data)
    elif cte == b"quoted-printable":
        body = quopri.encodestring(data.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    else:
        body = data
    return headers + b"\r\nContent-Transfer-Encoding: " + cte + b"\r\n\r\n" + body


def mixed(*parts: bytes, boundary: bytes = b"outer", subtype: bytes = b"mixed") -> bytes:
    """A multipart body with its Content-Type line first."""
    out = b"Content-Type: multipart/" + subtype + b'; boundary="' + boundary + b'"\r\n\r\n'
    for p in parts:
        out += b"--" + boundary + b"\r\n" + p + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def message(entity: bytes) -> bytes:
    """A whole message whose root entity is ``entity``."""
    return HEAD + entity


def with_text(*parts: bytes, **kw: bytes) -> bytes:
    return message(mixed(TEXT, *parts, **kw))


def disposition(params: bytes, data: bytes, ctype: bytes = b"application/octet-stream") -> bytes:
    return part(b"Content-Type: " + ctype + b"\r\nContent-Disposition: attachment; " + params, data)


def uuencode(name: bytes, data: bytes) -> bytes:
    lines = [b"begin 644 " + name]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i : i + 45]).rstrip(b"\n"))
    lines += [b"`", b"end"]
    return b"\r\n".join(lines) + b"\r\n"


# -- TNEF ([MS-OXTNEF]) ----------------------------------------------------------------------


def _attribute(level: int, attr_id: int, data: bytes) -> bytes:
    return (
        bytes([level])
        + struct.pack("<II", attr_id, len(data))
        + data
        + struct.pack("<H", sum(data) & 0xFFFF)
    )


def _unicode_prop(prop_id: int, text: str) -> bytes:
    raw = text.encode("utf-16-le") + b"\x00\x00"
    return struct.pack("<HHII", 0x001F, prop_id, 1, len(raw)) + raw + b"\x00" * (-len(raw) % 4)


def _binary_prop(prop_id: int, data: bytes) -> bytes:
    return struct.pack("<HHII", 0x0102, prop_id, 1, len(data)) + data + b"\x00" * (-len(data) % 4)


def tnef(files: list[tuple[str, str | None, bytes]], *, break_checksum: bool = False) -> bytes:
    """A TNEF stream with one attachment per ``(title, long name or None, data)``."""
    out = b"\x78\x9f\x3e\x22" + b"\x01\x00"
    out += _attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    for title, long_name, data in files:
        out += _attribute(2, 0x00069002, b"\x00" * 14)  # attAttachRendData
        out += _attribute(2, 0x00018010, title.encode("cp1252") + b"\x00")
        out += _attribute(2, 0x0006800F, data)
        props = [_binary_prop(0x3701, data)]
        if long_name is not None:
            props.append(_unicode_prop(0x3707, long_name))
        out += _attribute(2, 0x00069005, struct.pack("<I", len(props)) + b"".join(props))
    if break_checksum:
        out = out[:-1] + bytes([out[-1] ^ 0xFF])
    return out


# -- running the edits -----------------------------------------------------------------------


def strip(data: bytes, match: tuple[str | object, ...] = SES_BLOCKED) -> bytes:
    """``strip_attachments``' output; a refused result is checked all the same."""
    try:
        return mimeguard.strip_attachments(data, match=match)  # type: ignore[arg-type]
    except InvalidMessageError as exc:
        if exc.result is None:
            raise
        return exc.result.data


def pipeline(data: bytes, match: tuple[str | object, ...] = SES_BLOCKED) -> bytes:
    """The repairing pipeline a WorkMail recipe runs."""
    editor = (
        mimeguard.Editor(data, repair=True, envelope_from="alice@example.com")
        .add_disclaimer(text="External message.")
        .strip_attachments(match=match)  # type: ignore[arg-type]
    )
    try:
        return editor.result().data
    except InvalidMessageError as exc:
        if exc.result is None:
            raise
        return exc.result.data


def leaks(out: bytes, marker: str) -> list[str]:
    """Where any trace of ``marker`` is left in ``out`` (empty: nowhere)."""
    found = []
    m = marker.encode()
    if m in out:
        found.append("raw")
    for data in (payload(marker), payload(marker, b"")):
        if b64(data)[:40] in out:
            found.append("base64")
        if binascii.b2a_uu(data[:45])[1:40] in out:
            found.append("uuencoded")
    for p in mimeguard.parse(out).walk():
        if p.children:
            continue
        body = p.decoded()
        if m in body:
            found.append(f"decoded part {p.path or 'root'}")
        for start, end, _name in uu_blocks(body):
            if m in uu_head(body, start, end, 1 << 20):
                found.append(f"uuencoded in part {p.path or 'root'}")
    return found
