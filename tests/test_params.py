"""Tests for mimeguard._params: Content-Type, Content-Disposition and RFC 2231."""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard._params import (
    ContentType,
    Disposition,
    format_param,
    parse_content_type,
    parse_disposition,
    parse_params,
    set_param,
)
from mimeguard._problem import Problem

from .conftest import HANG_GUARD

TYPE = "malformed-content-type"
PARAM = "malformed-parameter"
DISPOSITION = "malformed-content-disposition"


def described(problems: Iterable[Problem]) -> list[tuple[str, str]]:
    return [(p.name, p.message) for p in problems]


# -- Content-Type: the type part ---------------------------------------------------------------


def test_simple_content_type() -> None:
    ct = parse_content_type("text/plain; charset=us-ascii")
    assert ct == ContentType("text", "plain", {"charset": "us-ascii"}, ())
    assert ct.mime_type == "text/plain"


def test_case_folded_names_but_not_values() -> None:
    ct = parse_content_type('TEXT/HTML; CharSet="UTF-8"; Name=Report.HTML')
    assert (ct.maintype, ct.subtype) == ("text", "html")
    assert ct.params == {"charset": "UTF-8", "name": "Report.HTML"}
    assert ct.problems == ()


def test_rfc2045_comment_example() -> None:
    # RFC 2045 section 5.1 example, plus comments in every other place.
    assert parse_content_type("text/plain; charset=us-ascii (Plain text)") == ContentType(
        "text", "plain", {"charset": "us-ascii"}, ()
    )
    ct = parse_content_type('(a (nested \\) one)) text (b) / (c) plain (d) ; (e) charset = "x"')
    assert (ct.mime_type, ct.params, ct.problems) == ("text/plain", {"charset": "x"}, ())


def test_whitespace_around_equals_accepted_silently() -> None:
    ct = parse_content_type("text/plain; charset = utf-8 ;format\t=\tflowed")
    assert ct.params == {"charset": "utf-8", "format": "flowed"}
    assert ct.problems == ()


@pytest.mark.parametrize(
    ("value", "message", "offset"),
    [
        ("", "value is empty", 0),
        ("   ", "value is empty", 3),
        ("text", "media type 'text' has no '/subtype'", 0),
        ("text; charset=utf-8", "media type 'text' has no '/subtype'", 0),
        ("text/", "subtype after '/' is empty", 5),
        ("text/ ; charset=x", "subtype after '/' is empty", 6),
        ("/plain", "media type is missing", 0),
        ("te@xt/plain", "media type 'te@xt' is not a token", 0),
        ("text/pl]ain", "subtype 'pl]ain' is not a token", 5),
        ("text/plain/x", "subtype 'plain/x' is not a token", 5),
        ('"text/plain"', "media type is missing", 0),
    ],
)
def test_unparsable_type(value: str, message: str, offset: int) -> None:
    ct = parse_content_type(value)
    assert (ct.maintype, ct.subtype, ct.mime_type) == ("", "", "")
    assert ct.problems[0] == Problem(TYPE, message, offset)


def test_params_still_read_when_type_is_bad() -> None:
    ct = parse_content_type("text; charset=utf-8")
    assert ct.params == {"charset": "utf-8"}
    assert parse_content_type("/plain; charset=x").params == {"charset": "x"}


# -- parameters: tolerated and reported --------------------------------------------------------


def test_doubled_semicolons() -> None:
    ct = parse_content_type("text/plain;; charset=x")
    assert ct.params == {"charset": "x"}
    assert ct.problems == (Problem(PARAM, "empty parameter between two ';'", 10),)


def test_trailing_semicolon() -> None:
    ct = parse_content_type("text/plain; charset=x;")
    assert ct.params == {"charset": "x"}
    assert described(ct.problems) == [(PARAM, "value ends with ';' and no parameter")]


def test_missing_semicolon() -> None:
    ct = parse_content_type("text/plain charset=utf-8")
    assert ct.mime_type == "text/plain"
    assert ct.params == {"charset": "utf-8"}
    assert ct.problems == (Problem(PARAM, "parameter is not preceded by ';'", 11),)


def test_unquoted_value_with_tspecials_taken_to_semicolon() -> None:
    ct = parse_content_type("application/octet-stream; name=a/b=c.txt; x=1")
    assert ct.params == {"name": "a/b=c.txt", "x": "1"}
    assert ct.problems == (
        Problem(PARAM, "unquoted value of 'name' contains characters that need quoting", 31),
    )


def test_unquoted_boundary_with_space() -> None:
    ct = parse_content_type("multipart/mixed; boundary=simple boundary")
    assert ct.params == {"boundary": "simple boundary"}
    assert described(ct.problems) == [
        (PARAM, "unquoted value of 'boundary' contains characters that need quoting")
    ]


def test_quoted_boundary_with_equals_is_fine() -> None:
    ct = parse_content_type('multipart/alternative; boundary="----=_Part_0_1"')
    assert ct == ContentType("multipart", "alternative", {"boundary": "----=_Part_0_1"}, ())


def test_unquoted_boundary_with_equals_reported() -> None:
    ct = parse_content_type("multipart/mixed; boundary=----=_Part_0_1")
    assert ct.params == {"boundary": "----=_Part_0_1"}
    assert [p.name for p in ct.problems] == [PARAM]


def test_quoted_pairs_unescaped() -> None:
    ct = parse_content_type(r'text/plain; name="a \"quoted\" \\ name"')
    assert ct.params == {"name": 'a "quoted" \\ name'}
    assert ct.problems == ()


def test_unterminated_quoted_string_taken_to_end() -> None:
    ct = parse_content_type('text/plain; name="abc; charset=x')
    assert ct.params == {"name": "abc; charset=x"}
    assert ct.problems == (Problem(PARAM, "quoted value of 'name' is not closed", 17),)


def test_text_after_quoted_value() -> None:
    ct = parse_content_type('text/plain; name="a"b c; x=1')
    assert ct.params == {"name": "a", "x": "1"}
    assert described(ct.problems) == [(PARAM, "unexpected text after the quoted value of 'name'")]


def test_duplicate_first_wins() -> None:
    ct = parse_content_type("text/plain; charset=utf-8; CHARSET=latin1")
    assert ct.params == {"charset": "utf-8"}
    assert ct.problems == (
        Problem(PARAM, "parameter 'charset' appears more than once; the first is used", 27),
    )


def test_parameter_without_equals() -> None:
    ct = parse_content_type("text/plain; format; charset=x")
    assert ct.params == {"charset": "x"}
    assert ct.problems == (Problem(PARAM, "parameter 'format' has no '=' and value", 12),)


def test_parameter_without_name() -> None:
    ct = parse_content_type('text/plain; ="x;y"; charset=x')
    assert ct.params == {"charset": "x"}
    assert described(ct.problems) == [(PARAM, "parameter has no name")]


def test_empty_unquoted_value() -> None:
    ct = parse_content_type("text/plain; charset=; format=flowed")
    assert ct.params == {"charset": "", "format": "flowed"}
    assert described(ct.problems) == [(PARAM, "parameter 'charset' has an empty value")]
    assert parse_content_type('text/plain; name=""').problems == ()


def test_eight_bit_value_reported() -> None:
    ct = parse_content_type('text/plain; name="résumé.pdf"')
    assert ct.params == {"name": "résumé.pdf"}
    assert ct.problems == (
        Problem(PARAM, "value of 'name' has 8-bit characters instead of RFC 2231 encoding", 18),
    )
    assert parse_content_type("text/plain; name=résumé.pdf").params == {"name": "résumé.pdf"}


def test_unclosed_comment() -> None:
    ct = parse_content_type("text/plain; charset=x (oops")
    assert ct.params == {"charset": "x"}
    assert ct.problems == (Problem(PARAM, "comment is not closed", 22),)


def test_invalid_name_characters() -> None:
    ct = parse_content_type("text/plain; na/me=x")
    assert ct.params == {"na/me": "x"}
    assert described(ct.problems) == [(PARAM, "parameter name 'na/me' is not a token")]


# -- RFC 2231 ----------------------------------------------------------------------------------


def test_rfc2231_single_value() -> None:
    ct = parse_content_type("application/pdf; name*=utf-8'en'%E6%97%A5%E6%9C%AC.pdf")
    assert ct.params == {"name": "日本.pdf"}
    assert ct.problems == ()


def test_rfc2231_continuations_with_charset_from_section_0() -> None:
    d = parse_disposition("attachment; filename*0*=UTF-8''%E6%97%A5; filename*1*=%E6%9C%AC.txt")
    assert d == Disposition("attachment", {"filename": "日本.txt"}, ())


def test_rfc2231_multibyte_split_across_sections() -> None:
    d = parse_disposition("attachment; filename*0*=utf-8''%E6%97; filename*1*=%A5")
    assert d.params == {"filename": "日"}


def test_rfc2231_sections_joined_in_numeric_order() -> None:
    d = parse_disposition(
        'attachment; f*2="c"; f*10="k"; f*0="a"; f*1="b"; '
        + "; ".join(f'f*{n}="{chr(ord("a") + n)}"' for n in range(3, 10))
    )
    assert d.params == {"f": "abcdefghijk"}
    assert d.problems == ()


def test_rfc2231_only_starred_sections_percent_decoded() -> None:
    d = parse_disposition('attachment; f*0="%41"; f*1*=%42; f*2=%43')
    assert d.params == {"f": "%41B%43"}


def test_rfc2231_missing_section() -> None:
    d = parse_disposition("attachment; f*0=a; f*2=c")
    assert d.params == {"f": "ac"}
    assert d.problems == (Problem(PARAM, "RFC 2231 parameter 'f' lacks section 1", 19),)
    d = parse_disposition("attachment; f*1=b")
    assert d.params == {"f": "b"}
    assert described(d.problems) == [(PARAM, "RFC 2231 parameter 'f' lacks section 0")]


def test_rfc2231_duplicate_section() -> None:
    d = parse_disposition("attachment; f*0=a; f*0=b; f*1=c")
    assert d.params == {"f": "ac"}
    assert described(d.problems) == [
        (PARAM, "parameter 'f*0' appears more than once; the first is used")
    ]


def test_rfc2231_unknown_charset_latin1() -> None:
    ct = parse_content_type("text/plain; name*=x-klingon''caf%E9")
    assert ct.params == {"name": "café"}
    assert ct.problems == (Problem(PARAM, "RFC 2231 value uses unknown charset 'x-klingon'", 12),)


def test_rfc2231_charset_aliases_and_invalid_bytes() -> None:
    assert parse_content_type("a/b; n*=ks_c_5601-1987''%C7%D1").params == {"n": "한"}
    ct = parse_content_type("a/b; n*=utf-8''%FF")
    assert ct.params == {"n": "\ufffd"}
    assert described(ct.problems) == [
        (PARAM, "RFC 2231 value holds bytes that are not valid 'utf-8'")
    ]


def test_rfc2231_empty_charset() -> None:
    assert parse_content_type("a/b; n*=''%41%C3%A9").params == {"n": "Aé"}
    ct = parse_content_type("a/b; n*=''%E9")
    assert ct.params == {"n": "é"}
    assert described(ct.problems) == [(PARAM, "RFC 2231 value has 8-bit data but no charset")]


def test_rfc2231_missing_prefix_and_bad_escape() -> None:
    ct = parse_content_type("a/b; n*=%41%G1%")
    assert ct.params == {"n": "A%G1%"}
    assert described(ct.problems) == [
        (PARAM, "RFC 2231 value lacks the charset'language' prefix"),
        (PARAM, "RFC 2231 value has a '%' not followed by two hex digits"),
    ]


def test_rfc2231_quoted_extended_value_accepted_and_reported() -> None:
    ct = parse_content_type("a/b; n*=\"utf-8''%C3%A9\"")
    assert ct.params == {"n": "é"}
    assert described(ct.problems) == [
        (PARAM, "RFC 2231 encoded value of 'n*' should not be quoted")
    ]


def test_rfc2231_raw_eight_bit_accepted_silently() -> None:
    ct = parse_content_type("a/b; n*=utf-8''é%C3%A9")
    assert ct.params == {"n": "éé"}
    assert ct.problems == ()


def test_rfc2231_wins_over_plain_in_either_order() -> None:
    first = parse_disposition(
        "attachment; filename=\"fallback.txt\"; filename*=utf-8''r%C3%A9el.txt"
    )
    second = parse_disposition("attachment; filename*=utf-8''r%C3%A9el.txt; filename=fallback.txt")
    assert first.params == second.params == {"filename": "réel.txt"}
    assert first.problems == second.problems == ()
    cont = parse_disposition("attachment; filename=\"x\"; filename*0*=utf-8''%C3%A9; filename*1=y")
    assert cont.params == {"filename": "éy"}


def test_rfc2231_leading_zero_and_bad_names() -> None:
    ct = parse_content_type("a/b; f*01=x")
    assert ct.params == {"f": "x"}
    assert PARAM in {p.name for p in ct.problems}
    ct = parse_content_type("a/b; f*x=1; g*1234567890=2")
    assert ct.params == {"f*x": "1", "g*1234567890": "2"}
    assert [p.message for p in ct.problems] == [
        "parameter name 'f*x' is not a valid RFC 2231 name",
        "parameter name 'g*1234567890' is not a valid RFC 2231 name",
    ]


# -- RFC 2047 inside parameter values ----------------------------------------------------------


def test_rfc2047_quoted_name_decoded() -> None:
    ct = parse_content_type('application/pdf; name="=?utf-8?B?5pel5pys6KqeLnBkZg==?="')
    assert ct.params == {"name": "日本語.pdf"}
    assert ct.problems == ()


def test_rfc2047_problems_offset_into_whole_value() -> None:
    ct = parse_content_type('a/b; name="=?utf-8?q?=FF?="')
    assert ct.params == {"name": "\ufffd"}
    assert ct.problems == (
        Problem(
            "malformed-encoded-word", "encoded-word holds bytes that are not valid 'utf-8'", 11
        ),
    )


def test_rfc2047_in_plain_continuations() -> None:
    ct = parse_content_type('a/b; name*0="=?utf-8?q?caf"; name*1="=C3=A9?="')
    assert ct.params == {"name": "café"}


def test_rfc2047_not_applied_to_boundary_or_rfc2231() -> None:
    ct = parse_content_type('multipart/mixed; boundary="=?utf-8?q?x?="')
    assert ct.params == {"boundary": "=?utf-8?q?x?="}
    assert parse_content_type("a/b; n*=utf-8''%3D%3Futf-8%3Fq%3Fx%3F%3D").params == {
        "n": "=?utf-8?q?x?="
    }


# -- Content-Disposition -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("inline", "inline"),
        ("ATTACHMENT", "attachment"),
        ("  attachment (file) ; filename=a.txt", "attachment"),
        ("x-custom", "x-custom"),
    ],
)
def test_disposition_kinds(value: str, kind: str) -> None:
    assert parse_disposition(value).kind == kind
    assert parse_disposition(value).problems == ()


def test_disposition_with_params() -> None:
    d = parse_disposition(
        'attachment; filename="genome.jpeg"; modification-date="Wed, 12 Feb 1997 16:29:51 -0500"'
    )
    assert d.params == {
        "filename": "genome.jpeg",
        "modification-date": "Wed, 12 Feb 1997 16:29:51 -0500",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "disposition type is missing"),
        ("; filename=a.pdf", "disposition type is missing"),
        ("attach/ment; filename=a.pdf", "disposition type 'attach/ment' is not a token"),
        ('"attachment"; filename=a.pdf', "disposition type is missing"),
    ],
)
def test_bad_disposition(value: str, message: str) -> None:
    d = parse_disposition(value)
    assert d.kind == ""
    assert described(d.problems)[0] == (DISPOSITION, message)
    if value:
        assert d.params == {"filename": "a.pdf"}


# -- parse_params directly ---------------------------------------------------------------------


def test_parse_params_from_offset() -> None:
    value = 'text/plain; a=1; b="2"'
    params, problems = parse_params(value, len("text/plain"))
    assert params == {"a": "1", "b": "2"}
    assert problems == []
    params, problems = parse_params("; a=1", 0)
    assert (params, problems) == ({"a": "1"}, [])


# -- linear time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "text/plain" + ";" * 1_000_000,
        "text/plain" + " ;" * 500_000 + " charset=x",
        "text/plain" + "".join(f"; p{i}=v{i}" for i in range(100_000)),
        "text/plain" + "; a=b" * 100_000,
        "text/plain" + "".join(f"; f*{i}*=%41" for i in range(100_000)),
        "text/plain" + "; a" * 100_000,
        "text/plain; a=" + "=?" * 500_000,
        "text/plain; a=b" + " (" * 500_000,
        "text/plain; a=b " + "(; a=b " * 100_000 + ")" * 100_000 + " junk",
        'text/plain; a="' + "x" * 1_000_000,
        "text/plain; " + "a" * 1_000_000,
        "(" * 1_000_000,
        "text/plain" + '; a="' * 200_000,
    ],
)
def test_linear_time(value: str) -> None:
    started = time.perf_counter()
    ct = parse_content_type(value)
    assert time.perf_counter() - started < HANG_GUARD
    assert len(ct.problems) <= 101
    assert all(len(p.message) < 200 for p in ct.problems)


def test_linear_time_disposition_and_set_param() -> None:
    value = "attachment" + "".join(f"; p{i}=v{i}" for i in range(100_000)) + ";" * 1_000_000
    started = time.perf_counter()
    assert len(parse_disposition(value).params) == 100_000
    assert set_param(value, "p5", None).startswith("attachment; p0=v0; p1=v1; p2=v2; p3=v3; p4=v4;")
    assert time.perf_counter() - started < HANG_GUARD


# -- set_param ---------------------------------------------------------------------------------


def test_set_param_replaces_in_place() -> None:
    value = 'text/plain;  format=flowed;charset="us-ascii" (old);  delsp=yes'
    assert set_param(value, "charset", "utf-8") == (
        "text/plain;  format=flowed;charset=utf-8 (old);  delsp=yes"
    )


def test_set_param_case_insensitive_name() -> None:
    assert (
        set_param("text/plain; CHARSET=us-ascii", "Charset", "utf-8") == "text/plain; charset=utf-8"
    )


def test_set_param_adds_at_end() -> None:
    assert set_param("text/plain", "charset", "utf-8") == "text/plain; charset=utf-8"
    assert set_param("text/plain; format=flowed", "charset", "utf-8") == (
        "text/plain; format=flowed; charset=utf-8"
    )
    assert set_param("text/plain;  ", "charset", "utf-8") == "text/plain; charset=utf-8"


def test_set_param_removes() -> None:
    value = "text/plain; charset=us-ascii; format=flowed"
    assert set_param(value, "charset", None) == "text/plain; format=flowed"
    assert set_param(value, "format", None) == "text/plain; charset=us-ascii"
    assert set_param(value, "missing", None) == value


def test_set_param_replaces_every_form() -> None:
    value = "attachment; filename=a.txt; size=3; filename*0*=utf-8''%C3%A9; filename*1=x"
    assert set_param(value, "filename", "b.txt") == "attachment; filename=b.txt; size=3"
    assert set_param(value, "filename", None) == "attachment; size=3"


def test_set_param_duplicates_collapsed() -> None:
    assert set_param("a/b; x=1; x=2", "x", "3") == "a/b; x=3"


def test_set_param_result_parses() -> None:
    value = set_param('multipart/mixed; boundary="b"', "name", "naïve résumé.pdf")
    ct = parse_content_type(value)
    assert ct.params == {"boundary": "b", "name": "naïve résumé.pdf"}
    assert ct.problems == ()


# -- format_param ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("charset", "utf-8", "charset=utf-8"),
        ("name", "a b.txt", 'name="a b.txt"'),
        ("boundary", "----=_Part_0_1", 'boundary="----=_Part_0_1"'),
        ("name", 'say "hi" \\o/', 'name="say \\"hi\\" \\\\o/"'),
        ("name", "", 'name=""'),
        ("filename", "café.txt", "filename*=utf-8''caf%C3%A9.txt"),
        ("name", "=?utf-8?q?x?=", "name*=utf-8''%3D%3Futf-8%3Fq%3Fx%3F%3D"),
        ("boundary", "=?utf-8?q?x?=", 'boundary="=?utf-8?q?x?="'),
        ("name", "tab\there", "name*=utf-8''tab%09here"),
    ],
)
def test_format_param(name: str, value: str, expected: str) -> None:
    assert format_param(name, value) == expected


def test_format_param_long_ascii_uses_continuations() -> None:
    value = "long file name " * 12
    rendered = format_param("filename", value)
    sections = rendered.split("; ")
    assert sections[0].startswith('filename*0="long')
    assert all(len(f" {section};") <= 78 for section in sections)
    assert parse_disposition("attachment; " + rendered).params == {"filename": value}


def test_format_param_long_non_ascii_uses_continuations() -> None:
    value = "日本語のファイル名" * 10
    rendered = format_param("filename", value)
    sections = rendered.split("; ")
    assert sections[0].startswith("filename*0*=utf-8''%E6%97%A5")
    assert sections[1].startswith("filename*1*=%")
    assert all(len(f" {section};") <= 78 for section in sections)
    # no character is split between sections: each one decodes alone
    for section in sections:
        body = section.split("=", 1)[1].removeprefix("utf-8''")
        unquote_to_bytes(body).decode("utf-8")
    assert parse_disposition("attachment; " + rendered) == Disposition(
        "attachment", {"filename": value}, ()
    )


@pytest.mark.parametrize("name", ["", "a b", "name*", "na=me", "é"])
def test_format_param_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid parameter name"):
        format_param(name, "x")


# -- properties --------------------------------------------------------------------------------

NAMES = st.text(alphabet="!#$%&'+-.0123456789ABCXYZabcxyz^_`{|}~", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(NAMES, st.text(max_size=300))
def test_format_param_round_trip(name: str, value: str) -> None:
    rendered = format_param(name, value)
    assert rendered.isascii()
    params, problems = parse_params("; " + rendered, 0)
    assert params == {name.lower(): value}
    assert problems == []
    assert all(len(f" {section};") <= 78 for section in rendered.split("; ")) or len(name) > 40


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsers_never_raise(value: str) -> None:
    ct = parse_content_type(value)
    d = parse_disposition(value)
    _, problems = parse_params(value, 0)
    for problem in (*ct.problems, *d.problems, *problems):
        assert 0 <= problem.offset <= len(value)
    assert ct.mime_type == "" or "/" in ct.mime_type


STRUCTURED = st.lists(
    st.sampled_from(
        [
            "text/plain",
            ";",
            " ",
            "=",
            '"',
            "\\",
            "(",
            ")",
            "a",
            "*",
            "*0",
            "*1*",
            "%",
            "'",
            "é",
            "utf-8''",
            "%E6",
            "=?utf-8?q?x?=",
            "\t",
            "/",
            "boundary",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(STRUCTURED)
def test_parsers_never_raise_on_structured_junk(value: str) -> None:
    parse_content_type(value)
    parse_disposition(value)
    assert set_param(value, "a", "1") is not None


@settings(max_examples=200, deadline=None)
@given(STRUCTURED, NAMES, st.one_of(st.none(), st.text(max_size=40)))
def test_set_param_then_parse(value: str, name: str, new: str | None) -> None:
    edited = set_param("text/plain; " + value.replace("text/plain", ""), name, new)
    params = parse_content_type(edited).params
    if new is None:
        assert name.lower() not in params
    elif name.lower() in params:
        # a broken value before it can swallow the new parameter (e.g. an
        # unclosed quote); when it is read, it reads back exactly
        assert params[name.lower()] == new
