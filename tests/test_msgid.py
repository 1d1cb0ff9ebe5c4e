"""Tests for mimeguard._msgid (RFC 5322 section 3.6.4 and obsolete 4.5.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard._msgid import parse_msg_id, parse_msg_id_list
from mimeguard._problem import Problem

SETTINGS = settings(max_examples=200, deadline=None)


def found(problems: list[Problem]) -> list[tuple[int, str]]:
    assert all(p.name == "invalid-message-id" for p in problems)
    return [(p.offset, p.message) for p in problems]


# -- valid ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 5322 Appendix A.1.1, A.1.2, A.3, A.5, A.6.1, A.6.2
        ("<1234@local.machine.example>", "1234@local.machine.example"),
        ("<5678.21-Nov-1997@example.com>", "5678.21-Nov-1997@example.com"),
        ("<abcd.1234@local.machine.test>", "abcd.1234@local.machine.test"),
        ("              <testabcd.1234@silly.test>", "testabcd.1234@silly.test"),
        # A.6.3: obsolete CFWS around "@" and the dots
        ("<1234   @   local(blah)  .machine .example>", "1234@local.machine.example"),
        # others
        ("<a@b>", "a@b"),
        ("  <a@b>  (comment) ", "a@b"),
        ("(c)<a@b>(c)", "a@b"),
        ("< a@b >", "a@b"),
        ("<abc@[127.0.0.1]>", "abc@[127.0.0.1]"),
        ("<abc@[IPv6:::1]>", "abc@[IPv6:::1]"),
        ('<"12345"@x.example>', '"12345"@x.example'),
        ('<"a b".c@x.example>', '"a b".c@x.example'),
        ("<!#$%&'*+-/=?^_`{|}~@x.example>", "!#$%&'*+-/=?^_`{|}~@x.example"),
        ("<CAF=x+y_z@mail.gmail.com>", "CAF=x+y_z@mail.gmail.com"),
        ("<image001.png@01D9A1B2.C3D4E5F0>", "image001.png@01D9A1B2.C3D4E5F0"),
    ],
)
def test_valid_msg_id(value: str, expected: str) -> None:
    assert parse_msg_id(value) == (expected, [])
    assert parse_msg_id_list(value) == ([expected], [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@b> <c@d>", ["a@b", "c@d"]),
        ("<a@b><c@d>", ["a@b", "c@d"]),
        ("<a@b>\t<c@d>\t <e@f>", ["a@b", "c@d", "e@f"]),
        # RFC 5322 Appendix A.3
        (
            "<1234@local.machine.example> <3456@example.net>",
            ["1234@local.machine.example", "3456@example.net"],
        ),
        # obs-in-reply-to / obs-references: phrases between ids are ignored
        ('Your message of "Mon, 1 Jan" <a@b>', ["a@b"]),
        ("<a@b> (comment) foo . bar <c@d>", ["a@b", "c@d"]),
    ],
)
def test_valid_msg_id_list(value: str, expected: list[str]) -> None:
    assert parse_msg_id_list(value) == (expected, [])


# -- defects --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "problems"),
    [
        # no angle brackets
        (
            "not-an-id",
            "not-an-id",
            [
                (0, "message identifier 'not-an-id' is not enclosed in angle brackets"),
                (0, "message identifier 'not-an-id' has no '@'"),
            ],
        ),
        (
            "1234@example.com",
            "1234@example.com",
            [(0, "message identifier '1234@example.com' is not enclosed in angle brackets")],
        ),
        (
            " a@b (c)",
            "a@b",
            [(1, "message identifier 'a@b' is not enclosed in angle brackets")],
        ),
        # no "@", empty sides
        ("<1234>", "1234", [(1, "message identifier '1234' has no '@'")]),
        (
            "<@x.example>",
            "@x.example",
            [(1, "message identifier '@x.example' has nothing before '@'")],
        ),
        ("<a@>", "a@", [(1, "message identifier 'a@' has nothing after '@'")]),
        ("<>", None, [(0, "no message identifier between '<' and '>'")]),
        # spaces inside (not the obsolete CFWS around "@" and ".")
        ("<foo bar@x>", "foo bar@x", [(1, "message identifier 'foo bar@x' contains spaces")]),
        ("<a@b c>", "a@b c", [(1, "message identifier 'a@b c' contains spaces")]),
        (
            '<"a"b@x>',
            '"a"b@x',
            [(1, "message identifier '\"a\"b@x' joins a quoted string or literal to other text")],
        ),
        ("<a..b@c>", "a..b@c", [(1, "message identifier 'a..b@c' has a misplaced '.'")]),
        ("<a.@c>", "a.@c", [(1, "message identifier 'a.@c' has a misplaced '.'")]),
        ("<a@.c>", "a@.c", [(1, "message identifier 'a@.c' has a misplaced '.'")]),
        ('<a@"b">', 'a@"b"', [(1, "message identifier 'a@\"b\"' has a quoted string after '@'")]),
        (
            "<[1.2.3.4]@b>",
            "[1.2.3.4]@b",
            [(1, "message identifier '[1.2.3.4]@b' has a domain literal before '@'")],
        ),
        ("<a@b@c>", "a@b@c", [(4, "message identifier has more than one '@'")]),
        # more than one
        ("<a@b> <c@d>", "a@b", [(6, "2 message identifiers where exactly one is allowed")]),
        (
            "<a@b>, <c@d>, <e@f>",
            "a@b",
            [
                (5, "unexpected ',' between message identifiers"),
                (7, "3 message identifiers where exactly one is allowed"),
                (12, "unexpected ',' between message identifiers"),
            ],
        ),
        # text outside the brackets
        ("foo <a@b>", "a@b", [(0, "unexpected 'foo' outside the angle brackets")]),
        ("<a@b> extra", "a@b", [(6, "unexpected 'extra' outside the angle brackets")]),
        # unbalanced
        ("<a@b", "a@b", [(0, "unbalanced angle brackets: '<' is not closed with '>'")]),
        (
            "a@b>",
            "a@b",
            [
                (0, "message identifier 'a@b' is not enclosed in angle brackets"),
                (3, "unbalanced angle brackets: '>' without '<'"),
            ],
        ),
        ("<a@b>)", "a@b", [(5, "unbalanced parentheses: ')' without '('")]),
        ("<a@b> (c", "a@b", [(6, "unbalanced parentheses: a comment is not closed")]),
        (
            '<"a@b>',
            '"a@b>',
            [
                (0, "unbalanced angle brackets: '<' is not closed with '>'"),
                (1, "unbalanced quotes: a quoted string is not closed"),
                (1, "message identifier '\"a@b>' has no '@'"),
            ],
        ),
        ("<a@b,c>", "a@b", [(4, "unexpected ',' inside angle brackets")]),
        # non-ASCII
        ("<jörg@x>", "jörg@x", [(1, "message identifier 'jörg@x' contains non-ASCII characters")]),
        (
            "<a@exämple>",
            "a@exämple",
            [(1, "message identifier 'a@exämple' contains non-ASCII characters")],
        ),
        # empty
        ("", None, [(0, "value is empty: a message identifier is required")]),
        ("  (comment) ", None, [(0, "value is empty: a message identifier is required")]),
        (",", None, [(0, "unexpected ',' between message identifiers")]),
    ],
)
def test_msg_id_defect(value: str, expected: str | None, problems: list[tuple[int, str]]) -> None:
    msg_id, found_problems = parse_msg_id(value)
    assert found(found_problems) == problems
    assert msg_id == expected


@pytest.mark.parametrize(
    ("value", "expected", "problems"),
    [
        ("", [], [(0, "value is empty: a message identifier is required")]),
        ("just words", [], [(0, "no message identifier found")]),
        ("<a@b>, <c@d>", ["a@b", "c@d"], [(5, "unexpected ',' between message identifiers")]),
        ("<a@b>,,,, <c@d>", ["a@b", "c@d"], [(5, "unexpected ',' between message identifiers")]),
        ("<a@b> <bad> <c@d>", ["a@b", "bad", "c@d"], [(7, "message identifier 'bad' has no '@'")]),
        (
            "<a@b> <c@d e> <f@g>",
            ["a@b", "c@d e", "f@g"],
            [(7, "message identifier 'c@d e' contains spaces")],
        ),
        (
            "<a@b> c@d",
            ["a@b", "c@d"],
            [(6, "message identifier 'c@d' is not enclosed in angle brackets")],
        ),
        (
            "<a@b> <c@d",
            ["a@b", "c@d"],
            [(6, "unbalanced angle brackets: '<' is not closed with '>'")],
        ),
        ("<<<a@b>", ["a@b"], [(0, "unbalanced angle brackets: '<' is not closed with '>'")]),
        (
            "<a@b> <jörg@x>",
            ["a@b", "jörg@x"],
            [(7, "message identifier 'jörg@x' contains non-ASCII characters")],
        ),
    ],
)
def test_msg_id_list_defect(
    value: str, expected: list[str], problems: list[tuple[int, str]]
) -> None:
    ids, found_problems = parse_msg_id_list(value)
    assert found(found_problems) == problems
    assert ids == expected


def test_long_text_is_shortened_in_messages() -> None:
    msg_id, problems = parse_msg_id("<" + "x" * 1000 + ">")
    assert msg_id == "x" * 1000
    shown = "'" + "x" * 37 + "...'"
    assert found(problems) == [(1, f"message identifier {shown} has no '@'")]


# -- pathological input: linear time ------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "(" * 100_000,
        "," * 100_000,
        "<" * 100_000,
        '"' * 100_001,
        ">" * 100_000,
        "@" * 100_000,
        "<a" * 20_000,
        "<a@b>" * 20_000,
        "(" * 65 + "x" * 1_000_000,
    ],
    ids=lambda v: f"{v[:3]!r}*{len(v)}",
)
def test_pathological_input_completes(value: str) -> None:
    assert parse_msg_id(value)[1]
    ids, problems = parse_msg_id_list(value)
    assert problems or len(ids) == 20_000


# -- properties -----------------------------------------------------------------

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
dot_atoms = st.lists(st.text(ATEXT, min_size=1, max_size=8), min_size=1, max_size=4).map(".".join)
literals = st.text("0123456789.:abcdefIPv", min_size=1, max_size=12).map(lambda t: f"[{t}]")
cfws = st.sampled_from(["", " ", "(c)", " (a(b)) "])


@st.composite
def msg_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, expected id) from the grammar of section 3.6.4."""
    left = draw(dot_atoms)
    right = draw(dot_atoms | literals)
    return f"{draw(cfws)}<{left}@{right}>{draw(cfws)}", f"{left}@{right}"


@SETTINGS
@given(st.text())
def test_never_raises(value: str) -> None:
    msg_id, problems = parse_msg_id(value)
    assert msg_id is not None or problems
    ids, problems = parse_msg_id_list(value)
    assert ids or problems
    assert all(0 <= p.offset <= len(value) for p in problems)


@SETTINGS
@given(st.text('ab<>@.,"()[] \\', max_size=40))
def test_never_raises_on_specials(value: str) -> None:
    parse_msg_id(value)
    parse_msg_id_list(value)


@SETTINGS
@given(msg_ids())
def test_generated_msg_id_is_valid(case: tuple[str, str]) -> None:
    written, expected = case
    assert parse_msg_id(written) == (expected, [])


@SETTINGS
@given(st.lists(msg_ids(), min_size=1, max_size=3))
def test_generated_msg_id_list_is_valid(cases: list[tuple[str, str]]) -> None:
    written = " ".join(w for w, _ in cases)
    assert parse_msg_id_list(written) == ([e for _, e in cases], [])
