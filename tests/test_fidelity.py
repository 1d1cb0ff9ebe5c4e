"""Decoding and repair fidelity (issue 13): read what clients read, repair without loss."""

from __future__ import annotations

import base64
import email
import email.policy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import Editor, parse, validate
from mimeguard._charset import decode_8bit
from mimeguard._rfc2047 import decode_words

DATE = b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
MID = b"Message-ID: <1@example.com>\r\n"


def _msg(*headers: bytes, body: bytes = b"body\r\n") -> bytes:
    return b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


# -- encoded-words with raw 8-bit bytes ------------------------------------------------------


def test_raw_8bit_byte_inside_a_q_word_is_read_in_the_words_charset() -> None:
    data = _msg(b"Subject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr\xf6sche?=")
    subject = parse(data).header("subject")
    assert subject is not None
    assert subject.decoded == "Die Hasen und die Frösche"
    stdlib = email.message_from_bytes(data, policy=email.policy.default)
    assert str(stdlib["Subject"]) == subject.decoded
    # and the byte is still reported
    assert "header-8bit" in {f.name for f in validate(data).findings}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"=?koi8-r?Q?\xf0\xd2\xc9\xd7\xc5\xd4?=", "Привет"),
        (b"=?utf-8?q?caf\xc3\xa9?= au lait", "café au lait"),
        (b"=?iso-8859-1?Q?a=E9\xe9?= =?iso-8859-1?Q?_b?=", "aéé b"),
        (b"pr\xc3\xa9fix =?utf-8?q?mot?=", "préfix mot"),
        (b"caf\xe9 =?utf-8?q?mot?=", "café mot"),
        (b"=?utf-8?b?w6k=?=", "é"),
        (b"no words at all \xc3\xa9", "no words at all é"),
    ],
)
def test_decoded_reads_raw_bytes(raw: bytes, expected: str) -> None:
    assert decode_words(raw)[0] == expected
    field = parse(b"Subject: " + raw + b"\r\n\r\n").header("subject")
    assert field is not None and field.decoded == expected


def test_bytes_and_str_decoding_agree_on_ascii() -> None:
    for value in ["=?utf-8?q?a_b?= c", "=?iso-8859-1?q?bad=ZZ?=", "=?x-nope?q?x?=", "plain"]:
        assert decode_words(value.encode()) == decode_words(value)


def test_q_fast_path_keeps_bad_escapes_and_reports_them() -> None:
    text, problems = decode_words("=?utf-8?q?50=_off=?=")
    assert text == "50= off="
    assert problems and problems[0].name == "malformed-encoded-word"


# -- undeclared 8-bit text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Grüße".encode(), "Grüße"),
        ("Grüße".encode("latin-1"), "Grüße"),
        (b"caf\xe9", "café"),  # a lone lead byte at the end is Latin-1, not cut-off UTF-8
        ("Привет".encode()[:-1], "Приве\ufffd"),  # cut mid-character: only it is replaced
        ("файл.pdf".encode()[:7], "фай\ufffd"),
        (b"\x80 \x9d", "€ \x9d"),  # Windows-1252, with its holes read as Latin-1
        (b"\xe2\x82", "\ufffd"),  # two bytes of a three-byte character
        ('"фай'.encode()[:-1] + b'"', '"фа\ufffd"'),  # cut inside its quotes
        ("Grüße".encode() + b" \xe9", "Grüße \ufffd"),  # UTF-8 with one stray byte
        (b"Fr\xf6sche und Fr\xf6sche", "Frösche und Frösche"),  # Latin-1 lead bytes
        (b"\xc3\xa9" + b"\xe9x" * 8, "é" + "\ufffdx" * 8),  # UTF-8, a few cut
        (b"\xc3\xa9" + b"\xe9x" * 9, "Ã©" + "éx" * 9),  # too many cuts: not UTF-8
    ],
)
def test_decode_8bit(raw: bytes, expected: str) -> None:
    assert decode_8bit(raw) == expected


def test_decode_8bit_guesses_only_long_texts() -> None:
    russian = "Привет, как дела? Это тестовое сообщение на русском языке, и оно длинное."
    assert decode_8bit(russian.encode("koi8-r")) == russian
    short = "Привет".encode("koi8-r")
    assert decode_8bit(short) == short.decode("cp1252", "replace").replace("\ufffd", "")


def test_header_value_and_filename_read_8bit_the_same_way() -> None:
    name = "Отчёт за ноябрь.pdf".encode()[:-5]  # cut mid-character, then ".pdf" lost
    data = _msg(
        b"Content-Type: application/pdf",
        b'Content-Disposition: attachment; filename="' + name + b'"',
        b"Subject: Gr\xfc\xdfe",
    )
    msg = parse(data)
    assert msg.filename == decode_8bit(name)
    assert msg.filename is not None and msg.filename.startswith("Отчёт за ноябр")
    assert msg.get("subject") == "Grüße"


def test_text_without_charset_reads_8bit_like_headers() -> None:
    msg = parse(_msg(b"Content-Type: text/plain", body="Grüße".encode("latin-1")))
    assert msg.text() == "Grüße"
    msg = parse(_msg(b"Content-Type: text/plain", body="Grüße".encode()))
    assert msg.text() == "Grüße"
    msg = parse(_msg(b"Content-Type: text/plain; charset=x-unheard-of", body=b"caf\xe9"))
    assert msg.text() == "café"


def test_repair_reads_a_cut_utf8_name_as_utf8() -> None:
    name = "Отчёт за ноябрь 2026 года, итоговый.pdf".encode()[:-6]
    data = (
        b"From: a@example.com\r\n" + DATE + MID + b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="'
        + name
        + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE\r\n--b--\r\n'
    )
    out = Editor(data, repair=True).result().data
    assert out.isascii()
    assert parse(out).find("2") is not None
    assert parse(out).find("2").filename == decode_8bit(name)  # type: ignore[union-attr]


# -- a header block that runs into a delimiter line ------------------------------------------

RUN_INTO = (
    b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
    b"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n"
    b"--inner\r\nContent-Type: text/plain\r\n\r\nhello\r\n--inner--\r\n"
    b"--outer\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--outer--\r\n"
)


def test_header_block_ends_at_a_delimiter_line() -> None:
    msg = parse(RUN_INTO)
    alt = msg.find("1")
    assert alt is not None and alt.mime_type == "multipart/alternative"
    assert [h.name for h in alt.headers] == ["Content-Type"]
    inner = msg.find("1.1")
    assert inner is not None and inner.text() == "hello"
    assert [p for p, _, _ in msg.defects("missing-header-body-separator")] == [alt]
    assert msg.defects("header-line-without-colon") == []
    stdlib: Any = email.message_from_bytes(RUN_INTO, policy=email.policy.default)
    assert stdlib.get_payload()[0].get_payload()[0].get_content() == inner.text() == "hello"
    assert msg.to_bytes() == RUN_INTO


@pytest.mark.parametrize("line", [b"--inner--", b"--inner  ", b"--outer"])
def test_delimiter_lookalikes(line: bytes) -> None:
    data = RUN_INTO.replace(b"--inner\r\nContent-Type: text/plain", line + b"\r\nX-A: 1", 1)
    msg = parse(data)
    assert msg.to_bytes() == data
    alt = msg.find("1")
    assert alt is not None
    assert all(h.name != "" for h in alt.headers)  # never swallowed as a broken field


def test_a_line_like_a_foreign_boundary_stays_a_broken_field() -> None:
    data = RUN_INTO.replace(b"--inner\r\nContent-Type: text/plain", b"--other\r\nX-A: 1", 1)
    alt = parse(data).find("1")
    assert alt is not None and [h.name for h in alt.headers] == ["Content-Type", "", "X-A"]


def test_many_delimiter_lookalikes_in_a_header_with_a_long_content_type() -> None:
    # each "--nope" line is checked against the boundaries: the Content-Type holding the
    # part's own boundary is read once, not once per line (this would take minutes)
    ct = b"Content-Type: multipart/mixed; boundary=real; x=" + b"y" * 100_000 + b"\r\n"
    lines = b"--nope\r\nX: 1\r\n" * 4_000
    data = (
        b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
        + ct
        + lines
        + b"--real\r\nContent-Type: text/plain\r\n\r\nin\r\n--real--\r\n--outer--\r\n"
    )
    msg = parse(data)
    inner = msg.find("1")
    assert inner is not None and len(inner.headers) == 1 + 8_000
    assert msg.find("1.1") is not None and msg.find("1.1").text() == "in"  # type: ignore[union-attr]


# -- repair keeps what it can ----------------------------------------------------------------


def test_indented_first_field_is_kept() -> None:
    data = b" From: Name <a@example.com>\r\nTo: b@example.com\r\n" + DATE + MID + b"\r\nhi\r\n"
    result = Editor(data, repair=True, envelope_from="env@example.com").result()
    assert result.data.startswith(b"From: Name <a@example.com>\r\nTo:")
    assert [c.detail for c in result.changes] == [
        "removed the whitespace before the first field From"
    ]


def test_indented_first_line_that_is_no_field_is_still_removed() -> None:
    data = b" just text\r\nFrom: a@example.com\r\n" + DATE + MID + b"\r\nhi\r\n"
    result = Editor(data, repair=True).result()
    assert result.data.startswith(b"From: a@example.com\r\n")


PARAM_CONT = (
    b"From: a@example.com\r\n" + DATE + MID + b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    b'--b\r\nContent-Type: application/x-zip; x-unix-mode=0600;\r\nname="file.zip"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n"
    b'--b\r\nContent-Type: application/x-zip; x-unix-mode=0644;\r\nname="last.zip"\r\n'
    b"\r\nUEsDBA==\r\n--b--\r\n"
)


def test_unindented_parameter_line_is_joined() -> None:
    result = Editor(PARAM_CONT, repair=True).result()
    msg = parse(result.data)
    assert [p.filename for p in msg.walk()][2:] == ["file.zip", "last.zip"]
    assert msg.find("2").decoded() == b"PK\x03\x04"  # type: ignore[union-attr]
    assert msg.find("3").raw_body == b"UEsDBA=="  # type: ignore[union-attr]
    details = [c.detail for c in result.changes]
    assert "joined the parameter line 'name=\"file.zip\"' to the field before it" in details
    assert validate(result.data).ok


def test_a_non_parameter_line_after_content_type_is_not_joined() -> None:
    data = PARAM_CONT.replace(b'name="file.zip"', b"garbage words here", 1)
    result = Editor(data, repair=True).result()
    assert b"garbage" not in result.data.split(b"UEsDBA==")[0].split(b"see attached")[1]


@pytest.mark.parametrize("cut", range(1, 12))
def test_truncated_base64_keeps_every_byte_that_decodes(cut: int) -> None:
    payload = bytes(range(200, 209))
    encoded = base64.b64encode(payload)[:cut]
    data = _msg(
        b"Content-Type: application/octet-stream",
        b"Content-Transfer-Encoding: base64",
        body=encoded + b"\r\n",
    )
    whole = len(encoded) * 6 // 8
    assert parse(data).decoded() == payload[:whole]
    stdlib = email.message_from_bytes(data).get_payload(decode=True)
    if len(encoded) % 4 != 1:
        assert parse(data).decoded() == stdlib
    repaired = Editor(b"From: a@example.com\r\n" + DATE + MID + data, repair=True).result()
    assert parse(repaired.data).decoded() == payload[:whole]


def test_change_messages_say_what_was_done() -> None:
    data = (
        b"From: a@example.com\r\n" + DATE + MID + b"MIME-Version: 1.0\r\n"
        b"Subject: Gr\xc3\xbc\xc3\x9fe\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n"
    )
    details = [c.detail for c in Editor(data, repair=True).result().changes]
    assert "Subject: encoded its 8-bit text as RFC 2047 UTF-8 encoded-words" in details
    assert (
        "re-encoded the body from 7bit as quoted-printable: it held raw 8-bit bytes under 7bit"
        in details
    )


# -- raw 8-bit in fields the edit left as they arrived (MG117) -------------------------------

EIGHT_BIT_FROM = (
    b"From: J\xc3\xb6rg <j@example.com>\r\nTo: Ren\xe9 <r@example.com>\r\n"
    + DATE
    + MID
    + b"Subject: Gr\xc3\xbc\xc3\x9fe\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHallo\r\n"
)


def _codes(data: bytes, profile: str, original: bytes | None) -> dict[str, set[str]]:
    report = validate(data, profile=profile, original=original)
    out: dict[str, set[str]] = {}
    for f in report.findings:
        out.setdefault(f.code, set()).add(f.severity)
    return out


def test_unchanged_8bit_fields_are_a_warning_under_workmail() -> None:
    edited = EIGHT_BIT_FROM.replace(b"Subject: Gr\xc3\xbc\xc3\x9fe", b"Subject: [EXT] hi")
    codes = _codes(edited, "workmail", EIGHT_BIT_FROM)
    assert codes["MG117"] == {"warning"} and "MG115" not in codes
    assert _codes(edited, "rfc", EIGHT_BIT_FROM)["MG117"] == {"warning"}
    assert _codes(edited, "ses", EIGHT_BIT_FROM)["MG117"] == {"error"}


def test_without_an_original_8bit_stays_an_error() -> None:
    codes = _codes(EIGHT_BIT_FROM, "workmail", None)
    assert codes["MG115"] == {"error"} and "MG117" not in codes


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.replace(b"J\xc3\xb6rg", b"J\xc3\xb6rgen"),  # changed: not as it arrived
        lambda d: d.replace(b"Subject: Gr\xc3\xbc\xc3\x9fe", b"Subject: [EXT] Gr\xc3\xbc\xc3\x9fe"),
        lambda d: d.replace(b"\r\nTo:", b"\r\nX-Copy: J\xc3\xb6rg\r\nTo:"),  # a new 8-bit field
        lambda d: d.replace(b"Ren\xe9 <r@", b"Ren\xe9  <r@"),  # one byte differs
    ],
)
def test_a_field_the_edit_changed_or_added_is_mg115(change: Any) -> None:
    edited = change(EIGHT_BIT_FROM)
    codes = _codes(edited, "workmail", EIGHT_BIT_FROM)
    assert codes["MG115"] == {"error"}


def test_a_field_kept_in_another_place_of_the_original_counts_as_kept() -> None:
    # the edit moved nothing byte-wise: only bytes that are in the original count
    original = EIGHT_BIT_FROM.replace(b"Hallo", b"Hallo\r\nX: \xff")  # body bytes, no field
    edited = EIGHT_BIT_FROM.replace(b"\r\nTo:", b"\r\nX: \xff\r\nTo:")
    assert _codes(edited, "workmail", original)["MG115"] == {"error"}


def test_the_repairing_edit_keeps_immutable_8bit_and_encodes_the_rest() -> None:
    result = (
        Editor(EIGHT_BIT_FROM, repair=True, profile="workmail")
        .rewrite_subject(prefix="[EXT] ")
        .add_disclaimer(text="External mail.")
        .result()
    )
    msg = parse(result.data)
    assert msg.header("from").raw == b"From: J\xc3\xb6rg <j@example.com>\r\n"  # type: ignore[union-attr]
    assert msg.header("to").raw == b"To: Ren\xe9 <r@example.com>\r\n"  # type: ignore[union-attr]
    subject = msg.header("subject")
    assert subject is not None and subject.raw.isascii()
    assert subject.decoded == "[EXT] Grüße"
    with pytest.raises(mimeguard.InvalidMessageError):
        Editor(EIGHT_BIT_FROM, repair=True, profile="ses").rewrite_subject(prefix="x").result()


def test_a_binary_multipart_is_relabelled() -> None:
    data = (
        b"From: a@example.com\r\n" + DATE + MID + b"MIME-Version: 1.0\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n"
    )
    result = Editor(data, repair=True).result()
    assert parse(result.data).transfer_encoding == "7bit"
    assert "multipart/alternative relabelled 7bit instead of binary" in [
        c.detail for c in result.changes
    ]


# -- properties ------------------------------------------------------------------------------

_WORDISH = st.text(st.sampled_from("=?QqBb_ abcXYZ09=+/\t"), max_size=40)


@given(st.binary(max_size=200))
def test_decode_8bit_reads_utf8_as_utf8_and_never_raises(raw: bytes) -> None:
    text = decode_8bit(raw)
    try:
        assert text == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert text  # something is always read
        # Windows-1252 maps every byte to one character; cut UTF-8 replaces what is cut
        assert len(text) <= len(raw)


@given(
    st.lists(
        st.sampled_from(["=?utf-8?q?", "=?iso-8859-1?B?", "?=", "=E9", "_", " "]) | _WORDISH,
        max_size=8,
    ).map("".join)
)
def test_raw_and_text_decoding_agree_on_ascii(value: str) -> None:
    assert decode_words(value.encode("ascii")) == decode_words(value)


@given(st.binary(max_size=60), st.sampled_from(["utf-8", "iso-8859-1", "koi8-r", "x-nope"]))
def test_raw_q_word_decodes_its_bytes_in_its_charset(payload: bytes, charset: str) -> None:
    # any printable or 8-bit byte but "?" (which ends a word), raw or escaped, in a Q word
    payload = payload.replace(b"?", b"").replace(b"=", b"=3D").replace(b"_", b"=5F")
    payload = payload.translate(None, bytes(range(0x20)) + b"\x7f")  # no control in a word
    word = b"=?" + charset.encode() + b"?Q?" + payload.replace(b" ", b"_") + b"?="
    text, _ = decode_words(word)
    expected = payload.replace(b"=3D", b"=").replace(b"=5F", b"_")
    if charset == "x-nope":
        assert text == decode_8bit(expected)
    else:
        assert text == expected.decode(charset, "replace")
