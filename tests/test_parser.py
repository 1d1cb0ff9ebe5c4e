"""The parser: spans, tree shape, MIME attributes, lossless round trip."""

from __future__ import annotations

import base64
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import Limits, parse

SIMPLE = (
    b"From: Alice <alice@example.com>\r\n"
    b"Subject: Hi\r\n"
    b"  there\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"Body line\r\n"
)

MULTI = (
    b"From: a@example.com\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n'
    b"\r\n"
    b"--inner\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"plain\r\n"
    b"--inner\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>html</p>\r\n"
    b"--inner--\r\n"
    b"--outer\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Disposition: attachment;\r\n"
    b" filename*0*=UTF-8''%E6%97%A5; filename*1*=%E6%9C%AC.bin\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n" + base64.b64encode(b"\x00\x01binary") + b"\r\n"
    b"--outer\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"From: c@example.net\r\n"
    b"Subject: inner\r\n"
    b"\r\n"
    b"inner body\r\n"
    b"--outer--\r\n"
    b"epilogue\r\n"
)


def test_headers_and_body_spans() -> None:
    msg = parse(SIMPLE)
    assert [f.name for f in msg.headers] == ["From", "Subject", "Date"]
    subject = msg.header("subject")
    assert subject is not None
    assert subject.raw == b"Subject: Hi\r\n  there\r\n"
    assert subject.value == "Hi  there"
    assert subject.is_folded
    assert msg.raw_body == b"Body line\r\n"
    assert msg.separator == (SIMPLE.index(b"\r\n\r\n") + 2, SIMPLE.index(b"\r\n\r\n") + 4)
    assert msg.mime_type == "text/plain"
    assert msg.charset == "us-ascii"
    assert msg.to_bytes() is SIMPLE


def test_tree_paths_and_types() -> None:
    msg = parse(MULTI)
    tree = [(p.path, p.mime_type) for p in msg.walk()]
    assert tree == [
        ("", "multipart/mixed"),
        ("1", "multipart/alternative"),
        ("1.1", "text/plain"),
        ("1.2", "text/html"),
        ("2", "application/octet-stream"),
        ("3", "message/rfc822"),
        ("3.1", "text/plain"),
    ]
    assert (found := msg.find("1.2")) is not None and found.raw_body == b"<p>html</p>"
    assert msg.find("9") is None


def test_preamble_epilogue_and_delimiters_cover_body() -> None:
    msg = parse(MULTI)
    assert msg.preamble is not None and MULTI[slice(*msg.preamble)] == b"preamble"
    assert msg.epilogue is not None and MULTI[slice(*msg.epilogue)] == b"epilogue\r\n"
    # preamble, delimiter, child, delimiter, child … epilogue tile the body exactly
    pieces = [msg.preamble]
    for i, d in enumerate(msg.delimiters):
        pieces.append(d)
        if i < len(msg.children):
            pieces.append(msg.children[i].span)
    pieces.append(msg.epilogue)
    assert pieces[0][0] == msg.body_start
    for a, b in itertools.pairwise(pieces):
        assert a[1] == b[0]
    assert pieces[-1][1] == msg.body_end
    assert MULTI[slice(*msg.delimiters[-1])] == b"\r\n--outer--\r\n"


def test_attachment_filename_rfc2231_and_decoding() -> None:
    part = parse(MULTI).find("2")
    assert part is not None
    assert part.filename == "日本.bin"
    assert part.is_attachment
    assert part.decoded() == b"\x00\x01binary"


def test_attached_message_is_parsed() -> None:
    part = parse(MULTI).find("3")
    assert part is not None and part.is_message
    inner = part.attached
    assert isinstance(inner, mimeguard.Message)
    assert inner.get("subject") == "inner"
    assert inner.raw_body == b"inner body"


def test_body_text_and_attachment_flags() -> None:
    msg = parse(MULTI)
    flags = {p.path: (p.is_body_text, p.is_attachment) for p in msg.walk()}
    assert flags["1.1"] == (True, False)
    assert flags["1.2"] == (True, False)
    assert flags["2"] == (False, True)
    assert flags["3"] == (False, True)


def test_str_is_rejected_with_advice() -> None:
    with pytest.raises(TypeError, match="encode it first"):
        parse("From: a@example.com\r\n\r\n")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bytes_like_inputs(kind: type) -> None:
    msg = parse(kind(SIMPLE))
    assert msg.to_bytes() == SIMPLE


def test_missing_separator_starts_body() -> None:
    data = b"From: a@example.com\r\nSubject: x\r\n<!DOCTYPE html>\r\n<html></html>\r\n"
    msg = parse(data)
    assert [f.name for f in msg.headers] == ["From", "Subject"]
    assert msg.raw_body.startswith(b"<!DOCTYPE")
    assert msg.defects("missing-header-body-separator")


def test_header_line_without_colon_is_kept() -> None:
    data = b"From: a@example.com\r\nGarbage line\r\nSubject: x\r\n\r\nbody\r\n"
    msg = parse(data)
    assert [f.valid for f in msg.headers] == [True, False, True]
    assert msg.get("subject") == "x"
    assert msg.raw_body == b"body\r\n"


def test_no_body_at_all() -> None:
    msg = parse(b"From: a@example.com\r\nSubject: x\r\n")
    assert msg.raw_body == b""
    assert len(msg.headers) == 2


def test_empty_input() -> None:
    msg = parse(b"")
    assert msg.headers == () and msg.raw_body == b"" and msg.to_bytes() == b""


def test_missing_closing_boundary_keeps_last_part() -> None:
    data = MULTI[: MULTI.index(b"--outer--")]
    msg = parse(data)
    assert len(msg.children) == 3
    assert msg.defects("missing-closing-boundary")
    assert msg.epilogue is None


def test_boundary_not_found_leaves_body_opaque() -> None:
    data = b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\nno parts\r\n'
    msg = parse(data)
    assert msg.children == ()
    assert msg.defects("boundary-not-found")


def test_digest_children_default_to_rfc822() -> None:
    data = (
        b'Content-Type: multipart/digest; boundary="d"\r\n\r\n--d\r\n\r\n'
        b"From: x@example.com\r\nSubject: one\r\n\r\nbody\r\n--d--\r\n"
    )
    msg = parse(data)
    assert msg.children[0].mime_type == "message/rfc822"
    assert msg.children[0].attached is not None
    assert msg.children[0].attached.get("subject") == "one"


def test_base64_encoded_attached_message_is_decoded() -> None:
    inner = b"From: x@example.com\r\nSubject: enc\r\n\r\nhello\r\n"
    data = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(inner)
        + b"\r\n--b--\r\n"
    )
    msg = parse(data)
    attached = msg.children[0].attached
    assert attached is not None and attached.get("subject") == "enc"
    assert msg.to_bytes() == data


def test_depth_limit_is_a_defect_not_an_error() -> None:
    depth = 10
    body = b"".join(
        b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1)
        for i in range(depth)
    )
    data = b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + body
    msg = parse(data, limits=Limits(max_depth=4))
    assert msg.defects("depth-limit")
    assert max(p.depth for p in msg.walk()) <= 4
    assert msg.to_bytes() == data


def test_header_field_limit() -> None:
    data = b"".join(b"X-N: %d\r\n" % i for i in range(50)) + b"\r\nbody\r\n"
    msg = parse(data, limits=Limits(max_header_fields=10))
    assert len(msg.headers) == 10
    assert msg.defects("header-field-limit")
    assert msg.raw_body == b"body\r\n"


def test_part_limit() -> None:
    parts = b"".join(b"--b\r\n\r\nx\r\n" for _ in range(30))
    data = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    msg = parse(data, limits=Limits(max_parts=10))
    assert msg.defects("part-limit")
    assert len(msg.parts) <= 10


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        Limits(max_depth=0)


def test_bare_lf_message_parses_like_crlf() -> None:
    lf = MULTI.replace(b"\r\n", b"\n")
    a = [(p.path, p.mime_type, p.decoded()) for p in parse(MULTI).walk() if not p.children]
    b = [(p.path, p.mime_type, p.decoded()) for p in parse(lf).walk() if not p.children]
    assert [x[:2] for x in a] == [x[:2] for x in b]
    assert [x[2].replace(b"\r\n", b"\n") for x in a] == [x[2] for x in b]


def test_quoted_printable_text() -> None:
    data = (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Gr=C3=BC=C3=9Fe, a soft=\r\n break\r\n"
    )
    assert parse(data).text() == "Grüße, a soft break\r\n"


def test_rfc2047_filename_in_name_parameter() -> None:
    data = (
        b'Content-Type: application/pdf; name="=?utf-8?B?w6ljb2xlLnBkZg==?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
    )
    part = parse(data)
    assert part.filename == "école.pdf"
    assert part.is_attachment


@pytest.mark.parametrize("gap", [*range(4080, 4110), 10_000])
@pytest.mark.parametrize("filler", [b"x", b"-", b"a-"])
@pytest.mark.parametrize("boundary", [b"b", b"a-b" * 1500])
def test_delimiters_are_found_wherever_the_dash_search_window_ends(
    gap: int, filler: bytes, boundary: bytes
) -> None:
    # _delimiters skips to the next "-" and searches a window after it: a delimiter
    # before, across and after the window's end is found like the regex finds it, also
    # one longer than the window (mime4j's very-very-long-boundary.msg has 7,000 bytes)
    from mimeguard import _abnf as g
    from mimeguard._parser import _delimiters

    body = b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\n-" + (filler * gap)[:gap]
    body += b"\r\n--" + boundary + b"\r\n\r\nsecond\r\n--" + boundary + b"--\r\n"
    at_start, after_lf = g.boundary_delimiter(boundary)
    expected = [(m.start(), m.end(), m.group(1) is not None) for m in after_lf.finditer(body)]
    first = at_start.match(body)
    assert first is not None
    expected.insert(0, (0, first.end(), False))
    assert list(_delimiters(body, boundary, 0, len(body))) == expected


@given(
    st.one_of(
        st.binary(min_size=1, max_size=12).filter(lambda b: b"\r" not in b and b"\n" not in b),
        st.just(b"a-b" * 1500),  # longer than the search window
    ),
    st.lists(
        st.one_of(
            st.sampled_from([b"\r\n", b"\n", b"\r", b"-", b"--", b" ", b"\t", b"x", b"\r\n--"]),
            st.sampled_from([b"y" * 4100, b"-y" * 2100]),  # past the window
            st.binary(max_size=6),
        ),
        max_size=40,
    ),
    st.integers(0, 3),
)
def test_delimiter_search_equals_the_boundary_pattern(
    boundary: bytes, pieces: list[bytes], copies: int
) -> None:
    from mimeguard import _abnf as g
    from mimeguard._parser import _delimiters

    line = b"--" + boundary
    chunks = list(pieces)
    for k in range(copies):  # put delimiter and close-delimiter lines among the pieces
        at = (k * 7) % (len(chunks) + 1)
        chunks.insert(at, b"\r\n" + line + (b"--" if k == copies - 1 else b"") + b"\r\n")
    body = b"".join(chunks)
    at_start, after_lf = g.boundary_delimiter(boundary)
    expected = [(m.start(), m.end(), m.group(1) is not None) for m in after_lf.finditer(body)]
    first = at_start.match(body)
    if first is not None:
        expected.insert(0, (0, first.end(), first.group(1) is not None))
    assert list(_delimiters(body, boundary, 0, len(body))) == expected
