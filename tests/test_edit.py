"""The edit API: disclaimers, subject, attachments, repair, Editor — always compliant output."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime

import pytest

import mimeguard
from mimeguard import (
    SES_BLOCKED,
    Editor,
    InvalidMessageError,
    SignedMessageError,
    add_disclaimer,
    parse,
    repair,
    repair_result,
    rewrite_subject,
    strip_attachments,
    validate,
)
from mimeguard._rules._fixture import TEXT_PART, build, multipart

from .conftest import EXAMPLES

DISCLAIMER = "This message came from outside the organisation."


def texts(data: bytes) -> dict[str, str]:
    return {p.path: p.text() for p in parse(data).walk() if p.is_body_text and not p.children}


def assert_clean(data: bytes) -> None:
    report = validate(data)
    assert report.ok, str(report)
    stdlib = email.message_from_bytes(data, policy=email.policy.compat32)
    assert all(not p.defects for p in stdlib.walk()), [p.defects for p in stdlib.walk()]


HTML_ALT = multipart(
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
    b"\r\n\r\nHallo =C3=BC\r\n",
    b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
    b"\r\nContent-ID: <body@x>\r\nContent-Language: de\r\n\r\n<html><body><p>Hallo</p>"
    b"</body></html>\r\n",
    subtype=b"alternative",
)


# -- add_disclaimer: the faults of AWS's sample Lambda (REFERENCE.md section 3) ------------


def test_single_part_message() -> None:
    out = add_disclaimer(build(), text=DISCLAIMER)
    assert_clean(out)
    assert texts(out)[""].rstrip().endswith(DISCLAIMER)


def test_html_without_charset_parameter() -> None:
    data = build(
        body=b"<html><body><p>Hi</p></body></html>\r\n", mime=(b"Content-Type: text/html",)
    )
    out = add_disclaimer(data, text=DISCLAIMER)
    assert_clean(out)
    html = texts(out)[""]
    assert html.index(DISCLAIMER) < html.index("</body>")


def test_non_ascii_disclaimer_into_us_ascii_part_relabels_utf8() -> None:
    out = add_disclaimer(build(), text="Extern – bitte Vorsicht, Grüße")
    assert_clean(out)
    msg = parse(out)
    assert msg.charset == "utf-8"
    assert "Grüße" in msg.text()
    assert msg.transfer_encoding == "quoted-printable"


def test_utf8_declared_7bit_is_repaired_first() -> None:
    data = build(
        body="Grüße\r\n".encode(),
        mime=(b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: 7bit"),
    )
    assert "MG316" in validate(data).codes
    out = add_disclaimer(data, text=DISCLAIMER)  # the edited part is re-encoded anyway
    assert_clean(out)
    assert "Grüße" in texts(out)[""]
    out = Editor(data, repair=True).add_disclaimer(text=DISCLAIMER).to_bytes()
    assert_clean(out)
    assert "Grüße" in texts(out)[""]


def test_other_content_headers_are_kept_and_no_mime_version_in_parts() -> None:
    out = add_disclaimer(HTML_ALT, text=DISCLAIMER)
    assert_clean(out)
    html = parse(out).find("2")
    assert html is not None
    assert html.get("content-id") == "<body@x>"
    assert html.get("content-language") == "de"
    assert all(p.header("mime-version") is None for p in parse(out).walk() if p.path)


def test_both_halves_of_alternative_are_reached() -> None:
    result = Editor(HTML_ALT).add_disclaimer(text=DISCLAIMER).result()
    assert {c.part for c in result.changes if c.kind == "disclaimer"} == {"1", "2"}
    for text in texts(result.data).values():
        assert DISCLAIMER in text


def test_long_lines_are_rewrapped() -> None:
    data = build(body=b"word " * 400 + b"\r\n")
    out = add_disclaimer(data, text=DISCLAIMER)
    assert_clean(out)
    assert parse(out).transfer_encoding == "quoted-printable"


def test_attached_message_is_not_entered() -> None:
    data = (EXAMPLES / "clean-forwarded.eml").read_bytes()
    forwarded = parse(data).find("2")
    assert forwarded is not None
    out = add_disclaimer(data, text=DISCLAIMER)
    assert_clean(out)
    assert forwarded.raw in out
    assert DISCLAIMER in texts(out)["1"]


def test_untouched_parts_are_copied_byte_for_byte() -> None:
    data = (EXAMPLES / "clean-attachment.eml").read_bytes()
    pdf = parse(data).find("2")
    assert pdf is not None
    out = add_disclaimer(data, text=DISCLAIMER)
    assert pdf.raw in out
    for f in parse(data).headers:
        assert f.raw in out


def test_idempotent() -> None:
    once = add_disclaimer(HTML_ALT, text=DISCLAIMER)
    twice = add_disclaimer(once, text=DISCLAIMER)
    assert once == twice


@pytest.mark.parametrize("position", ["top", "bottom"])
def test_html_placement(position: str) -> None:
    body = (
        b"<!-- <body> --><html><head><script>x='</body>'</script></head>"
        b"<BODY class=a><p>Text</p></BODY></html>\r\n"
    )
    data = build(body=body, mime=(b"Content-Type: text/html; charset=us-ascii",))
    html = texts(add_disclaimer(data, text=DISCLAIMER, position=position))[""]  # type: ignore[arg-type]
    at = html.index(DISCLAIMER)
    assert html.index("<BODY class=a>") < at < html.index("</BODY>")
    if position == "top":
        assert at < html.index("<p>Text")
    else:
        assert at > html.index("<p>Text")


def test_html_without_body_tag_lands_before_html_close() -> None:
    data = build(body=b"<html><p>x</p></html>\r\n", mime=(b"Content-Type: text/html",))
    html = texts(add_disclaimer(data, text=DISCLAIMER))[""]
    assert html.index(DISCLAIMER) < html.index("</html>")


def test_custom_html_disclaimer() -> None:
    out = add_disclaimer(HTML_ALT, text=DISCLAIMER, html="<p><b>External</b></p>")
    assert "<p><b>External</b></p>" in texts(out)["2"]
    assert DISCLAIMER in texts(out)["1"]


def test_flowed_text_keeps_lines_apart() -> None:
    data = build(mime=(b"Content-Type: text/plain; charset=us-ascii; format=flowed",))
    out = add_disclaimer(data, text="Line one   \n>quoted looking")
    text = texts(out)[""]
    assert "Line one\r\n" in text
    assert "\r\n >quoted looking" in text


def test_message_without_text_part_gets_one() -> None:
    pdf = (
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf"
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
    )
    out = add_disclaimer(multipart(pdf), text=DISCLAIMER)
    assert_clean(out)
    assert [p.mime_type for p in parse(out).walk()] == [
        "multipart/mixed",
        "application/pdf",
        "text/plain",
    ]
    single = build(
        body=b"JVBERg==\r\n",
        mime=(b"Content-Type: application/pdf", b"Content-Transfer-Encoding: base64"),
    )
    out = add_disclaimer(single, text=DISCLAIMER, position="top")
    assert_clean(out)
    assert [p.mime_type for p in parse(out).walk()] == [
        "multipart/mixed",
        "text/plain",
        "application/pdf",
    ]
    assert parse(out).find("2").decoded() == b"%PDF"  # type: ignore[union-attr]
    assert add_disclaimer(single, text=DISCLAIMER, on_no_text="skip") == single


SIGNED = multipart(
    TEXT_PART,
    b"Content-Type: application/pgp-signature\r\n\r\nsig\r\n",
    subtype=b"signed",
    params=b'; protocol="application/pgp-signature"',
)


def test_signed_skip_wrap_error() -> None:
    result = Editor(SIGNED).add_disclaimer(text=DISCLAIMER).result()
    assert result.data == SIGNED
    assert result.skipped and "signature" in result.skipped[0].detail
    wrapped = add_disclaimer(SIGNED, text=DISCLAIMER, on_signed="wrap")
    assert_clean(wrapped)
    msg = parse(wrapped)
    assert [p.mime_type for p in msg.children] == ["text/plain", "message/rfc822"]
    assert msg.children[1].raw_body == SIGNED
    with pytest.raises(SignedMessageError):
        add_disclaimer(SIGNED, text=DISCLAIMER, on_signed="error")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="position"):
        add_disclaimer(build(), text=DISCLAIMER, position="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        add_disclaimer(build(), text="  ")
    with pytest.raises(TypeError, match="encode"):
        add_disclaimer("From: x", text=DISCLAIMER)  # type: ignore[arg-type]


def test_input_message_object_is_not_mutated() -> None:
    msg = parse(HTML_ALT)
    before = msg.to_bytes()
    add_disclaimer(msg, text=DISCLAIMER)
    assert msg.to_bytes() == before
    assert msg.to_bytes() is HTML_ALT


# -- rewrite_subject ----------------------------------------------------------------------


def test_prefix_not_doubled_and_case_insensitive() -> None:
    once = rewrite_subject(build(), prefix="[EXT] ")
    assert parse(once).header("subject").decoded == "[EXT] Quarterly report"  # type: ignore[union-attr]
    assert rewrite_subject(once, prefix="[ext] ") == once
    reply = build(b"X-A: 1").replace(b"Subject: Quarterly report", b"Subject: Re: [EXT] hi")
    assert rewrite_subject(reply, prefix="[EXT] ") == reply


def test_missing_subject_is_created() -> None:
    out = rewrite_subject(build(drop=(b"Subject",)), prefix="[EXT] ")
    assert_clean(out)
    assert parse(out).get("subject") == "[EXT]"


def test_non_ascii_and_long_subject_is_encoded_and_folded() -> None:
    long = " ".join(["Ünïcödé"] * 80)
    out = rewrite_subject(build(), replace=long)
    assert_clean(out)
    field = parse(out).header("subject")
    assert field is not None and field.raw.isascii()
    assert field.decoded == long
    assert max(len(line) for line in field.raw.split(b"\r\n")) <= 78


def test_full_subject_is_kept() -> None:
    subject = "x" * 300
    data = build(b"X-A: 1").replace(b"Subject: Quarterly report", f"Subject: {subject}".encode())
    out = rewrite_subject(data, suffix=" [ok]")
    assert parse(out).header("subject").decoded == subject + " [ok]"  # type: ignore[union-attr]


def test_exactly_one_subject() -> None:
    data = build(b"Subject: second")
    out = Editor(data, repair=True).rewrite_subject(prefix="[EXT] ").to_bytes()
    assert len(parse(out).get_all("subject")) == 1


@pytest.mark.parametrize("bad", ["a\r\nBcc: x@y", "a\nb", "a\rb"])
def test_header_injection_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        rewrite_subject(build(), prefix=bad)


# -- strip_attachments --------------------------------------------------------------------


def _attachment(name: bytes, header: bytes = b"filename") -> bytes:
    return (
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        + header
        + b"="
        + name
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"MZ payload")
        + b"\r\n"
    )


@pytest.mark.parametrize(
    "disposition",
    [
        b'filename="invoice.pdf.exe"',
        b"filename*=UTF-8''invoice%2Eexe",
        b"filename*0*=UTF-8''in; filename*1*=voice.EXE",
        b'filename="=?utf-8?B?aW52b2ljZS5leGU=?="',
        b'filename="invoice.exe. "',
    ],
)
def test_strip_finds_names_every_way(disposition: bytes) -> None:
    part = (
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        + disposition
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVo=\r\n"
    )
    data = multipart(TEXT_PART, part)
    result = Editor(data).strip_attachments(match=SES_BLOCKED).result()
    assert len(result.removed) == 1
    assert_clean(result.data)
    assert b"TVo=" not in result.data
    assert "was removed" in parse(result.data).find("2").text()  # type: ignore[union-attr]


def test_strip_by_content_type_size_and_callable() -> None:
    data = multipart(
        TEXT_PART,
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n",
        _attachment(b"a.bin"),
    )
    assert b"iVBORw" not in strip_attachments(data, match=["image/*"])
    assert b"TVo" not in strip_attachments(data, match=[mimeguard.larger_than(10)])
    assert b"iVBORw" not in strip_attachments(data, match=lambda p: p.subtype == "png")
    assert strip_attachments(data, match=["*.zip"]) == data


def test_strip_inside_attached_message_and_notice_none() -> None:
    inner = multipart(TEXT_PART, _attachment(b"evil.js"), boundary=b"in1")
    data = multipart(TEXT_PART, b"Content-Type: message/rfc822\r\n\r\n" + inner)
    out = strip_attachments(data, match=SES_BLOCKED, notice=None)
    assert_clean(out)
    assert b"evil.js" not in out
    assert strip_attachments(data, match=SES_BLOCKED, descend=False) == data


def test_multipart_left_empty_is_handled() -> None:
    data = multipart(_attachment(b"a.exe"), _attachment(b"b.exe"))
    out = strip_attachments(data, match=SES_BLOCKED, notice=None)
    assert_clean(out)
    assert parse(out).mime_type == "text/plain"


# -- repair -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("broken-*.eml")), ids=lambda p: p.name)
def test_repair_examples(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    result = repair_result(data, now=datetime(2026, 11, 23, tzinfo=UTC))
    assert_clean(result.data)
    assert result.changes
    assert repair(result.data) == result.data  # a fixed point


@pytest.mark.parametrize(
    "rule", [r for r in mimeguard.RULES.values() if r.fixable], ids=lambda r: r.code
)
def test_repair_fixes_each_fixable_rule(rule: mimeguard.Rule) -> None:
    if rule.code in {"MG401", "MG501"} or rule.fixture_limits is not None:
        pytest.skip("fixture needs special arguments")
    data = rule.fixture
    out = repair_result(data, envelope_from="sender@example.com", profile="ses").data
    assert rule.code not in validate(out, profile="ses").codes
    assert repair(out, envelope_from="sender@example.com", profile="ses") == out


def test_missing_date_from_received() -> None:
    data = build(b"X-A: 1", drop=(b"Date",)).replace(
        b"X-A: 1", b"Received: from a by b; Tue, 24 Nov 2026 08:00:00 +0000"
    )
    result = repair_result(data)
    assert parse(result.data).get("date") == "Tue, 24 Nov 2026 08:00:00 +0000"
    assert any("Received" in c.detail for c in result.changes)


def test_missing_from_needs_envelope_sender() -> None:
    data = build(drop=(b"From",))
    with pytest.raises(InvalidMessageError) as err:
        repair(data)
    assert "MG201" in err.value.report.codes
    out = repair(data, envelope_from="bounce@example.net")
    assert parse(out).get("from") == "<bounce@example.net>"


def test_two_different_from_headers_are_refused() -> None:
    with pytest.raises(InvalidMessageError):
        repair(build(b"From: mallory@example.net"))


def test_repair_never_changes_immutable_headers() -> None:
    data = (
        build(b"X-A: 1")
        .replace(b"Cc: x", b"")
        .replace(b"X-A: 1", "X-Note: Grüße".encode())
        .replace(b"\r\n", b"\n")
    )
    out = repair(data)
    for name in ("from", "to", "date", "message-id"):
        before = parse(data).header(name)
        after = parse(out).header(name)
        assert before is not None and after is not None
        assert before.raw.replace(b"\n", b"\r\n") == after.raw


def test_repair_reads_misspelled_and_uuencoded_bodies() -> None:
    qp = build(
        body=b"caf=C3=A9\r\n",
        mime=(
            b"Content-Type: text/plain; charset=utf-8",
            b"Content-Transfer-Encoding: quoted printable",
        ),
    )
    fixed = repair(qp)
    assert parse(fixed).transfer_encoding == "quoted-printable"
    assert parse(fixed).text() == "café\r\n"
    uu = build(
        body=b"begin 644 a.txt\r\n%:&5L;&\\`\r\n`\r\nend\r\n",
        mime=(b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: x-uuencode"),
    )
    fixed = repair(uu)
    assert parse(fixed).transfer_encoding == "base64"
    assert parse(fixed).decoded() == b"hello"


@pytest.mark.parametrize("inner", ["=", "=_", "=_mimeguard_"])
def test_new_wrapping_boundary_does_not_extend_an_inner_one(inner: str) -> None:
    # found by tests/test_edit_properties.py: a digest with boundary "=" and no body text
    # was wrapped in multipart/mixed with boundary "=_mimeguard_…", which "--=" begins
    data = (
        b"From: a@example.com\r\nTo: a@example.com\r\nDate: Sat, 01 Jan 2000 00:00:00 +0000\r\n"
        b"Message-ID: <0@example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/digest; boundary="' + inner.encode() + b'"\r\n\r\n'
        b"--" + inner.encode() + b"\r\n\r\nFrom: a@example.com\r\nTo: a@example.com\r\n"
        b"Date: Sat, 01 Jan 2000 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\n"
        b"\r\n--" + inner.encode() + b"--\r\n"
    )
    out = mimeguard.add_disclaimer(data, text="Disclaimer.", position="top")
    root = mimeguard.parse(out)
    assert root.mime_type == "multipart/mixed"
    assert root.boundary is not None and not root.boundary.startswith(inner)
    assert mimeguard.validate(out).ok


def test_repair_recovers_a_missing_boundary_from_the_delimiter_lines() -> None:
    data = (
        b"From: a@example.com\r\nDate: Sat, 01 Jan 2000 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\npreamble\r\n--abc\r\n"
        b"Content-Type: text/plain\r\n\r\nhi\r\n--abc\r\nContent-Type: text/html\r\n\r\n"
        b"<p>hi</p>\r\n--abc--\r\n"
    )
    assert [f.code for f in validate(data).findings] == ["MG303"]
    result = mimeguard.repair_result(data)
    assert validate(result.data).ok
    root = parse(result.data)
    assert root.boundary == "abc"
    assert [p.mime_type for p in root.children] == ["text/plain", "text/html"]
    assert root.raw_body == parse(data).raw_body  # the body is kept byte for byte
    assert any("'abc'" in c.detail for c in result.changes)


def test_repair_keeps_a_boundaryless_body_as_text() -> None:
    data = (
        b"From: a@example.com\r\nDate: Sat, 01 Jan 2000 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative;\r\n\r\nBlah blah\r\n-- \r\nsignature\r\n"
    )
    out = mimeguard.repair(data)
    assert validate(out).ok
    root = parse(out)
    assert root.mime_type == "multipart/alternative"
    (child,) = root.children
    assert child.mime_type == "text/plain"
    assert child.text() == "Blah blah\r\n-- \r\nsignature\r\n"
