"""``rewrite_subject``: a prefix or suffix on the Subject, folded and encoded (RFC 5322
section 3.6.5, RFC 2047)."""

from __future__ import annotations

import re

from ._abnf import MAX_LINE_CHARS, MAX_LINE_OCTETS
from ._problem import Problem
from ._results import Change
from ._rfc2047 import STREAM_FROM, decode_words, words_text
from ._scan import first_line_over
from ._session import _Session
from ._writer import field_value, header_line

_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|aw|sv|vs|wg)\s*(?:\[\d+\])?\s*:)+", re.IGNORECASE)

#: a prefix that stays plain text when written before the field: printable ASCII words
#: and single spaces, ending in a space (RFC 5322 section 3.2.5), with no ``=?``
_PLAIN_PREFIX = re.compile(r"(?:[!-~]+ )+")
#: the bytes a field may hold to be carried over unchanged: printable ASCII and
#: whitespace (RFC 5322 section 2.2), line breaks checked apart
_FIELD_TEXT = bytes(range(0x20, 0x7F)) + b"\t\r\n"
#: a fold followed by a line of nothing but whitespace (RFC 5322 section 3.2.2, obsolete)
_BLANK_FOLD = re.compile(rb"\n[ \t]*+\r\n")
#: fields shorter than this are encoded afresh: that costs microseconds and folds them
#: as every other written field is folded
_SPLICE_FROM = 4096


#: the one character whose lower case depends on its neighbours (final sigma)
_SIGMA = "\u03a3"


def _starts(text: str, head: str) -> bool:
    """``text.lower().lstrip().startswith(head)``, lowering only as much of ``text`` as
    ``head`` can cover (a character lowers to one or more): a subject of megabytes is
    not copied to compare a few characters."""
    text = text.lstrip()
    start = text[: len(head)]
    if _SIGMA in start:
        start = text
    return start.lower().startswith(head)


def _ends(text: str, tail: str) -> bool:
    """``text.lower().rstrip().endswith(tail)``, as :func:`_starts` does it."""
    text = text.rstrip()
    end = text[max(0, len(text) - len(tail)) :] if tail else ""
    if _SIGMA in end:
        end = text
    return end.lower().endswith(tail)


def _prefixed(line: bytes, prefix: str) -> bytes | None:
    """The Subject field ``line`` with ``prefix`` written before its value as it is, or
    ``None`` when the field must be encoded afresh (:func:`header_line`).

    For a field of megabytes (a million encoded-words) this is one copy instead of a
    decode and an encode of every word (issue 16). It is the same text: a decoder reads
    the plain prefix and then, after its space, the words as before (RFC 2047 section
    6.2: only whitespace between two encoded-words is dropped). So the caller asks it
    only for a value that decoded without a problem (every word valid, RFC 2047 section
    2), and it declines a prefix that is not plain text, a field with other bytes than
    printable ASCII and whitespace, line breaks other than CRLF folds, a blank
    continuation line, or a result with a line over 998 octets (RFC 5322 section
    2.1.1). The first line is kept within 78 characters when the prefix allows it.
    """
    if len(line) < _SPLICE_FROM or not _PLAIN_PREFIX.fullmatch(prefix) or "=?" in prefix:
        return None
    if line.translate(None, _FIELD_TEXT) or _BLANK_FOLD.search(line):
        return None
    lf = line.count(b"\n")
    if not lf == line.count(b"\r") == line.count(b"\r\n") or not line.endswith(b"\r\n"):
        return None
    # the value is read where it lies: the result is the one copy of it
    start = line.index(b":") + 1
    while line[start : start + 1] in (b" ", b"\t", b"\r", b"\n"):
        start += 1
    head = b"Subject: " + prefix.encode("ascii")
    first = line.find(b"\r\n", start) - start
    if len(head) + first > MAX_LINE_CHARS:
        if len(head) > MAX_LINE_CHARS:
            return None
        # fold at the prefix's last space: the line break goes, the space stays
        head = head[:-1] + b"\r\n "
    out = b"".join((head, memoryview(line)[start:]))
    return None if first_line_over(out, 0, len(out), MAX_LINE_OCTETS) >= 0 else out


def _read(line: bytes) -> tuple[str, list[Problem]]:
    """``decode_words`` of the value of the field ``line`` (``root.get_value``); a field
    of megabytes read a window at a time when it decodes without a problem."""
    start = line.find(b":") + 1
    if len(line) >= STREAM_FROM:
        text = words_text(line, start, len(line))
        if text is not None:
            return text, []
    return decode_words(field_value(line))


def _apply_subject(
    session: _Session,
    changes: list[Change],
    *,
    prefix: str,
    suffix: str,
    replace: str | None,
) -> None:
    # read from the tree's root: it holds what an earlier edit wrote (or the wrapper
    # an earlier disclaimer put around the message, which took over its fields)
    root = session.root
    fields = [line for name, line in root.fields() if name == "subject"]
    line, count = (fields[0] if fields else None), len(fields)
    del fields  # a field of megabytes is held once, and let go before the new one is set
    current, problems = _read(line) if line is not None else ("", [])
    new = current if replace is None else replace
    if prefix:
        head = prefix.strip().lower()
        if not (_starts(new, head) or _starts(_REPLY_PREFIX.sub("", new, count=1), head)):
            new = prefix + new
    if suffix and not _ends(new, suffix.strip().lower()):
        new = new + suffix
    new = new.strip()
    if new == current and count == 1:
        return
    spliced = None
    if replace is None and not problems and line is not None and new == prefix + current:
        spliced = _prefixed(line, prefix)
    del line
    root.set_header("Subject", spliced or header_line("Subject", new), first_only=False)
    changes.append(Change("subject", "", f"{current!r} -> {new!r}"))
