"""The inputs: the shared real-mail corpus and a deterministic synthetic one.

Everything synthetic is built from :class:`random.Random` with a fixed seed, so
two runs (and two machines) benchmark the same bytes.  Builders that take a
size (``with_attachment``, ``many_parts``, ``many_headers``, ``nested``) are
shared with the scaling and adversarial sections.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MB",
    "REAL_CORPUS",
    "SEED",
    "Sample",
    "attachment_pair",
    "many_headers",
    "many_parts",
    "nested",
    "real_corpus",
    "synthetic_corpus",
    "with_attachment",
]

SEED = 20261123
REAL_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
MB = 1 << 20

_WORDS = tuple(
    " ".join(
        (
            "the quarterly report shows revenue growth across all regions and we expect the",
            "trend to continue into next year please review the attached figures before friday",
            "meeting agenda includes budget hiring roadmap customer feedback security review and",
            "office move thanks regards team project deadline update schedule invoice payment",
            "delivery order status",
        )
    ).split(" ")
)
_NAMES = ("Alice Example", "Bob Smith", "Carol Jones", "Dave Miller", "Erin Brown", "Frank Li")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example")


@dataclass(frozen=True, slots=True)
class Sample:
    """One input message: ``group`` names the kind (``real``, ``small``, ``newsletter``…)."""

    name: str
    group: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def real_corpus(root: Path = REAL_CORPUS, *, limit: int | None = None) -> list[Sample]:
    """The messages of ``../shared/corpus`` (empty when absent), like tests/conftest.py reads it."""
    if not root.is_dir():
        return []
    out: list[Sample] = []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or "LICENSE" in p.name.upper():
            continue
        if p.suffix.lower() in {".md", ".txt"} and not p.name.startswith("msg_"):
            continue
        out.append(Sample(str(p.relative_to(root)), "real", p.read_bytes()))
        if limit is not None and len(out) >= limit:
            break
    return out


# -- building blocks ---------------------------------------------------------------------------


def _addr(rng: random.Random) -> bytes:
    name = rng.choice(_NAMES)
    local = name.split()[0].lower()
    return f"{name} <{local}@{rng.choice(_DOMAINS)}>".encode()


def _text(rng: random.Random, size: int, width: int = 72) -> bytes:
    """About ``size`` bytes of word-wrapped ASCII prose with CRLF line endings."""
    lines: list[str] = []
    line: list[str] = []
    n = 0
    total = 0
    while total < size:
        w = rng.choice(_WORDS)
        if n + len(w) + 1 > width:
            lines.append(" ".join(line))
            total += n + 2
            line, n = [], 0
            if rng.random() < 0.15:
                lines.append("")
                total += 2
        line.append(w)
        n += len(w) + 1
    lines.append(" ".join(line))
    return ("\r\n".join(lines) + "\r\n").encode()


def _headers(rng: random.Random, i: int, *extra: bytes, subject: bytes | None = None) -> bytes:
    hops = b"".join(
        b"Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n"
        b"\tby mail.example.com with ESMTPS id %08x\r\n"
        b"\tfor <bob@example.org>; Mon, 23 Nov 2026 10:%02d:00 +0000\r\n"
        % (h, h, h + 10, rng.getrandbits(32), h)
        for h in range(rng.randint(1, 4))
    )
    subj = subject or b"Re: " + " ".join(rng.choice(_WORDS) for _ in range(6)).encode()
    return (
        hops
        + b"From: "
        + _addr(rng)
        + b"\r\nTo: "
        + b", ".join(_addr(rng) for _ in range(rng.randint(1, 3)))
        + b"\r\nCc: "
        + _addr(rng)
        + b"\r\nDate: Mon, 23 Nov 2026 10:%02d:%02d +0000\r\n" % (i % 60, rng.randint(0, 59))
        + b"Message-ID: <%d.%08x@example.com>\r\n" % (i, rng.getrandbits(32))
        + b"Subject: "
        + subj
        + b"\r\nMIME-Version: 1.0\r\n"
        + b"".join(e + b"\r\n" for e in extra)
    )


def _boundary(rng: random.Random, tag: str) -> bytes:
    return f"----=_{tag}_{rng.getrandbits(48):012x}".encode()


def _qp(text: bytes) -> bytes:
    """Quoted-printable for ASCII text: '=' escaped, lines kept under 76."""
    import binascii

    return binascii.b2a_qp(text, istext=True).replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


# -- message kinds -----------------------------------------------------------------------------


def small_plain(rng: random.Random, i: int) -> bytes:
    """About 3 KB of plain text, sometimes quoted-printable with an encoded-word subject."""
    body = _text(rng, rng.randint(2000, 3000))
    if i % 3 == 0:
        return (
            _headers(
                rng,
                i,
                b"Content-Type: text/plain; charset=utf-8",
                b"Content-Transfer-Encoding: quoted-printable",
                subject=b"=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=",
            )
            + b"\r\n"
            + _qp(body.replace(b"the ", "für ".encode()))
        )
    return (
        _headers(
            rng,
            i,
            b"Content-Type: text/plain; charset=us-ascii",
            b"Content-Transfer-Encoding: 7bit",
        )
        + b"\r\n"
        + body
    )


def newsletter(rng: random.Random, i: int, size: int = 100_000) -> bytes:
    """An HTML newsletter (~``size`` bytes): multipart/alternative, both parts quoted-printable."""
    bnd = _boundary(rng, "alt")
    rows = []
    total = 0
    while total < size * 0.6:
        para = _text(rng, rng.randint(200, 600)).decode().replace("\r\n", " ")
        row = (
            '<tr><td style="padding:12px;font-family:Arial,sans-serif;color:#333333">'
            f"<h2>{' '.join(rng.choice(_WORDS) for _ in range(4))}</h2><p>{para}</p>"
            f'<a href="https://news.example.com/a/{rng.getrandbits(32):08x}?utm_source=mail">'
            "Read more</a></td></tr>\r\n"
        )
        rows.append(row)
        total += len(row)
    html = (
        '<!DOCTYPE html>\r\n<html><head><meta charset="utf-8"><title>News</title></head>\r\n'
        '<body><table width="600" cellpadding="0" cellspacing="0">\r\n'
        + "".join(rows)
        + "</table></body></html>\r\n"
    ).encode()
    plain = _text(rng, int(size * 0.3))
    head = _headers(
        rng,
        i,
        b"List-Unsubscribe: <https://news.example.com/unsubscribe?u=%08x>" % rng.getrandbits(32),
        b"List-Id: Example News <news.example.com>",
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;\r\n"
        b"\th=from:to:subject:date; bh=" + _b64(rng.randbytes(32)).strip() + b";\r\n"
        b"\tb=" + _b64(rng.randbytes(128)).replace(b"\r\n", b"").strip(),
        b'Content-Type: multipart/alternative; boundary="' + bnd + b'"',
    )
    return (
        head
        + b"\r\n"
        + b"--"
        + bnd
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + _qp(plain)
        + b"\r\n--"
        + bnd
        + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
        + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + _qp(html)
        + b"\r\n--"
        + bnd
        + b"--\r\n"
    )


_ATTACHMENT_NAMES = ("report.pdf", "photo.jpg", "archive.zip", "data.bin", "setup.exe")
_ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "zip": "application/zip",
    "bin": "application/octet-stream",
    "exe": "application/octet-stream",
}


def with_attachment(
    rng: random.Random, i: int, total: int, count: int = 1, *, names: tuple[str, ...] = ()
) -> bytes:
    """A short text plus ``count`` base64 attachments making about ``total`` bytes in all."""
    bnd = _boundary(rng, "mix")
    raw_each = max(1, int(total / count * 57 / 78))  # base64 with CRLF grows 78/57
    parts = [
        b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        + _text(rng, 800)
    ]
    for k in range(count):
        name = names[k % len(names)] if names else _ATTACHMENT_NAMES[k % len(_ATTACHMENT_NAMES)]
        ctype = _ATTACHMENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")
        parts.append(
            f'Content-Type: {ctype}; name="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + _b64(rng.randbytes(raw_each))
        )
    return _multipart(
        _headers(rng, i, b'Content-Type: multipart/mixed; boundary="' + bnd + b'"'), bnd, parts
    )


def _multipart(head: bytes, bnd: bytes, parts: list[bytes]) -> bytes:
    delim = b"\r\n--" + bnd + b"\r\n"
    return (
        head
        + b"\r\nThis is a multi-part message in MIME format.\r\n"
        + delim
        + delim.join(p.removesuffix(b"\r\n") for p in parts)
        + b"\r\n--"
        + bnd
        + b"--\r\n"
    )


def attachment_pair(size: int, seed: int = SEED) -> tuple[bytes, bytes]:
    """The same message without and with one base64 attachment of about ``size`` bytes."""
    rng = random.Random(seed)
    bnd = _boundary(rng, "mix")
    head = _headers(rng, 0, b'Content-Type: multipart/mixed; boundary="' + bnd + b'"')
    text = (
        b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        + _text(rng, 800)
    )
    attachment = (
        b'Content-Type: application/pdf; name="report.pdf"\r\n'
        b'Content-Disposition: attachment; filename="report.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + _b64(rng.randbytes(size * 57 // 78))
    )
    return _multipart(head, bnd, [text]), _multipart(head, bnd, [text, attachment])


def nested(rng: random.Random, i: int, depth: int) -> bytes:
    """Multiparts nested ``depth`` levels deep, each level with a small text part."""
    leaf = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + _text(rng, 200)
    body = leaf
    for level in range(depth - 1, 0, -1):
        bnd = b"nest-%d-%06x" % (level, rng.getrandbits(24))
        body = _multipart(
            b'Content-Type: multipart/mixed; boundary="' + bnd + b'"\r\n', bnd, [leaf, body]
        )
    bnd = b"nest-0-%06x" % rng.getrandbits(24)
    return _multipart(
        _headers(rng, i, b'Content-Type: multipart/mixed; boundary="' + bnd + b'"'),
        bnd,
        [leaf, body] if depth > 1 else [leaf],
    )


def many_parts(rng: random.Random, i: int, count: int) -> bytes:
    """One multipart/mixed with ``count`` small text parts."""
    bnd = _boundary(rng, "many")
    parts = [
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\npart %d: " % k + _text(rng, 60)
        for k in range(count)
    ]
    return _multipart(
        _headers(rng, i, b'Content-Type: multipart/mixed; boundary="' + bnd + b'"'), bnd, parts
    )


def many_headers(rng: random.Random, i: int, count: int) -> bytes:
    """A small message whose header block holds ``count`` extra fields."""
    extra = b"".join(b"X-Trace-%d: hop %08x\r\n" % (k, rng.getrandbits(32)) for k in range(count))
    return (
        _headers(rng, i, b"Content-Type: text/plain; charset=us-ascii")
        + extra
        + b"\r\n"
        + _text(rng, 500)
    )


def synthetic_corpus(*, quick: bool = False, seed: int = SEED) -> list[Sample]:
    """The synthetic corpus: small plain, newsletters, attachments, deep nesting, many parts."""
    rng = random.Random(seed)
    out: list[Sample] = []
    n_small, n_news = (3, 1) if quick else (60, 12)
    for i in range(n_small):
        out.append(Sample(f"small-{i:02d}", "small", small_plain(rng, i)))
    for i in range(n_news):
        out.append(Sample(f"newsletter-{i:02d}", "newsletter", newsletter(rng, i)))
    # (total MB, attachments): 1–20 MB with 1–5 base64 attachments
    plan = [(1, 1)] if quick else [(1, 1), (3, 2), (8, 3), (14, 4), (20, 5)]
    for i, (mb, count) in enumerate(plan):
        out.append(
            Sample(
                f"attachments-{mb}mb-x{count}",
                "attachments",
                with_attachment(rng, i, mb * MB, count),
            )
        )
    for depth in (5,) if quick else (5, 20, 40, 63):
        out.append(Sample(f"nested-{depth}", "nested", nested(rng, depth, depth)))
    for count in (20,) if quick else (100, 1000, 5000):
        out.append(Sample(f"many-parts-{count}", "many-parts", many_parts(rng, count, count)))
    return out
