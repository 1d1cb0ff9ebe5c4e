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
from ._writer import HeaderLine, Spliced, field_value, header_line
from .message import HeaderField

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
#: bytes a long field is checked in at a time
_WINDOW = 1 << 16
_WSP_EOL = frozenset(b" \t\r\n")


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


def _prefixed(buf: bytes, start: int, end: int, prefix: str) -> Spliced | None:
    """The Subject field ``buf[start:end]`` with ``prefix`` written before its value as
    it is, or ``None`` when the field must be encoded afresh (:func:`header_line`).

    For a field of megabytes (a million encoded-words) this is one copy instead of a
    decode and an encode of every word (issue 16). It is the same text: a decoder reads
    the plain prefix and then, after its space, the words as before (RFC 2047 section
    6.2: only whitespace between two encoded-words is dropped). So the caller asks it
    only for a value that decoded without a problem (every word valid, RFC 2047 section
    2), and it declines a prefix that is not plain text, a field with other bytes than
    printable ASCII and whitespace, line breaks other than CRLF folds, a blank
    continuation line, or a result with a line over 998 octets (RFC 5322 section
    2.1.1). The first line is kept within 78 characters when the prefix allows it.
    The field is read where it lies and the result is a :class:`Spliced` line, the
    prefixed head and a view of the value: the output is the one copy of it.
    """
    if end - start < _SPLICE_FROM or not _PLAIN_PREFIX.fullmatch(prefix) or "=?" in prefix:
        return None
    if not _only(buf, start, end, _FIELD_TEXT) or _BLANK_FOLD.search(buf, start, end):
        return None
    lf = buf.count(b"\n", start, end)
    crlf = buf.count(b"\r\n", start, end)
    if not lf == buf.count(b"\r", start, end) == crlf or not buf.endswith(b"\r\n", start, end):
        return None
    value = buf.index(b":", start, end) + 1
    while value < end and buf[value] in _WSP_EOL:
        value += 1
    head = b"Subject: " + prefix.encode("ascii")
    first = buf.find(b"\r\n", value, end) - value
    if len(head) + first > MAX_LINE_CHARS:
        if len(head) > MAX_LINE_CHARS:
            return None
        # fold at the prefix's last space: the line break goes, the space stays
        head = head[:-1] + b"\r\n "
    # the lines are the value's, the first with the head's last line before it
    if len(head) - (head.rfind(b"\n") + 1) + first > MAX_LINE_OCTETS:
        return None
    if first_line_over(buf, value, end, MAX_LINE_OCTETS) >= 0:
        return None
    return Spliced(head, memoryview(buf)[value:end])


def _only(buf: bytes, start: int, end: int, allowed: bytes) -> bool:
    """No byte of ``buf[start:end]`` is outside ``allowed`` (a window at a time: a
    translation is made at full size before it shrinks)."""
    return not any(
        buf[pos : min(end, pos + _WINDOW)].translate(None, allowed)
        for pos in range(start, end, _WINDOW)
    )


def _read(buf: bytes, start: int, end: int) -> tuple[str, list[Problem]]:
    """``decode_words`` of the value of the field ``buf[start:end]`` (``root.get_value``);
    a field of megabytes read a window at a time when it decodes without a problem."""
    if end - start >= STREAM_FROM:
        colon = buf.find(b":", start, end)
        text = words_text(buf, start if colon < 0 else colon + 1, end)
        if text is not None:
            return text, []
    return decode_words(field_value(buf[start:end]))


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
    # the fields as the tree holds them, the input's not copied out of its buffer: a
    # Subject of megabytes is read where it lies (issue 16)
    fields = [line for name, line in root.named_lines() if name == "subject"]
    count = len(fields)
    where = None if not fields else _where(fields[0])
    del fields
    current, problems = _read(*where) if where is not None else ("", [])
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
    if replace is None and not problems and where is not None and new == prefix + current:
        spliced = _prefixed(*where, prefix)
    del where
    root.set_header("Subject", spliced or header_line("Subject", new), first_only=False)
    changes.append(Change("subject", "", f"{_shown(current)} -> {_shown(new)}"))


def _where(line: HeaderLine | HeaderField) -> tuple[bytes, int, int]:
    """The buffer a header line lies in, and its span there (a line an earlier rewrite
    spliced is joined: it is read once more)."""
    if isinstance(line, HeaderField):
        return line.buffer, line.start, line.end
    data = bytes(line)
    return data, 0, len(data)


#: a subject longer than this is shown cut in the change it makes
_SHOWN = 1000


def _shown(text: str) -> str:
    """``repr(text)``; a subject of megabytes is shown as its start and its length (a
    change is read by people and logged: it need not hold the text twice over)."""
    if len(text) <= _SHOWN:
        return repr(text)
    return f"{text[:_SHOWN]!r}... ({len(text):,} characters)"
