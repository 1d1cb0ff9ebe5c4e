"""Edit integrity (issue 12): inserted text never becomes structure, no part is lost,
no edit refuses its own output, every edit proves it kept what it was not told to drop."""

from __future__ import annotations

import base64

import pytest

import mimeguard
from mimeguard import (
    Editor,
    InvalidMessageError,
    Limits,
    _disclaimer,
    add_disclaimer,
    parse,
    validate,
)
from mimeguard._conservation import check_conserved
from mimeguard._writer import Node, encode_body, looks_like_delimiter, serialise
from mimeguard.edit import Change
from mimeguard.message import decode_qp

HEAD = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n"
    b"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n"
)
PDF = (
    b'Content-Type: application/pdf; name="a.pdf"\r\n'
    b'Content-Disposition: attachment; filename="a.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
)


def mixed(boundary: str, *parts: bytes) -> bytes:
    b = boundary.encode()
    body = b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts)
    return (
        HEAD
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="'
        + b
        + b'"\r\n\r\n'
        + body
        + b"--"
        + b
        + b"--\r\n"
    )


def text(body: bytes, ctype: bytes = b"text/plain; charset=us-ascii", cte: bytes = b"") -> bytes:
    head = b"Content-Type: " + ctype + b"\r\n"
    if cte:
        head += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    return head + b"\r\n" + body


def leaves(data: bytes) -> list[mimeguard.Part]:
    return [p for p in parse(data).walk() if not p.children]


def shape(data: bytes) -> list[str]:
    return [p.mime_type for p in parse(data).walk()]


# -- 1. inserted text never becomes structure ----------------------------------------------


@pytest.mark.parametrize("boundary", ["------", "--------", "-", "--"])
def test_ruler_in_disclaimer_is_no_delimiter(boundary: str) -> None:
    data = mixed(boundary, text(b"hello"), PDF)
    out = add_disclaimer(data, text="Notice\n----------\n--\n---- end ----")
    assert shape(out) == shape(data)
    assert validate(out).ok
    body = parse(out).children[0]
    assert "----------\r\n--\r\n---- end ----" in body.text()
    assert parse(out).children[1].raw == parse(data).children[1].raw


def test_injected_part_in_disclaimer_stays_text() -> None:
    data = mixed("B", text(b"hello"), PDF)
    hostile = "x\r\n--B\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--B--\r\n"
    out = add_disclaimer(data, text=hostile, html=hostile)
    assert shape(out) == shape(data)
    assert "<script>" in parse(out).children[0].text()
    for line in out.split(b"\r\n"):
        assert not line.startswith(b"--B") or line in (b"--B", b"--B--")


def test_injection_in_html_disclaimer_and_nested_boundaries() -> None:
    inner = (
        b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n'
        b"--inner\r\n" + text(b"plain") + b"\r\n"
        b"--inner\r\n" + text(b"<html><body>rich</body></html>", b"text/html") + b"\r\n"
        b"--inner--"
    )
    data = mixed("outer", inner, PDF)
    hostile = "--inner\r\n--outer--\r\n--outerX \r\n--inner--  "
    out = add_disclaimer(data, text=hostile, html=hostile)
    assert shape(out) == shape(data)
    html_part = parse(out).find("1.2")
    assert html_part is not None and "--outer--" in html_part.text()


def test_html_insertion_cannot_start_a_delimiter_line() -> None:
    # "--B" after <body> is not at a line start; the insertion after the tag puts it there
    html = text(b"<html><body>--B--\r\nrest</body></html>", b"text/html")
    data = mixed("B", html, PDF)
    out = add_disclaimer(data, text="Careful", position="top")
    assert shape(out) == shape(data)
    assert "--B--" in parse(out).children[0].text()


def test_existing_encoded_dash_line_stays_encoded() -> None:
    # decoded "--B" hidden behind =2D: re-encoding the body (a non-ASCII disclaimer) must
    # not write it raw
    body = text(b"=2D-B\r\ntext\r\n", b"text/plain; charset=utf-8", b"quoted-printable")
    data = mixed("B", body, PDF)
    out = add_disclaimer(data, text="Achtung – extern")
    assert shape(out) == shape(data)
    first = parse(out).children[0]
    assert not looks_like_delimiter(first.raw_body, [b"B"])
    assert "--B\r\ntext" in first.text()


def test_signature_separator_keeps_7bit() -> None:
    # a "-- " line is no delimiter of this message's boundary: the part stays 7bit
    data = mixed("B", text(b"hello\r\n-- \r\nAlice"), PDF)
    out = add_disclaimer(data, text="Careful")
    part = parse(out).children[0]
    assert part.transfer_encoding == "7bit"
    assert b"\r\n-- \r\nAlice" in part.raw_body


def test_notice_template_cannot_inject() -> None:
    data = mixed("B", text(b"hello"), PDF)
    notice = "gone\n--B\nContent-Type: text/html\n\n<script>{filename}</script>\n--B--"
    out = Editor(data).strip_attachments(match="*.pdf", notice=notice).to_bytes()
    assert shape(out) == ["multipart/mixed", "text/plain", "text/plain"]
    assert "<script>a.pdf</script>" in parse(out).children[1].text()


def test_wrapper_part_is_safe_whatever_the_new_boundary() -> None:
    data = HEAD + b"MIME-Version: 1.0\r\n" + PDF
    out = add_disclaimer(data, text="--=_mimeguard_\r\n--mimeguard_\r\n--MG.")
    assert shape(out) == ["multipart/mixed", "application/pdf", "text/plain"]
    assert "--=_mimeguard_" in parse(out).children[1].text()


def test_qp_never_writes_a_dash_line_or_a_long_line() -> None:
    for data in (b"-" * 300, b"--a\r\n--b", ("--" + "é" * 100).encode(), b"x \t" * 40 + b"\r\n"):
        qp = encode_body(data, "quoted-printable", text=True)
        assert not looks_like_delimiter(qp)
        assert all(len(line) <= 76 for line in qp.split(b"\r\n"))
        assert decode_qp(qp) == data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_looks_like_delimiter() -> None:
    assert looks_like_delimiter(b"x\r\n--Bx", [b"B"])  # prefix match, as many parsers do
    assert looks_like_delimiter(b"--B  ", [b"B"])
    assert looks_like_delimiter(b"a\r--B", [b"B"])
    assert not looks_like_delimiter(b"x--B\r\n -- B", [b"B"])
    assert looks_like_delimiter(b"a\n--", None)
    assert not looks_like_delimiter(b"a -- b", None)


# -- 2. parts past the part limit are carried over -----------------------------------------


def _many(n: int) -> bytes:
    parts = [text(b"p%d" % i) for i in range(n)]
    last = PDF.replace(b"a.pdf", b"last.pdf")
    return mixed("bnd", *parts, last)


def test_serialise_carries_the_unparsed_rest_of_a_multipart() -> None:
    data = _many(60)
    msg = parse(data, limits=Limits(max_parts=20))
    assert msg.opaque
    root = Node.mirror(msg)
    root.children[0].body = b"changed\r\n"
    out = serialise(root)
    assert b"last.pdf" in out
    assert len(leaves(out)) == len(leaves(data))
    assert [p.raw for p in leaves(out)][1:] == [p.raw for p in leaves(data)][1:]


def test_edit_past_the_part_limit_never_drops_parts() -> None:
    data = _many(60)
    limits = Limits(max_parts=20)
    editor = (
        Editor(data, repair=True, limits=limits)
        .add_disclaimer(text="disclaimer")
        .strip_attachments(match="*.exe")
    )
    with pytest.raises(InvalidMessageError) as exc:
        editor.result()
    assert "MG411" in str(exc.value)  # refused for the limit, with everything still in it


# -- 3. MIME-Version where an edit writes MIME headers ------------------------------------


def test_non_ascii_disclaimer_on_plain_mail_adds_mime_version() -> None:
    data = HEAD + b"\r\nhello\r\n"
    out = add_disclaimer(data, text="ACHTUNG: externer Absender – Grüße")
    msg = parse(out)
    assert msg.get("mime-version") == "1.0"
    assert "Grüße" in msg.text()
    assert validate(out).ok


def test_ascii_disclaimer_on_plain_mail_adds_no_mime_headers() -> None:
    data = HEAD + b"\r\nhello\r\n"
    out = add_disclaimer(data, text="External sender")
    assert parse(out).get("mime-version") is None


# -- 4. wrong or unknown charset labels ----------------------------------------------------


@pytest.mark.parametrize(
    ("ctype", "raw"),
    [
        (b"text/plain; charset=utf-8", "Grüße aus Köln".encode("latin-1")),
        (b"text/plain; charset=x-mac-cyrillic", "Привет".encode("mac_cyrillic")),
        (b"text/plain; charset=fakescii", b"caf\xe9 \xff"),
        (b'text/plain; charset="fake; charset=us-ascii"', b"caf\xe9"),
        (b"text/html; charset=fakescii", b"<html><body>caf\xe9</body></html>"),
    ],
)
@pytest.mark.parametrize("cte", [b"8bit", b"quoted-printable", b"base64"])
def test_disclaimer_written_into_the_parts_own_bytes(ctype: bytes, raw: bytes, cte: bytes) -> None:
    body = encode_body(raw, cte.decode(), text=True)
    data = mixed("B", text(body, ctype, cte), PDF)
    result = Editor(data).add_disclaimer(text="External sender").result()
    assert [c.kind for c in result.changes] == ["disclaimer"]
    part = parse(result.data).children[0]
    assert part.transfer_encoding == cte.decode()
    assert part.get("content-type") == ctype.decode()
    decoded = part.decoded()
    assert b"External sender" in decoded
    if b"html" in ctype:
        at = raw.index(b"</body>")
        assert decoded.startswith(raw[:at]) and decoded.rstrip(b"\r\n").endswith(raw[at:])
    else:
        assert decoded.startswith(raw)


def test_not_ascii_compatible_charset_is_wrapped() -> None:
    body = encode_body("hi".encode("utf-16"), "base64", text=False)
    data = mixed("B", text(body, b"text/plain; charset=x-utf-16-fake", b"base64"), PDF)
    # a label Python does not know, naming UTF-16: its bytes cannot take an ASCII splice
    result = Editor(data).add_disclaimer(text="External sender").result()
    assert any(c.kind == "skipped" for c in result.changes)
    assert parse(result.data).children[0].raw == parse(data).children[0].raw


def test_non_ascii_disclaimer_in_mislabelled_part_uses_the_label() -> None:
    data = mixed("B", text("Grüße".encode("latin-1"), b"text/plain; charset=utf-8", b"8bit"))
    out = add_disclaimer(data, text="Achtung – extern")
    decoded = parse(out).children[0].decoded()
    assert "Grüße".encode("latin-1") in decoded and "– extern".encode() in decoded


def test_disclaimer_in_own_bytes_is_not_added_twice() -> None:
    data = mixed("B", text(b"caf\xe9", b"text/plain; charset=fakescii", b"8bit"), PDF)
    once = add_disclaimer(data, text="External sender")
    assert add_disclaimer(once, text="External sender") == once


# -- 5. the conservation invariant ---------------------------------------------------------


def test_invariant_accepts_an_honest_edit() -> None:
    data = mixed("B", text(b"hello"), PDF, text(b"bye"))
    result = Editor(data).add_disclaimer(text="X").strip_attachments(match="*.pdf").result()
    check_conserved(parse(data), parse(result.data), result.changes)


def test_invariant_catches_a_dropped_part() -> None:
    data = mixed("B", text(b"hello"), PDF, text(b"bye"))
    out = mixed("B", text(b"hello"), text(b"bye"))
    with pytest.raises(InvalidMessageError, match=r"part 2 .*application/pdf.* missing"):
        check_conserved(parse(data), parse(out), [])
    check_conserved(parse(data), parse(out), [Change("removed", "2", "a.pdf")])


def test_a_removal_outside_the_parts_licenses_no_lost_leaf() -> None:
    # dropping a preamble or epilogue (scope "outside") removes no part: a leaf lost
    # with it is caught, whatever the detail says
    data = mixed("B", text(b"hello"), PDF, text(b"bye"))
    out = mixed("B", text(b"hello"), text(b"bye"))
    for path in ("", "2"):
        outside = Change("removed", path, "MIME structure in the epilogue", scope="outside")
        with pytest.raises(InvalidMessageError, match=r"part 2 .*application/pdf.* missing"):
            check_conserved(parse(data), parse(out), [outside])
    # the scope, not the words, decides: the same detail as a removal of part 2 is one
    check_conserved(parse(data), parse(out), [Change("removed", "2", "MIME structure in the ")])


def test_invariant_catches_a_changed_part() -> None:
    data = mixed("B", text(b"hello"), PDF)
    out = data.replace(b"JVBERi0xLjQK", b"JVBERi0xLjUK")
    with pytest.raises(InvalidMessageError, match="missing from the output or was changed"):
        check_conserved(parse(data), parse(out), [])


def _pdf(body: bytes, name: bytes = b"a.pdf") -> bytes:
    return PDF.replace(b"JVBERi0xLjQK", body).replace(b"a.pdf", name)


@pytest.mark.parametrize("at", [0, 31, 32, 1_000, -33, -1])
def test_invariant_catches_one_byte_changed_anywhere_in_a_large_body(at: int) -> None:
    # bodies are looked up by length and their end bytes, then compared whole: a change
    # in the middle of an attachment, with the same length and ends, is caught
    body = b"\r\n".join([b"QUJD" * 19] * 100)
    data = mixed("B", text(b"hello"), _pdf(body))
    i = at % len(body)
    if body[i : i + 1] in (b"\r", b"\n"):
        i += 2
    changed = body[:i] + (b"Q" if body[i : i + 1] != b"Q" else b"U") + body[i + 1 :]
    out = mixed("B", text(b"hello"), _pdf(changed))
    with pytest.raises(InvalidMessageError, match="missing from the output or was changed"):
        check_conserved(parse(data), parse(out), [])


def test_invariant_matches_equal_looking_bodies_by_their_bytes() -> None:
    # two attachments with the same name, type, length and ends, swapped: each old leaf
    # must find its own bytes, in order, so the swap is a change
    a = b"QUJD" * 40 + b"\r\n" + b"AAAA" * 19 + b"\r\n" + b"QUJD" * 40
    b = b"QUJD" * 40 + b"\r\n" + b"BBBB" * 19 + b"\r\n" + b"QUJD" * 40
    data = mixed("B", _pdf(a), _pdf(b))
    check_conserved(parse(data), parse(data), [])
    with pytest.raises(InvalidMessageError, match="missing from the output or was changed"):
        check_conserved(parse(data), parse(mixed("B", _pdf(b), _pdf(a))), [])
    with pytest.raises(InvalidMessageError, match="missing from the output or was changed"):
        check_conserved(parse(data), parse(mixed("B", _pdf(a), _pdf(a))), [])


def test_invariant_after_a_line_ending_repair_compares_normalised_bodies() -> None:
    body = b"\n".join([b"QUJD" * 19] * 50)
    data = mixed("B", text(b"hello"), _pdf(body)).replace(b"\r\n", b"\n")
    fixed = mixed("B", text(b"hello"), _pdf(body.replace(b"\n", b"\r\n")))
    crlf = [Change("repaired", "", "line endings", scope="message")]
    check_conserved(parse(data), parse(fixed), crlf)
    worse = fixed.replace(b"QUJDQUJD\r\n", b"QUJDQUJE\r\n", 1)
    with pytest.raises(InvalidMessageError, match="missing from the output or was changed"):
        check_conserved(parse(data), parse(worse), [Change("repaired", "", "x", scope="message")])


def test_a_line_ending_repair_licenses_only_the_message_it_covers() -> None:
    # a repair of the line endings of an attached message (scope "message" at its path)
    # lets the bodies in it change line endings, and no body outside it
    data = mixed("B", text(b"hello\nworld"), text(b"bye\nnow"))
    out = mixed("B", text(b"hello\r\nworld"), text(b"bye\r\nnow"))
    check_conserved(parse(data), parse(out), [Change("repaired", "", "eols", scope="message")])
    for path in ("1", "2"):
        with pytest.raises(InvalidMessageError, match="missing from the output or was changed"):
            check_conserved(
                parse(data), parse(out), [Change("repaired", path, "eols", scope="message")]
            )
    one = mixed("B", text(b"hello\r\nworld"), text(b"bye\nnow"))
    check_conserved(parse(data), parse(one), [Change("repaired", "1", "eols", scope="message")])


def test_repair_decodes_a_base64_attached_message_with_bare_line_feeds() -> None:
    # decoding the attached message makes its line endings CRLF: the edit is delivered,
    # and its text is the same (mime4j's base64encoded-rfc822message.msg was refused)
    inner = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nText body\n\r\n"
    data = (
        HEAD
        + (
            b"MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
        )
        + base64.encodebytes(inner).replace(b"\n", b"\r\n")
    )
    result = Editor(data, repair=True).result()
    assert result.report.ok
    (leaf,) = leaves(result.data)
    assert leaf.decoded() == b"Text body\r\n\r\n"
    assert any(c.scope == "message" and c.part == "" for c in result.changes)


def test_invariant_catches_an_invented_part() -> None:
    data = mixed("B", text(b"hello"), PDF)
    out = mixed("B", text(b"hello"), PDF, text(b"<script>", b"text/html"))
    with pytest.raises(InvalidMessageError, match="no edit created it"):
        check_conserved(parse(data), parse(out), [])
    with pytest.raises(InvalidMessageError, match="no edit created it"):  # not text/plain
        check_conserved(parse(data), parse(out), [Change("added", "", "a note")])


def test_invariant_needs_the_original_text_inside_a_disclaimer_part() -> None:
    data = mixed("B", text(b"hello world"), PDF)
    good = mixed("B", text(b"hello world\r\n\r\nDISCLAIMER"), PDF)
    bad = mixed("B", text(b"hello\r\n\r\nDISCLAIMER"), PDF)
    change = [Change("disclaimer", "1", "text/plain, bottom")]
    check_conserved(parse(data), parse(good), change)
    with pytest.raises(InvalidMessageError, match="original text is not in the output"):
        check_conserved(parse(data), parse(bad), change)


def test_a_broken_edit_never_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    # simulate a bug: the disclaimer replaces the text instead of adding to it
    monkeypatch.setattr(_disclaimer, "_insert", lambda part, body, snippet, position: snippet)
    # (a body spliced as pieces is stored by _store_spliced: the same bug there)
    monkeypatch.setattr(
        _disclaimer,
        "_store_spliced",
        lambda node, part, view, snippet, position, boundaries: _disclaimer._store_body(
            node, part, snippet, boundaries
        ),
    )
    data = mixed("B", text(b"hello world"), PDF)
    with pytest.raises(InvalidMessageError, match="edit integrity"):
        add_disclaimer(data, text="X")


def test_the_readme_states_the_guarantee() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "conservation" in readme.lower()


# -- 6. bad arguments ----------------------------------------------------------------------

PLAIN = HEAD + b"\r\nhello\r\n"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: add_disclaimer(PLAIN, text=None), TypeError),  # type: ignore[arg-type]
        (lambda: add_disclaimer(PLAIN, text=5), TypeError),  # type: ignore[arg-type]
        (lambda: add_disclaimer(PLAIN, text=b"x"), TypeError),  # type: ignore[arg-type]
        (lambda: add_disclaimer(PLAIN, text="x", html=1), TypeError),  # type: ignore[arg-type]
        (lambda: add_disclaimer(PLAIN, text="   "), ValueError),
        (lambda: add_disclaimer(PLAIN, text="a\ud800b"), ValueError),
        (lambda: add_disclaimer(PLAIN, text="x", html="\udfff"), ValueError),
        (lambda: add_disclaimer(PLAIN, text="x", position="middle"), ValueError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN).rewrite_subject(prefix=None), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN).rewrite_subject(prefix="\ud800"), ValueError),
        (lambda: Editor(PLAIN).strip_attachments(match="*.exe", notice="{nope}"), ValueError),
        (lambda: Editor(PLAIN).strip_attachments(match="*.exe", notice="{0}"), ValueError),
        (lambda: Editor(PLAIN).strip_attachments(match="*.exe", notice="{size.x}"), ValueError),
        (lambda: Editor(PLAIN).strip_attachments(match="*.exe", notice="{"), ValueError),
        (lambda: Editor(PLAIN).strip_attachments(match="*.exe", notice=3), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN).strip_attachments(match="*.exe", descend="no"), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN, repair="yes"), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN, profile=["ses"]), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN, profile="nope"), ValueError),
        (lambda: Editor(PLAIN, envelope_from=7), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN, limits={}), TypeError),  # type: ignore[arg-type]
        (lambda: Editor(PLAIN, now="today"), TypeError),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_fail_at_the_call(call: object, error: type[Exception]) -> None:
    with pytest.raises(error) as exc:
        call()  # type: ignore[operator]
    assert not isinstance(exc.value, (KeyError, AttributeError, IndexError))


def test_literal_braces_in_a_notice_are_fine() -> None:
    data = mixed("B", text(b"hello"), PDF)
    out = Editor(data).strip_attachments(match="*.pdf", notice="{{x}} {filename}").to_bytes()
    assert "{x} a.pdf" in parse(out).children[1].text()


def test_a_large_disclaimer_is_written() -> None:
    # linear in what is inserted (measured, not timed here: see the report of issue 12)
    big = ("line of a long disclaimer ---\n" * 70_000) + "é" * 100_000
    out = add_disclaimer(PLAIN, text=big)
    assert parse(out).text().count("line of a long disclaimer") == 70_000


def test_subject_text_never_starts_a_line_with_dashes() -> None:
    data = mixed("B", text(b"hello"), PDF)
    hostile = " ".join(["--B--"] * 40)
    out = Editor(data).rewrite_subject(prefix=hostile + " ").add_disclaimer(text="x").to_bytes()
    assert shape(out) == shape(data)
    assert all(not line.startswith(b"--B") for line in out.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))


def test_repair_leaves_an_inner_multipart_that_reuses_the_outer_boundary_alone() -> None:
    # new delimiters for the inner part would hand the outer multipart parts that were never
    # its own (the epilogue's text moved out of sight): the conflict stays an error instead
    data = (
        b"From: a@example.com\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n'
        b'Content-Type: multipart/alternative; boundary="outer"\r\n\r\n--outer\r\n'
        b"Content-Type: text/plain\r\n\r\nfirst\r\n--outer--\r\n--outer\r\n"
        b"Content-Type: text/plain\r\n\r\nsecond\r\n--outer--\r\n"
    )
    with pytest.raises(mimeguard.InvalidMessageError) as info:
        mimeguard.repair(data)
    assert not isinstance(info.value, mimeguard.EditIntegrityError)
    assert "MG305" in {f.code for f in info.value.report.errors}


def test_repair_keeps_the_obsolete_space_before_the_colon_of_an_immutable_field() -> None:
    # RFC 5322 section 4.5 obs syntax (MG105, a warning): Date is immutable in transit, so
    # repair may not rewrite it, not even to drop the space
    data = (
        b"From: a@example.com\r\nDate  : Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"X-Note  : moved\r\n\r\nHello\r\n"
    )
    out = mimeguard.repair(data)
    assert b"Date  : Mon, 23 Nov 2026 10:00:00 +0000\r\n" in out
    assert b"X-Note: moved\r\n" in out
