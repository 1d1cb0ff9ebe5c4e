"""Tiny message builder for rule fixtures (each rule carries a message that triggers it)."""

from __future__ import annotations

__all__ = ["CLEAN", "HEADERS", "build"]

HEADERS: tuple[bytes, ...] = (
    b"From: Alice Example <alice@example.com>",
    b"To: Bob Example <bob@example.org>",
    b"Subject: Quarterly report",
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000",
    b"Message-ID: <20261123100000.1@example.com>",
    b"MIME-Version: 1.0",
)
_TEXT = (b"Content-Type: text/plain; charset=us-ascii", b"Content-Transfer-Encoding: 7bit")


def build(
    *extra: bytes,
    body: bytes = b"Hello Bob,\r\n\r\nthe report is attached.\r\n",
    drop: tuple[bytes, ...] = (),
    mime: tuple[bytes, ...] | None = None,
) -> bytes:
    """A CRLF message with the standard headers (minus ``drop``, matched by field
    name), then ``mime`` (text/plain 7bit by default), then ``extra`` headers."""
    names = tuple(d.lower() + b":" for d in drop)
    lines = [h for h in HEADERS if not h.lower().startswith(names)]
    lines += _TEXT if mime is None else mime
    lines += extra
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def multipart(
    *parts: bytes,
    subtype: bytes = b"mixed",
    boundary: bytes = b"b1",
    params: bytes = b"",
    close: bool = True,
    extra: tuple[bytes, ...] = (),
) -> bytes:
    """A multipart message whose children are the given raw entities."""
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    if close:
        body += b"--" + boundary + b"--\r\n"
    ct = b"Content-Type: multipart/" + subtype + b'; boundary="' + boundary + b'"' + params
    return build(*extra, body=body, mime=(ct,))


TEXT_PART = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n"
CLEAN = build()
