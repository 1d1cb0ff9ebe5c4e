"""The one RFC 5322 tokenizer (``_tokens``): spans, hostile values, and the same answers
as the three lexers it replaced (``tests/_old_lexers.py``), on generated hostile values
and on every structured header of the corpus."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mimeguard import _params, _tokens, parse
from mimeguard._problem import Problem
from mimeguard._rfc2047 import ProblemCollector
from mimeguard._tokens import MAX_COMMENT_DEPTH, scan_quoted, skip_cfws, tokenize

from . import _old_lexers as old
from .conftest import corpus_files, needs_corpus

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


# -- the same answers as the lexers it replaced -----------------------------------------------


@given(hostile)
@example('"=?utf-8?q?a?=\\')
@example("(" * (MAX_COMMENT_DEPTH + 2) + "\\")
@example("(" * (MAX_COMMENT_DEPTH - 1) + "(x)" + ")" * MAX_COMMENT_DEPTH)
@example("(" * MAX_COMMENT_DEPTH + "(x)(y)" + ")" * MAX_COMMENT_DEPTH)
@example("(a (b) (c (d)) \\) e")
@example('a\r\n b\r"c\n\\')
def test_tokenize_reads_what_the_address_and_msgid_lexer_read(value: str) -> None:
    tokens, problems = tokenize(value, RULE)
    old_tokens, old_problems = old.tokenize(value, RULE)
    assert tokens == old_tokens
    assert _plain(problems) == _plain(old_problems)
    for problem in problems:
        assert problem.end is not None and 0 <= problem.offset < problem.end <= len(value)


@given(hostile)
@example("((a)")
@example("(\\")
def test_scan_comment_reads_what_the_date_lexer_read(value: str) -> None:
    for i, c in enumerate(value):
        if c == "(":
            new: list[Problem] = []
            was: list[Problem] = []
            assert _tokens.scan_comment(value, i, RULE, new) == old.scan_comment(
                value, i, RULE, was
            )
            assert _plain(new) == _plain(was)


@given(hostile)
@example("((a)\\")
def test_comment_end_reads_what_the_filename_reader_read(value: str) -> None:
    from mimeguard import _filenames

    for i, c in enumerate(value):
        if c == "(":
            assert _filenames._skip_comment(value, i) == old.filenames_skip_comment(value, i)


@given(hostile)
@example(' (a\\) "b\\')
@example('"\\')
def test_params_scanners_read_what_they_read_before(value: str) -> None:
    for i, c in enumerate(value):
        if c in " \t\r\n(":
            new, was = ProblemCollector(), ProblemCollector()
            got = _params._skip_cfws(value, i, new, "malformed-parameter")
            assert got == old._skip_cfws(value, i, was, "malformed-parameter")
            assert _plain(new.finish()) == _plain(was.finish())
        if c == '"':
            assert scan_quoted(value, i) == old._read_quoted(value, i)


@given(hostile)
def test_the_parsers_over_the_tokenizer_give_what_they_gave(value: str) -> None:
    # the whole readers, lexer and parser, against the old lexer under the new parser
    from mimeguard import _address, _msgid

    new = (_address.parse_address_list(value), _msgid.parse_msg_id_list(value))
    modules = (vars(_address), vars(_msgid))
    for namespace in modules:
        namespace["tokenize"] = old.tokenize
    try:
        was = (_address.parse_address_list(value), _msgid.parse_msg_id_list(value))
    finally:
        for namespace in modules:
            namespace["tokenize"] = tokenize
    assert new == was


STRUCTURED = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "sender", "message-id", "in-reply-to"}
    | {"references", "content-id", "resent-from", "resent-to", "date", "received"}
    | {"content-type", "content-disposition"}
)


@needs_corpus
def test_every_structured_header_of_the_corpus_tokenizes_as_before() -> None:
    seen = 0
    for path in corpus_files():
        for part in parse(path.read_bytes()).walk():
            for field in part.headers:
                if field.lname not in STRUCTURED:
                    continue
                seen += 1
                value = field.value
                tokens, problems = tokenize(value, RULE)
                old_tokens, old_problems = old.tokenize(value, RULE)
                assert tokens == old_tokens, (path.name, field.lname)
                assert _plain(problems) == _plain(old_problems), (path.name, field.lname)
    assert seen > 1000


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
