"""Tests for mimeguard._address (RFC 5322 section 3.4 and obsolete 4.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard._address import (
    AddressList,
    Mailbox,
    parse_address_list,
    parse_mailbox,
    parse_mailbox_list,
)
from mimeguard._problem import Problem

SETTINGS = settings(max_examples=200, deadline=None)


def found(result: AddressList) -> list[tuple[int, str]]:
    """The problems as (offset, message), after checking they all carry the rule name."""
    assert all(p.name == "invalid-address" for p in result.problems)
    return [(p.offset, p.message) for p in result.problems]


def specs(result: AddressList) -> list[str]:
    return [m.addr_spec for m in result.mailboxes]


# -- RFC 5322 Appendix A: all valid, no problem ---------------------------------

APPENDIX = [
    # A.1.1 A message from one person to another with simple addressing
    (
        parse_mailbox_list,
        "John Doe <jdoe@machine.example>",
        [Mailbox("John Doe", "jdoe", "machine.example", None)],
        (),
    ),
    (
        parse_mailbox,
        "Michael Jones <mjones@machine.example>",
        [Mailbox("Michael Jones", "mjones", "machine.example", None)],
        (),
    ),
    (
        parse_address_list,
        "Mary Smith <mary@example.net>",
        [Mailbox("Mary Smith", "mary", "example.net", None)],
        (),
    ),
    # A.1.2 Different types of mailboxes
    (
        parse_mailbox_list,
        '"Joe Q. Public" <john.q.public@example.com>',
        [Mailbox("Joe Q. Public", "john.q.public", "example.com", None)],
        (),
    ),
    (
        parse_address_list,
        "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
        [
            Mailbox("Mary Smith", "mary", "x.test", None),
            Mailbox(None, "jdoe", "example.org", None),
            Mailbox("Who?", "one", "y.test", None),
        ],
        (),
    ),
    (
        parse_address_list,
        '<boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>',
        [
            Mailbox(None, "boss", "nil.test", None),
            Mailbox('Giant; "Big" Box', "sysservices", "example.net", None),
        ],
        (),
    ),
    # A.1.3 Group addresses
    (
        parse_mailbox_list,
        "Pete <pete@silly.example>",
        [Mailbox("Pete", "pete", "silly.example", None)],
        (),
    ),
    (
        parse_address_list,
        "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
        [
            Mailbox("Ed Jones", "c", "a.test", "A Group"),
            Mailbox(None, "joe", "where.test", "A Group"),
            Mailbox("John", "jdoe", "one.test", "A Group"),
        ],
        ("A Group",),
    ),
    (parse_address_list, "Undisclosed recipients:;", [], ("Undisclosed recipients",)),
    # A.2 Reply messages: a ":" inside a quoted display name
    (
        parse_address_list,
        '"Mary Smith: Personal Account" <smith@home.example>',
        [Mailbox("Mary Smith: Personal Account", "smith", "home.example", None)],
        (),
    ),
    # A.5 White space, comments, and other oddities (unfolded)
    (
        parse_mailbox_list,
        "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
        [Mailbox("Pete", "pete", "silly.test", None)],
        (),
    ),
    (
        parse_address_list,
        "A Group(Some people)     :Chris Jones <c@(Chris's host.)public.example>,"
        "         joe@example.org,  John <jdoe@one.test> (my dear friend);"
        " (the end of the group)",
        [
            Mailbox("Chris Jones", "c", "public.example", "A Group"),
            Mailbox(None, "joe", "example.org", "A Group"),
            Mailbox("John", "jdoe", "one.test", "A Group"),
        ],
        ("A Group",),
    ),
    (
        parse_address_list,
        "(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;",
        [],
        ("Hidden recipients",),
    ),
    # A.6.1 Obsolete addressing: obs-phrase with ".", obs-route, empty element,
    # obs-domain with CFWS
    (
        parse_mailbox_list,
        "Joe Q. Public <john.q.public@example.com>",
        [Mailbox("Joe Q. Public", "john.q.public", "example.com", None)],
        (),
    ),
    (
        parse_address_list,
        "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
        [
            Mailbox("Mary Smith", "mary", "example.net", None),
            Mailbox(None, "jdoe", "test.example", None),
        ],
        (),
    ),
    # A.6.3 Obsolete white space and comments (the To line folds over a blank line)
    (
        parse_mailbox_list,
        "John Doe <jdoe@machine(comment).  example>",
        [Mailbox("John Doe", "jdoe", "machine.example", None)],
        (),
    ),
    (
        parse_address_list,
        "Mary Smith  " + "          <mary@example.net>",
        [Mailbox("Mary Smith", "mary", "example.net", None)],
        (),
    ),
]


@pytest.mark.parametrize(("parse", "value", "mailboxes", "groups"), APPENDIX)
def test_rfc5322_appendix_a(
    parse: object, value: str, mailboxes: list[Mailbox], groups: tuple[str, ...]
) -> None:
    assert callable(parse)
    result = parse(value)
    assert result == AddressList(tuple(mailboxes), groups, ())


# -- other valid forms ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("john@example.com (John Doe)", Mailbox(None, "john", "example.com", None)),
        ('"john doe"@example.com', Mailbox(None, "john doe", "example.com", None)),
        ('"a\\"b"@example.com', Mailbox(None, 'a"b', "example.com", None)),
        ("user@[192.168.0.1]", Mailbox(None, "user", "[192.168.0.1]", None)),
        ("user@[ 192.168.0.1 ]", Mailbox(None, "user", "[192.168.0.1]", None)),
        ("user@[IPv6:2001:db8::1]", Mailbox(None, "user", "[IPv6:2001:db8::1]", None)),
        (
            "=?utf-8?q?J=C3=B6rg?= Doe <j@example.org>",
            Mailbox("=?utf-8?q?J=C3=B6rg?= Doe", "j", "example.org", None),
        ),
        (
            '=?utf-8?b?SsO2cmc=?= "Q." Doe <j@example.org>',
            Mailbox("=?utf-8?b?SsO2cmc=?= Q. Doe", "j", "example.org", None),
        ),
        ("Jörg Müller <j@example.org>", Mailbox("Jörg Müller", "j", "example.org", None)),
        ('"" <j@example.org>', Mailbox("", "j", "example.org", None)),
        ("John   (x)   Doe <j@example.org>", Mailbox("John Doe", "j", "example.org", None)),
        ("((a(b)c)d) j@example.org ((e))", Mailbox(None, "j", "example.org", None)),
        ("john . doe @ example . com", Mailbox(None, "john.doe", "example.com", None)),
        ('"john".doe@example.com', Mailbox(None, "john.doe", "example.com", None)),
        ("john(c).(c)doe@example.com", Mailbox(None, "john.doe", "example.com", None)),
        ("<@a.com,@b.com:john@c.com>", Mailbox(None, "john", "c.com", None)),
        ("<,@a.com,,@b.com:john@c.com>", Mailbox(None, "john", "c.com", None)),
        ("Joe <  joe@example.com  >", Mailbox("Joe", "joe", "example.com", None)),
        ("Joe<joe@example.com>", Mailbox("Joe", "joe", "example.com", None)),
        ("\tjoe@example.com\t", Mailbox(None, "joe", "example.com", None)),
        ("!#$%&'*+-/=?^_`{|}~@example.com", Mailbox(None, "!#$%&'*+-/=?^_`{|}~", "example.com")),
        ("j@localhost", Mailbox(None, "j", "localhost", None)),
    ],
)
def test_valid_mailbox(value: str, expected: Mailbox) -> None:
    assert parse_address_list(value) == AddressList((expected,), (), ())
    assert parse_mailbox_list(value) == AddressList((expected,), (), ())
    assert parse_mailbox(value) == AddressList((expected,), (), ())


def test_empty_list_elements_are_obsolete_but_valid() -> None:
    result = parse_address_list(",a@x.com,,b@y.com, ,")
    assert specs(result) == ["a@x.com", "b@y.com"]
    assert result.problems == ()
    assert parse_mailbox_list("a@x.com,,b@y.com").problems == ()


def test_group_with_members() -> None:
    result = parse_address_list("friends: a@x.org, b@y.org;, c@z.org")
    assert result.mailboxes == (
        Mailbox(None, "a", "x.org", "friends"),
        Mailbox(None, "b", "y.org", "friends"),
        Mailbox(None, "c", "z.org", None),
    )
    assert result.groups == ("friends",)
    assert result.problems == ()


def test_groups_and_empty_group_elements() -> None:
    result = parse_address_list("undisclosed-recipients:;, g: , a@b.c ,, ;, h:(none);")
    assert result.groups == ("undisclosed-recipients", "g", "h")
    assert result.mailboxes == (Mailbox(None, "a", "b.c", "g"),)
    assert result.problems == ()


def test_bcc_may_be_empty() -> None:
    assert parse_address_list("", allow_empty=True) == AddressList((), (), ())
    assert parse_address_list("  (nobody) ", allow_empty=True) == AddressList((), (), ())
    assert found(parse_address_list("")) == [(0, "value is empty: an address is required")]


def test_addr_spec_quotes_local_part_when_needed() -> None:
    assert Mailbox(None, "a b", "x.org", None).addr_spec == '"a b"@x.org'
    assert Mailbox(None, 'a"b\\c', "x.org", None).addr_spec == '"a\\"b\\\\c"@x.org'
    assert Mailbox(None, "a..b", "x.org", None).addr_spec == '"a..b"@x.org'
    assert Mailbox(None, "", "x.org", None).addr_spec == '""@x.org'
    assert Mailbox(None, "a.b", "x.org", None).addr_spec == "a.b@x.org"
    assert Mailbox(None, "john", "", None).addr_spec == "john"


def test_comment_nesting_64_is_fine() -> None:
    value = "(" * 64 + ")" * 64 + "a@b.c"
    assert parse_address_list(value).problems == ()


# -- defects --------------------------------------------------------------------

DEFECTS = [
    # unbalanced / unterminated
    (
        "<john@x.com",
        ["john@x.com"],
        [(0, "unbalanced angle brackets: '<' is not closed with '>'")],
    ),
    (
        "john@x.com>",
        ["john@x.com"],
        [(10, "unbalanced angle brackets: '>' without '<' after the address")],
    ),
    (
        "A <a@b.c>, B <c@d.e",
        ["a@b.c", "c@d.e"],
        [(13, "unbalanced angle brackets: '<' is not closed with '>'")],
    ),
    (
        '"john@x.com',
        ['"john@x.com"'],
        [
            (0, "unbalanced quotes: a quoted string is not closed"),
            (0, "address '\"john@x.com' has no '@' and domain"),
        ],
    ),
    (
        "john@x.com (John",
        ["john@x.com"],
        [(11, "unbalanced parentheses: a comment is not closed")],
    ),
    (
        "a@b.c)",
        ["a@b.c"],
        [(5, "unbalanced parentheses: ')' without '(' after the address")],
    ),
    (
        ")a@b.c, d@e.f",
        ["d@e.f"],
        [(0, "unbalanced parentheses: ')' without '(' where an address was expected")],
    ),
    (
        "a@[1.2.3.4",
        ["a@[1.2.3.4"],
        [(2, "unbalanced brackets: a domain literal is not closed")],
    ),
    (
        "(" * 65 + ")" * 65 + "a@b.c",
        ["a@b.c"],
        [(64, "comments are nested more than 64 deep")],
    ),
    # missing or doubled "@", empty parts
    ("john", ["john"], [(0, "address 'john' has no '@' and domain")]),
    ("<john>", ["john"], [(1, "address 'john' has no '@' and domain")]),
    (
        "bad, good@x.org",
        ["bad", "good@x.org"],
        [(0, "address 'bad' has no '@' and domain")],
    ),
    ("a@b@c", ['"a@b"@c'], [(3, "address has more than one '@'")]),
    (
        "bob@@example.org",
        ['"bob@"@example.org'],
        [(3, "empty domain after '@'"), (4, "address has more than one '@'")],
    ),
    ("a@", ["a"], [(1, "empty domain after '@'")]),
    ("<a@>", ["a"], [(2, "empty domain after '@'")]),
    ("@x.com", ['""@x.com'], [(0, "empty local part before '@'")]),
    ("<@x.com>", ['""@x.com'], [(1, "empty local part before '@'")]),
    ('""@x.com', ['""@x.com'], [(0, "empty local part before '@'")]),
    ("<>", [], [(0, "no address between '<' and '>'")]),
    # bare address with spaces: accepted, reported
    (
        "john doe@x.com",
        ['"john doe"@x.com'],
        [(0, "local part 'john doe' has unquoted spaces; it must be quoted")],
    ),
    (
        "Jo <john doe@x.com>",
        ['"john doe"@x.com'],
        [(4, "local part 'john doe' has unquoted spaces; it must be quoted")],
    ),
    (
        '"a"b@x.org',
        ["ab@x.org"],
        [(0, "local part '\"a\"b' joins a quoted string to other text")],
    ),
    ("a..b@x.org", ['"a..b"@x.org'], [(0, "local part 'a..b' has a misplaced '.'")]),
    (".a@x.org", ['".a"@x.org'], [(0, "local part '.a' has a misplaced '.'")]),
    ("a.@x.org", ['"a."@x.org'], [(0, "local part 'a.' has a misplaced '.'")]),
    ("a@x..org", ["a@x..org"], [(2, "domain 'x..org' has a misplaced '.'")]),
    ("a@.x.org", ["a@.x.org"], [(2, "domain '.x.org' has a misplaced '.'")]),
    ("a@x.org.", ["a@x.org."], [(2, "domain 'x.org.' has a misplaced '.'")]),
    (
        "a@[1.2].x",
        ["a@[1.2].x"],
        [(2, "domain '[1.2].x' mixes a domain literal with names")],
    ),
    # trailing garbage
    ("a@b.c d", ["a@b.c"], [(6, "unexpected 'd' after the address")]),
    ("a@b.com c@d.com", ["a@b.com"], [(8, "unexpected 'c' after the address")]),
    ("<a@b.c> <d@e.f>", ["a@b.c"], [(8, "unexpected '<' after the address")]),
    ("<<a@b.c>, d@e.f", ["d@e.f"], [(1, "unexpected '<' inside angle brackets")]),
    (
        "<a@b.c d>, e@f.g",
        ["a@b.c", "e@f.g"],
        [(7, "unexpected 'd' inside angle brackets")],
    ),
    (
        "<@a.com john@c.com>, d@e.org",
        ['""@a.com', "d@e.org"],
        [(1, "empty local part before '@'"), (8, "unexpected 'john' inside angle brackets")],
    ),
    (
        "<@a.com,@b.com john@c.com>, d@e.org",
        ["d@e.org"],
        [(1, "malformed source route: expected '@domain' list ending in ':'")],
    ),
    (
        "a\x01b@c.d, e@f.g",
        ["a", "e@f.g"],
        [(0, "address 'a' has no '@' and domain"), (1, "unexpected '\\x01' after the address")],
    ),
    # display names
    (
        "john@x.com <john@x.com>",
        ["john@x.com"],
        [(0, "display name contains '@' and must be quoted")],
    ),
    (".John <j@x.org>", ["j@x.org"], [(0, "display name starts with '.'")]),
    # groups
    ("friends: a@x.org", ["a@x.org"], [(7, "group 'friends' is not closed with ';'")]),
    (
        "friends: a@x.org; c@z.org",
        ["a@x.org"],
        [(18, "unexpected 'c' after the address")],
    ),
    ("g: h: a@b.c;, c@d.e", ["c@d.e"], [(4, "a group cannot be nested in a group")]),
    (":;", [], [(0, "group has no name before ':'")]),
    # non-ASCII
    (
        "jörg@x.org",
        ["jörg@x.org"],
        [
            (
                0,
                "non-ASCII local part 'jörg': it needs SMTPUTF8 (RFC 6532), "
                "which Amazon WorkMail and SES do not support",
            )
        ],
    ),
    (
        'Jörg <"jörg b"@x.org>',
        ['"jörg b"@x.org'],
        [
            (
                6,
                "non-ASCII local part '\"jörg b\"': it needs SMTPUTF8 (RFC 6532), "
                "which Amazon WorkMail and SES do not support",
            )
        ],
    ),
    (
        "j@exämple.org",
        ["j@exämple.org"],
        [
            (
                2,
                "non-ASCII domain 'exämple.org': an internationalized domain must be "
                "written in punycode (xn--)",
            )
        ],
    ),
    # empty
    ("", [], [(0, "value is empty: an address is required")]),
    ("  (just a comment) ", [], [(0, "value is empty: an address is required")]),
    (",", [], [(0, "list has only commas and no address")]),
    (", ,", [], [(0, "list has only commas and no address")]),
]


@pytest.mark.parametrize(("value", "addresses", "problems"), DEFECTS)
def test_defect(value: str, addresses: list[str], problems: list[tuple[int, str]]) -> None:
    result = parse_address_list(value)
    assert specs(result) == addresses
    assert found(result) == problems


def test_one_bad_address_does_not_hide_the_rest() -> None:
    result = parse_address_list("a@x.org, <<bad, john doe@y.org, (c, d@z.org")
    # the unclosed comment swallows the rest of the value
    assert specs(result) == ["a@x.org", '"john doe"@y.org']
    result = parse_address_list("a@x.org, <<bad>, b c@y.org, )x, d@z.org")
    assert specs(result) == ["a@x.org", '"b c"@y.org', "d@z.org"]
    assert len(result.problems) == 3


def test_bcc_only_commas_is_reported() -> None:
    result = parse_address_list(",", allow_empty=True)
    assert found(result) == [(0, "list has only commas and no address")]


def test_mailbox_list_rejects_groups() -> None:
    result = parse_mailbox_list("a@b.c, g: c@d.e;")
    assert result.mailboxes == (Mailbox(None, "a", "b.c", None), Mailbox(None, "c", "d.e", "g"))
    assert result.groups == ("g",)
    assert found(result) == [(7, "group 'g' is not allowed here: this field takes mailboxes only")]
    result = parse_mailbox_list("undisclosed-recipients:;")
    assert found(result) == [
        (0, "group 'undisclosed-recipients' is not allowed here: this field takes mailboxes only")
    ]
    assert found(parse_mailbox_list("")) == [(0, "value is empty: an address is required")]


@pytest.mark.parametrize(
    ("value", "addresses", "problems"),
    [
        ("a@b.c", ["a@b.c"], []),
        ("a@b.c, d@e.f", ["a@b.c", "d@e.f"], [(0, "exactly one mailbox is allowed, found 2")]),
        ("a@b.c,", ["a@b.c"], [(0, "a single mailbox is expected: unexpected ','")]),
        (
            "g:;",
            [],
            [
                (0, "group 'g' is not allowed here: this field takes mailboxes only"),
                (0, "exactly one mailbox is required, found none"),
            ],
        ),
        ("", [], [(0, "value is empty: an address is required")]),
    ],
)
def test_parse_mailbox(value: str, addresses: list[str], problems: list[tuple[int, str]]) -> None:
    result = parse_mailbox(value)
    assert specs(result) == addresses
    assert found(result) == problems


def test_problem_type() -> None:
    problem = parse_address_list("john").problems[0]
    assert problem == Problem("invalid-address", "address 'john' has no '@' and domain", 0)


def test_long_text_is_shortened_in_messages() -> None:
    result = parse_address_list("x" * 1000)
    shown = "'" + "x" * 37 + "...'"
    assert found(result) == [(0, f"address {shown} has no '@' and domain")]


# -- pathological input: linear time ------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "(" * 100_000,
        "," * 100_000,
        "<" * 100_000,
        '"' * 100_001,
        ")" * 100_000,
        "[" * 100_000,
        "@" * 50_000,
        ":" * 100_000,
        "\\" * 20_000,
        "<@," * 10_000,
        "a(" * 50_000,
        "x" * 1_000_000,
    ],
    ids=lambda v: f"{v[:3]!r}*{len(v)}",
)
def test_pathological_input_completes(value: str) -> None:
    for parse in (parse_address_list, parse_mailbox_list, parse_mailbox):
        assert parse(value).problems


def test_many_addresses() -> None:
    result = parse_address_list(", ".join(f"u{k}@example.com" for k in range(20_000)))
    assert len(result.mailboxes) == 20_000
    assert result.problems == ()


# -- properties -----------------------------------------------------------------

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
atoms = st.text(ATEXT, min_size=1, max_size=8)
dot_atoms = st.lists(atoms, min_size=1, max_size=3).map(".".join)
#: qcontent, as its semantic value: printable ASCII and space (quotes and
#: backslashes included, to exercise quoted-pairs) and some non-ASCII.
quoted_content = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("éü€"),
    max_size=10,
)
ascii_quoted_content = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)
labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
domains = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: "[" + ".".join(map(str, t)) + "]"),
)
comments = st.text("abc xyz.,;:<>@\"'", max_size=8).map(lambda t: f" ({t}) ")
cfws = st.sampled_from(["", " ", "  ", "\t"]) | comments


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def local_parts(draw: st.DrawFn) -> tuple[str, str]:
    """(as written, semantic value)."""
    if draw(st.booleans()):
        text = draw(dot_atoms)
        return text, text
    text = draw(ascii_quoted_content.filter(bool))
    return quote(text), text


@st.composite
def phrases(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(
        st.lists(
            st.one_of(atoms.map(lambda a: (a, a)), quoted_content.map(lambda q: (quote(q), q))),
            min_size=1,
            max_size=4,
        )
    )
    written = " ".join(w for w, _ in words)
    return written, " ".join(v for _, v in words)


@st.composite
def mailboxes(draw: st.DrawFn) -> tuple[str, Mailbox]:
    local_written, local = draw(local_parts())
    domain = draw(domains)
    spec = f"{local_written}@{domain}"
    if draw(st.booleans()):
        written = draw(cfws) + spec + draw(cfws)
        return written, Mailbox(None, local, domain, None)
    name_written, name = draw(phrases())
    written = f"{draw(cfws)}{name_written}{draw(cfws)}<{spec}>{draw(cfws)}"
    return written, Mailbox(name, local, domain, None)


@st.composite
def address_lists(draw: st.DrawFn) -> tuple[str, list[Mailbox], list[str]]:
    parts: list[str] = []
    expected: list[Mailbox] = []
    groups: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 3)) == 0:
            name_written, name = draw(phrases())
            members = draw(st.lists(mailboxes(), max_size=2))
            parts.append(f"{name_written}:{','.join(w for w, _ in members)};")
            groups.append(name)
            expected += [Mailbox(m.display_name, m.local_part, m.domain, name) for _, m in members]
        else:
            written, mailbox = draw(mailboxes())
            parts.append(written)
            expected.append(mailbox)
    return ",".join(parts), expected, groups


@SETTINGS
@given(st.text())
def test_never_raises(value: str) -> None:
    for parse in (parse_address_list, parse_mailbox_list, parse_mailbox):
        result = parse(value)
        assert isinstance(result, AddressList)
        assert all(0 <= p.offset <= len(value) for p in result.problems)


@SETTINGS
@given(st.text('ab@<>,;:."()[]\\ \t', max_size=40))
def test_never_raises_on_specials(value: str) -> None:
    for parse in (parse_address_list, parse_mailbox_list, parse_mailbox):
        result = parse(value)
        assert all(0 <= p.offset <= len(value) for p in result.problems)


@SETTINGS
@given(mailboxes())
def test_generated_mailbox_is_valid(case: tuple[str, Mailbox]) -> None:
    written, expected = case
    assert parse_mailbox(written) == AddressList((expected,), (), ())
    # addr_spec is itself a valid mailbox with the same reading
    again = parse_mailbox(expected.addr_spec)
    assert again == AddressList((Mailbox(None, expected.local_part, expected.domain),), (), ())


@SETTINGS
@given(address_lists())
def test_generated_address_list_is_valid(case: tuple[str, list[Mailbox], list[str]]) -> None:
    written, expected, groups = case
    assert parse_address_list(written) == AddressList(tuple(expected), tuple(groups), ())
