"""Invariants for arbitrary bytes: parse never raises and is lossless; validate never raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import Limits, parse, validate

# Bytes built from MIME-ish tokens reach deeper into the parser than uniform noise.
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b": ",
    b"From: a@b.c",
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000",
    b'Content-Type: multipart/mixed; boundary="b"',
    b"Content-Type: message/rfc822",
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"--b",
    b"--b--",
    b"=?utf-8?B?w6k=?=",
    b"filename*0*=UTF-8''%E6%97%A5",
    b" ",
    b"\t",
    b"\x00",
    b"\xff",
    b"=",
    b"==",
    b"SGk=",
    b"Content-Type: multipart/alternative; boundary=b",
    b"MIME-Version: 1.0",
]
mimeish = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)), max_size=60).map(
    b"".join
)
anything = st.one_of(st.binary(max_size=2000), mimeish)


@given(anything)
def test_parse_never_raises_and_round_trips(data: bytes) -> None:
    msg = parse(data)
    assert msg.to_bytes() == data
    for part in msg.walk():
        assert part.start <= part.header_end <= part.body_start <= part.body_end <= part.end
        part.decoded()
        _ = part.filename, part.is_attachment, part.charset


@given(anything, st.sampled_from(list(mimeguard.PROFILES)))
def test_validate_never_raises(data: bytes, profile: str) -> None:
    report = validate(data, profile=profile, original=data)
    for f in report.findings:
        assert 0 <= f.offset <= len(data)
        assert f.line >= 1


@given(mimeish)
def test_tight_limits_never_raise(data: bytes) -> None:
    limits = Limits(
        max_depth=2, max_parts=3, max_header_fields=3, max_header_bytes=64, max_message_bytes=256
    )
    msg = parse(data, limits=limits)
    assert msg.to_bytes() == data
    validate(msg)
