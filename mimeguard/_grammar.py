"""The byte-level grammar of a message, compiled once.

Every pattern here runs over the whole message buffer with ``pos``/``endpos``
(so no slice is copied) and is written so the regex engine cannot backtrack
more than a constant amount per byte.  Header *values* have their own parsers
(``_params``, ``_rfc2047``, ``_address``, ``_date``, ``_msgid``).
"""

from __future__ import annotations

import re

__all__ = [
    "BARE_CR",
    "BARE_LF",
    "BASE64_BAD_CHAR",
    "BLANK_LINE",
    "BOUNDARY_OK",
    "EIGHT_BIT",
    "EOL",
    "HEADER_NAME_OK",
    "LINE",
    "NUL",
    "QP_BAD_ESCAPE",
    "boundary_delimiter",
]

#: One physical line: content, then CRLF, LF or a lone CR (RFC 5322 section 2.1
#: says only CRLF; real mail has all three, and like the stdlib we split on each
#: so a bare CR cannot hide a header).  At end of input the terminator is empty.
LINE = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r|)")

#: Any line terminator, used to unfold header values (RFC 5322 section 2.2.3).
EOL = re.compile(rb"\r\n|\n|\r")

#: An empty line: two terminators in a row.  ``\r(?!\n)`` keeps CRLF from being
#: read as CR followed by an LF "line".
BLANK_LINE = re.compile(rb"(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))")

#: RFC 5322 section 3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126.
HEADER_NAME_OK = re.compile(rb"[\x21-\x39\x3b-\x7e]+")

#: A CR not followed by LF, and an LF not preceded by CR (RFC 5322 section 2.3).
BARE_CR = re.compile(rb"\r(?!\n)")
BARE_LF = re.compile(rb"\n(?<!\r\n)")  # literal first: sre jumps from LF to LF

NUL = re.compile(rb"\x00")
EIGHT_BIT = re.compile(rb"[\x80-\xff]")

#: RFC 2045 section 6.7 rule (1): "=" must be followed by two hex digits, or end
#: a line as a soft line break (trailing whitespace before it is tolerated, rule 3).
#: Lower-case hex is accepted (decoders do) and not reported.
QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r\n|\n|\r|\Z))")

#: RFC 2045 section 6.8: the base64 alphabet, padding and whitespace.
BASE64_BAD_CHAR = re.compile(rb"[^A-Za-z0-9+/=\s]")

#: RFC 2046 section 5.1.1: bchars and the 1–70 length, last character not a space.
BOUNDARY_OK = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def boundary_delimiter(boundary: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns for the delimiter lines of ``boundary`` (RFC 2046 section 5.1.1).

    ``dash-boundary = "--" boundary``; a close delimiter adds ``--``; transport
    padding (spaces and tabs) may follow.  Like CPython's feedparser nothing else
    may follow on the line.  The first pattern matches a delimiter at the very
    start of a body; the second one after a line feed, which it includes (a
    literal prefix the regex engine scans for quickly), up to but not including
    the line break that ends the delimiter line.  Group 1 is the ``--`` of a
    close delimiter.
    """
    tail = re.escape(boundary) + rb"(--)?[ \t]*(?=[\r\n]|\Z)"
    return re.compile(rb"--" + tail), re.compile(rb"\n--" + tail)
