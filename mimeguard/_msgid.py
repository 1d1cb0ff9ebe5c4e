"""Message identifiers (RFC 5322 section 3.6.4, obsolete forms section 4.5.4).

``msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]`` where id-left is a
dot-atom-text or (obsolete) a local-part, and id-right a dot-atom-text, a
no-fold-literal or (obsolete) a domain.  The obsolete forms allow CFWS around
the dots and the "@" (``<1234   @   local(blah)  .machine .example>`` in
Appendix A.6.3), so that is not reported; two words side by side
(``<a b@c>``) fit no form and are.

The value is cut by ``_tokens`` (the tokenizer every structured field shares) and
read in one pass, so time is
linear in its length.
"""

from __future__ import annotations

import re
from typing import Final

from . import _abnf as g
from ._address import snippet
from ._problem import Problem
from ._tokens import END, KIND, SPACE, START, TEXT, Token, tokenize

__all__ = ["parse_msg_id", "parse_msg_id_list"]

RULE: Final = "invalid-message-id"

#: Tokens that can make up either side of an id, or an (ignored) phrase.
_PARTS: Final = frozenset({"atom", "quoted", "literal", "."})


class _Reader:
    """One forward pass over the tokens of a Message-ID, In-Reply-To or References value."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.tokens, self.problems = tokenize(value, RULE)
        self.n = len(self.tokens)
        self.pos = 0
        self.ids: list[tuple[str, int]] = []  # (id, offset)
        self.stray_lt = -2  # index of the last "<" reported as not closed

    def kind(self) -> str:
        return self.tokens[self.pos][KIND] if self.pos < self.n else ""

    def report(self, message: str, offset: int, end: int | None = None) -> None:
        self.problems.append(Problem(RULE, message, offset, end))

    def parts(self) -> list[Token]:
        start = self.pos
        while self.pos < self.n and self.tokens[self.pos][KIND] in _PARTS:
            self.pos += 1
        return self.tokens[start : self.pos]

    def side(self, parts: list[Token], right: bool) -> tuple[str, str | None]:
        """Text of id-left / id-right (section 3.6.4), and what is wrong with it, if anything.

        CFWS around the dots (obs-id-left, obs-id-right) is dropped;
        quoted-strings and literals are kept as written.
        """
        out: list[str] = []
        expect_word = True
        bad_dot = spaced = glued = False
        for token in parts:
            if token[KIND] == ".":
                bad_dot |= expect_word
                expect_word = True
                out.append(".")
                continue
            if not expect_word:
                if token[SPACE]:
                    spaced = True
                    out.append(" ")
                else:
                    glued = True
            out.append(
                token[TEXT] if token[KIND] == "atom" else self.value[token[START] : token[END]]
            )
            expect_word = False
        text = "".join(out)
        if not parts:
            return text, None
        if spaced:
            return text, "contains spaces"
        if expect_word or bad_dot:
            return text, "has a misplaced '.'"
        if glued:
            return text, "joins a quoted string or literal to other text"
        if right and any(token[KIND] == "quoted" for token in parts):
            return text, "has a quoted string after '@'"
        if not right and any(token[KIND] == "literal" for token in parts):
            return text, "has a domain literal before '@'"
        return text, None

    def msg_id(self, bracketed: bool) -> str | None:
        """``id-left "@" id-right`` (3.6.4), from the current token.

        Reports what is wrong and returns the id as read ("left@right"), or
        None when there is nothing at all.
        """
        first = self.pos
        start = self.tokens[self.pos][START] if self.pos < self.n else len(self.value)
        left = self.parts()
        has_at = self.kind() == "@"
        right: list[Token] = []
        if has_at:
            self.pos += 1
            right = self.parts()
            if self.kind() == "@":
                at = self.tokens[self.pos]
                self.report("message identifier has more than one '@'", at[START], at[END])
                while self.kind() == "@":  # best reading: keep it all on the right
                    right.append(self.tokens[self.pos])
                    self.pos += 1
                    right += self.parts()
        if not left and not right and not has_at:
            return None
        left_text, left_bad = self.side(left, right=False)
        right_text, right_bad = self.side(right, right=True)
        if any(t[KIND] == "@" for t in right):  # already reported
            right_text, right_bad = self.value[right[0][START] : right[-1][END]], None
        text = f"{left_text}@{right_text}" if has_at else left_text
        shown = snippet(text)
        end = self.tokens[self.pos - 1][END] if self.pos > first else start
        if not bracketed:
            self.report(f"message identifier {shown} is not enclosed in angle brackets", start, end)
        if not has_at:
            self.report(f"message identifier {shown} has no '@'", start, end)
        else:
            if not left:
                self.report(f"message identifier {shown} has nothing before '@'", start, end)
            if not right:
                self.report(f"message identifier {shown} has nothing after '@'", start, end)
        for bad in (left_bad, right_bad):
            if bad:
                self.report(f"message identifier {shown} {bad}", start, end)
        if not text.isascii():
            self.report(f"message identifier {shown} contains non-ASCII characters", start, end)
        return text

    def bracketed(self) -> None:
        """``"<" id-left "@" id-right ">"`` (3.6.4), from a "<"."""
        lt = self.tokens[self.pos]
        self.pos += 1
        text = self.msg_id(bracketed=True)
        if self.kind() == ">":
            self.pos += 1
            if text is None:
                gt = self.tokens[self.pos - 1][END]
                self.report("no message identifier between '<' and '>'", lt[START], gt)
        elif text is None and self.kind() == "<":
            # "<<<<": report the run once, not each "<" of it
            if self.stray_lt != self.pos - 2:
                self.report(
                    "unbalanced angle brackets: '<' is not closed with '>'", lt[START], lt[END]
                )
            self.stray_lt = self.pos - 1
        else:
            if self.kind() in ("", "<"):
                self.report(
                    "unbalanced angle brackets: '<' is not closed with '>'", lt[START], lt[END]
                )
            else:
                token = self.tokens[self.pos]
                raw = snippet(self.value[token[START] : token[END]])
                self.report(f"unexpected {raw} inside angle brackets", token[START], token[END])
                # Resynchronise on the next bracket so one bad id hides nothing.
                while self.kind() not in ("", "<", ">"):
                    self.pos += 1
                if self.kind() == ">":
                    self.pos += 1
        if text is not None:
            self.ids.append((text, lt[START]))

    def run(self, phrases_allowed: bool) -> None:
        """Read every msg-id; words outside brackets are phrases (obs, 4.5.4) or bare ids."""
        has_brackets = any(token[KIND] == "<" for token in self.tokens)
        stray = -2  # index of the last stray token reported
        while self.pos < self.n:
            token = self.tokens[self.pos]
            if token[KIND] == "<":
                self.bracketed()
                continue
            mark = self.pos
            words = self.parts()
            if self.kind() == "@" or (words and not phrases_allowed and not has_brackets):
                # "1234@example.com" with no brackets: read it as the id it was meant to be
                self.pos = mark
                text = self.msg_id(bracketed=False)
                if text is not None:
                    self.ids.append((text, token[START]))
                continue
            if words:
                if not phrases_allowed:
                    raw = snippet(self.value[words[0][START] : words[-1][END]])
                    start, end = words[0][START], words[-1][END]
                    self.report(f"unexpected {raw} outside the angle brackets", start, end)
                continue
            if stray != self.pos - 1:  # one report per run: ",,,," is one mistake
                raw = snippet(self.value[token[START] : token[END]])
                span = token[START], token[END]
                if token[KIND] == ">":
                    self.report("unbalanced angle brackets: '>' without '<'", *span)
                elif token[KIND] == ")":
                    self.report("unbalanced parentheses: ')' without '('", *span)
                else:
                    self.report(f"unexpected {raw} between message identifiers", *span)
            stray = self.pos
            self.pos += 1
        if not self.ids and not self.problems:
            if self.n:
                self.report("no message identifier found", 0)
            else:
                self.report("value is empty: a message identifier is required", 0)


_DOT_ATOM = g.DOT_ATOM_TEXT
#: ``<left@right>`` with dot-atoms on both sides, the form nearly every identifier has:
#: matched in one go (:func:`parse_msg_id`, :func:`parse_msg_id_list`)
_SIMPLE_ID = re.compile(rf"[ \t]*<({_DOT_ATOM}@{_DOT_ATOM})>[ \t]*")
_SIMPLE_IDS = re.compile(rf"(?:[ \t]*<{_DOT_ATOM}@{_DOT_ATOM}>)+[ \t]*")


def parse_msg_id(value: str) -> tuple[str | None, list[Problem]]:
    """Parse exactly one ``msg-id`` (RFC 5322 section 3.6.4), as in Message-ID or Content-ID.

    Returns ``"left@right"`` without the brackets and with CFWS dropped, or
    None when no identifier could be read.
    """
    m = _SIMPLE_ID.fullmatch(value)
    if m is not None:
        return m.group(1), []
    reader = _Reader(value)
    reader.run(phrases_allowed=False)
    if len(reader.ids) > 1:
        reader.report(
            f"{len(reader.ids)} message identifiers where exactly one is allowed",
            reader.ids[1][1],
        )
    problems = sorted(reader.problems, key=lambda p: p.offset)
    return (reader.ids[0][0] if reader.ids else None), problems


def parse_msg_id_list(value: str) -> tuple[list[str], list[Problem]]:
    """Parse ``1*msg-id`` (RFC 5322 section 3.6.4), as in In-Reply-To and References.

    Phrases between the identifiers (obs-in-reply-to, obs-references, section
    4.5.4) are allowed and ignored.
    """
    if _SIMPLE_IDS.fullmatch(value) is not None:
        return [m.group(1) for m in _SIMPLE_ID.finditer(value)], []
    reader = _Reader(value)
    reader.run(phrases_allowed=True)
    problems = sorted(reader.problems, key=lambda p: p.offset)
    return [text for text, _ in reader.ids], problems
