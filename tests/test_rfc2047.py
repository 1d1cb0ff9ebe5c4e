"""Tests for mimeguard._rfc2047: RFC 2047 encoded-words."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard._rfc2047 import (
    MAX_PROBLEMS,
    decode_words,
    encode_header,
    has_encoded_word,
    lookup_charset,
)

from .conftest import HANG_GUARD

BAD = "malformed-encoded-word"


def unfold(value: str) -> str:
    return value.replace("\r\n", "")


def messages(value: str) -> list[str]:
    return [p.message for p in decode_words(value)[1]]


# -- decoding: the RFC cases -------------------------------------------------------------------


def test_q_with_hex_escapes() -> None:
    assert decode_words("=?iso-8859-1?q?this=20is=20some=20text?=") == ("this is some text", [])


def test_q_underscore_is_space_and_lower_hex_accepted() -> None:
    assert decode_words("=?utf-8?Q?caf=c3=a9_au_lait?=") == ("café au lait", [])


def test_b_emoji() -> None:
    assert decode_words("=?utf-8?B?8J+Ygw==?=") == ("😃", [])


def test_b_missing_padding_is_decoded_and_reported() -> None:
    text, problems = decode_words("=?utf-8?B?8J+Ygw?=")
    assert text == "😃"
    assert [(p.name, p.message, p.offset) for p in problems] == [
        (BAD, "B-encoded text lacks base64 '=' padding", 0)
    ]


def test_b_truncated_group_is_reported() -> None:
    # One base64 character short of a whole group: the stray six bits are dropped
    # and the incomplete UTF-8 sequence becomes U+FFFD.
    text, problems = decode_words("=?utf-8?B?8J+Yg==?=")
    assert text == "\ufffd"
    assert [p.message for p in problems] == [
        "B-encoded text has a truncated base64 group",
        "encoded-word holds bytes that are not valid 'utf-8'",
    ]
    assert {p.name for p in problems} == {BAD}


def test_b_invalid_characters_skipped() -> None:
    assert decode_words("=?utf-8?b?YW*Jj?=")[0] == "abc"
    assert messages("=?utf-8?b?YW*Jj?=") == ["B-encoded text contains characters outside base64"]


def test_b_too_much_padding_and_data_after_padding() -> None:
    assert decode_words("=?utf-8?b?YWJj=?=")[0] == "abc"
    assert messages("=?utf-8?b?YWJj=?=") == ["B-encoded text has too much base64 padding"]
    assert decode_words("=?utf-8?b?YQ==YQ==?=")[0] == "aa"
    assert messages("=?utf-8?b?YQ==YQ==?=") == ["B-encoded text continues after base64 padding"]


def test_iso_2022_jp() -> None:
    assert decode_words("=?ISO-2022-JP?B?GyRCJEYkOSRIGyhC?=") == ("てすと", [])


def test_whitespace_between_adjacent_words_dropped() -> None:
    assert decode_words("=?utf-8?q?a?= \t  =?utf-8?q?b?=") == ("ab", [])
    assert decode_words("=?utf-8?q?a?=\r\n =?iso-8859-1?q?b?=") == ("ab", [])


def test_whitespace_next_to_text_kept() -> None:
    assert decode_words("Re:  =?utf-8?q?b?=  c") == ("Re:  b  c", [])
    assert decode_words("=?utf-8?q?a?= x =?utf-8?q?b?=") == ("a x b", [])


def test_plain_text_untouched() -> None:
    assert decode_words("Hello   world ") == ("Hello   world ", [])


def test_language_suffix_rfc2231_section5() -> None:
    assert decode_words("=?utf-8*en-US?Q?hi?=") == ("hi", [])


def test_empty_encoded_text() -> None:
    assert decode_words("a =?utf-8?q??= b") == ("a  b", [])


# -- decoding: multi-byte characters split across words ----------------------------------------


def test_utf8_split_across_q_words() -> None:
    assert decode_words("=?utf-8?q?=E6=97?= =?utf-8?q?=A5?=") == ("日", [])


def test_utf8_split_across_b_words_and_charset_case() -> None:
    assert decode_words("=?UTF-8?b?5pc=?= =?utf-8?B?pQ==?=") == ("日", [])


def test_split_not_joined_across_charsets() -> None:
    text, problems = decode_words("=?utf-8?q?=E6=97?= =?iso-8859-1?q?=A5?=")
    assert text == "\ufffd¥"
    assert [(p.name, p.offset) for p in problems] == [(BAD, 0)]


def test_split_not_joined_across_text() -> None:
    text, problems = decode_words("=?utf-8?q?=E6=97?= x =?utf-8?q?=A5?=")
    assert text == "\ufffd x \ufffd"
    assert [p.offset for p in problems] == [0, 21]


def test_undecodable_byte_offset_points_at_its_word() -> None:
    text, problems = decode_words("=?utf-8?q?ok?= =?utf-8?q?=FF?=")
    assert text == "ok\ufffd"
    assert [(p.message, p.offset) for p in problems] == [
        ("encoded-word holds bytes that are not valid 'utf-8'", 15)
    ]


# -- decoding: charsets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("=?UTF8?Q?caf=C3=A9?=", "café"),
        ("=?ks_c_5601-1987?B?x9GxuQ==?=", "한국"),
        ("=?iso-8859-8-i?q?=F9=EC=E5=ED?=", "שלום"),
        ("=?gb2312?B?xOO6ww==?=", "你好"),
        ("=?x-unknown?q?caf=E9?=", "café"),
        ("=?unknown-8bit?q?caf=E9?=", "café"),
        ("=?Windows-1252?q?=80?=", "€"),
    ],
)
def test_charset_aliases(word: str, expected: str) -> None:
    assert decode_words(word) == (expected, [])


def test_unknown_charset_read_as_latin1_and_reported() -> None:
    text, problems = decode_words("x =?x-bogus?q?caf=E9?=")
    assert text == "x café"
    assert [(p.name, p.message, p.offset) for p in problems] == [
        (BAD, "encoded-word uses unknown charset 'x-bogus'", 2)
    ]


def test_lookup_charset() -> None:
    assert lookup_charset("UTF-8") == "utf-8"
    assert lookup_charset(" utf8 ") == "utf-8"
    assert lookup_charset("ks_c_5601-1987") == "cp949"
    assert lookup_charset("ISO-8859-8-I") == "iso8859-8"
    assert lookup_charset("x-unknown") == "iso8859-1"
    assert lookup_charset("gb2312") == "gb18030"
    assert lookup_charset("us-ascii") == "ascii"
    assert lookup_charset("_iso-2022-jp$ESC") == "iso2022_jp"


@pytest.mark.parametrize(
    "name", ["", "no-such-charset", "base64", "rot13", "zlib", "idna", "__init__", "utf-8\x00"]
)
def test_lookup_charset_rejects_non_charsets(name: str) -> None:
    assert lookup_charset(name) is None


# -- decoding: leniency and what is reported ---------------------------------------------------


def test_glued_to_text_before() -> None:
    text, problems = decode_words("foo=?utf-8?q?bar?=")
    assert text == "foobar"
    assert [(p.name, p.message, p.offset) for p in problems] == [
        (BAD, "encoded-word is glued to the text before it", 3)
    ]


def test_glued_to_text_after() -> None:
    assert decode_words("=?utf-8?q?bar?=baz")[0] == "barbaz"
    assert messages("=?utf-8?q?bar?=baz") == ["encoded-word is glued to the text after it"]


def test_two_glued_words_reported_once() -> None:
    text, problems = decode_words("=?utf-8?q?a?==?utf-8?q?b?=")
    assert text == "ab"
    assert [(p.message, p.offset) for p in problems] == [
        ("encoded-word is not separated from the previous encoded-word", 13)
    ]


def test_space_inside_q_text() -> None:
    assert decode_words("=?utf-8?q?hello world?=")[0] == "hello world"
    assert messages("=?utf-8?q?hello world?=") == ["encoded-word contains whitespace"]


def test_longer_than_75() -> None:
    word = "=?utf-8?q?" + "a" * 64 + "?="
    assert len(word) == 76
    assert decode_words(word)[0] == "a" * 64
    assert messages(word) == ["encoded-word is longer than 75 characters"]
    assert decode_words(word[:-3] + "?=")[1] == []


def test_bad_q_escape_kept() -> None:
    text, problems = decode_words("=?utf-8?q?100=ZZ=?=")
    assert text == "100=ZZ="
    assert [(p.name, p.message) for p in problems] == [
        (BAD, "Q-encoded text has an '=' not followed by two hex digits")
    ]


def test_decoded_line_break_reported() -> None:
    text, problems = decode_words("=?utf-8?q?a=0D=0ABcc:_x?=")
    assert text == "a\r\nBcc: x"
    assert messages("=?utf-8?q?a=0D=0ABcc:_x?=") == ["encoded-word decodes to a line break or NUL"]
    assert problems[0].offset == 0


@pytest.mark.parametrize(
    "value",
    [
        "=?",
        "?=",
        "a =? b ?= c",
        "Price =?= 5",
        "=?utf-8?x?abc?=",
        "=??q?abc?=",
        "=?utf-8?q?no end",
        "=?utf-8?q?a?b?=",
        "=?utf 8?q?a?=",
        "=?utf-8?q?caf\u00e9?=",
        "=?=?=?=?",
    ],
)
def test_lookalikes_left_alone(value: str) -> None:
    assert decode_words(value) == (value, [])
    assert not has_encoded_word(value)


def test_has_encoded_word() -> None:
    assert has_encoded_word("Re: =?utf-8?q?x?=")
    assert has_encoded_word("x=?utf-8?q?x?=y")
    assert not has_encoded_word("plain text")


def test_problem_flood_is_capped() -> None:
    text, problems = decode_words("=?utf-8?q?a?=" * 1000)
    assert text == "a" * 1000
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].message == "899 further problems were not listed"


# -- decoding: linear time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "=?" * 100_000,
        "=?a?q?" * 100_000,
        "=?a?q?b" + " " * 1_000_000,
        "=?utf-8?q?a?=" * 50_000,
        "=?" + "a" * 1_000_000,
    ],
)
def test_linear_time(value: str) -> None:
    started = time.perf_counter()
    decode_words(value)
    has_encoded_word(value)
    assert time.perf_counter() - started < HANG_GUARD


# -- encoding ----------------------------------------------------------------------------------


def lines_of(value: str, name: str = "Subject") -> list[str]:
    return f"{name}: {value}".split("\r\n")


def test_encode_plain_ascii_unchanged() -> None:
    assert encode_header("Hello world", name="Subject") == "Hello world"
    assert encode_header("", name="Subject") == ""


def test_encode_plain_ascii_folded_at_spaces() -> None:
    text = " ".join(["word"] * 40)
    value = encode_header(text, name="Subject")
    assert "=?" not in value
    assert unfold(value) == text
    assert all(len(line) <= 78 for line in lines_of(value))
    assert all(line.startswith(" word") for line in lines_of(value)[1:])


def test_encode_folds_before_a_run_of_spaces() -> None:
    value = encode_header("a" * 60 + "   " + "b" * 30, name="Subject")
    assert value == "a" * 60 + "\r\n   " + "b" * 30


def test_encode_long_word_kept_up_to_998() -> None:
    word = "x" * 500
    assert encode_header(f"see {word} here", name="Subject") == f"see\r\n {word}\r\n here"
    huge = "y" * 1200
    value = encode_header(huge, name="Subject")
    assert value.startswith("=?utf-8?q?")
    assert decode_words(unfold(value))[0] == huge
    assert all(len(line) <= 78 for line in lines_of(value))


def test_encode_non_ascii() -> None:
    value = encode_header("café", name="Subject")
    assert value == "=?utf-8?b?Y2Fmw6k=?="
    assert encode_header("日本語", name="Subject") == "=?utf-8?b?5pel5pys6Kqe?="


def test_encode_keeps_ascii_words_plain() -> None:
    value = encode_header("Re: café menu", name="Subject")
    assert value == "Re: =?utf-8?b?Y2Fmw6k=?= menu"


def test_encode_adjacent_non_ascii_words_share_spaces() -> None:
    value = encode_header("né  né", name="Subject")
    assert value == "=?utf-8?b?bsOpICBuw6k=?="
    assert decode_words(value)[0] == "né  né"


def test_encode_leading_and_trailing_spaces() -> None:
    assert encode_header(" lead", name="Subject") == "=?utf-8?q?_lead?="
    assert encode_header("trail ", name="Subject") == "=?utf-8?q?trail_?="
    assert encode_header("a b ", name="Subject") == "a =?utf-8?q?b_?="
    assert encode_header("   ", name="Subject") == "=?utf-8?q?___?="


def test_encode_lookalike_encoded_word() -> None:
    text = "about =?utf-8?q?x?= syntax"
    value = encode_header(text, name="Subject")
    assert value.startswith("about =?utf-8?")
    assert "=?utf-8?q?x?=" not in value
    assert decode_words(unfold(value))[0] == text


def test_encode_control_characters_and_line_breaks() -> None:
    text = "evil\r\nBcc: victim@example.com\ttab\x00"
    value = encode_header(text, name="Subject")
    assert "\n" not in unfold(value)
    assert "\r" not in unfold(value)
    assert value.isascii()
    assert decode_words(unfold(value))[0] == text


def test_encode_long_non_ascii_words_split_on_characters() -> None:
    text = "😃" * 100 + " " + "ü" * 100
    value = encode_header(text, name="Subject")
    words = unfold(value).split(" ")
    assert all(len(word) <= 75 for word in words)
    # every word decodes on its own: no character was split between words
    for word in words:
        assert decode_words(word)[1] == []
    assert decode_words(unfold(value))[0] == text
    assert all(len(line) <= 78 for line in lines_of(value))


def test_encode_picks_shorter_of_b_and_q() -> None:
    # Q: 15 characters against 16 for B; B: 12 against 24 for Q.
    assert encode_header("abcdefgh\u00e9", name="X") == "=?utf-8?q?abcdefgh=C3=A9?="
    assert encode_header("\u00e9\u00e9\u00e9\u00e9", name="X") == "=?utf-8?b?w6nDqcOpw6k=?="


def test_encode_never_makes_blank_lines() -> None:
    # CVE-2024-6923: a fold must never leave a line of only whitespace.
    text = "a" * 70 + " " * 200 + "b" + " " * 2000 + "c"
    value = encode_header(text, name="Subject")
    assert all(line.strip() for line in lines_of(value))
    assert all(len(line) <= 998 for line in lines_of(value))
    assert decode_words(unfold(value))[0] == text


def test_encode_respects_max_line() -> None:
    text = "Grüße aus München und viele weitere Grüße an alle Kollegen im Büro " * 3
    value = encode_header(text, name="Subject", max_line=40)
    assert all(len(line) <= 40 for line in lines_of(value))
    assert decode_words(unfold(value))[0] == text


def test_encode_linear_time() -> None:
    started = time.perf_counter()
    encode_header("ä" * 200_000 + " b" * 100_000, name="Subject")
    assert time.perf_counter() - started < HANG_GUARD


# -- properties --------------------------------------------------------------------------------

TRICKY = st.text(
    alphabet=st.sampled_from(
        [" ", "a", "Z", "=", "?", "_", "\t", "é", "日", "😃", "\x00", "\r", "\n"]
    ),
    max_size=120,
)


def check_encoded(text: str, value: str, name: str, max_line: int) -> None:
    assert decode_words(unfold(value))[0] == text
    assert value.isascii()
    assert "\r" not in unfold(value)
    assert "\n" not in unfold(value)
    lines = lines_of(value, name)
    assert all(line.strip(" \t") for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert all(len(line) <= 998 for line in lines)
    for index, line in enumerate(lines):
        if len(line) > max_line:
            # Only a line holding a single unit that cannot be broken (a long
            # plain word, or an encoded-word after a long run of spaces or on
            # a very narrow line) may overflow.
            body = line[len(name) + 2 :] if index == 0 else line.lstrip(" ")
            assert " " not in body


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_round_trip_any_text(text: str) -> None:
    check_encoded(text, encode_header(text, name="Subject"), "Subject", 78)


@settings(max_examples=300, deadline=None)
@given(TRICKY, st.integers(min_value=10, max_value=120))
def test_round_trip_tricky_text(text: str, max_line: int) -> None:
    check_encoded(text, encode_header(text, name="To", max_line=max_line), "To", max_line)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_decode_never_raises(value: str) -> None:
    text, problems = decode_words(value)
    assert isinstance(text, str)
    assert all(0 <= p.offset <= len(value) for p in problems)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["=?", "?=", "utf-8", "?q?", "?B?", "=E6", "=97", "8J+Y", "gw==", " ", "x", "*en", "="]
        ),
        max_size=30,
    ).map("".join)
)
def test_decode_never_raises_on_word_fragments(value: str) -> None:
    text, problems = decode_words(value)
    if not has_encoded_word(value):
        assert (text, problems) == (value, [])
    assert all(p.name == BAD for p in problems)
