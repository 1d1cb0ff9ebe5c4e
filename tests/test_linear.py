"""The linear-time paths of issue 16 read exactly what the step-by-step paths read.

Each fast path (encoded-words decoded in batches, simple RFC 2231 parameters read by
one regex, clean sections percent-decoded together) is compared with the reference it
replaces on generated inputs built to sit on its edges: words that are clean but for
one byte, long words, whitespace inside words, mixed charsets and labels, 8-bit bytes.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard import _filenames, _parser, _rfc2047, _rfc2231, _scan, parse
from mimeguard._charset import decode_8bit
from mimeguard._params import parse_disposition
from mimeguard.message import Part

_WORDS = (
    "=?utf-8?q?caf=C3=A9?=",
    "=?UTF-8?q?x?=",
    "=?utf-8?Q?a_b?=",
    "=?utf-8?q??=",
    "=?utf-8?q?=C3?=",
    "=?utf-8?q?=A9?=",
    "=?utf-8?q?=ZZ?=",
    "=?utf-8?q?a=?=",
    "=?utf-8?q?a b?=",
    "=?utf-8?q?=0D=0A?=",
    "=?utf-8?q?=FF?=",
    "=?utf-8?q?" + "a" * 63 + "?=",  # 75 characters: the longest word allowed
    "=?utf-8?q?" + "a" * 64 + "?=",  # 76: one too long
    "=?utf-8?q?" + "=41" * 21 + "?=",  # 75 with escapes
    "=?utf-8?b?Y2Fm?=",
    "=?utf-8?b?w6k=?=",
    "=?utf-8?b?Y2E?=",
    "=?utf-8?b?/w==?=",
    "=?utf-8?b??=",
    "=?utf-8?b?Y2Fm\tZQ==?=",
    "=?utf-8?b?" + "QUJD" * 15 + "QUJ" + "?=",  # 75, not whole groups
    "=?utf-8?b?" + "QUJD" * 16 + "?=",  # 76
    "=?iso-8859-1?q?=E9?=",
    "=?x-unknown?q?a?=",
    "=?utf-8*en?q?a?=",
    "plain",
    "=?",
    "?=",
    "=?utf-8?q?",
    "\x01",
    "\x02",
    "é",
)
_SEPARATORS = (" ", "\r\n ", "\t", "  ", "", "x", " \r\n\t")


@st.composite
def _values(draw: st.DrawFn) -> str:
    common = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3))
    count = draw(st.sampled_from((1, 2, 5, 40, 400, 1500)))
    rare = draw(st.integers(0, 3))
    out: list[str] = []
    for i in range(count):
        odd = rare and i % (count // rare + 1) == count // (rare + 1)
        out.append(draw(st.sampled_from(_WORDS)) if odd else common[i % len(common)])
        out.append(draw(st.sampled_from(_SEPARATORS)) if odd else " ")
    return "".join(out).strip() if draw(st.booleans()) else "".join(out)


@settings(max_examples=300, deadline=None)
@given(_values())
def test_batched_decoding_equals_word_by_word(value: str) -> None:
    batched = _rfc2047._decode_matches(value, _rfc2047._WORD_RE, str)
    reference = _rfc2047._decode_matches(value, _rfc2047._WORD_RE, str, batched=False)
    assert batched == reference


@settings(max_examples=100, deadline=None)
@given(_values())
def test_batched_decoding_of_raw_bytes_equals_word_by_word(value: str) -> None:
    raw = value.encode("utf-8")
    text = raw.decode("latin-1")

    def plain(t: str) -> str:
        return t if t.isascii() else decode_8bit(t.encode("latin-1"))

    batched = _rfc2047._decode_matches(text, _rfc2047._WORD_8BIT_RE, plain)
    reference = _rfc2047._decode_matches(text, _rfc2047._WORD_8BIT_RE, plain, batched=False)
    assert batched == reference


def test_a_bad_byte_deep_in_a_batch_is_reported_at_its_word() -> None:
    words = ["=?utf-8?q?caf=C3=A9?="] * 3000
    words[2500] = "=?utf-8?q?caf=FF?="
    value = " ".join(words)
    text, problems = _rfc2047.decode_words(value)
    assert text.count("café") == 2999
    [problem] = problems
    assert problem.offset == 2500 * 22
    assert _rfc2047._decode_matches(value, _rfc2047._WORD_RE, str, batched=False) == (
        text,
        problems,
    )


def test_a_glued_last_word_is_still_reported() -> None:
    value = " ".join(["=?utf-8?q?a?="] * 5000) + "x"
    text, problems = _rfc2047.decode_words(value)
    assert text == "a" * 5000 + "x"
    assert [p.message for p in problems] == ["encoded-word is glued to the text after it"]


_PARAM_NAMES = ("filename", "name", "FileName", "x-name", "size", "filename*", "name*")
_PARAM_VALUES = ("a.pdf", "%41", "%4", "%zz", "utf-8''%E2%82%AC.exe", '"q v.pdf"', "''x", "x.exe")


@st.composite
def _param_fields(draw: st.DrawFn) -> bytes:
    out = [b"Content-Disposition: attachment"]
    for _ in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(_PARAM_NAMES))
        if draw(st.booleans()):
            base = name.rstrip("*")
            number = draw(st.integers(0, 5))
            name = f"{base}*{number}" + ("*" if draw(st.booleans()) else "")
        value = draw(st.sampled_from(_PARAM_VALUES))
        fold = draw(st.sampled_from((" ", "\r\n ", "")))
        out.append(f";{fold}{name}={value}".encode())
    return b"".join(out) + b"\r\n"


def _part(field: bytes) -> Part:
    return parse(b"From: a@example.com\r\n" + field + b"\r\nbody\r\n")


@settings(max_examples=300, deadline=None)
@given(_param_fields())
def test_one_read_of_simple_rfc2231_parameters_equals_both_scanners(field: bytes) -> None:
    part = _part(field)
    fast = (_filenames.candidate_names(part), _filenames.candidate_names(part, partial=False))
    *both, overflow = _filenames.candidate_name_sets(part)
    saved = _filenames._SIMPLE_2231
    try:
        _filenames._SIMPLE_2231 = re.compile(r"(?!)")  # never: both scanners run
        slow = (_filenames.candidate_names(part), _filenames.candidate_names(part, partial=False))
    finally:
        _filenames._SIMPLE_2231 = saved
    assert fast == slow == tuple(both)
    assert not overflow


@settings(max_examples=300, deadline=None)
@given(_param_fields())
def test_sections_decoded_together_equal_one_by_one(field: bytes) -> None:
    value = field.split(b":", 1)[1].decode().replace("\r\n", "")
    fast = parse_disposition(value)
    saved = _rfc2231.BAD_PERCENT_RE
    try:
        _rfc2231.BAD_PERCENT_RE = re.compile("")  # every section decoded on its own
        slow = parse_disposition(value)
    finally:
        _rfc2231.BAD_PERCENT_RE = saved
    assert fast == slow


def _reference_take(content: str, pos: int, budget: int) -> int:
    """The encoder's old character-by-character search for the longest run that fits."""
    end, size, q_len = pos, 0, 0
    while end < len(content):
        data = content[end].encode("utf-8")
        new_q = q_len + sum(1 if b in _rfc2047._Q_SAFE or b == 0x20 else 3 for b in data)
        new_size = size + len(data)
        if min(new_q, 4 * ((new_size + 2) // 3)) + _rfc2047._WORD_OVERHEAD > budget and end > pos:
            break
        q_len, size = new_q, new_size
        end += 1
    return end


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="ab XZ_=?\t\u00e9\u20ac\U0001f600\u200b~", min_size=1, max_size=200),
    st.integers(0, 199),
    st.integers(1, 90),
)
def test_bisected_word_length_equals_character_by_character(
    text: str, pos: int, budget: int
) -> None:
    pos = min(pos, len(text) - 1)
    end, word = _rfc2047._take(text, pos, budget)
    assert end == _reference_take(text, pos, budget)
    assert _rfc2047.decode_words(word) == (text[pos:end], [])


_FOLDED = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r|)(?:[ \t][^\r\n]*(?:\r\n|\n|\r|))*")
_FIELD_PIECES = [b"ab", b" ", b"\t", b"\r\n", b"\n", b"\r", b"\r\n ", b"\n\t", b"x" * 5000]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(_FIELD_PIECES),
        max_size=60,
    ),
    st.integers(0, 6),
)
def test_field_end_counts_what_the_regex_matches(pieces: list[bytes], cut: int) -> None:
    buf = b"Subject: " + b"".join(pieces)
    stop = max(0, len(buf) - cut)
    end = _scan.field_end(buf, 0, stop)
    if end >= 0:
        match = _FOLDED.match(buf, 0, stop)
        assert match is not None
        assert end == match.end()


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 40_000),
    st.sampled_from([b"\r\n ", b"\n ", b"\r\n\t", b"\r "]),
    st.sampled_from([b"\r\nTo: b@example.com\r\n\r\nbody\r\n", b"\r\n\r\n", b"\n\nbody", b""]),
)
def test_a_field_past_the_window_parses_as_before(lines: int, fold: bytes, tail: bytes) -> None:
    data = b"From: a@example.com\r\nSubject: " + fold.join([b"=?utf-8?q?a?="] * lines) + tail
    fast = [(f.start, f.end, f.name) for f in parse(data).headers]
    saved = _parser._FIELD_WINDOW
    try:
        _parser._FIELD_WINDOW = 1 << 40  # one regex match over the whole field
        slow = [(f.start, f.end, f.name) for f in parse(data).headers]
    finally:
        _parser._FIELD_WINDOW = saved
    assert fast == slow
