"""The lexical tokens of structured header values (RFC 5322 section 3.2), in one place.

Every structured-field reader cuts its value with these scanners: ``_address`` and
``_msgid`` through :func:`tokenize`, ``_date`` through :func:`scan_comment`,
``_params`` (RFC 2045 section 5.1, whose values may hold RFC 822 comments and
quoted-strings between tokens) through :func:`skip_cfws` and :func:`scan_quoted`,
and ``_filenames``' strict reading through :func:`comment_end`.
Offsets are indexes into the value handed in (the unfolded value), so a parser can
give each problem the span of the token it is about.

Each scanner is a loop over runs matched by possessive or single-class patterns, so
every character is looked at a bounded number of times: linear in the length of the
value, however the comments nest or the quotes fail to close.
"""

from __future__ import annotations

from typing import Final

from ._abnf import (
    CFWS_SHALLOW,
    CTEXT_RUN,
    DTEXT_RUN,
    LEXEME,
    QTEXT_RUN,
    QUOTED_PAIR,
    QUOTED_STRING,
    SHALLOW_COMMENT,
)
from ._problem import Problem

__all__ = [
    "END",
    "KIND",
    "MAX_COMMENT_DEPTH",
    "SPACE",
    "START",
    "TEXT",
    "Token",
    "comment_end",
    "scan_comment",
    "scan_quoted",
    "skip_cfws",
    "tokenize",
]

#: Comments nest (RFC 5322 section 3.2.2); deeper than this is reported, since no
#: real mail needs it and some parsers recurse on it.
MAX_COMMENT_DEPTH: Final = 64

#: One lexical token: ``(kind, text, start, end, space)``.  ``kind`` is "atom",
#: "quoted", "literal", "other" (a stray control character) or the special character
#: itself ("<", "@", ",", ...); ``text`` is the semantic text (quoted-string content
#: with quoted-pairs undone, a domain-literal without its FWS, else as written);
#: ``start``/``end`` are its span in the value; ``space`` is true when white space or
#: a comment came before it.  A plain tuple, not a record: a NamedTuple costs twice as
#: much to build, and a megabyte value can hold a million tokens.
Token = tuple[str, str, int, int, bool]
KIND: Final = 0
TEXT: Final = 1
START: Final = 2
END: Final = 3
SPACE: Final = 4

_WSP: Final = frozenset(" \t\r\n")
_CFWS_START: Final = frozenset(" \t\r\n(")


def comment_end(value: str, start: int) -> tuple[int, bool, int]:
    """Scan the ``comment`` (RFC 5322 section 3.2.2) opening at ``value[start]``.

    ``comment = "(" *([FWS] ccontent) [FWS] ")"``, ``ccontent = ctext / quoted-pair /
    comment``.  Returns the index just past it (``len(value)`` when it is not closed),
    whether it was closed, and the index of the first "(" nested deeper than
    :data:`MAX_COMMENT_DEPTH` (-1 if none).
    """
    m = SHALLOW_COMMENT.match(value, start)
    if m is not None:  # the usual comment, in one match
        return m.end(), True, -1
    return _deep_comment_end(value, start)


def _deep_comment_end(value: str, start: int) -> tuple[int, bool, int]:
    """:func:`comment_end` of a comment that is not shallow (or not closed).

    Depth is counted in a loop rather than by recursion, so 100,000 "(" cost one pass;
    each shallow comment inside is skipped in one match while it cannot pass the
    depth limit.  A failed match stops at the next unescaped "(" past its first two,
    so no character is scanned more than a few times.
    """
    shallow = SHALLOW_COMMENT.match
    n = len(value)
    depth = 1
    i = start + 1
    deep = -1
    ctext = CTEXT_RUN.match
    while i < n:
        c = value[i]
        if c == "(":
            if depth + 2 <= MAX_COMMENT_DEPTH and (m := shallow(value, i)) is not None:
                i = m.end()  # a comment inside, at most two deep: not too deep
                continue
            depth += 1
            if depth > MAX_COMMENT_DEPTH and deep < 0:
                deep = i
            i += 1
        elif c == ")":
            depth -= 1
            i += 1
            if depth == 0:
                return i, True, deep
        elif c == "\\":
            i += 2  # quoted-pair: the next character is literal, even "(" or ")"
        else:
            m = ctext(value, i)
            i = m.end() if m else i + 1
    return n, False, deep


def scan_comment(value: str, start: int, rule: str, problems: list[Problem]) -> int:
    """Skip the comment opening at ``value[start]`` (:func:`comment_end`), reporting
    nesting past :data:`MAX_COMMENT_DEPTH` once and a comment left open, as ``rule``.
    """
    end, closed, deep = comment_end(value, start)
    if deep >= 0:
        message = f"comments are nested more than {MAX_COMMENT_DEPTH} deep"
        problems.append(Problem(rule, message, deep, deep + 1))
    if not closed:
        message = "unbalanced parentheses: a comment is not closed"
        problems.append(Problem(rule, message, start, end))
    return end


def skip_cfws(value: str, pos: int) -> tuple[int, int]:
    """Skip ``CFWS`` (RFC 5322 section 3.2.2; RFC 822 section 3.4.3 for RFC 2045 values)
    at ``pos``: the index past it, and where a comment that is not closed opened (-1
    if none; it runs to the end, so there is at most one).  Nesting depth is not
    judged here (:func:`comment_end` reports it to a reader that does).
    """
    n = len(value)
    if pos >= n or value[pos] not in _CFWS_START:
        return pos, -1  # the usual case, without a regex call
    match = CFWS_SHALLOW.match
    while True:
        m = match(value, pos)
        assert m is not None  # a possessive "*" always matches
        pos = m.end()
        if pos >= n or value[pos] != "(":
            return pos, -1
        # a comment nested deeper than the pattern reads, or one not closed
        end, closed, _deep = _deep_comment_end(value, pos)
        if not closed:
            return end, pos
        pos = end


def scan_quoted(value: str, start: int) -> tuple[str, int, bool]:
    """Read the ``quoted-string`` (RFC 5322 section 3.2.4) opening at ``value[start]``.

    Returns its content with quoted-pairs undone, the index past the closing quote
    (``len(value)`` when it is not closed) and whether it was closed.
    """
    m = QUOTED_STRING.match(value, start)
    if m is not None:
        text = m.group()[1:-1]
        return (QUOTED_PAIR.sub(r"\1", text) if "\\" in text else text), m.end(), True
    n = len(value)
    parts: list[str] = []
    i = start + 1
    match = QTEXT_RUN.match
    while i < n:
        c = value[i]
        if c == "\\":
            if i + 1 < n:
                parts.append(value[i + 1])
            i += 2
        else:  # not '"': the pattern above would have matched a closed string
            m = match(value, i)
            j = m.end() if m else i + 1
            parts.append(value[i:j])
            i = j
    return "".join(parts), n, False


def _scan_literal(value: str, start: int, rule: str, problems: list[Problem]) -> tuple[str, int]:
    """Read the ``domain-literal`` (RFC 5322 section 3.4.1) opening at ``value[start]``.

    ``domain-literal = [CFWS] "[" *([FWS] dtext) [FWS] "]" [CFWS]``: FWS inside is
    dropped; quoted-pairs (obs-dtext, section 4.4) are kept as written.  Returns the
    literal with its brackets, and the index past it.
    """
    n = len(value)
    parts = ["["]
    i = start + 1
    nested = False
    match = DTEXT_RUN.match
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
                problems.append(Problem(rule, "'[' inside a domain literal", i, i + 1))
            parts.append(c)
            i += 1
        else:
            m = match(value, i)
            j = m.end() if m else i + 1
            parts.append(value[i:j])
            i = j
    problems.append(Problem(rule, "unbalanced brackets: a domain literal is not closed", start, n))
    return "".join(parts), n


def tokenize(value: str, rule: str) -> tuple[list[Token], list[Problem]]:
    """Cut a structured value into tokens (RFC 5322 sections 3.2.2 to 3.2.5, 3.4.1).

    CFWS is dropped and recorded in the ``space`` field of the next token.  Lexical
    defects (unclosed quotes, comments or literals, deep comments) are returned as
    problems named ``rule``, each with the span of what it is about.
    """
    tokens: list[Token] = []
    append = tokens.append
    problems: list[Problem] = []
    match_at = LEXEME.match
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
                    text = QUOTED_PAIR.sub(r"\1", text)
            else:
                kind = text if kind == "special" else "atom"
            append((kind, text, i, j, space))
        else:
            c = value[i]
            if c == "(":
                i = scan_comment(value, i, rule, problems)
                space = True
                continue
            if c == '"':  # not closed: LEXEME only matches whole quoted-strings
                text, j, _closed = scan_quoted(value, i)
                problems.append(
                    Problem(rule, "unbalanced quotes: a quoted string is not closed", i, j)
                )
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
