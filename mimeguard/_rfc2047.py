"""RFC 2047 encoded-words: a lenient decoder and a folding encoder.

The decoder reads ``=?charset[*lang]?B|Q?text?=`` words in an unfolded header
value (RFC 2047 section 2, with the RFC 2231 section 5 language suffix) the way
real mail clients do, and reports each deviation from the RFC as a
:class:`~mimeguard._problem.Problem`.  The encoder produces a folded, pure ASCII
header value (RFC 5322 section 2.2.3) that decodes back to the original text.

Both run in time linear in their input: the word scanner uses possessive
quantifiers only, and every character is looked at a bounded number of times.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
from collections.abc import Callable, Iterator

from mimeguard._problem import Problem

from ._abnf import ENCODED_WORD, ENCODED_WORD_8BIT, MAX_LINE_CHARS, MAX_LINE_OCTETS, SURROGATE
from ._charset import decode_8bit, lookup_charset

__all__ = [
    "MAX_PROBLEMS",
    "STREAM_FROM",
    "ProblemCollector",
    "decode_words",
    "encode_header",
    "has_encoded_word",
    "lookup_charset",
    "short_repr",
    "words_clean",
    "words_text",
]

MALFORMED = "malformed-encoded-word"

#: A parser stops listing problems after this many and adds one summary
#: problem instead, so hostile input cannot produce millions of findings.
MAX_PROBLEMS = 100


def short_repr(text: str, limit: int = 40) -> str:
    """``repr(text)`` cut to ``limit`` characters, for problem messages."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + "..."


class ProblemCollector:
    """Collects problems for one parse, capped at ``limit`` entries."""

    __slots__ = ("_first_suppressed", "_limit", "_problems", "_suppressed")

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self._limit = limit
        self._problems: list[Problem] = []
        self._suppressed = 0
        self._first_suppressed: Problem | None = None

    def add(self, name: str, message: str, offset: int, end: int | None = None) -> None:
        """Record one problem (or count it once the cap is reached)."""
        if len(self._problems) < self._limit:
            self._problems.append(Problem(name, message, offset, end))
            return
        if self._first_suppressed is None:
            self._first_suppressed = Problem(name, message, offset)
        self._suppressed += 1

    def finish(self) -> list[Problem]:
        """Return the problems, with a summary entry if any were dropped."""
        first = self._first_suppressed
        if first is None:
            return self._problems
        summary = Problem(
            first.name,
            f"{self._suppressed} further problems were not listed",
            first.offset,
        )
        return [*self._problems, summary]


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

_WORD_RE = ENCODED_WORD  # linear to find: see _abnf
_WORD_8BIT_RE = ENCODED_WORD_8BIT
_Q_BAD_ESCAPE = re.compile(r"=(?![0-9A-Fa-f]{2})")

_WSP = " \t\r\n"
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_B64_JUNK_RE = re.compile(r"[^A-Za-z0-9+/=]")
_NO_WSP = str.maketrans("", "", _WSP)


def _iter_words(value: str, word: re.Pattern[str] = _WORD_RE) -> Iterator[re.Match[str]]:
    """Yield each encoded-word match, left to right, without overlaps."""
    pos = 0
    while True:
        start = value.find("=?", pos)
        if start < 0:
            return
        match = word.match(value, start)
        if match is None:
            pos = start + 1
        else:
            yield match
            pos = match.end()


def has_encoded_word(value: str) -> bool:
    """Return True if :func:`decode_words` would decode anything in ``value``."""
    return "=?" in value and next(_iter_words(value), None) is not None


def _q_decode(text: str, offset: int, sink: ProblemCollector) -> bytes:
    """Decode RFC 2047 section 4.2 "Q" text; a bad ``=`` escape is kept as is.

    ``text`` is ASCII, or Latin-1 standing for raw bytes.
    """
    if _Q_BAD_ESCAPE.search(text) is None:
        # binascii in C: "_" is a space in header mode, and every "=" starts an escape
        return binascii.a2b_qp(text.encode("latin-1"), header=True)
    parts = text.split("=")
    out = bytearray(parts[0].replace("_", " ").encode("latin-1"))
    bad = False
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEXDIGITS and part[1] in _HEXDIGITS:
            out.append(int(part[:2], 16))
            part = part[2:]
        else:
            bad = True
            out += b"="
        out += part.replace("_", " ").encode("latin-1")
    if bad:
        sink.add(MALFORMED, "Q-encoded text has an '=' not followed by two hex digits", offset)
    return bytes(out)


def _b_decode(text: str, offset: int, sink: ProblemCollector) -> bytes:
    """Decode RFC 2047 section 4.1 "B" text, tolerating bad padding."""
    data = text.translate(_NO_WSP)
    if _B64_JUNK_RE.search(data):
        sink.add(MALFORMED, "B-encoded text contains characters outside base64", offset)
        data = _B64_JUNK_RE.sub("", data)
    body = data.rstrip("=")
    padding = len(data) - len(body)
    if "=" in body:
        sink.add(MALFORMED, "B-encoded text continues after base64 padding", offset)
    elif len(body) % 4 != 1:
        expected = -len(body) % 4
        if padding < expected:
            sink.add(MALFORMED, "B-encoded text lacks base64 '=' padding", offset)
        elif padding > expected:
            sink.add(MALFORMED, "B-encoded text has too much base64 padding", offset)
    out = bytearray()
    # Decode each padded group on its own, as lenient decoders do for words
    # that were built by concatenating two base64 strings.
    for chunk in body.split("="):
        if len(chunk) % 4 == 1:
            # One stray character carries only six bits: drop it.
            sink.add(MALFORMED, "B-encoded text has a truncated base64 group", offset)
            chunk = chunk[:-1]
        if chunk:
            out += binascii.a2b_base64(chunk + "=" * (-len(chunk) % 4))
    return bytes(out)


def _batch_pattern(label: str, kind: str) -> re.Pattern[str] | None:
    """Words after a word ``=?label?kind?...?=`` that need no check of their own.

    Each is preceded and followed by whitespace (never glued), spelled with the same
    label and encoding (so it joins the same run), at most 75 characters long, with
    no whitespace in its text and text that decodes without a problem: Q with every
    ``=`` escaping two hex digits, B in whole groups of four without padding.  Such
    words are decoded together, in C, whatever their number (issue 16: a million
    words decode in linear time with a small constant).
    """
    room = 75 - len(label) - 7  # "=?" label "?" kind "?" text "?="
    if room < 0:
        return None
    return _batch_compiled(label, kind, room)


@functools.lru_cache(maxsize=64)
def _batch_compiled(label: str, kind: str, room: int) -> re.Pattern[str]:
    text = "(?:[A-Za-z0-9+/]{4})*+" if kind in "Bb" else "(?:[!-<>@-~]|=[0-9A-Fa-f]{2})*+"
    word = rf"=\?{re.escape(label)}\?{kind}\?(?=[^?]{{0,{room}}}\?=){text}\?="
    return re.compile(rf"(?:[ \t\r\n]++{word}(?=[ \t\r\n]))++")


#: a word's ``=?label?kind?`` and ``?=`` become marks of the same length (a replace that
#: keeps the length costs one copy, not a search per word): a start mark and its fill,
#: an end mark and its fill; a region holding any of these bytes is never a batch
_START, _FILL, _END, _END_FILL = b"\x01", b"\x03", b"\x04", b"\x05"
_MARKS = _START + _FILL + _END + _END_FILL
#: whitespace and marks: what is left of a batch once its texts are gone
_NOT_TEXT = b" \t\r\n" + _MARKS
#: the bytes a batch may hold: printable ASCII and whitespace
_BATCH_BYTES = bytes(range(0x20, 0x7F)) + b"\t\r\n"


def _marked(raw: bytes, label: str, kind: str) -> bytes:
    """``raw`` with each ``=?label?kind?`` and each ``?=`` after it replaced by its marks."""
    prefix = f"=?{label}?{kind}?".encode("ascii")
    start = _START + _FILL * (len(prefix) - 1)
    # the prefixes first: the "?" ending one may precede a Q text starting with "="
    return raw.replace(prefix, start).replace(b"?=", _END + _END_FILL)


def _marked_bytes(marked: bytes, kind: str) -> bytes:
    """The bytes of the words of a batch, given :func:`_marked` of it: the texts joined."""
    text = marked.translate(None, _NOT_TEXT)
    if kind in "Bb":
        return binascii.a2b_base64(text)
    return binascii.a2b_qp(text, header=True)


def _batch_bytes(region: str | bytes, label: str, kind: str) -> bytes:
    """The bytes of the words of a batch (``region`` starts with whitespace)."""
    raw = region.encode("ascii") if isinstance(region, str) else region
    return _marked_bytes(_marked(raw, label, kind), kind)


def _canon(text: bytes, hex_digits: bytes) -> bytes:
    """A translation table: whitespace to space, text characters to ``a`` (hex digits
    to ``h``), ``=`` and the marks kept, every other byte (``?`` too) to 0x02."""
    table = bytearray(b"\x02" * 256)
    for c in text:
        table[c] = ord("a")
    for c in hex_digits:
        table[c] = ord("h")
    for c in b" \t\r\n":
        table[c] = ord(" ")
    for c in b"=" + _MARKS:
        table[c] = c
    return bytes(table)


_CANON_Q = _canon(bytes(c for c in range(0x21, 0x7F) if c not in b"=?"), b"0123456789ABCDEFabcdef")
_CANON_B = _canon(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", b"")
#: Q text characters (hex digits and "=" too) to ``a``: each text is a run of ``a``
_TEXT_RUNS_Q = bytes.maketrans(b"h=", b"aa")
#: the first window a batch is checked in, in characters; it doubles while batches pass,
#: up to the last (the copies a window is checked in stay small)
_WINDOW = 4096
_MAX_WINDOW = 64 * 1024
#: distinct words a batch decodes one by one, a word that comes again looked up; a
#: batch of more is checked by the passes of :func:`_bulk_batch`
_TABLE_MAX = 64
#: the bytes of a batch whose words are counted first: many distinct words there and
#: the passes are taken at once (the same result, at the cost of no list of words)
_SAMPLE = 2048


@functools.lru_cache(maxsize=64)
def _batch_word(label: str, kind: str) -> re.Pattern[bytes]:
    """One word of a batch (see :func:`_batch_pattern`), its text in group 1."""
    text = rb"(?:[A-Za-z0-9+/]{4})*+" if kind in "Bb" else rb"(?:[!-<>@-~]|=[0-9A-Fa-f]{2})*+"
    head = rb"=\?" + re.escape(label.encode("ascii")) + rb"\?" + kind.encode("ascii") + rb"\?"
    return re.compile(head + rb"(" + text + rb")\?=")


_NOT_WSP = re.compile(rb"[^ \t\r\n]++")


def _tokens(raw: bytes) -> tuple[list[bytes], int]:
    """The words between whitespace of ``raw`` (printable ASCII, space, tab, CR and LF)
    as ``(words, times)``: ``words * times`` is ``raw.split()``, and ``words`` one word
    when every word is the same.  That is found by counts, not a list of the words:
    when ``times`` copies of the first word (which holds no whitespace) and the
    whitespace make up ``raw``, every word is made of copies; when no two copies are
    glued, each is one copy."""
    first = _NOT_WSP.search(raw)
    if first is None:
        return [], 1
    word = first[0]
    times = raw.count(word)
    if times > 1:
        spaces = raw.count(b" ") + raw.count(b"\t") + raw.count(b"\r") + raw.count(b"\n")
        if times * len(word) + spaces == len(raw) and word + word not in raw:
            return [word], times
    return raw.split(), 1


def _table_batch(raw: bytes, end: int, label: str, kind: str) -> tuple[int, bytes] | None:
    """:func:`_bulk_batch` of the words of ``raw`` (printable ASCII and whitespace,
    starting with whitespace, ending a word) by a table of its distinct words, each
    checked and decoded once; ``None`` when there are too many distinct words."""
    if len(set(raw[:_SAMPLE].split())) > _TABLE_MAX // 2:
        return None  # words that vary: not worth a list of them
    tokens, times = _tokens(raw)  # at whitespace: each word has some before and after
    words = set(tokens)
    if len(words) > _TABLE_MAX:
        return None
    pattern = _batch_word(label, kind)
    table: dict[bytes, bytes] = {}
    for token in words:
        match = pattern.fullmatch(token)
        if match is None or len(token) > 75:
            return -1, b""
        if kind in "Bb":
            table[token] = binascii.a2b_base64(match[1])
        else:
            table[token] = binascii.a2b_qp(match[1], header=True)
    return end, b"".join(map(table.__getitem__, tokens)) * times


def _bulk_batch(value: str, start: int, limit: int, label: str, kind: str) -> tuple[int, bytes]:
    """The end and the bytes of a batch (see :func:`_batch_pattern`) of all the words
    from ``start`` to the last word ending before ``limit``, checked by a table of its
    distinct words, or with a few passes of bytes methods, instead of one regex step
    per character; ``(-1, b"")`` when that stretch is not one clean batch (the caller
    then takes the regex).  ``value`` is ASCII."""
    end = value.rfind("?=", start, limit) + 2
    if end < 2 or end >= len(value) or value[end] not in _WSP or value[start] not in _WSP:
        return -1, b""
    region = value[start:end]
    if not region.isascii():
        return -1, b""
    raw = region.encode("ascii")
    del region
    if raw.translate(None, _BATCH_BYTES):
        return -1, b""  # a control byte (a mark among them): never a clean batch
    found = _table_batch(raw, end, label, kind)
    if found is not None:
        return found
    b = kind in "Bb"
    marked = _marked(raw, label, kind)
    del raw  # the copies are dropped as soon as read: a batch may be most of the value
    runs = marked.translate(_CANON_B if b else _CANON_Q)
    n = runs.count(_START)
    # every "=" left in Q text escapes two hex digits ("?=" ends are marks now)
    if n == 0 or runs[:1] != b" " or (not b and runs.count(b"=") != runs.count(b"=hh")):
        return -1, b""
    if b and b"a" in runs.replace(b"aaaa", b"\x06\x06\x06\x06"):
        return -1, b""  # B text that is not whole groups of four (no padding in a batch)
    if not b:
        runs = runs.translate(_TEXT_RUNS_Q)  # one letter, "a", for every text character
    # text only inside words: text after whitespace is in a gap between words or a word
    # with whitespace inside, text right after an end is glued to it; a text of more
    # than 75 - 7 - len(label) characters makes its word too long (RFC 2047 section 2)
    if b" a" in runs or _END_FILL + b"a" in runs or b"a" * (75 - len(label) - 6) in runs:
        return -1, b""
    # with the texts gone, what is left is n words' marks and whitespace: the marks in
    # order and nothing else ("?", padding, bytes outside the text are 0x02 or "="),
    # whitespace before each start (none glued) and never inside a word (there, with
    # the text gone, it follows the start's fill)
    bare = runs.translate(None, b"a")
    del runs
    word = _START + _FILL * (len(label) + 4) + _END + _END_FILL
    if bare.count(b" " + _START) != n or _FILL + b" " in bare:
        return -1, b""
    if bare.translate(None, b" ") != word * n:
        return -1, b""
    del bare
    return end, _marked_bytes(marked, kind)


class _Run:
    """Bytes of adjacent encoded-words in one charset, decoded together.

    RFC 2047 section 5 forbids splitting a character across words, but
    senders do it; joining the bytes first repairs UTF-8 split that way.
    A chunk may hold a batch of words (see :func:`_batch_pattern`): ``batches``
    maps its index to the span of ``value`` the batch covers.
    """

    __slots__ = ("batches", "chunks", "codec", "key", "label", "starts", "value")

    def __init__(self, key: str, codec: str | None, label: str, value: str) -> None:
        self.key = key
        self.codec = codec
        self.label = label
        self.value = value
        self.chunks: list[bytes] = []
        self.starts: list[int] = []
        self.batches: dict[int, tuple[int, int, str]] = {}

    def decode(self, sink: ProblemCollector) -> str:
        data = b"".join(self.chunks)
        if self.codec is None:
            # Unknown charset: read as undeclared 8-bit text is (every byte stays visible)
            return decode_8bit(data)
        try:
            return data.decode(self.codec)
        except UnicodeError as exc:
            bad_at = exc.start if isinstance(exc, UnicodeDecodeError) else 0
            sink.add(
                MALFORMED,
                f"encoded-word holds bytes that are not valid {short_repr(self.label)}",
                self._word_at(bad_at),
            )
        try:
            return data.decode(self.codec, errors="replace")
        except (UnicodeError, ValueError):  # pragma: no cover - codec quirks
            return data.decode("latin-1")

    def _word_at(self, byte_index: int) -> int:
        """Offset of the word that holds byte ``byte_index`` of the run."""
        seen = 0
        for i, (chunk, start) in enumerate(zip(self.chunks, self.starts, strict=True)):
            if byte_index < seen + len(chunk):
                batch = self.batches.get(i)
                return start if batch is None else self._batch_word_at(batch, byte_index - seen)
            seen += len(chunk)
        return self.starts[-1]

    def _batch_word_at(self, batch: tuple[int, int, str], byte_index: int) -> int:
        # only on a decoding error: the batch is read again word by word
        start, end, kind = batch
        seen = 0
        found = start
        for m in _WORD_RE.finditer(self.value, start, end):
            found = m.start()
            seen += len(_batch_bytes(" " + m[0], m[1], kind))
            if byte_index < seen:
                break
        return found


def decode_words(value: str | bytes) -> tuple[str, list[Problem]]:
    """Decode every RFC 2047 encoded-word in an unfolded header value.

    Whitespace between adjacent encoded-words is dropped (RFC 2047 section
    6.2); all other text is kept as is.  Returns the text and the problems
    found, each with the offset in ``value`` of the offending word.

    Given the raw bytes of a value, a raw 8-bit byte inside a word is decoded
    with the word's charset, and 8-bit text outside words is read by
    :func:`~mimeguard._charset.decode_8bit`; offsets are then byte offsets.
    """
    if isinstance(value, bytes):
        if value.isascii():
            return decode_words(value.decode("ascii"))
        return _decode_raw_words(value)
    if "=?" not in value:
        return value, []
    return _decode_matches(value, _WORD_RE, str)


def _decode_raw_words(raw: bytes) -> tuple[str, list[Problem]]:
    # Latin-1 maps byte n to character n: offsets and bytes survive the round trip
    value = raw.decode("latin-1")

    def plain(text: str) -> str:
        return text if text.isascii() else decode_8bit(text.encode("latin-1"))

    return _decode_matches(value, _WORD_8BIT_RE, plain)


def _decode_matches(
    value: str, word: re.Pattern[str], plain: Callable[[str], str], *, batched: bool = True
) -> tuple[str, list[Problem]]:
    """The decoding of :func:`decode_words`; ``plain`` reads the text between words.

    Words are found left to right without overlaps (a failed attempt moves on by one
    character); after each word, a batch of following words that need no check of
    their own is decoded in one step (``batched=False``, word by word: the tests'
    reference).
    """
    sink = ProblemCollector()
    out: list[str] = []
    run: _Run | None = None
    last_end = 0
    prev_end = -1
    pos = 0
    window = _WINDOW
    ascii_value = value.isascii()  # batches are read in ASCII

    def flush() -> None:
        nonlocal run
        if run is None:
            return
        text = run.decode(sink)
        if "\r" in text or "\n" in text or "\0" in text:
            # A decoded CR, LF or NUL can smuggle a header line into any
            # consumer that writes the text back out.
            sink.add(MALFORMED, "encoded-word decodes to a line break or NUL", run.starts[0])
        out.append(text)
        run = None

    while True:
        start = value.find("=?", pos)
        if start < 0:
            break
        match = word.match(value, start)
        if match is None:
            pos = start + 1
            continue
        end = match.end()
        gap = value[last_end:start]
        if prev_end < 0 or gap.strip(_WSP):
            flush()
            out.append(plain(gap))
        next_glued = word.match(value, end) is not None
        _check_word(value, match, prev_end == start, next_glued, sink)

        label, _, _lang = match[1].partition("*")
        kind = match[2]
        text = match[3]
        if kind in "Bb":
            data = _b_decode(text, start, sink)
        else:
            data = _q_decode(text, start, sink)
        codec = lookup_charset(label) if label else None
        if codec is None:
            sink.add(MALFORMED, f"encoded-word uses unknown charset {short_repr(label)}", start)
            key = "?" + label.lower()
        else:
            key = codec
        if run is None or run.key != key:
            flush()
            run = _Run(key, codec, label, value)
        run.chunks.append(data)
        run.starts.append(start)
        last_end = prev_end = pos = end
        batch = _batch_pattern(match[1], kind) if batched and codec is not None else None
        if batch is None:
            continue
        # windows double while batches pass and halve when one fails (a failure costs
        # no more than twice the batch before it: linear); in the last, small window
        # the regex finds the clean words up to whatever failed
        while True:
            stop, decoded = -1, b""
            if ascii_value:  # else never a batch: a word's 8-bit byte goes to the regex
                stop, decoded = _bulk_batch(value, end, end + window, match[1], kind)
            if stop > 0:
                window = min(2 * window, _MAX_WINDOW)
                break
            if window <= _WINDOW:
                found = batch.match(value, end, end + 2 * _WINDOW)
                if found is not None:
                    stop, decoded = found.end(), _batch_bytes(found[0], match[1], kind)
                break
            window //= 2
        if stop > 0:
            run.batches[len(run.chunks)] = (end, stop, kind)
            run.chunks.append(decoded)
            run.starts.append(value.find("=?", end))
            last_end = prev_end = pos = stop
    flush()
    out.append(plain(value[last_end:]))
    return "".join(out), sink.finish()


def _check_word(
    value: str,
    match: re.Match[str],
    after_word: bool,
    next_glued: bool,
    sink: ProblemCollector,
) -> None:
    """Report the layout rules of RFC 2047 sections 2 and 5 one word breaks;
    ``after_word``: the previous word ends where this one starts, ``next_glued``: the
    next one starts where this one ends."""
    start, end = match.span()
    if end - start > 75:
        sink.add(MALFORMED, "encoded-word is longer than 75 characters", start)
    if " " in match[3] or "\t" in match[3]:
        sink.add(MALFORMED, "encoded-word contains whitespace", start)
    if start > 0 and value[start - 1] not in _WSP:
        if after_word:
            message = "encoded-word is not separated from the previous encoded-word"
        else:
            message = "encoded-word is glued to the text before it"
        sink.add(MALFORMED, message, start)
    if end < len(value) and value[end] not in _WSP and not next_glued:
        sink.add(MALFORMED, "encoded-word is glued to the text after it", start)


#: a field of at least this many bytes is first checked by :func:`words_clean`, read in
#: windows of the message, before its value is decoded whole
STREAM_FROM = 64 * 1024
_STREAM_WINDOW = 64 * 1024
#: distinct words :func:`words_clean` checks one by one before it leaves the field to
#: the decoder (it reads a word once, however often it comes)
_STREAM_DISTINCT = 1024
#: codecs whose strict decoding of a run fed a window at a time fails exactly when the
#: decoding of the whole run does
_STREAM_CODECS = frozenset({"utf-8", "ascii"})


def _clean_word(token: bytes) -> tuple[str, bytes] | None:
    """The codec and bytes of ``token`` when it is one encoded-word that, between
    whitespace, :func:`decode_words` decodes without a problem; else ``None``."""
    if len(token) > 75:
        return None
    text = token.decode("ascii")
    match = _WORD_RE.match(text)
    if match is None or match.end() != len(text):
        return None
    codec = lookup_charset(match[1].partition("*")[0])
    if codec not in _STREAM_CODECS:
        return None
    sink = ProblemCollector()
    if match[2] in "Bb":
        data = _b_decode(match[3], 0, sink)
    else:
        data = _q_decode(match[3], 0, sink)
    # a CR, LF or NUL byte is that character in the run's text (UTF-8 and ASCII)
    if sink.finish() or b"\r" in data or b"\n" in data or b"\0" in data:
        return None
    return codec, data


def _whole(data: bytes, codec: str) -> str | None:
    """``data`` decoded in ``codec`` on its own, or ``None``."""
    try:
        return data.decode(codec)
    except UnicodeError:
        return None


def words_clean(buf: bytes, start: int, end: int, *, window: int = _STREAM_WINDOW) -> bool:
    """True when the value of the header field bytes ``buf[start:end]`` (every CR and LF
    deleted, space and tab stripped, read as ASCII) is shown to decode without a
    problem by :func:`decode_words`; False when it is not shown (the caller decodes it).

    Read in windows of the buffer, never whole: a field of megabytes is checked in
    bounded memory.  Shown: printable ASCII and whitespace only, plain words (no
    ``=?``) and then nothing but encoded-words of one codec that each decode without a
    problem, whose bytes joined are valid in that codec and hold no CR, LF or NUL: the
    decoder then finds these words, reads the plain words as text before the first,
    checks no word glued or too long, and decodes them as one run.  A word is read
    once however often it comes; a field of many distinct words is left to the decoder.
    ``window``: the bytes read at a time (the tests' small windows put words across them).
    """
    return _stream(buf, start, end, window, None)


def words_text(buf: bytes, start: int, end: int, *, window: int = _STREAM_WINDOW) -> str | None:
    """``decode_words(value)[0]`` when :func:`words_clean` shows that value decodes
    without a problem and it holds a word, else ``None``: the text is made a window at
    a time, with no copy of the whole value."""
    pieces: list[str] = []
    return "".join(pieces) if _stream(buf, start, end, window, pieces) and pieces else None


def _stream(buf: bytes, start: int, end: int, window: int, pieces: list[str] | None) -> bool:
    """:func:`words_clean`; the text is appended to ``pieces`` unless it is ``None``
    (then nothing is decoded that need not be).  Once shown clean, the text is the plain
    text before the first word (left-stripped) and the decoded run; with no word, nothing."""
    table: dict[bytes, bytes] = {}
    #: the words of ``table`` whose bytes decode on their own, and their text
    whole_words: dict[bytes, str] = {}
    codec = ""
    decoder: codecs.IncrementalDecoder | None = None
    words = False
    gap: list[bytes] = []  # the plain text before the first word
    pos = start
    while pos < end:
        chunk = buf[pos : min(end, pos + window)]
        if pos + len(chunk) < end:
            # cut after a space or tab: the rest of a word comes with the next window
            chunk = chunk[: max(chunk.rfind(b" "), chunk.rfind(b"\t")) + 1]
            if not chunk:
                return False
        pos += len(chunk)
        if chunk.translate(None, _BATCH_BYTES):
            return False  # a control or 8-bit byte
        unfolded = chunk.translate(None, b"\r\n")
        del chunk
        tokens, times = _tokens(unfolded)
        if not words:
            first = next((i for i, t in enumerate(tokens) if b"=?" in t), -1)
            if first < 0:
                if pieces is not None:
                    gap.append(unfolded)
                continue  # plain text so far
            del tokens[:first]  # times is 1, or the first word a word
            words = True
            if pieces is not None:
                gap.append(unfolded[: unfolded.find(b"=?")])
                pieces.append(b"".join(gap).decode("ascii").lstrip(" \t"))
                del gap
        del unfolded
        whole = True  # every word's bytes valid in the codec on their own
        for token in set(tokens):
            if token not in table:
                found = _clean_word(token)
                if found is None or codec not in ("", found[0]) or len(table) >= _STREAM_DISTINCT:
                    return False
                codec, table[token] = found
                text = _whole(found[1], codec)
                if text is not None:
                    whole_words[token] = text
            if token not in whole_words:
                whole = False
        if decoder is None:
            decoder = codecs.getincrementaldecoder(codec)()
        if whole and not decoder.getstate()[0]:
            # text that is valid on its own is valid joined to any other (UTF-8 and
            # ASCII synchronise at every character): no need to join the words
            if pieces is not None:
                pieces.append("".join(map(whole_words.__getitem__, tokens)) * times)
            continue
        data = b"".join(map(table.__getitem__, tokens)) * times
        try:
            text = decoder.decode(data)
        except UnicodeError:
            return False
        if pieces is not None:
            pieces.append(text)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeError:
            return False
    return True


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------

# RFC 2047 section 5 (3): the characters Q may leave as is even in a phrase.
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_PREFIX = "=?utf-8?q?"
_B_PREFIX = "=?utf-8?b?"
_WORD_OVERHEAD = len(_Q_PREFIX) + len("?=")
_MAX_WORD = 75  # RFC 2047 section 2
_MAX_LINE = MAX_LINE_OCTETS
# A run of spaces longer than this cannot share a line with an encoded-word.
_MAX_LITERAL_SPACES = _MAX_LINE - _MAX_WORD - 1
_CRAMPED = 30  # below this much room, start a new line rather than a tiny word

_PLAIN_WORD_RE = re.compile(r"[!-~]+")
_SPACES_OR_WORD_RE = re.compile(r" +|[^ ]+")
_SURROGATE_RE = SURROGATE


_Q_KEEP = bytes(_Q_SAFE) + b" "
#: each byte as Q writes it (RFC 2047 section 4.2)
_Q_TEXT = tuple(
    chr(byte) if byte in _Q_SAFE else "_" if byte == 0x20 else f"={byte:02X}" for byte in range(256)
)


def _q_cost(data: bytes) -> int:
    # a byte Q must escape costs three characters, the others one
    return len(data) + 2 * len(data.translate(None, _Q_KEEP))


def _q_encode(data: bytes) -> str:
    return "".join(map(_Q_TEXT.__getitem__, data))


def _cost(content: str, pos: int, end: int) -> int:
    """Characters the shorter of B and Q needs for ``content[pos:end]``, without overhead."""
    data = content[pos:end].encode("utf-8")
    return min(_q_cost(data), 4 * ((len(data) + 2) // 3))


def _take(content: str, pos: int, budget: int) -> tuple[int, str]:
    """Encode the longest run of whole characters from ``pos`` fitting ``budget``.

    At least one character is always taken, so the result may exceed a budget
    too small for it.  Picks B or Q, whichever is shorter.  The cost only grows with
    the run, so the longest run is found by bisection (a character costs at least
    one, so no run is longer than the budget).
    """
    room = budget - _WORD_OVERHEAD
    lo = pos + 1  # always taken
    hi = min(len(content), pos + max(room, 1))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _cost(content, pos, mid) <= room:
            lo = mid
        else:
            hi = mid - 1
    end = lo
    data = content[pos:end].encode("utf-8")
    q_text = _q_encode(data)
    b_text = base64.b64encode(data).decode("ascii")
    if len(q_text) <= len(b_text):
        return end, f"{_Q_PREFIX}{q_text}?="
    return end, f"{_B_PREFIX}{b_text}?="


def _plan(text: str, prefix_len: int) -> list[tuple[str, bool, str]]:
    """Split ``text`` into ``(spaces before, encode?, content)`` items.

    Words that are printable ASCII stay plain.  Consecutive words to encode
    are merged with the spaces between them, since a decoder drops whitespace
    between adjacent encoded-words.  Leading and trailing spaces go inside an
    encoded-word because header parsers strip them.
    """
    lead = trail = pending = ""
    words: list[str] = []
    seps: list[str] = []
    for token in _SPACES_OR_WORD_RE.findall(text):
        if token[0] != " ":
            if words:
                seps.append(pending)
            words.append(token)
            pending = ""
        elif words:
            pending = token
        else:
            lead = token
    trail = pending
    if not words:
        return [("", True, text)]

    encode = [("=?" in word) or not _PLAIN_WORD_RE.fullmatch(word) for word in words]
    if lead:
        encode[0] = True
    if trail:
        encode[-1] = True
    for index, sep in enumerate(seps):
        if len(sep) > _MAX_LITERAL_SPACES:
            encode[index] = encode[index + 1] = True
    for index, word in enumerate(words):
        before = prefix_len if index == 0 else len(seps[index - 1])
        if before + len(word) > _MAX_LINE:
            # Too long to stay unbroken on one line: encoded-words can be split.
            encode[index] = True

    items: list[tuple[str, bool, str]] = []
    index = 0
    while index < len(words):
        sep = seps[index - 1] if index else ""
        if not encode[index]:
            items.append((sep, False, words[index]))
            index += 1
            continue
        parts = [lead] if index == 0 else []
        parts.append(words[index])
        while index + 1 < len(words) and encode[index + 1]:
            parts.append(seps[index])
            index += 1
            parts.append(words[index])
        if index == len(words) - 1:
            parts.append(trail)
        items.append((sep, True, "".join(parts)))
        index += 1
    return items


def encode_header(text: str, *, name: str, max_line: int = MAX_LINE_CHARS) -> str:
    """Return ``text`` as a folded header value to follow ``f"{name}: "``.

    Printable ASCII words are kept and folded at existing spaces (RFC 5322
    section 2.2.3); anything else becomes UTF-8 encoded-words of at most 75
    characters (RFC 2047 sections 2 and 5).  Folds are ``"\\r\\n "`` and every
    line carries visible text, so folding can never start a new header line.
    Lines stay within ``max_line`` where possible and never exceed 998.
    Lone surrogates, which have no UTF-8 form, are replaced by U+FFFD.
    """
    text = _SURROGATE_RE.sub("\ufffd", text)
    if not text:
        return ""
    out: list[str] = []
    line = len(name) + 2
    for sep, encode, content in _plan(text, line):
        if not encode:
            if sep and line + len(sep) + len(content) > max_line:
                out.append("\r\n")
                line = 0
            out += (sep, content)
            line += len(sep) + len(content)
            continue
        pos = 0
        lead = sep
        while pos < len(content):
            room = max_line - line - len(lead)
            end, word = _take(content, pos, min(_MAX_WORD, room))
            cramped = len(word) > room or (end < len(content) and room < _CRAMPED)
            if lead and cramped:
                # Fold before the separating whitespace; the new line starts
                # with that whitespace and then the word, never blank.
                out.append("\r\n")
                line = 0
                end, word = _take(content, pos, min(_MAX_WORD, max_line - len(lead)))
            out += (lead, word)
            line += len(lead) + len(word)
            pos = end
            lead = " "  # dropped by decoders between adjacent encoded-words
    return "".join(out)
