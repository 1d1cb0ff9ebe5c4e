"""The grammar of a message in one place: every pattern and limit, compiled once.

Each rule quotes the ABNF it implements and its RFC section, and says where it
deliberately reads more than the RFC allows (real mail does).  Character classes
are kept as the *contents* of a class (``..._CHARS``) so that a pattern built
elsewhere composes them instead of spelling them again;
``tests/test_architecture.py`` fails when a module outside this one writes one of
them, a pattern of this module, a line-ending alternation or the 998 and 78 limits
itself.

Patterns over the message buffer run with ``pos``/``endpos`` (no slice is copied)
and cannot backtrack more than a constant amount per byte.  Structured header
values are cut into lexical tokens by ``_tokens`` (for ``_address``, ``_msgid``,
``_date``, ``_params`` and ``_filenames``) with the patterns of section 3.2 below.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "ATEXT_CHARS",
    "ATOM_RUN",
    "ATTRIBUTE_CHARS",
    "BARE_CR",
    "BARE_LF",
    "BASE64_BAD_CHAR",
    "BCHARS_NOSPACE",
    "BLANK_LINE",
    "BOUNDARY_OK",
    "CFWS_SHALLOW",
    "CTEXT_RUN",
    "DELIMITER_LIKE",
    "DELIMITER_TAIL",
    "DOT_ATOM_TEXT",
    "DTEXT_RUN",
    "EIGHT_BIT",
    "ENCODED_WORD",
    "ENCODED_WORD_8BIT",
    "ENCODED_WORD_LENIENT",
    "EOL",
    "EOL_TEXT",
    "EXT_NAME",
    "FIELD",
    "FTEXT_CHARS",
    "HEADER_NAME_OK",
    "LEXEME",
    "LINE",
    "MAX_ENCODED_LINE",
    "MAX_LINE_CHARS",
    "MAX_LINE_OCTETS",
    "NUL",
    "QP_BAD_ESCAPE",
    "QTEXT_RUN",
    "QUOTED_PAIR",
    "QUOTED_STRING",
    "SHALLOW_COMMENT",
    "SPECIALS_CHARS",
    "TOKEN",
    "TOKEN_CHARS",
    "boundary_delimiter",
]

# ---------------------------------------------------------------------------
# RFC 5322 section 2.1.1: line length limits
# ---------------------------------------------------------------------------

#: "Each line of characters MUST be no more than 998 characters, and SHOULD be no
#: more than 78 characters, excluding the CRLF."  The hard limit, in octets.
MAX_LINE_OCTETS: Final = 998
#: The SHOULD of the same sentence: the width lines are folded or encoded to.
MAX_LINE_CHARS: Final = 78
#: RFC 2045 section 6.7 rule (5): "The Quoted-Printable encoding REQUIRES that
#: encoded lines be no more than 76 characters long"; section 6.8 says the same of
#: base64.  CRLF excluded.
MAX_ENCODED_LINE: Final = 76

# ---------------------------------------------------------------------------
# RFC 5322 section 2.1 and 2.2.3: lines and line endings
# ---------------------------------------------------------------------------

# CRLF = %d13.10 (RFC 5234 appendix B.1).  Only CRLF is allowed, but real mail
# has all three, and like the stdlib we end a line at each, so that a bare CR
# cannot hide a header.  CRLF comes first so it is never read as CR, then LF.
_EOL: Final = r"\r\n|\n|\r"

#: Any line terminator, used to unfold header values (section 2.2.3) and to split
#: or normalise lines.
EOL: Final[re.Pattern[bytes]] = re.compile(_EOL.encode("ascii"))
#: :data:`EOL` over text (values already decoded).
EOL_TEXT: Final[re.Pattern[str]] = re.compile(_EOL)
#: A lone surrogate in text read with ``surrogateescape``: an undecodable byte, no
#: character (Unicode section 3.9), so no charset can write it.  (The escape is read
#: by ``re``: a surrogate literal in the source is something mypyc cannot compile.)
SURROGATE: Final[re.Pattern[str]] = re.compile(r"[\ud800-\udfff]")

#: One physical line: content, then CRLF, LF or a lone CR.  At end of input the
#: terminator is empty.
LINE: Final = re.compile(rb"[^\r\n]*(?:" + EOL.pattern + rb"|)")

#: An empty line: two terminators in a row.  ``\r(?!\n)`` keeps CRLF from being
#: read as CR followed by an LF "line".
BLANK_LINE: Final = re.compile(rb"(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))")

#: A CR not followed by LF, and an LF not preceded by CR (section 2.3: "CR and LF
#: MUST only occur together as CRLF").
BARE_CR: Final = re.compile(rb"\r(?!\n)")
BARE_LF: Final = re.compile(rb"\n(?<!\r\n)")  # literal first: sre jumps from LF to LF

NUL: Final = re.compile(rb"\x00")
EIGHT_BIT: Final = re.compile(rb"[\x80-\xff]")

# ---------------------------------------------------------------------------
# RFC 5322 section 3.6.8 and 2.2: header fields
# ---------------------------------------------------------------------------

#: ``ftext = %d33-57 / %d59-126`` (printable US-ASCII except ":").
FTEXT_CHARS: Final = r"\x21-\x39\x3b-\x7e"
#: ``field-name = 1*ftext``.
HEADER_NAME_OK: Final = re.compile(rf"[{FTEXT_CHARS}]+".encode("ascii"))

#: A well-formed field in one match: ``field-name ":" unstructured CRLF`` with its
#: continuation lines (section 2.2.3, folding: a line starting with WSP), each line
#: ended like :data:`LINE` ends it.  Group 1 is the name.  The continuation lines are a
#: possessive run (nothing follows them, so the match is the same): re then keeps no
#: backtracking state per line, which was 3x a 64 KB window of folded lines.
FIELD: Final = re.compile(
    rb"([%b]+):%b(?:[ \t]%b)*+" % (FTEXT_CHARS.encode("ascii"), LINE.pattern, LINE.pattern)
)

# ---------------------------------------------------------------------------
# RFC 5322 section 3.2.3 and 3.6.4: atoms and message identifiers
# ---------------------------------------------------------------------------

#: ``atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
#: "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"`` (ASCII only; RFC 6532
#: adds UTF8-non-ascii, which ``_tokens`` reads and the parsers report).
ATEXT_CHARS: Final = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
#: ``dot-atom-text = 1*atext *("." 1*atext)``, also ``id-left`` / ``id-right`` of
#: ``msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]`` in its common form.
DOT_ATOM_TEXT: Final = rf"[{ATEXT_CHARS}]+(?:\.[{ATEXT_CHARS}]+)*"

# ---------------------------------------------------------------------------
# RFC 5322 section 3.2: the lexical tokens of structured values (read by _tokens)
# ---------------------------------------------------------------------------

#: Section 3.2.3: ``specials = "(" / ")" / "<" / ">" / "[" / "]" / ":" / ";" / "@" /
#: "\" / "," / "." / DQUOTE`` (as the contents of a character class).
SPECIALS_CHARS: Final = r'()<>\[\]:;@\\,."'
#: ``atom = [CFWS] 1*atext [CFWS]``: a run of anything but controls, space, DEL and
#: specials, which is :data:`ATEXT_CHARS` plus RFC 6532's UTF8-non-ascii.
ATOM_RUN: Final = re.compile(rf"[^\x00-\x20\x7f{SPECIALS_CHARS}]+")
#: Section 3.2.2: ``ctext = %d33-39 / %d42-91 / %d93-126 / obs-ctext``, read as a run
#: of anything but the parentheses and the backslash (FWS and 8-bit text are kept).
CTEXT_RUN: Final = re.compile(r"[^()\\]+")
#: Section 3.2.4: ``qtext = %d33 / %d35-91 / %d93-126 / obs-qtext``, read the same way.
QTEXT_RUN: Final = re.compile(r'[^"\\]+')
#: Section 3.4.1: ``dtext = %d33-90 / %d94-126 / obs-dtext``; white space is left out
#: of the run so that it can be dropped (it is FWS).
DTEXT_RUN: Final = re.compile(r"[^\[\]\\ \t\r\n]+")
#: Section 3.2.1: ``quoted-pair = ("\" (VCHAR / WSP)) / obs-qp`` -- any character
#: (obs-qp allows controls too); group 1 is the character.
QUOTED_PAIR: Final = re.compile(r"\\([\s\S])")
_QUOTED_STRING: Final = r'"(?:[^"\\]++|\\[\s\S])*+"'
_FLAT_COMMENT: Final = r"\((?:[^()\\]++|\\[\s\S])*+\)"
_SHALLOW_COMMENT: Final = rf"\((?:[^()\\]++|\\[\s\S]|{_FLAT_COMMENT})*+\)"
#: Section 3.2.2: a ``comment`` nested at most two deep (comments inside it have none
#: inside them), in one match; a deeper one is left to ``_tokens``' scanner, which
#: counts the depth.  The alternatives start with different characters and the
#: repeats are possessive: nothing backtracks.
SHALLOW_COMMENT: Final = re.compile(_SHALLOW_COMMENT)
#: Section 3.2.4: ``quoted-string = [CFWS] DQUOTE *([FWS] qcontent) [FWS] DQUOTE
#: [CFWS]``, a closed one in one match (possessive: no backtracking).
QUOTED_STRING: Final = re.compile(_QUOTED_STRING)
#: Section 3.2.2: ``FWS = ([*WSP CRLF] 1*WSP) / obs-FWS``, once unfolded; CR and LF
#: are in the class because a value may still hold stray ones.
_FWS: Final = r"[ \t\r\n]"
#: ``CFWS = (1*([FWS] comment) [FWS]) / FWS`` when its comments are shallow, in one
#: match (possessive, so a deeper or unclosed comment stops it where it starts).
CFWS_SHALLOW: Final = re.compile(rf"(?:{_FWS}++|{_SHALLOW_COMMENT})*+")
#: The common tokens in one pattern: FWS; an atom; a special that is a token by
#: itself (the ones that open a comment, a domain-literal or a quoted-string are read
#: by ``_tokens``' scanners); or a whole quoted-string.
LEXEME: Final = re.compile(
    rf"(?P<wsp>{_FWS}++)"
    rf"|(?P<atom>[^\x00-\x20\x7f{SPECIALS_CHARS}]++)"
    r"|(?P<special>[<>:;@,.)\]\\])"
    rf"|(?P<quoted>{_QUOTED_STRING})"
)

# ---------------------------------------------------------------------------
# RFC 2045: tokens, quoted-printable, base64
# ---------------------------------------------------------------------------

#: Section 5.1: ``token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>``
#: with ``tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" / <">
#: / "/" / "[" / "]" / "?" / "="``.
TOKEN_CHARS: Final = r"!#$%&'*+\-.0-9A-Z^_`a-z{|}~"
TOKEN: Final = re.compile(rf"[{TOKEN_CHARS}]++")

#: Section 6.7 rule (1): "=" must be followed by two hex digits, or end a line as a
#: soft line break (trailing whitespace before it is tolerated, rule 3).  Lower-case
#: hex is accepted (decoders do) and not reported.
QP_BAD_ESCAPE: Final = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:" + EOL.pattern + rb"|\Z))")

#: Section 6.8: the base64 alphabet, padding and whitespace.
BASE64_BAD_CHAR: Final = re.compile(rb"[^A-Za-z0-9+/=\s]")

# ---------------------------------------------------------------------------
# RFC 2046 section 5.1.1: boundaries and delimiter lines
# ---------------------------------------------------------------------------

#: ``bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "."
#: / "/" / ":" / "=" / "?"``; ``bchars := bcharsnospace / " "``.
BCHARS_NOSPACE: Final = r"0-9A-Za-z'()+_,\-./:=?"
#: ``boundary := 0*69<bchars> bcharsnospace``.
BOUNDARY_OK: Final = re.compile(rf"[{BCHARS_NOSPACE} ]{{0,69}}[{BCHARS_NOSPACE}]")

#: What may follow ``dash-boundary`` on a delimiter line: ``--`` for the close
#: delimiter (group 1), ``transport-padding := *LWSP-char``, then the line break.
#: Like CPython's feedparser nothing else may follow on the line.
_DELIMITER_TAIL: Final = rb"(--)?[ \t]*(?=[\r\n]|\Z)"
DELIMITER_TAIL: Final = re.compile(_DELIMITER_TAIL)

#: A line that looks like a delimiter of some boundary: ``"--"`` and 1 to 70 bchars
#: (without space) after a line feed (group 1, the boundary).  It starts with its
#: literal, so sre jumps from line feed to line feed, and the bounded repeat cannot
#: backtrack far.  Use with ``re.M`` semantics (compiled so).
DELIMITER_LIKE: Final = re.compile(
    rb"\n--([" + BCHARS_NOSPACE.encode("ascii") + rb"]{1,70})[ \t]*\r?$", re.M
)


def boundary_delimiter(boundary: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns for the delimiter lines of ``boundary`` (RFC 2046 section 5.1.1).

    ``dash-boundary = "--" boundary``; then :data:`DELIMITER_TAIL`.  The first
    pattern matches a delimiter at the very start of a body; the second one after
    a line feed, which it includes (a literal prefix the regex engine scans for
    quickly), up to but not including the line break that ends the delimiter
    line.  Group 1 is the ``--`` of a close delimiter.
    """
    tail = re.escape(boundary) + _DELIMITER_TAIL
    return re.compile(rb"--" + tail), re.compile(rb"\n--" + tail)


# ---------------------------------------------------------------------------
# RFC 2047 section 2: encoded-words
# ---------------------------------------------------------------------------

# ``encoded-word = "=?" charset "?" encoding "?" encoded-text "?="``, ``encoding =
# token`` ("B" or "Q", section 4).  charset is read as printable ASCII except "?"
# and "=" (section 2 would exclude every especial); encoded-text as printable ASCII
# except "?", plus the space and tab that broken senders leave in.  Neither part can
# hold "=?", so a failed attempt never scans past the next candidate word by more
# than a character, and possessive quantifiers stop backtracking: together that
# keeps decoding linear.
_WORD_HEAD: Final = r"=\?([!-<>@-~]++)\?([BbQq])\?"
#: An encoded-word (groups: charset, encoding, encoded-text).
ENCODED_WORD: Final = re.compile(_WORD_HEAD + r"([ \t!->@-~]*+)\?=")
#: The same over a header read byte for byte (Latin-1): a raw 8-bit byte inside a
#: word's text is kept and decoded with the word's charset, as the stdlib and
#: clients do.
ENCODED_WORD_8BIT: Final = re.compile(_WORD_HEAD + r"([ \t!->@-~\x80-\xff]*+)\?=")
#: An encoded-word as mail clients find one in a file name (RFC 2047 section 5
#: forbids words there; every major client decodes them): glued to text, any
#: charset without "?" or white space up to 64 characters, any text up to "?=".  The
#: text holds no "?" (section 4.2 rule 3; B has none), so a failed attempt stops at
#: the next "?" and finding words is linear.
ENCODED_WORD_LENIENT: Final = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?]*)\?=")

# ---------------------------------------------------------------------------
# RFC 2231: parameter value continuations and charsets
# ---------------------------------------------------------------------------

#: Sections 3 and 4: ``name*``, ``name*N`` and ``name*N*`` (groups: base, section
#: number, the "*" of an encoded section).  Section numbers past nine digits are
#: nonsense and would only make int() slow.
EXT_NAME: Final = re.compile(r"([^*]++)\*(?:([0-9]{1,9})(\*)?)?")

#: Section 7: ``attribute-char := <any (US-ASCII) CHAR except SPACE, CTLs, "*",
#: "'", "%", or tspecials>``: the characters an encoded value leaves as they are.
ATTRIBUTE_CHARS: Final = frozenset(
    "!#$&+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
