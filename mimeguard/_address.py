"""Address lists, mailbox lists and single mailboxes (RFC 5322 section 3.4).

The grammar is RFC 5322 section 3.4 (``address-list``, ``mailbox-list``,
``mailbox``) plus the obsolete forms of section 4.4 that are valid to receive:
source routes, empty list elements, CFWS around the dots of a local part or
domain, and phrases containing ".".

The value is first cut into the lexical tokens of section 3.2 (atoms,
quoted-strings, domain-literals, specials) with white space and comments
dropped, by ``_tokens`` (the tokenizer every structured field shares); the parser
then walks the tokens once without backtracking, so time is linear in the length
of the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from . import _abnf as g
from ._problem import Problem
from ._tokens import END, KIND, SPACE, START, TEXT, Token, tokenize

__all__ = [
    "AddressList",
    "Mailbox",
    "parse_address_list",
    "parse_mailbox",
    "parse_mailbox_list",
]

RULE: Final = "invalid-address"

#: Tokens that can make up a phrase or a local part (obs-phrase allows ".").
_WORD_KINDS: Final = frozenset({"atom", "quoted", "."})


def snippet(text: str) -> str:
    """Quote ``text`` for a message, shortened so a huge value cannot bloat it."""
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)


def _is_dot_atom(text: str) -> bool:
    """True if ``text`` is a ``dot-atom-text`` (RFC 5322 section 3.2.3, RFC 6532)."""
    return all(part and g.ATOM_RUN.fullmatch(part) for part in text.split("."))


def _quote(text: str) -> str:
    """Render ``text`` as a ``quoted-string`` (RFC 5322 section 3.2.4)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One ``mailbox`` (RFC 5322 section 3.4): ``name-addr`` or ``addr-spec``.

    ``display_name`` is the phrase as written, with comments dropped, runs of
    white space read as one space, quotes removed and quoted-pairs undone;
    encoded-words are left as they are.  ``local_part`` is the semantic local
    part (CFWS dropped, quotes removed).  ``domain`` is "" when absent.
    ``group`` names the enclosing group, if any.
    """

    display_name: str | None
    local_part: str
    domain: str
    group: str | None = None

    @property
    def addr_spec(self) -> str:
        """``local-part "@" domain``, quoting the local part when it needs it."""
        local = self.local_part if _is_dot_atom(self.local_part) else _quote(self.local_part)
        return f"{local}@{self.domain}" if self.domain else local


@dataclass(frozen=True, slots=True)
class AddressList:
    """What a field held: its mailboxes (group members included), group names, problems."""

    mailboxes: tuple[Mailbox, ...]
    groups: tuple[str, ...]
    problems: tuple[Problem, ...]


def _unexpected(value: str, token: Token, where: str) -> str:
    if token[KIND] == ">":
        return f"unbalanced angle brackets: '>' without '<' {where}"
    if token[KIND] == ")":
        return f"unbalanced parentheses: ')' without '(' {where}"
    return f"unexpected {snippet(value[token[START] : token[END]])} {where}"


def _phrase_text(words: list[Token]) -> str:
    """The text of a ``phrase`` (section 3.2.5): CFWS between words reads as one space."""
    parts: list[str] = []
    for k, token in enumerate(words):
        if k and token[SPACE]:
            parts.append(" ")
        parts.append(token[TEXT])
    return "".join(parts)


def _local_part(value: str, words: list[Token], at: int) -> tuple[str, list[Problem]]:
    """Read a ``local-part`` (section 3.4.1; obs-local-part ``word *("." word)``, 4.4).

    ``at`` is the offset of the "@" that follows, for an empty local part.
    """
    problems: list[Problem] = []
    parts: list[str] = []
    expect_word = True
    bad_dot = spaced = glued = False
    for token in words:
        if token[KIND] == ".":
            bad_dot |= expect_word
            expect_word = True
            parts.append(".")
            continue
        if not expect_word:
            # Two words with no "." between: "john doe@x" (unquoted space, common
            # enough to read) or '"john"doe@x'.
            if token[SPACE]:
                spaced = True
                parts.append(" ")
            else:
                glued = True
        parts.append(token[TEXT])
        expect_word = False
    text = "".join(parts)
    offset = words[0][START] if words else at
    end = words[-1][END] if words else at + 1
    if not text:
        problems.append(Problem(RULE, "empty local part before '@'", offset, end))
        return text, problems
    bad_dot |= expect_word
    if not (spaced or glued or bad_dot) and text.isascii():
        return text, problems
    raw = snippet(value[words[0][START] : words[-1][END]])
    if spaced:
        problems.append(
            Problem(RULE, f"local part {raw} has unquoted spaces; it must be quoted", offset, end)
        )
    if glued:
        problems.append(
            Problem(RULE, f"local part {raw} joins a quoted string to other text", offset, end)
        )
    if bad_dot:
        problems.append(Problem(RULE, f"local part {raw} has a misplaced '.'", offset, end))
    if not text.isascii():
        problems.append(
            Problem(
                RULE,
                f"non-ASCII local part {raw}: it needs SMTPUTF8 (RFC 6532), "
                "which Amazon WorkMail and SES do not support",
                offset,
                end,
            )
        )
    return text, problems


class _Parser:
    """One forward pass over the tokens of an address field (RFC 5322 section 3.4)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.tokens, self.problems = tokenize(value, RULE)
        self.n = len(self.tokens)
        self.pos = 0
        self.mailboxes: list[Mailbox] = []
        self.groups: list[str] = []
        self.elements = 0  # non-empty list elements, parsed or not
        self.commas = 0  # top-level commas

    # -- helpers ---------------------------------------------------------

    def kind(self) -> str:
        """Kind of the current token, "" at the end."""
        return self.tokens[self.pos][KIND] if self.pos < self.n else ""

    def report(self, message: str, offset: int, end: int | None = None) -> None:
        self.problems.append(Problem(RULE, message, offset, end))

    def words(self) -> list[Token]:
        """Consume the longest run of atoms, quoted-strings and dots."""
        start = self.pos
        while self.pos < self.n and self.tokens[self.pos][KIND] in _WORD_KINDS:
            self.pos += 1
        return self.tokens[start : self.pos]

    def skip(self, stops: tuple[str, ...]) -> None:
        """Resynchronise after a bad element: skip to the next separator."""
        while self.pos < self.n and self.tokens[self.pos][KIND] not in stops:
            self.pos += 1

    def finish_element(self, ok: bool, stops: tuple[str, ...]) -> None:
        """After an element, expect a separator; report and skip anything else."""
        if self.pos >= self.n or self.kind() in stops:
            return
        if ok:  # otherwise the element already reported why it stopped
            token = self.tokens[self.pos]
            self.report(
                _unexpected(self.value, token, "after the address"), token[START], token[END]
            )
        self.skip(stops)

    def display_name(self, words: list[Token]) -> str | None:
        """``display-name = phrase`` (3.4); obs-phrase (4.1) may hold "." but not first."""
        if not words:
            return None
        if words[0][KIND] == ".":
            self.report("display name starts with '.'", words[0][START], words[0][END])
        return _phrase_text(words)

    # -- grammar ---------------------------------------------------------

    def address_list(self, groups_allowed: bool) -> None:
        """``address-list`` / ``mailbox-list`` (3.4) with the empty elements of 4.4."""
        while self.pos < self.n:
            if self.kind() == ",":
                self.commas += 1
                self.pos += 1
                continue
            self.elements += 1
            ok = self.address(None, groups_allowed)
            self.finish_element(ok, (",",))

    def address(self, group: str | None, groups_allowed: bool) -> bool:
        """``address = mailbox / group`` (3.4).  False when it stopped on an error."""
        words = self.words()
        kind = self.kind()
        if kind == "<":
            return self.angle_addr(self.display_name(words), group)
        if kind == ":":
            if group is not None:
                self.report("a group cannot be nested in a group", self.tokens[self.pos][START])
                return False
            return self.group(words, groups_allowed)
        if kind == "@":
            return self.addr_spec(words, group)
        if words:
            # No "@", no "<": a local part alone (or a display name alone).
            local, _ = _local_part(self.value, words, words[0][START])
            raw = snippet(self.value[words[0][START] : words[-1][END]])
            self.report(f"address {raw} has no '@' and domain", words[0][START], words[-1][END])
            self.mailboxes.append(Mailbox(None, local, "", group))
            return True
        if self.pos < self.n:
            token = self.tokens[self.pos]
            self.report(
                _unexpected(self.value, token, "where an address was expected"),
                token[START],
                token[END],
            )
        return False

    def addr_spec(self, words: list[Token], group: str | None) -> bool:
        """``addr-spec = local-part "@" domain`` (3.4.1), outside angle brackets."""
        at = self.tokens[self.pos]
        local, problems = _local_part(self.value, words, at[START])
        self.pos += 1
        local, domain = self.after_at(local, at, problems)
        if self.kind() == "<":
            # "john@x.com <john@x.com>": what looked like an addr-spec is an
            # unquoted display name; its local-part/domain defects do not apply.
            first = words[0][START] if words else at[START]
            last = self.tokens[self.pos - 1][END]
            self.report("display name contains '@' and must be quoted", first, last)
            name = self.value[first:last]
            return self.angle_addr(name, group)
        self.problems += problems
        self.mailboxes.append(Mailbox(None, local, domain, group))
        return True

    def after_at(self, local: str, at: Token, problems: list[Problem]) -> tuple[str, str]:
        """Read the domain after an "@"; a further "@" ("a@b@c") is reported.

        The best reading of "a@b@c" splits at the last "@", as mail servers do.
        """
        domain = self.domain(at, problems)
        if self.kind() != "@":
            return local, domain
        problems.append(
            Problem(
                RULE,
                "address has more than one '@'",
                self.tokens[self.pos][START],
                self.tokens[self.pos][END],
            )
        )
        pieces = [local, domain]
        last: list[Problem] = []
        while self.kind() == "@":
            at = self.tokens[self.pos]
            self.pos += 1
            if self.kind() == "@":
                pieces.append("")  # "@@": already reported as more than one "@"
                continue
            # Only the last domain's defects are kept: "@" * 100_000 must not
            # yield 100,000 problems.
            last = []
            pieces.append(self.domain(at, last))
        problems += last
        return "@".join(pieces[:-1]), pieces[-1]

    def domain(self, at: Token, problems: list[Problem]) -> str:
        """``domain = dot-atom / domain-literal / obs-domain`` (3.4.1, 4.4)."""
        tokens = self.tokens
        start = self.pos
        parts: list[str] = []
        expect_label = True
        bad_dot = literal = False
        while self.pos < self.n:
            token = tokens[self.pos]
            kind = token[KIND]
            if kind == ".":
                bad_dot |= expect_label
                expect_label = True
            elif expect_label and (kind == "atom" or kind == "literal"):
                expect_label = False
                literal |= kind == "literal"
            else:
                break  # "a@b c": the domain ends at "b"; the caller reports "c"
            parts.append(token[TEXT])
            self.pos += 1
        if self.pos == start:
            problems.append(Problem(RULE, "empty domain after '@'", at[START], at[END]))
            return ""
        text = "".join(parts)
        bad_dot |= expect_label
        mixed = literal and self.pos - start > 1
        if bad_dot or mixed or not text.isascii():
            offset, end = tokens[start][START], tokens[self.pos - 1][END]
            raw = snippet(self.value[offset:end])
            if bad_dot:
                problems.append(Problem(RULE, f"domain {raw} has a misplaced '.'", offset, end))
            if mixed:
                problems.append(
                    Problem(RULE, f"domain {raw} mixes a domain literal with names", offset, end)
                )
            if not text.isascii():
                problems.append(
                    Problem(
                        RULE,
                        f"non-ASCII domain {raw}: an internationalized domain must be "
                        "written in punycode (xn--)",
                        offset,
                        end,
                    )
                )
        return text

    def angle_addr(self, name: str | None, group: str | None) -> bool:
        """``angle-addr`` (3.4) and ``obs-angle-addr`` with an ``obs-route`` (4.4)."""
        lt = self.tokens[self.pos]
        self.pos += 1
        if self.kind() in ("@", ","):
            mark = self.pos
            outcome = self.route()
            if outcome == "bad":
                return False
            if outcome == "addr":
                self.pos = mark  # "<@x.com>" is no route but an empty local part
        words = self.words()
        kind = self.kind()
        if kind == "@":
            at = self.tokens[self.pos]
            local, problems = _local_part(self.value, words, at[START])
            self.pos += 1
            local, domain = self.after_at(local, at, problems)
            self.problems += problems
        elif words:
            local, _ = _local_part(self.value, words, words[0][START])
            domain = ""
            raw = snippet(self.value[words[0][START] : words[-1][END]])
            self.report(f"address {raw} has no '@' and domain", words[0][START], words[-1][END])
        elif kind == ">":
            self.report("no address between '<' and '>'", lt[START], self.tokens[self.pos][END])
            self.pos += 1
            return True
        else:
            self.unclosed_angle(lt)
            return False
        self.mailboxes.append(Mailbox(name, local, domain, group))
        if self.kind() == ">":
            self.pos += 1
            return True
        self.unclosed_angle(lt)
        return False

    def unclosed_angle(self, lt: Token) -> None:
        if self.kind() in ("", ",", ";"):
            self.report("unbalanced angle brackets: '<' is not closed with '>'", lt[START], lt[END])
        else:
            token = self.tokens[self.pos]
            self.report(
                _unexpected(self.value, token, "inside angle brackets"), token[START], token[END]
            )

    def route(self) -> str:
        """``obs-route = obs-domain-list ":"`` (4.4); the route itself is dropped.

        Returns "route" when read, "addr" when it was only "@domain" with no
        ":" (really an addr-spec with an empty local part) and "bad" otherwise.
        """
        start = self.tokens[self.pos][START]
        problems: list[Problem] = []
        ats = commas = 0
        while True:
            kind = self.kind()
            if kind == ",":
                commas += 1
                self.pos += 1
            elif kind == "@":
                at = self.tokens[self.pos]
                ats += 1
                self.pos += 1
                self.domain(at, problems)
            else:
                break
        if ats and kind == ":":
            self.pos += 1
            self.problems += problems
            return "route"
        if ats == 1 and not commas:
            return "addr"
        self.problems += problems
        self.report("malformed source route: expected '@domain' list ending in ':'", start)
        return "bad"

    def group(self, words: list[Token], groups_allowed: bool) -> bool:
        """``group = display-name ":" [group-list] ";" [CFWS]`` (3.4, obs-group-list 4.4)."""
        colon = self.tokens[self.pos]
        name = self.display_name(words)
        if name is None:
            self.report("group has no name before ':'", colon[START], colon[END])
            name = ""
        if not groups_allowed:
            self.report(
                f"group {snippet(name)} is not allowed here: this field takes mailboxes only",
                words[0][START] if words else colon[START],
            )
        self.pos += 1
        self.groups.append(name)
        while True:
            kind = self.kind()
            if kind == "":
                self.report(
                    f"group {snippet(name)} is not closed with ';'", colon[START], colon[END]
                )
                return True
            if kind == ";":
                self.pos += 1
                return True
            if kind == ",":
                self.pos += 1
                continue
            ok = self.address(name, groups_allowed)
            self.finish_element(ok, (",", ";"))

    def result(self) -> AddressList:
        problems = sorted(self.problems, key=lambda p: p.offset)
        return AddressList(tuple(self.mailboxes), tuple(self.groups), tuple(problems))


_FAST_ATOM = rf"[{g.ATEXT_CHARS}]+"
_FAST_DOT_ATOM = g.DOT_ATOM_TEXT
#: One common mailbox and what follows it: ``a@b.c``, ``<a@b.c>``, ``Name Name <a@b.c>``
#: or ``"Name, Name" <a@b.c>`` (ASCII atoms, encoded-words among them, no comments), then a
#: comma or the end.  A list made only of these is read without the tokenizer.
_FAST_MAILBOX: Final = re.compile(
    r"[ \t]*(?:"
    rf"(?:(?P<phrase>{_FAST_ATOM}(?:[ \t]+{_FAST_ATOM})*)[ \t]*"
    r'|"(?P<quoted>[!#-\[\]-~]*(?: [!#-\[\]-~]+)*)"[ \t]*)?'
    rf"<(?P<local>{_FAST_DOT_ATOM})@(?P<domain>{_FAST_DOT_ATOM})>"
    rf"|(?P<bare_local>{_FAST_DOT_ATOM})@(?P<bare_domain>{_FAST_DOT_ATOM})"
    r")[ \t]*(?P<end>,|\Z)"
)
_BLANKS: Final = re.compile(r"[ \t]+")


def _fast(value: str) -> AddressList | None:
    """The mailboxes of a list made only of common mailboxes (:data:`_FAST_MAILBOX`),
    read in one match each; None leaves ``value`` to the full parser."""
    boxes: list[Mailbox] = []
    match = _FAST_MAILBOX.match
    pos, n = 0, len(value)
    while True:
        m = match(value, pos)
        if m is None:
            return None
        local = m.group("local")
        if local is None:
            boxes.append(Mailbox(None, m.group("bare_local"), m.group("bare_domain")))
        else:
            phrase, quoted = m.group("phrase"), m.group("quoted")
            name = _BLANKS.sub(" ", phrase) if phrase is not None else quoted
            boxes.append(Mailbox(name, local, m.group("domain")))
        pos = m.end()
        if not m.group("end"):
            break
        if pos >= n:
            return None  # a trailing comma: the full parser decides what it means
    return AddressList(tuple(boxes), (), ())


def _parse(value: str, *, groups_allowed: bool, allow_empty: bool) -> _Parser:
    parser = _Parser(value)
    parser.address_list(groups_allowed)
    if parser.elements == 0:
        if parser.commas:
            parser.report("list has only commas and no address", 0)
        elif not allow_empty:
            parser.report("value is empty: an address is required", 0)
    return parser


def parse_address_list(value: str, *, allow_empty: bool = False) -> AddressList:
    """Parse an ``address-list`` (RFC 5322 section 3.4; obs-addr-list, 4.4).

    For To, Cc, Bcc and Reply-To: mailboxes and groups.  Only Bcc may be empty
    (section 3.6.3): pass ``allow_empty=True`` for it.
    """
    return _fast(value) or _parse(value, groups_allowed=True, allow_empty=allow_empty).result()


def parse_mailbox_list(value: str) -> AddressList:
    """Parse a ``mailbox-list`` (RFC 5322 section 3.4; obs-mbox-list, 4.4), as in From.

    Groups are not allowed: one is reported, and its members are still returned.
    """
    return _fast(value) or _parse(value, groups_allowed=False, allow_empty=False).result()


def parse_mailbox(value: str) -> AddressList:
    """Parse exactly one ``mailbox`` (RFC 5322 sections 3.4 and 3.6.2), as in Sender."""
    parser = _parse(value, groups_allowed=False, allow_empty=False)
    count = len(parser.mailboxes)
    if count > 1:
        parser.report(f"exactly one mailbox is allowed, found {count}", 0)
    elif parser.elements and not count:
        parser.report("exactly one mailbox is required, found none", 0)
    elif parser.elements and parser.commas:
        parser.report("a single mailbox is expected: unexpected ','", 0)
    return parser.result()
