"""The lexers that ``_tokens`` replaced, kept verbatim as the oracle of the
differential tests in ``test_tokens.py`` (issue 14 section 4): the RFC 5322 lexer of
``_address`` (shared with ``_msgid``, its comment scanner with ``_date``) and the
CFWS and quoted-string scanners of ``_params``.  Only tests import this.
"""

from __future__ import annotations

import re
from typing import Final

from mimeguard._problem import Problem
from mimeguard._rfc2047 import ProblemCollector

# -- _address (and _msgid, _date) ------------------------------------------------------------

#: Comments nest (RFC 5322 section 3.2.2); deeper than this is reported, since
#: no real mail needs it and some parsers recurse on it.
MAX_COMMENT_DEPTH: Final = 64

# Every pattern below is matched at a given position and cannot backtrack (a
# repeated character class, or possessive quantifiers), so each character is
# looked at a bounded number of times.

#: atext (RFC 5322 section 3.2.3) plus UTF8-non-ascii (RFC 6532 section 3.2):
#: anything but controls, space, DEL and specials.
_ATOM_RUN: Final = re.compile(r'[^\x00-\x20\x7f()<>\[\]:;@\\,."]+')
#: qtext and ctext runs: the characters needing no special handling.
_QTEXT_RUN: Final = re.compile(r'[^"\\]+')
_CTEXT_RUN: Final = re.compile(r"[^()\\]+")
#: dtext run; white space is excluded so it can be dropped (it is FWS).
_DTEXT_RUN: Final = re.compile(r"[^\[\]\\ \t\r\n]+")

#: The common tokens in one pattern: white space, an atom, a special that is a
#: token by itself, or a whole quoted-string.  Possessive quantifiers: no
#: backtracking.  Comments (which nest), domain-literals, unclosed quotes and
#: control characters are left to the scanners above.
_LEXEME: Final = re.compile(
    r"(?P<wsp>[ \t\r\n]++)"
    r'|(?P<atom>[^\x00-\x20\x7f()<>\[\]:;@\\,."]++)'
    r"|(?P<special>[<>:;@,.)\]\\])"
    r'|(?P<quoted>"(?:[^"\\]++|\\[\s\S])*+")'
)
_QUOTED_PAIR: Final = re.compile(r"\\([\s\S])")
_WSP: Final = frozenset(" \t\r\n")
#: Tokens that can make up a phrase or a local part (obs-phrase allows ".").
_WORD_KINDS: Final = frozenset({"atom", "quoted", "."})


#: One lexical token of a structured value (RFC 5322 section 3.2):
#: ``(kind, text, start, end, space)``.  ``kind`` is "atom", "quoted",
#: "literal", "other" (a stray control character) or the special character
#: itself ("<", "@", ",", ...); ``text`` is the semantic text (quoted-string
#: content with quoted-pairs undone, a domain-literal without its FWS, else as
#: written); ``space`` is true when white space or a comment came before it.
#: A plain tuple: a NamedTuple costs twice as much to build, and a megabyte
#: value can hold a million tokens.
Token = tuple[str, str, int, int, bool]
KIND: Final = 0
TEXT: Final = 1
START: Final = 2
END: Final = 3
SPACE: Final = 4


def snippet(text: str) -> str:
    """Quote ``text`` for a message, shortened so a huge value cannot bloat it."""
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)


def _run_end(pattern: re.Pattern[str], value: str, i: int) -> int:
    match = pattern.match(value, i)
    return match.end() if match else i + 1


def scan_comment(value: str, start: int, rule: str, problems: list[Problem]) -> int:
    """Skip the ``comment`` (RFC 5322 section 3.2.2) opening at ``value[start]``.

    Returns the index just past it.  Depth is counted in a loop rather than by
    recursion, so 100,000 "(" cost one pass; nesting past
    :data:`MAX_COMMENT_DEPTH` is reported once.
    """
    n = len(value)
    depth = 0
    i = start
    too_deep = False
    while i < n:
        c = value[i]
        if c == "(":
            depth += 1
            if depth > MAX_COMMENT_DEPTH and not too_deep:
                too_deep = True
                problems.append(
                    Problem(rule, f"comments are nested more than {MAX_COMMENT_DEPTH} deep", i)
                )
            i += 1
        elif c == ")":
            depth -= 1
            i += 1
            if depth == 0:
                return i
        elif c == "\\":
            i += 2  # quoted-pair: the next character is literal, even "(" or ")"
        else:
            i = _run_end(_CTEXT_RUN, value, i)
    problems.append(Problem(rule, "unbalanced parentheses: a comment is not closed", start))
    return n


def _scan_quoted(value: str, start: int, rule: str, problems: list[Problem]) -> tuple[str, int]:
    """Read the ``quoted-string`` (RFC 5322 section 3.2.4) opening at ``value[start]``.

    Returns the content with quoted-pairs undone, and the index past the
    closing quote.
    """
    n = len(value)
    parts: list[str] = []
    i = start + 1
    while i < n:
        c = value[i]
        if c == '"':
            return "".join(parts), i + 1
        if c == "\\":
            if i + 1 < n:
                parts.append(value[i + 1])
            i += 2
        else:
            j = _run_end(_QTEXT_RUN, value, i)
            parts.append(value[i:j])
            i = j
    problems.append(Problem(rule, "unbalanced quotes: a quoted string is not closed", start))
    return "".join(parts), n


def _scan_literal(value: str, start: int, rule: str, problems: list[Problem]) -> tuple[str, int]:
    """Read the ``domain-literal`` (RFC 5322 section 3.4.1) opening at ``value[start]``.

    FWS inside is dropped; quoted-pairs (obs-dtext, section 4.4) are kept as
    written.  Returns the literal with its brackets, and the index past it.
    """
    n = len(value)
    parts = ["["]
    i = start + 1
    nested = False
    while i < n:
        c = value[i]
        if c == "]":
            parts.append("]")
            return "".join(parts), i + 1
        if c == "\\":
            parts.append(value[i : i + 2])
            i += 2
        elif c in _WSP:
            i += 1
        elif c == "[":
            if not nested:  # once per literal: "[" * 100_000 must not yield 100,000 problems
                nested = True
                problems.append(Problem(rule, "'[' inside a domain literal", i))
            parts.append(c)
            i += 1
        else:
            j = _run_end(_DTEXT_RUN, value, i)
            parts.append(value[i:j])
            i = j
    problems.append(Problem(rule, "unbalanced brackets: a domain literal is not closed", start))
    return "".join(parts), n


def tokenize(value: str, rule: str) -> tuple[list[Token], list[Problem]]:
    """Cut a structured value into tokens (RFC 5322 sections 3.2.2 to 3.2.5).

    CFWS is dropped and recorded in the ``space`` field of the next token.
    Lexical defects (unclosed quotes, comments or literals, deep comments) are
    returned as problems named ``rule``.
    """
    tokens: list[Token] = []
    append = tokens.append
    problems: list[Problem] = []
    match_at = _LEXEME.match
    n = len(value)
    i = 0
    space = False
    while i < n:
        match = match_at(value, i)
        if match is not None:
            kind = match.lastgroup
            j = match.end()
            if kind == "wsp":
                space = True
                i = j
                continue
            text = match.group()
            if kind == "quoted":
                text = text[1:-1]
                if "\\" in text:
                    text = _QUOTED_PAIR.sub(r"\1", text)
            else:
                kind = text if kind == "special" else "atom"
            append((kind, text, i, j, space))
        else:
            c = value[i]
            if c == "(":
                i = scan_comment(value, i, rule, problems)
                space = True
                continue
            if c == '"':  # not closed: _LEXEME only matches whole quoted-strings
                text, j = _scan_quoted(value, i, rule, problems)
                append(("quoted", text, i, j, space))
            elif c == "[":
                text, j = _scan_literal(value, i, rule, problems)
                append(("literal", text, i, j, space))
            else:  # a control character: valid only inside quotes and comments
                j = i + 1
                append(("other", c, i, j, space))
        space = False
        i = j
    return tokens, problems


# -- _params ---------------------------------------------------------------------------------

_WS_RE = re.compile(r"[ \t\r\n]*+")
_CTEXT_RE = re.compile(r"[^()\\]++")
_QTEXT_RE = re.compile(r'[^"\\]*+')
_CFWS_START = frozenset(" \t\r\n(")


def _skip_comment(value: str, pos: int, sink: ProblemCollector, problem: str) -> int:
    """Skip an RFC 822 comment (nested, with quoted-pairs) starting at ``pos``."""
    start = pos
    depth = 0
    n = len(value)
    while pos < n:
        char = value[pos]
        if char == "(":
            depth += 1
            pos += 1
        elif char == ")":
            depth -= 1
            pos += 1
            if depth == 0:
                return pos
        elif char == "\\":
            pos += 2
        else:
            match = _CTEXT_RE.match(value, pos)
            assert match is not None
            pos = match.end()
    sink.add(problem, "comment is not closed", start)
    return n


def _skip_cfws(value: str, pos: int, sink: ProblemCollector, problem: str) -> int:
    """Skip whitespace and comments (RFC 822 section 3.4.3)."""
    n = len(value)
    if pos >= n or value[pos] not in _CFWS_START:
        return pos  # the usual case, without a regex call
    while True:
        match = _WS_RE.match(value, pos)
        assert match is not None
        pos = match.end()
        if pos < n and value[pos] == "(":
            pos = _skip_comment(value, pos, sink, problem)
        else:
            return pos


def _read_quoted(value: str, pos: int) -> tuple[str, int, bool]:
    """Read a quoted-string at ``pos``: (content unescaped, end, was it closed)."""
    pieces: list[str] = []
    pos += 1
    n = len(value)
    while pos < n:
        match = _QTEXT_RE.match(value, pos)
        assert match is not None
        pieces.append(match.group())
        pos = match.end()
        if pos >= n:
            break
        if value[pos] == '"':
            return "".join(pieces), pos + 1, True
        pieces.append(value[pos + 1 : pos + 2])  # quoted-pair: keep the character
        pos += 2
    return "".join(pieces), n, False


# -- _filenames ------------------------------------------------------------------------------

_FN_CTEXT = re.compile(r"[^()\\]*")


def filenames_skip_comment(value: str, pos: int) -> int:
    """The end of the (nested) comment starting at ``pos`` (RFC 5322 section 3.2.2)."""
    depth = 0
    n = len(value)
    while pos < n:
        c = value[pos]
        if c == "\\":
            pos += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos = _FN_CTEXT.match(value, pos + 1).end()  # type: ignore[union-attr]
    return n
