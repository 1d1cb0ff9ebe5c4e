"""Findings point at bytes: the unfolded-value map, Finding's span, the spans rules report."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mimeguard import Finding, parse, validate
from mimeguard import strategies as ms
from mimeguard._problem import Problem
from mimeguard._rules._fixture import build
from mimeguard._spans import ValueMap, eight_bit_run, field_bytes, line_end, problem_span
from mimeguard.message import HeaderField


def _field(raw: bytes, name: str = "Subject") -> tuple[bytes, HeaderField]:
    data = raw + b"\r\n\r\nbody\r\n"
    f = parse(data).header(name)
    assert f is not None
    return data, f


def _token(data: bytes, f: HeaderField, token: str, *, text: str | None = None) -> bytes:
    value = f.value if text is None else text
    i = value.index(token)
    a, b = ValueMap(f, text).span(i, i + len(token))
    return data[a:b]


# -- the map from the unfolded value to the buffer ------------------------------------------------


@pytest.mark.parametrize(
    "fold",
    [b"\r\n ", b"\r\n\t", b"\n ", b"\r ", b"\r\n \r\n "],  # CRLF, tab, bare LF, bare CR, obs-fold
    ids=["crlf", "tab", "bare-lf", "bare-cr", "obs-fold"],
)
def test_tokens_after_folds_map_to_their_bytes(fold: bytes) -> None:
    data, f = _field(b"Subject:   alpha" + fold + b"beta" + fold + b"gamma delta")
    for token in ("alpha", "beta", "gamma", "delta"):
        assert _token(data, f, token) == token.encode()


def test_a_span_crossing_a_fold_covers_the_fold() -> None:
    data, f = _field(b"Subject: one\r\n two")
    assert f.value == "one two"
    assert _token(data, f, "one two") == b"one\r\n two"
    # a span ending right before the fold does not take the line ending with it
    assert _token(data, f, "one") == b"one"


def test_utf8_and_one_byte_readings_are_exact() -> None:
    data, f = _field("Subject: Grüße aus München".encode())
    assert _token(data, f, "München") == "München".encode()
    data, f = _field(b"Subject: caf\xe9 cr\xe8me br\xfbl\xe9e")  # Windows-1252 (one byte each)
    assert _token(data, f, "crème") == b"cr\xe8me"


def test_surrogateescape_text_is_exact() -> None:
    data, f = _field(b"Subject: a\xff\xfe b\xc3\xa9c")
    text = f.unfolded.decode("utf-8", "surrogateescape")
    assert _token(data, f, "béc", text=text) == b"b\xc3\xa9c"


def test_a_reading_without_an_exact_map_points_at_the_whole_value() -> None:
    # UTF-8 with a character cut short: the cut bytes read as one U+FFFD, so the
    # characters no longer map to bytes one by one
    data, f = _field(b"Subject: caf\xc3 \xe2\x82\xac ok")
    assert "\ufffd" in f.value
    vm = ValueMap(f)
    assert vm.byte_offset(1) == -1
    assert data[slice(*vm.span(8, 10))] == b"caf\xc3 \xe2\x82\xac ok"


def test_encoded_words_map_to_the_whole_word() -> None:
    word = b"=?utf-8?B?not*base64?="
    data, f = _field(b"Subject: hi " + word + b" there")
    i = f.value.index("not")
    assert data[slice(*ValueMap(f).span(i, i + 3))] == word  # inside: the whole word
    j = f.value.index("=?")
    assert data[slice(*ValueMap(f).span(j))] == word  # a point at the word: the word
    assert _token(data, f, "there") == b"there"  # outside: untouched


def test_offsets_are_clamped_to_the_value() -> None:
    data, f = _field(b"Subject: short")
    vm = ValueMap(f)
    a, b = vm.span(-5, 1000)
    assert data[a:b] == b"short"
    a, b = vm.span(1000)
    assert a == b == f.value_start + len(f.raw_value)
    a, b = vm.span(3, 1)  # an end before the start is a point
    assert a == b


def test_problem_span_uses_the_problem_end_when_the_parser_gives_one() -> None:
    data, f = _field(b"Subject: one two")
    assert data[slice(*problem_span(f, Problem("x", "m", 4, 7)))] == b"two"
    a, b = problem_span(f, Problem("x", "m", 4))
    assert a == b and data[a:].startswith(b"two")


def test_helpers() -> None:
    data, f = _field(b"Subject: one\r\n two")
    assert data[slice(*field_bytes(f))] == b"Subject: one\r\n two"
    buf = b"ab\xc3\xa9\xff!cd\r\nef"
    assert eight_bit_run(buf, 2, len(buf)) == 5
    assert line_end(buf, 0, len(buf)) == buf.index(b"\r")
    assert line_end(b"abc", 1, 3) == 3


# -- Finding ----------------------------------------------------------------------------------


def test_finding_constructor_stays_compatible() -> None:
    f = Finding("MG000", "x", "error", "m", "", 10, 2, 3)
    assert f.end == 10 and f.to_dict()["end"] == 10
    g = Finding("MG000", "x", "error", "m", "", 10, 2, 3, 14)
    assert g.end == 14 and g.to_dict()["end"] == 14
    with pytest.raises(ValueError, match="before offset"):
        Finding("MG000", "x", "error", "m", "", 10, 2, 3, 9)


# -- the spans rules report -------------------------------------------------------------------


def _spans(data: bytes, code: str, profile: str = "rfc") -> list[bytes]:
    found = [f for f in validate(data, profile=profile) if f.code == code]
    assert found, f"{code} not reported"
    for f in found:
        assert 0 <= f.offset <= f.end <= len(data)
    return [data[f.offset : f.end] for f in found]


@pytest.mark.parametrize(
    ("date", "bad"),
    [
        (b"Tuesday, 1 Dec 2026 10:00:00 +0000", b"Tuesday"),
        (b"Tue, 1 December 2026 10:00:00 +0000", b"December"),
        (b"Tue, 1 Dec 2026 1:00:00 +0000", b"1"),
        (b"Tue, 1 Dec 2026 10:00:00 XYZ", b"XYZ"),
        (b"Tue,\r\n 1\r\n\tDecember 2026\r\n 10:00:00 +0000", b"December"),
    ],
)
def test_date_problems_point_at_the_bad_token(date: bytes, bad: bytes) -> None:
    data = build(b"Date: " + date, drop=(b"Date",))
    (span,) = _spans(data, "MG207")
    assert span == bad


def test_malformed_encoded_word_points_at_the_word() -> None:
    word = b"=?utf-8?B?not*base64?="
    data = build(b"Subject: fine\r\n " + word + b" tail", drop=(b"Subject",))
    assert set(_spans(data, "MG116")) == {word}


def test_header_8bit_points_at_the_8bit_run() -> None:
    data = build("X-Greeting: Hello Grüße".encode())
    assert _spans(data, "MG115") == ["üß".encode()]


def test_header_8bit_run_of_several_characters() -> None:
    data = build("X-Greeting: Hello ÄÖÜ!".encode())
    assert _spans(data, "MG115") == ["ÄÖÜ".encode()]


def test_line_and_byte_rules() -> None:
    long = b"x" * 1200
    assert _spans(build(body=long + b"\r\n"), "MG110") == [long]
    assert _spans(build(body=b"before\x00after\r\n"), "MG114") == [b"\x00"]
    assert _spans(build(body=b"one\rtwo\r\n"), "MG112") == [b"\r"]
    mixed = build(b"X-Mixed: yes").replace(b"Hello Bob,\r\n", b"Hello Bob,\n")
    assert _spans(mixed, "MG113") == [b"\n"]


def test_unknown_transfer_encoding_spans_the_value() -> None:
    data = build(mime=(b"Content-Type: text/plain", b"Content-Transfer-Encoding:  7-bit "))
    assert _spans(data, "MG313") == [b"7-bit"]


def test_duplicate_fields_span_the_whole_second_field() -> None:
    data = build(b"Subject: Quarterly report, again")
    assert _spans(data, "MG203") == [b"Subject: Quarterly report, again"]


def test_an_immutable_field_changed_spans_the_field() -> None:
    original = build()
    data = original.replace(b"From: Alice Example <", b"From: <")
    found = [f for f in validate(data, original=original) if f.code == "MG501"]
    assert [data[f.offset : f.end] for f in found] == [b"From: <alice@example.com>"]


@pytest.mark.parametrize(
    ("code", "bad"),
    [("MG602", b"junk"), ("MG603", b"d=evil.example"), ("MG605", b"rsa-md5")],
)
def test_dkim_tag_problems_span_the_tag(code: str, bad: bytes) -> None:
    good = b"v=1; a=rsa-sha256; d=example.com; s=sel; h=From:Subject; bh=AAAA; b=AAAA"
    tags = {
        "MG602": good + b"; junk",
        "MG603": good + b";\r\n d=evil.example",
        "MG605": good.replace(b"rsa-sha256", b"rsa-md5"),
    }[code]
    data = build(b"DKIM-Signature: " + tags)
    assert bad in _spans(data, code)


def test_address_problems_point_into_the_bad_address() -> None:
    data = build(b"Cc: Carol <carol@example.org>,\r\n Bob <bob@@example.org>")
    found = [x for x in validate(data, profile="rfc") if x.code == "MG206"]
    assert len(found) == 1
    token = data.index(b"bob@@example.org")
    # the parser gives a start only (its tokens' ends come with the shared tokenizer):
    # the finding is a point inside the bad address, past the fold and the good address
    assert token <= found[0].offset <= found[0].end <= token + len(b"bob@@example.org")


# -- every finding on generated mail ------------------------------------------------------------

_QUOTED = re.compile(r"'([^']+)'")
_EIGHT_BIT_RULES = frozenset({"MG115", "MG117", "MG316", "MG325"})
_ONE_BYTE = {"MG111": b"\n", "MG112": b"\r", "MG113": b"\n", "MG114": b"\x00"}
_DUPLICATES = frozenset({"MG203", "MG204", "MG211"})


def _check_span(data: bytes, f: Finding) -> None:
    assert 0 <= f.offset <= f.end <= len(data), f
    got = data[f.offset : f.end]
    if f.code in _ONE_BYTE:
        assert got == _ONE_BYTE[f.code], f
    elif f.code in _EIGHT_BIT_RULES:
        assert got and all(b >= 0x80 for b in got), f
    elif f.code == "MG110":
        assert len(got) > 998 and b"\r" not in got and b"\n" not in got, f
    elif f.code == "MG320":
        assert len(got) > 76 and b"\r" not in got and b"\n" not in got, f
    elif f.code in ("MG313", "MG314"):
        quoted = _QUOTED.search(f.message)
        assert quoted is not None and got.decode("latin-1").lower().startswith(quoted.group(1))
    elif f.code == "MG116":
        assert got.startswith(b"=?") and got.endswith(b"?="), f
    elif f.code in _DUPLICATES:
        name = f.message.split(" occurs ", 1)[0]
        assert got.startswith(name.encode()), f
    elif f.code == "MG207" and f.end > f.offset:
        quoted = _QUOTED.search(f.message)
        assert quoted is not None and got.decode("latin-1") == quoted.group(1), f


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(ms.malformed_messages(max_defects=3, profile="rfc"))
def test_every_finding_is_a_span_of_the_message(case: tuple[bytes, frozenset[str]]) -> None:
    data, _expected = case
    for f in validate(data, profile="rfc"):
        _check_span(data, f)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    ms.malformed_messages(
        codes=("MG110", "MG112", "MG114", "MG115", "MG116", "MG203", "MG207"), profile="rfc"
    ),
    st.sampled_from([b"\r\n ", b"\r\n\t"]),
)
def test_spans_of_refolded_messages(case: tuple[bytes, frozenset[str]], fold: bytes) -> None:
    """The same defects after every space of the header is folded: spans still hold."""
    data, _expected = case
    head, sep, body = data.partition(b"\r\n\r\n")
    folded = b"\r\n".join(
        line[:1] + line[1:].replace(b" ", fold) if b":" in line else line
        for line in head.split(b"\r\n")
    )
    data = folded + sep + body
    for f in validate(data, profile="rfc"):
        _check_span(data, f)


def test_a_field_with_many_problems_is_mapped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 MB of "=?" starts gives one problem after another in one Subject: mapping the
    # field once per problem was quadratic (found by the benchmark's flood input)
    import mimeguard._spans as spans

    built = []
    init = spans.ValueMap.__init__

    def counting(self: spans.ValueMap, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(spans.ValueMap, "__init__", counting)
    data = (
        b"From: a@example.com\r\nTo: b@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        b"Message-ID: <1@example.com>\r\nSubject: "
        + b"=?utf-8?q?=?=?b?=?" * 2000
        + b"\r\n\r\nbody\r\n"
    )
    report = validate(data, profile="rfc")
    subject = [f for f in report.findings if f.code == "MG116"]
    assert len(subject) > 50
    assert len(built) <= 3
    assert all(f.offset <= f.end <= len(data) for f in subject)
