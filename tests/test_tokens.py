"""The one RFC 5322 tokenizer (``_tokens``): tokens and problems with their spans,
hostile values (nested and unclosed comments, quoted-pairs at the end, NUL, 8-bit,
surrogates, encoded-words inside quotes, lone CR and LF), megabyte inputs."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mimeguard import _params, _tokens
from mimeguard._problem import Problem
from mimeguard._tokens import MAX_COMMENT_DEPTH, scan_quoted, skip_cfws, tokenize

RULE = "invalid-address"

#: Pieces a hostile value is made of: every special, comment and quote opener and closer,
#: quoted-pairs (also at the very end), NUL and other controls, lone CR and LF, 8-bit and
#: non-ASCII text, a surrogate (undecodable bytes read with surrogateescape), and
#: encoded-words, inside quotes too.
PIECES = [
    *'()<>[]:;@\\,." \t\r\n',
    "\x00",
    "\x01",
    "\x7f",
    "\x80",
    "\xff",
    "é",
    "\u200b",
    "\udcff",
    "a",
    "bc",
    "x.y",
    "\r\n ",
    "((((",
    "))))",
    "\\(",
    "\\)",
    '\\"',
    "\\\\",
    "[[",
    '"=?utf-8?q?a_b?="',
    "=?utf-8?b?YQ==?=",
    "=?x?q?(?=",
    "<a@b.c>",
]
hostile = st.lists(st.sampled_from(PIECES), max_size=40).map("".join) | st.text(max_size=60)


def _with_ends(problems: list[Problem]) -> list[tuple[str, str, int, int | None]]:
    return [(p.name, p.message, p.offset, p.end) for p in problems]


def _plain(problems: list[Problem]) -> list[tuple[str, str, int]]:
    return [(p.name, p.message, p.offset) for p in problems]


# -- the tokens and their spans -------------------------------------------------------------


def test_tokens_carry_their_span_in_the_value() -> None:
    value = 'Ann (x) "B\\"c" <a@[1.2 .3]>'
    tokens, problems = tokenize(value, RULE)
    assert problems == []
    assert [(t[0], t[1], t[2], t[3], t[4]) for t in tokens] == [
        ("atom", "Ann", 0, 3, False),
        ("quoted", 'B"c', 8, 14, True),
        ("<", "<", 15, 16, True),
        ("atom", "a", 16, 17, False),
        ("@", "@", 17, 18, False),
        ("literal", "[1.2.3]", 18, 26, False),
        (">", ">", 26, 27, False),
    ]
    for kind, text, start, end, _space in tokens:
        if kind in ("atom", "<", "@", ">"):
            assert value[start:end] == text


def test_unclosed_constructs_span_to_the_end_of_the_value() -> None:
    for value, message in [
        ('a "bc', "unbalanced quotes: a quoted string is not closed"),
        ("a (bc (d)", "unbalanced parentheses: a comment is not closed"),
        ("a [bc", "unbalanced brackets: a domain literal is not closed"),
    ]:
        _toks, problems = tokenize(value, RULE)
        assert _with_ends(problems) == [(RULE, message, 2, len(value))]


def test_deep_comments_are_reported_once_at_the_first_too_deep_paren() -> None:
    value = "(" * 100_000 + ")" * 100_000 + "a"
    tokens, problems = tokenize(value, RULE)
    assert [t[1] for t in tokens] == ["a"] and tokens[0][4]
    message = f"comments are nested more than {MAX_COMMENT_DEPTH} deep"
    at = MAX_COMMENT_DEPTH
    assert _with_ends(problems) == [(RULE, message, at, at + 1)]


def test_a_quoted_pair_at_the_end_quotes_nothing() -> None:
    assert scan_quoted('"ab\\', 0) == ("ab", 4, False)
    assert scan_quoted('"a\\"b"', 0) == ('a"b', 6, True)
    assert skip_cfws("(a\\", 0) == (3, 0)
    assert skip_cfws(" \t(a\\)) x", 0) == (8, -1)
    assert skip_cfws(" (a) (b", 0) == (7, 5)


def test_nested_brackets_are_reported_once_per_literal() -> None:
    tokens, problems = tokenize("[" * 10_000, RULE)
    assert [t[0] for t in tokens] == ["literal"]
    assert _plain(problems) == [
        (RULE, "'[' inside a domain literal", 1),
        (RULE, "unbalanced brackets: a domain literal is not closed", 0),
    ]
    assert problems[0].end == 2 and problems[1].end == 10_000


def test_problem_ends_take_no_part_in_equality() -> None:
    assert Problem("x", "y", 1, 5) == Problem("x", "y", 1)


# -- invariants on hostile values ---------------------------------------------------------------
# (the differential tests against the three lexers this replaced ran until the old code was
# deleted: see the commit that added _tokens)


@given(hostile)
@example('"=?utf-8?q?a?=\\')
@example("(" * (MAX_COMMENT_DEPTH + 2) + "\\")
@example("(" * (MAX_COMMENT_DEPTH - 1) + "(x)" + ")" * MAX_COMMENT_DEPTH)
@example("(" * MAX_COMMENT_DEPTH + "(x)(y)" + ")" * MAX_COMMENT_DEPTH)
@example("(a (b) (c (d)) \\) e")
@example('a\r\n b\r"c\n\\')
def test_tokens_are_ordered_spans_of_the_value(value: str) -> None:
    tokens, problems = tokenize(value, RULE)
    last = 0
    for kind, text, start, end, _space in tokens:
        assert last <= start < end <= len(value)
        last = end
        if kind in ("atom", "other") or len(kind) == 1:
            assert value[start:end] == text
        elif kind == "quoted":
            assert value[start] == '"'
    for problem in problems:
        assert problem.end is not None and 0 <= problem.offset < problem.end <= len(value)
    assert len([p for p in problems if "nested more than" in p.message]) <= 1


@given(hostile)
@example(' (a\\) "b\\')
@example('"\\')
@example("((a)\\")
def test_scanners_stop_inside_the_value(value: str) -> None:
    for i, c in enumerate(value):
        if c == "(":
            end, closed, deep = _tokens.comment_end(value, i)
            assert i < end <= len(value) and (closed or end == len(value))
            assert deep == -1 or i < deep < end
            if closed:
                assert value[end - 1] == ")"
        if c in " \t\r\n(":
            end, unclosed = skip_cfws(value, i)
            assert i < end <= len(value)
            assert unclosed == -1 or (i <= unclosed < end == len(value))
        if c == '"':
            text, end, closed = scan_quoted(value, i)
            assert i < end <= len(value) and len(text) < end - i
            assert not closed or value[end - 1] == '"'


@given(hostile)
@example("a@@b, <x y@z>, g: <a@b>, <@c:d@e> ;")
@example("<a@b@c> <> << x@y> <<<")
def test_parser_problems_carry_spans_inside_the_value(value: str) -> None:
    from mimeguard import _address, _msgid

    problems = [
        *_address.parse_address_list(value).problems,
        *_address.parse_mailbox(value).problems,
        *_msgid.parse_msg_id_list(value)[1],
        *_msgid.parse_msg_id(value)[1],
    ]
    for problem in problems:
        if problem.end is not None:
            assert 0 <= problem.offset <= problem.end <= len(value), problem


def test_address_and_msgid_problems_point_at_their_tokens() -> None:
    from mimeguard import _address, _msgid

    value = "john doe@example.com, <a@b> junk, x@exa mple.com"
    spans = {
        p.message: value[p.offset : p.end] for p in _address.parse_address_list(value).problems
    }
    assert spans == {
        "local part 'john doe' has unquoted spaces; it must be quoted": "john doe",
        "unexpected 'junk' after the address": "junk",
        "unexpected 'mple' after the address": "mple",
    }
    ids = "<a b@c> > <x@y"
    spans = {p.message: ids[p.offset : p.end] for p in _msgid.parse_msg_id_list(ids)[1]}
    assert spans == {
        "message identifier 'a b@c' contains spaces": "a b@c",
        "unbalanced angle brackets: '>' without '<'": ">",
        "unbalanced angle brackets: '<' is not closed with '>'": "<",
    }


@pytest.mark.parametrize(
    "value",
    [
        "(" * 1_000_000,
        "(a" * 500_000,
        "(\\" * 500_000,
        "(a(b\\(" * 200_000,
        " (a)" * 250_000,
        '"' + '\\"' * 500_000,
        '"a' * 500_000,
        "[" + "\\[" * 500_000,
        "(" * 100 + "x" * 1_000_000,
    ],
    ids=lambda v: f"{v[:6]!r}*{len(v)}",
)
def test_hostile_values_are_read_in_one_pass(value: str) -> None:
    # a hang guard, not a timing: quadratic work on these takes hours
    tokens, problems = tokenize(value, RULE)
    assert len(problems) <= 3
    assert all(0 <= t[2] < t[3] <= len(value) for t in tokens)
    end, unclosed = skip_cfws(value, 0)
    assert 0 <= end <= len(value) and unclosed < end


def test_content_type_problems_point_at_their_tokens() -> None:
    value = 'te@xt/pl]ain; n@me=1; b=c d; c="\xe9t\xe9"; d="open (x'
    ct = _params.parse_content_type(value)
    spans = {p.message: value[p.offset : p.end] for p in ct.problems if p.end is not None}
    assert spans == {
        "media type 'te@xt' is not a token": "te@xt",
        "subtype 'pl]ain' is not a token": "pl]ain",
        "parameter name 'n@me' is not a token": "n@me",
        "unquoted value of 'b' contains characters that need quoting": "c d",
        "value of 'c' has 8-bit characters instead of RFC 2231 encoding": '\xe9t\xe9"',
        "quoted value of 'd' is not closed": '"open (x',
    }
    value = "attach@ment; a=b (open"
    disposition = _params.parse_disposition(value)
    assert [(p.message, value[p.offset : p.end]) for p in disposition.problems] == [
        ("disposition type 'attach@ment' is not a token", "attach@ment"),
        ("comment is not closed", "(open"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(a (b (c) d) e) x", (15, True, -1)),
        ("((a)(b(c)))", (11, True, -1)),
        ("(a\\(b)", (6, True, -1)),
        ("(" * 63 + "(x)" + ")" * 63, (129, True, -1)),
        ("(" * 62 + "((x))" + ")" * 62, (129, True, -1)),
        # the 65th "(" is the second of a shallow comment: still found by the count
        ("(" * 63 + "((x))" + ")" * 63, (131, True, 64)),
        ("(" * 62 + "(((x)))" + ")" * 62, (131, True, 64)),
        ("((a) (b", (7, False, -1)),
    ],
)
def test_comment_end_at_every_depth(value: str, expected: tuple[int, bool, int]) -> None:
    assert _tokens.comment_end(value, 0) == expected
