"""The stdlib-shaped API on Part/Message and the public header parsers.

Differential where it can be: get_body and iter_attachments pick the same parts
as ``email.message.EmailMessage`` on the examples, the corpus and generated mail.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings

import mimeguard
from mimeguard import strategies as ms
from mimeguard.headers import AddressList, ParsedDate
from mimeguard.message import Part

from .conftest import corpus_files, example_files

CRLF = b"\r\n"


def msg(*lines: bytes | str, body: bytes = b"") -> mimeguard.Message:
    raw = [ln.encode() if isinstance(ln, str) else ln for ln in lines]
    return mimeguard.parse(CRLF.join(raw) + CRLF + CRLF + body)


def related(start: str | None, *cids: str, attach_first: bool = False) -> bytes:
    params = f'; start="{start}"' if start is not None else ""
    parts = []
    for i, cid in enumerate(cids):
        kind = "text/html" if i == 0 else "image/png"
        disp = "Content-Disposition: attachment\r\n" if attach_first and i == 0 else ""
        parts.append(f"--r\r\nContent-Type: {kind}\r\nContent-ID: {cid}\r\n{disp}\r\npart {i}\r\n")
    body = "".join(parts) + "--r--\r\n"
    return (
        "From: a@example.com\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/related; boundary="r"{params}\r\n\r\n{body}'
    ).encode()


# -- header access ---------------------------------------------------------------------------------


def test_getitem_is_the_first_decoded_value_or_none() -> None:
    m = msg(
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?M=FCnchen?=",
        "SUBJECT: second",
        "X-Empty:",
    )
    assert m["Subject"] == "Grüße aus München"
    assert m["subject"] == m["SUBJECT"] == m["sUbJeCt"]
    assert m["X-Empty"] == ""
    assert m["Missing"] is None  # like the stdlib: no KeyError
    assert m.get_all_decoded("subject") == ["Grüße aus München", "second"]
    assert m.get_all_decoded("received") is None
    assert m.get_all_decoded("received", []) == []
    marker = object()
    assert m.get_all_decoded("received", marker) is marker
    # get_all keeps returning the fields themselves (raw bytes and spans)
    fields = m.get_all("subject")
    assert [f.raw.startswith((b"Subject:", b"SUBJECT:")) for f in fields] == [True, True]
    assert "subject" in m and "X-Empty" in m and "Missing" not in m and 3 not in m
    assert m.keys() == ["Subject", "SUBJECT", "X-Empty"]
    assert m.items()[0] == ("Subject", "Grüße aus München")


def test_lines_that_are_no_field_are_not_values() -> None:
    # an mbox From_ line and a line without a colon are kept (lossless) but are no field
    m = mimeguard.parse(b"From someone Mon Nov 23\r\nSubject: hi\r\nno colon here\r\n\r\nbody")
    assert m["Subject"] == "hi"
    names = m.keys()
    assert "From someone Mon Nov 23" not in names
    assert all(":" not in k for k in names)
    assert m["From"] is None


@pytest.mark.parametrize("bad", [None, 1, b"Subject", ("Subject",)])
def test_header_names_must_be_str(bad: object) -> None:
    m = msg("Subject: x")
    with pytest.raises(TypeError):
        m[bad]  # type: ignore[index]
    with pytest.raises(TypeError):
        m.get_all_decoded(bad)  # type: ignore[arg-type]


def test_hostile_encoded_words_decode_without_raising() -> None:
    m = msg(
        "Subject: =?x-unknown?q?abc?= =?utf-8?b?!!!?= =?utf-8?q?=FF=FE?=",
        b"X-Raw: caf\xc3\xa9 \xff",
        "To: =?utf-8?q?Evil=0D=0ABcc:_x@y?= <a@b.c>",
    )
    assert isinstance(m["Subject"], str)
    # not UTF-8 (0xFF never is): read the Windows-1252 way clients fall back to
    assert m["X-Raw"] == "caf\u00c3\u00a9 \u00ff"
    assert "\n" not in m.keys()[2]


# -- content ------------------------------------------------------------------------------------


def test_content_accessors_match_the_stdlib_on_the_examples() -> None:
    for path in example_files():
        data = path.read_bytes()
        ours = list(mimeguard.parse(data).walk())
        theirs = list(email.message_from_bytes(data, policy=email.policy.default).walk())
        if len(ours) != len(theirs):  # a broken example the two read differently
            continue
        for a, b in zip(ours, theirs, strict=True):
            assert isinstance(b, EmailMessage)
            assert a.get_content_type() == b.get_content_type(), path
            assert a.get_content_maintype() == b.get_content_maintype()
            assert a.get_content_subtype() == b.get_content_subtype()
            assert a.get_filename() == b.get_filename(), path
            assert a.get_content_charset() == b.get_content_charset(), path
            assert a.get_content_disposition() == b.get_content_disposition(), path


def test_get_content_by_type() -> None:
    data = (Path(__file__).parent.parent / "examples" / "clean-attachment.eml").read_bytes()
    m = mimeguard.parse(data)
    assert m.get_content() is None  # multipart
    text, pdf = m.children
    assert isinstance(text.get_content(), str)
    assert pdf.get_content() == pdf.decoded() and isinstance(pdf.get_content(), bytes)
    assert list(m.iter_parts()) == list(m.children)
    fwd = mimeguard.parse(
        (Path(__file__).parent.parent / "examples" / "clean-forwarded.eml").read_bytes()
    )
    attached = fwd.children[1]
    assert attached.get_content() is attached.attached


# -- get_body and iter_attachments, against the stdlib --------------------------------------------


def _same(ours: Part | None, theirs: object) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    assert isinstance(theirs, EmailMessage)
    if ours.get_content_type() != theirs.get_content_type():
        return False
    if ours.is_multipart:
        return len(ours.children) == len(theirs.get_payload())
    payload = theirs.get_payload(decode=True)
    return payload is None or ours.decoded() == payload


def _compare(data: bytes) -> None:
    ours = mimeguard.parse(data)
    theirs = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(theirs, EmailMessage)
    for prefs in (("related", "html", "plain"), ("plain",), ("html", "plain"), ("related",)):
        assert _same(ours.get_body(prefs), theirs.get_body(prefs)), prefs
    mine = list(ours.iter_attachments())
    stdlib = list(theirs.iter_attachments())
    assert len(mine) == len(stdlib)
    assert all(_same(a, b) for a, b in zip(mine, stdlib, strict=True))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_get_body_and_iter_attachments_match_the_stdlib_on_examples(path: Path) -> None:
    if path.name.startswith("broken-"):
        pytest.skip("broken on purpose: the two parsers may read the structure differently")
    _compare(path.read_bytes())


@settings(max_examples=60, deadline=None)
@given(ms.messages(max_parts=6))
def test_get_body_and_iter_attachments_match_the_stdlib_on_generated_mail(data: bytes) -> None:
    _compare(data)


def test_related_start_parameter() -> None:
    # start names the second part: that is the body, the first is an attachment
    m = mimeguard.parse(related("<b@x>", "<a@x>", "<b@x>"))
    s = email.message_from_bytes(related("<b@x>", "<a@x>", "<b@x>"), policy=email.policy.default)
    assert isinstance(s, EmailMessage)
    assert m.get_body(("related",)) is m
    assert [p.get("content-id") for p in m.iter_attachments()] == ["<a@x>"]
    assert [p["content-id"] for p in s.iter_attachments()] == ["<a@x>"]
    # a start that names nothing: the first part is the start, as in the stdlib
    m = mimeguard.parse(related("<zz@x>", "<a@x>", "<b@x>"))
    assert [p.get("content-id") for p in m.iter_attachments()] == ["<b@x>"]
    body = m.get_body(("html",))
    assert body is not None and body.get("content-id") == "<a@x>"
    # no start at all
    m = mimeguard.parse(related(None, "<a@x>", "<b@x>"))
    assert [p.get("content-id") for p in m.iter_attachments()] == ["<b@x>"]


def test_an_attachment_is_never_the_body() -> None:
    data = related(None, "<a@x>", "<b@x>", attach_first=True)
    m = mimeguard.parse(data)
    s = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(s, EmailMessage)
    assert m.get_body(("html", "plain")) is None and s.get_body(("html", "plain")) is None
    shouting = msg(
        "Content-Type: text/plain", "Content-Disposition: ATTACHMENT; filename=x.txt", body=b"x"
    )
    assert shouting.get_body() is None
    assert list(shouting.iter_attachments()) == []  # not a multipart: nothing


def test_get_body_never_enters_an_attached_message() -> None:
    fwd = mimeguard.parse(
        (Path(__file__).parent.parent / "examples" / "clean-forwarded.eml").read_bytes()
    )
    body = fwd.get_body(("plain",))
    assert body is not None and body.path == "1"


@pytest.mark.parametrize(
    ("prefs", "error"),
    [("plain", TypeError), ([b"plain"], TypeError), (["text"], ValueError), (["HTML"], ValueError)],
)
def test_get_body_checks_its_arguments(prefs: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        msg("Subject: x").get_body(prefs)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", corpus_files()[:300], ids=lambda p: p.name)
def test_corpus_never_raises(path: Path) -> None:
    m = mimeguard.parse(path.read_bytes())
    m.get_body()
    list(m.iter_attachments())
    for part in m.walk():
        part["Subject"]
        part.get_all_decoded("Received")
        part.get_content_charset()


# -- parse_addresses / parse_date ---------------------------------------------------------------


def test_parse_addresses_returns_typed_values_and_problems() -> None:
    got = mimeguard.parse_addresses('Alice <a@x.org>, team: "Bob, Jr." <b@y.org>;, c@z')
    assert isinstance(got, AddressList) and not got.problems
    assert [(b.display_name, b.addr_spec, b.group) for b in got.mailboxes] == [
        ("Alice", "a@x.org", None),
        ("Bob, Jr.", "b@y.org", "team"),
        (None, "c@z", None),
    ]
    assert got.groups == ("team",)
    # what email.utils.getaddresses finds, for a well-formed list
    value = 'Alice <a@x.org>, "Bob, Jr." <b@y.org>'
    assert [
        (b.display_name or "", b.addr_spec) for b in mimeguard.parse_addresses(value).mailboxes
    ] == (email.utils.getaddresses([value]))


@pytest.mark.parametrize(
    "value",
    [
        "bad<",
        '"unterminated <a@b>',
        "(((((((((((((((((((((((((((((((((((((((((((((((((((deep",
        "<" * 10_000,
        "a@b\r\nBcc: injected@evil",
        "\x00@\x00",
        "",
    ],
)
def test_parse_addresses_never_raises_for_bad_values(value: str) -> None:
    got = mimeguard.parse_addresses(value)
    assert got.problems  # each one is wrong, and says so
    assert all(0 <= p.offset <= len(value) for p in got.problems)


def test_parse_addresses_kinds_and_arguments() -> None:
    assert mimeguard.parse_addresses("team: a@b;", kind="mailbox-list").problems
    assert mimeguard.parse_addresses("a@b, c@d", kind="mailbox").problems
    assert not mimeguard.parse_addresses("a@b", kind="mailbox").problems
    assert mimeguard.parse_addresses("", allow_empty=True) == AddressList((), (), ())
    assert mimeguard.parse_addresses(" ", kind="mailbox-list", allow_empty=True).mailboxes == ()
    assert mimeguard.parse_addresses(b"caf\xc3\xa9 <a@b>").mailboxes[0].display_name == "café"
    assert mimeguard.parse_addresses(b"\xff <a@b>").mailboxes[0].addr_spec == "a@b"
    with pytest.raises(ValueError, match="kind"):
        mimeguard.parse_addresses("a@b", kind="group")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mimeguard.parse_addresses(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mimeguard.parse_addresses("a@b", allow_empty="yes")  # type: ignore[arg-type]


def test_parse_date() -> None:
    got = mimeguard.parse_date("Mon, 23 Nov 2026 10:00:00 +0100")
    assert isinstance(got, ParsedDate) and got.ok
    assert got.datetime == datetime(2026, 11, 23, 10, tzinfo=timezone(timedelta(hours=1)))
    assert got.datetime == email.utils.parsedate_to_datetime("Mon, 23 Nov 2026 10:00:00 +0100")
    assert mimeguard.parse_date(b"23 Nov 2026 09:00 GMT").datetime == datetime(
        2026, 11, 23, 9, tzinfo=UTC
    )
    for bad in ("31 Feb 2026 10:00 +0000", "", "yesterday", "Mon, 23 Nov 2026 25:00:00 +0000"):
        got = mimeguard.parse_date(bad)
        assert got.datetime is None and got.problems and not got.ok, bad
    wrong_day = mimeguard.parse_date("Tue, 23 Nov 2026 10:00:00 +0000")  # a Monday
    assert wrong_day.datetime is not None and wrong_day.problems and not wrong_day.ok
    with pytest.raises(TypeError):
        mimeguard.parse_date(1_700_000_000)  # type: ignore[arg-type]
