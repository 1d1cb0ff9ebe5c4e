"""DKIM test keys and signing without DNS: dkimpy signs, ``dnsfunc`` answers key lookups."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence

import pytest

dkim = pytest.importorskip("dkim")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")

__all__ = ["PEM", "dnsfunc", "sign", "verify"]


@functools.cache
def _key() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, what dkimpy reads
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(public)


PEM = _key()[0]


def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
    """Every ``<selector>._domainkey.<domain>`` has the test key."""
    return b"v=DKIM1; k=rsa; p=" + _key()[1]


def sign(
    data: bytes,
    domain: bytes = b"example.com",
    *,
    headers: Sequence[bytes] = (b"from", b"to", b"subject", b"date"),
    canon: bytes = b"relaxed/relaxed",
    length: bool = False,
) -> bytes:
    """``data`` with one more DKIM-Signature (prepended, as a signer would)."""
    header, body = canon.split(b"/")
    field: bytes = dkim.sign(
        data,
        b"sel",
        domain,
        PEM,
        canonicalize=(header, body),
        include_headers=list(headers),
        length=length,
    )
    return field + data


def verify(data: bytes, index: int = 0) -> bool:
    """dkimpy's verdict on the ``index``-th DKIM-Signature of ``data``."""
    check: Callable[..., bool] = dkim.DKIM(data).verify
    try:
        return bool(check(idx=index, dnsfunc=dnsfunc))
    except dkim.DKIMException:
        return False
