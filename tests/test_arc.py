"""ARC sealing: dkimpy's arc_verify accepts what arc_seal writes, and nobody else's results."""

from __future__ import annotations

import re
from typing import Any

import pytest

import mimeguard
from mimeguard import Editor, arc_seal, validate
from mimeguard._rules._fixture import build

from ._signing import PEM, dkim, dnsfunc, sign

GATEWAY: dict[str, Any] = {
    "domain": "gw.example",
    "selector": "arc",
    "private_key": PEM,
    "authserv_id": "gw.example",
    "dnsfunc": dnsfunc,
    "timestamp": 1_796_000_000,
}


def _aar(sealed: bytes, instance: int = 1) -> str:
    for _, value in _fields(sealed):
        if value.startswith(f"i={instance};") and "gw.example;" in value[:30]:
            return value
    raise AssertionError("no ARC-Authentication-Results")


def _fields(data: bytes) -> list[tuple[str, str]]:
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    out = []
    for m in re.finditer(r"^([!-9;-~]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE):
        out.append((m.group(1).lower(), re.sub(r"\s+", " ", m.group(2)).strip()))
    return [(n, v) for n, v in out if n == "arc-authentication-results"]


def test_sealed_edit_verifies_and_records_the_original_dkim_pass() -> None:
    signed = sign(build())
    edited = Editor(signed).add_disclaimer(text="External mail").result()
    assert edited.broken_signatures == ("example.com",)
    sealed = arc_seal(edited.data, original=signed, **GATEWAY)
    cv, results, reason = dkim.arc_verify(sealed, dnsfunc=dnsfunc)
    assert cv == b"pass", reason
    assert results[0]["instance"] == 1 and results[0]["cv"] == b"none"
    aar = _aar(sealed)
    assert "dkim=pass header.d=example.com header.s=sel" in aar and "arc=none" in aar
    assert sealed.endswith(edited.data)
    assert not dkim.verify(sealed, dnsfunc=dnsfunc)  # the sender's signature is still broken
    assert validate(sealed, profile="rfc").ok


def test_without_original_the_message_itself_is_verified() -> None:
    edited = Editor(sign(build())).add_disclaimer(text="External mail").to_bytes()
    aar = _aar(arc_seal(edited, **GATEWAY))
    assert "dkim=fail header.d=example.com" in aar


def test_second_hop_extends_the_chain() -> None:
    first = arc_seal(sign(build()), **GATEWAY)
    hop = dict(GATEWAY, domain="relay.example", authserv_id="relay.example")
    second = arc_seal(first.replace(b"Quarterly", b"[EXT] Quarterly"), original=first, **hop)
    cv, results, reason = dkim.arc_verify(second, dnsfunc=dnsfunc)
    assert cv == b"pass", reason
    assert [r["instance"] for r in results] == [2, 1]
    assert b"ARC-Seal: i=2; cv=pass" in second


def test_forged_results_claiming_our_id_are_not_carried_into_the_seal() -> None:
    forged = build(
        b"Authentication-Results: gw.example; dkim=pass header.d=bank.example",
        b"Authentication-Results: (comment) GW.EXAMPLE 1; spf=pass smtp.mailfrom=bank.example",
        b"Authentication-Results: other.example; dmarc=pass header.from=other.example",
    )
    sealed = arc_seal(forged, **GATEWAY)
    aar = _aar(sealed)
    assert "bank.example" not in aar and "other.example" not in aar
    assert "dkim=none" in aar
    assert dkim.arc_verify(sealed, dnsfunc=dnsfunc)[0] == b"pass"
    assert sealed.endswith(forged)  # nothing removed from the message itself


def test_results_given_by_the_caller() -> None:
    sealed = arc_seal(
        build(), authentication_results="spf=pass smtp.mailfrom=example.com", **GATEWAY
    )
    assert "spf=pass smtp.mailfrom=example.com" in _aar(sealed)
    assert dkim.arc_verify(sealed, dnsfunc=dnsfunc)[0] == b"pass"


def test_tampering_after_the_seal_fails_the_chain() -> None:
    sealed = arc_seal(sign(build()), **GATEWAY)
    tampered = sealed.replace(b"the report is attached", b"wire the money now")
    assert dkim.arc_verify(tampered, dnsfunc=dnsfunc)[0] == b"fail"


def test_malformed_signature_is_a_permerror_and_dns_trouble_a_temperror() -> None:
    bad = build(b"DKIM-Signature: v=1; d=example.com; junk")
    assert "dkim=permerror header.d=example.com" in _aar(arc_seal(bad, **GATEWAY))

    def down(name: bytes, timeout: int = 5) -> bytes:
        raise OSError("DNS is down")

    options: dict[str, Any] = dict(GATEWAY, dnsfunc=down)
    assert "dkim=temperror" in _aar(arc_seal(sign(build()), **options))


def test_a_hostile_domain_in_the_signature_is_not_written_into_the_results() -> None:
    # a tag-value may hold spaces: d= must not smuggle a result into ours
    tags = b"v=1; a=rsa-sha256; d=x.example arc=pass; s=s (x); h=from; bh=AAAA; b=AAAA"
    sealed = arc_seal(build(b"DKIM-Signature: " + tags), **GATEWAY)
    aar = _aar(sealed)
    assert "arc=pass" not in aar and "x.example" not in aar and "(x)" not in aar
    assert "dkim=permerror header.b=AAAA" in aar


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"domain": "gw.example\r\nBcc: x@evil.example"}, ValueError, "domain"),
        ({"domain": "gw example"}, ValueError, "domain"),
        ({"selector": b"arc"}, TypeError, "selector"),
        ({"authserv_id": "gw.example; dkim=pass"}, ValueError, "authserv_id"),
        ({"private_key": b"not a key"}, ValueError, "PEM"),
        ({"private_key": 42}, TypeError, "private_key"),
        ({"authentication_results": "dkim=pass\r\nX: y"}, ValueError, "one line"),
        ({"signed_headers": ["subject"]}, ValueError, "From"),
        ({"signed_headers": "from"}, TypeError, "sequence"),
        ({"timestamp": True}, TypeError, "timestamp"),
        ({"timestamp": -1}, ValueError, "negative"),
    ],
)
def test_bad_arguments_raise_at_once(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        arc_seal(build(), **dict(GATEWAY, **options))


def test_bad_input_types() -> None:
    with pytest.raises(TypeError):
        arc_seal(build().decode(), **GATEWAY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        arc_seal(build(), original="x", **GATEWAY)  # type: ignore[arg-type]


def test_a_key_dkimpy_cannot_read_is_a_seal_error() -> None:
    key = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(mimeguard.SealError, match="could not seal"):
        arc_seal(build(), **dict(GATEWAY, private_key=key))


def test_unreadable_header_block_is_an_invalid_message() -> None:
    with pytest.raises(mimeguard.InvalidMessageError):
        arc_seal(b"From: a@example.com\r\nno colon here\r\n\r\nbody\r\n", **GATEWAY)
    with pytest.raises(mimeguard.InvalidMessageError):
        arc_seal(b"From: a@example.com\r\n", **GATEWAY)


def test_signed_headers_chosen_by_the_caller() -> None:
    sealed = arc_seal(build(), signed_headers=["From", "Subject"], **GATEWAY)
    assert dkim.arc_verify(sealed, dnsfunc=dnsfunc)[0] == b"pass"
    ams = sealed[sealed.index(b"ARC-Message-Signature") : sealed.index(b"ARC-Authentication")]
    assert re.search(rb"h=from\s*:\s*subject;", ams, re.IGNORECASE)


def test_lf_only_message_gets_lf_fields() -> None:
    data = sign(build()).replace(b"\r\n", b"\n")
    sealed = arc_seal(data, **GATEWAY)
    assert b"\r" not in sealed
    assert sealed.endswith(data)
    assert dkim.arc_verify(sealed, dnsfunc=dnsfunc)[0] == b"pass"
    assert b"dkim=pass header.d=example.com" in sealed
