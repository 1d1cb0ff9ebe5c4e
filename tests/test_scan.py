"""The byte scans: base64 bodies read in one pass, and the line scan that skips them."""

from __future__ import annotations

import base64
import re
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import validation
from mimeguard._rules.encoding import decodes_in_windows
from mimeguard._scan import base64_body, first_line_over, scan


def _b64(data: bytes, width: int = 76, eol: bytes = b"\r\n") -> bytes:
    text = base64.b64encode(data)
    return eol.join(text[i : i + width] for i in range(0, len(text), width))


def _slow_problem(body: bytes) -> bool:
    """Invalid base64 by the book: alphabet, length, padding only at the end."""
    chars = re.sub(rb"[ \t\r\n]", b"", body)
    if re.fullmatch(rb"[A-Za-z0-9+/]*={0,2}", chars) is None:
        return True
    return len(chars) % 4 != 0


def _longest(body: bytes) -> int:
    return max(len(line) for line in re.split(rb"\r\n|\r|\n", body))


@pytest.mark.parametrize("width", [4, 60, 64, 76, 998])
@pytest.mark.parametrize("size", [0, 1, 2, 3, 56, 57, 58, 1000, 100_000, 1_000_000])
def test_regular_bodies_are_recognised(width: int, size: int) -> None:
    body = _b64(bytes(range(256)) * (size // 256) + bytes(size % 256), width)
    found = base64_body(body, 0, len(body))
    assert found.problem is None
    if body:
        assert found.width == _longest(body)
        assert found.crlf == body.count(b"\r\n")
    # with a final CRLF too
    found = base64_body(body + b"\r\n", 0, len(body) + 2)
    assert found.problem is None and found.width == (_longest(body) if body else 0)


@pytest.mark.parametrize("line", [0, 8191, 8192, 8193, 20_000, 26_314])
def test_an_uneven_line_is_found_in_any_block_of_lines(line: int) -> None:
    # the line breaks are compared a block of 8,192 lines at a time
    body = bytearray(_b64(bytes(range(256)) * 7813))  # 26,316 lines
    lines = bytes(body).split(b"\r\n")
    lines[line] = lines[line][:-2] + b"\r\n" + lines[line][-2:]  # one line split in two
    lines[line + 1] = lines[line + 1][:-4]  # (and the count of characters kept a multiple of 4)
    uneven = b"\r\n".join(lines)
    found = base64_body(uneven, 0, len(uneven))
    assert found.problem is None and found.width == 0
    assert base64_body(bytes(body), 0, len(body)).width == 76


@pytest.mark.parametrize(
    "body",
    [
        b"QUFB\r\nQUFBQUFB\r\nQUFB",  # a longer line after the first
        b"QUFBQUFB\r\nQUFB\r\nQUFBQUFB",  # a shorter line in the middle
        b"QUFB\nQUFB\r\nQUFB",  # a bare LF
        b"QUFB\r\rQUFB\n\n",  # CR and LF in equal numbers, never paired
        b"QUFB\n\rQUFB",
        b"QUFB QUFB\r\nQUFB",  # a space (valid base64 whitespace) makes lines uneven
        b"QU\r\nFB\r\n\r\nQUFB",  # an empty line in the middle
        b"QUFB" * 300 + b"\r\nQUFB",  # a line over 998
    ],
)
def test_irregular_bodies_are_not_taken_for_regular(body: bytes) -> None:
    found = base64_body(body, 0, len(body))
    if found.width:
        # whatever is claimed must be true: one width, CRLF only, nothing longer
        assert found.width == _longest(body)
        assert body.count(b"\r") == body.count(b"\n") == body.count(b"\r\n") == found.crlf
        lines = body.split(b"\r\n")
        assert len({len(x) for x in lines[:-2]}) <= 1


@given(
    st.binary(max_size=600),
    st.sampled_from([4, 8, 64, 76, 80]),
    st.sampled_from([b"\r\n", b"\n"]),
    st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(list(b" \t\r\n=*A"))), max_size=3),
)
def test_base64_body_agrees_with_the_slow_reading(
    data: bytes, width: int, eol: bytes, damage: list[tuple[int, int]]
) -> None:
    body = bytearray(_b64(data, width, eol))
    for at, byte in damage:
        if body:
            body[at % len(body)] = byte
    raw = bytes(body)
    found = base64_body(raw, 0, len(raw))
    assert (found.problem is not None) == _slow_problem(raw)
    if found.width:
        assert found.width == _longest(raw)
        assert raw.count(b"\r") == raw.count(b"\n") == raw.count(b"\r\n") == found.crlf
        assert first_line_over(raw, 0, len(raw), found.width) < 0
        assert found.width == 0 or first_line_over(raw, 0, len(raw), found.width - 1) >= 0


def _message(body: bytes) -> bytes:
    return (
        b"From: a@example.com\r\nDate: Sat, 01 Jan 2000 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + body
        + b"\r\n--b--\r\n"
    )


@given(
    st.binary(max_size=3000),
    st.sampled_from([60, 76, 77, 998, 999]),
    st.lists(st.tuples(st.integers(0, 5000), st.sampled_from(list(b"\r\n\x00\xe9 A"))), max_size=3),
)
def test_skipping_regular_bodies_changes_no_line_statistic(
    data: bytes, width: int, damage: list[tuple[int, int]]
) -> None:
    raw = bytearray(_message(_b64(data, width)))
    for at, byte in damage:
        raw[at % len(raw)] = byte
    buf = bytes(raw)
    msg = mimeguard.parse(buf)
    regular = []
    for part in msg.walk():
        if not part.children and part.transfer_encoding == "base64":
            found = base64_body(buf, part.body_start, part.body_end)
            if found.width:
                regular.append((part.body_start, part.body_end, found.crlf))
    assert scan(buf, 0, len(buf), sorted(regular)) == scan(buf, 0, len(buf))


def test_nul_bytes_on_both_sides_of_a_skipped_body_are_all_counted() -> None:
    # the NUL search skips a regular base64 body (it holds none): the first NUL and the
    # count still come from every stretch around it
    buf = _message(_b64(bytes(range(256)) * 40, 76)).replace(b"hello", b"h\x00l\x00o")
    buf += b"epilogue \x00\r\n"
    msg = mimeguard.parse(buf)
    (part,) = [p for p in msg.walk() if p.transfer_encoding == "base64"]
    found = base64_body(buf, part.body_start, part.body_end)
    assert found.width == 76
    skipped = scan(buf, 0, len(buf), [(part.body_start, part.body_end, found.crlf)])
    assert skipped == scan(buf, 0, len(buf))
    assert (skipped.nul, skipped.first_nul) == (3, buf.index(b"\x00"))


def test_a_large_attachment_is_validated_like_before() -> None:
    body = _b64(bytes(range(256)) * 4000)
    data = _message(body)
    assert mimeguard.validate(data).ok
    long = _message(_b64(bytes(range(256)) * 400, 80))
    assert [f.code for f in mimeguard.validate(long).findings] == ["MG320"]


def _slow_stats(buf: bytes) -> dict[str, object]:
    """The line statistics by the book, one regex per question."""
    bare_lf = [m.start() for m in re.finditer(rb"(?<!\r)\n", buf)]
    bare_cr = [m.start() for m in re.finditer(rb"\r(?!\n)", buf)]
    runs = [(m.start(), len(m.group())) for m in re.finditer(rb"[^\r\n]{999,}", buf)]
    return {
        "crlf": buf.count(b"\r\n"),
        "lf": len(bare_lf),
        "cr": len(bare_cr),
        "first_bare_lf": bare_lf[0] if bare_lf else -1,
        "first_bare_cr": bare_cr[0] if bare_cr else -1,
        "nul": buf.count(b"\x00"),
        "ascii": buf.isascii(),
        "long_lines": runs,
        "long_line_count": len(runs),
    }


_LINE_BITS = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b"\r\r\n", b"a", b"\xe9", b"\x00", b"x" * 997, b"y" * 998, b"z" * 999]
)


@given(st.lists(_LINE_BITS, max_size=40).map(b"".join))
def test_scan_agrees_with_the_slow_reading(buf: bytes) -> None:
    # short buffers take the split filter, the 999-byte runs sit at the limit
    st_ = scan(buf, 0, len(buf))
    got = {k: getattr(st_, k) for k in _slow_stats(buf)}
    assert got == _slow_stats(buf)


@pytest.mark.parametrize("size", [(1 << 15) - 1, 1 << 15, (1 << 16) + 5, 300_000])
@pytest.mark.parametrize("tail", [b"\r\n", b"\n", b"\r", b"\rq"])
def test_scan_of_large_buffers_agrees_with_the_slow_reading(size: int, tail: bytes) -> None:
    # around the split filter's size and the 64 KiB chunk: a long line at the end, one
    # ended by a bare CR in the middle, and CRLF lines of 998 octets around them
    line = b"q" * 998 + b"\r\n"
    body = line * (size // len(line))
    buf = body[: len(body) // 2] + b"w" * 1200 + tail + body[len(body) // 2 :] + b"e" * 1000
    st_ = scan(buf, 0, len(buf))
    assert {k: getattr(st_, k) for k in _slow_stats(buf)} == _slow_stats(buf)


@given(
    st.lists(st.binary(max_size=2000), min_size=1, max_size=3),
    st.sampled_from([60, 76, 998]),
    st.lists(st.tuples(st.integers(0, 9000), st.sampled_from(list(b"\r\n\x00\xe9 A"))), max_size=3),
)
def test_line_numbers_past_skipped_bodies_are_counted_exactly(
    bodies: list[bytes], width: int, damage: list[tuple[int, int]]
) -> None:
    # findings far into a message count their line around the base64 bodies whose line
    # breaks are known: the same line and column as counting every LF
    parts = b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64"
        b"\r\n\r\n" + _b64(body, width) + b"\r\n"
        for body in bodies
    )
    raw = bytearray(
        _message(b"").replace(
            b"--b\r\nContent-Type: application/octet-stream",
            parts + b'--b\r\nContent-Type: application/octet-stream; name="setup.exe"',
            1,
        )
    )
    for at, byte in damage:
        raw[at % len(raw)] = byte
    buf = bytes(raw)
    with mock.patch.object(validation, "_FAR", 0):
        report = mimeguard.validate(buf, profile="workmail")
    assert report.findings or damage  # undamaged, the .exe is reported (MG404)
    for f in report.findings:
        assert f.line == buf.count(b"\n", 0, f.offset) + 1, f
        assert f.column == f.offset - buf.rfind(b"\n", 0, f.offset), f


def _text_codecs() -> list[str]:
    import encodings.aliases

    from mimeguard._charset import lookup_charset

    found = {lookup_charset(label) for label in encodings.aliases.aliases}
    found |= {lookup_charset(name) for name in encodings.aliases.aliases.values()}
    return sorted(c for c in found if c is not None)


_CODECS = _text_codecs()


@given(
    st.sampled_from(_CODECS),
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=100).map(lambda t: t.encode("utf-8")),
        st.text(max_size=60).map(lambda t: t.encode("utf-16", "surrogatepass")),
    ),
    st.integers(16, 40),
)
def test_text_decoded_in_windows_decodes_as_a_whole(codec: str, data: bytes, window: int) -> None:
    # MG322 reads a 7bit/8bit text body in windows through the codec's incremental
    # decoder: for every codec a charset label can name, the same yes or no
    buf = b"head" + data + b"tail"
    try:
        data.decode(codec)
        whole = True
    except UnicodeDecodeError:
        whole = False
    windows = decodes_in_windows(buf, 4, 4 + len(data), codec, window)
    # never a "yes" the whole decode would deny (MG322 would miss the fault); a "no" it
    # would not deny only costs the whole read (UTF-16/32 without a BOM: the incremental
    # decoders insist on one)
    assert not windows or whole
    if not codec.startswith(("utf-16", "utf-32")):
        assert windows == whole
