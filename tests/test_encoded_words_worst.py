"""The million encoded-words of issue 16: the fast paths read exactly what the decoder reads.

:func:`mimeguard._rfc2047.words_clean` says a field decodes without a problem only when
:func:`~mimeguard._rfc2047.decode_words` of its value finds none, whatever the windows
it is read in (words cut by them, UTF-8 split across words at their edges, folds, bare
line breaks, glued words, plain text before and between words, 8-bit bytes); and
MG116 reports the same findings with it as without it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimeguard
from benchmarks.measure import peak_extra
from mimeguard import _rfc2047, parse
from mimeguard import _subject as subject_edit
from mimeguard._rules import headers as header_rules
from mimeguard._writer import field_value
from mimeguard.findings import Finding
from mimeguard.limits import Limits
from mimeguard.message import HeaderField

_WIDE = Limits(max_header_bytes=64 << 20)

#: words that decode without a problem (alone, between whitespace)
_CLEAN = (
    b"=?utf-8?q?caf=C3=A9?=",
    b"=?UTF-8?q?x?=",
    b"=?utf-8?Q?a_b?=",
    b"=?utf-8?q??=",
    b"=?utf-8?q?=C3?=",  # the first half of a character ...
    b"=?utf-8?q?=A9?=",  # ... and the second
    b"=?utf-8?b?w6k=?=",
    b"=?utf-8?b?Y2Fm?=",
    b"=?utf-8?b?w6?=",
    b"=?utf-8*en?q?a?=",
    b"=?utf-8?q?" + b"a" * 63 + b"?=",
    b"=?utf-8?q?" + b"=41" * 21 + b"?=",
)
#: words the decoder finds something wrong with, or that are no word at all
_HOSTILE = (
    b"=?utf-8?q?=ZZ?=",
    b"=?utf-8?q?a=?=",
    b"=?utf-8?q?=0D=0A?=",
    b"=?utf-8?q?=00?=",
    b"=?utf-8?q?=FF?=",
    b"=?utf-8?b?Y2E?=",
    b"=?utf-8?b?Y2Fm=?=",
    b"=?utf-8?b?/w==?=",
    b"=?utf-8?q?" + b"a" * 64 + b"?=",
    b"=?iso-8859-1?q?=E9?=",
    b"=?us-ascii?q?plain?=",  # clean, but a second codec
    b"=?x-unknown?q?a?=",
    b"=?utf-8?q?a?==?utf-8?q?b?=",
    b"=?utf-8?q?caf=C3=A9?==?utf-8?q?caf=C3=A9?=",  # two copies of a clean word, glued
    b"=?UTF-8?q?x?==?UTF-8?q?x?=",
    b"x=?utf-8?q?a?=",
    b"=?utf-8?q?a?=x",
    b"=?utf-8?q?",
    b"=?",
    b"?=",
    b"[EXT]",
    b"plain",
    b"\xc3\xa9",
    b"\x01",
)
_SEPARATORS = (b" ", b"\r\n ", b"\r\n\t", b"\t", b"  ", b" \t ", b"", b"\r", b"\n", b"\r\n")


@st.composite
def _fields(draw: st.DrawFn, hostile: bool = True) -> bytes:
    """A Subject field of many words: a few common ones, a rare odd word or separator."""
    common = draw(st.lists(st.sampled_from(_CLEAN), min_size=1, max_size=3))
    count = draw(st.sampled_from((1, 2, 5, 40, 400)))
    odd_words = _CLEAN + _HOSTILE if hostile else _CLEAN
    odd_seps = _SEPARATORS if hostile else (b" ", b"\r\n ", b"\r\n\t", b"  ")
    rare = draw(st.integers(0, 3))
    prefixes = (b"", b"[EXT] ", b"Re: a ", b"a= ")
    out = [draw(st.sampled_from((*prefixes, b"x=?", b"\xc3\xa9 ") if hostile else prefixes))]
    for i in range(count):
        odd = rare and i % (count // rare + 1) == count // (rare + 1)
        out.append(draw(st.sampled_from(odd_words)) if odd else common[i % len(common)])
        if i + 1 < count:
            out.append(draw(st.sampled_from(odd_seps)) if odd else b" ")
    tail = draw(st.sampled_from((b"", b" ", b"\t", b" x") if hostile else (b"", b" ")))
    return b"Subject: " + b"".join(out) + tail + b"\r\n"


def _subject(field: bytes) -> HeaderField:
    msg = parse(b"From: a@example.com\r\n" + field + b"\r\nbody\r\n", limits=_WIDE)
    return msg.headers[1]


_WINDOWS = st.sampled_from((1, 7, 16, 23, 64, 1000, 64 * 1024))


@settings(max_examples=400, deadline=None)
@given(_fields(), _WINDOWS)
def test_a_field_shown_clean_decodes_without_a_problem(field: bytes, window: int) -> None:
    f = _subject(field)
    clean = _rfc2047.words_clean(f.buffer, f.value_start, f.end, window=window)
    if clean:
        assert _rfc2047.decode_words(f.value)[1] == []


@settings(max_examples=400, deadline=None)
@given(_fields(), _WINDOWS)
def test_the_text_made_in_windows_is_the_decoded_value(field: bytes, window: int) -> None:
    # words_text gives decode_words' text exactly when words_clean holds and a word is there
    f = _subject(field)
    text = _rfc2047.words_text(f.buffer, f.value_start, f.end, window=window)
    clean = _rfc2047.words_clean(f.buffer, f.value_start, f.end, window=window)
    value = f.value
    if text is not None:
        assert (text, []) == _rfc2047.decode_words(value)
    assert (text is not None) == (clean and _rfc2047.has_encoded_word(value))
    # rewrite_subject reads the field line the same way (field_value), every line taken
    # as long
    line = f.buffer[f.start : f.end]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subject_edit, "STREAM_FROM", 0)
        expected = _rfc2047.decode_words(field_value(line))
        assert subject_edit._read(line, 0, len(line)) == expected
        # and where it lies, inside the message
        assert subject_edit._read(f.buffer, f.start, f.end) == expected


@settings(max_examples=200, deadline=None)
@given(_fields(hostile=False), _WINDOWS)
def test_clean_words_are_shown_clean_in_any_window(field: bytes, window: int) -> None:
    # the fast path is taken: words of one codec, split UTF-8 joined across windows
    f = _subject(field)
    problems = _rfc2047.decode_words(f.value)[1]
    clean = _rfc2047.words_clean(f.buffer, f.value_start, f.end, window=max(window, 100))
    assert clean == (not problems)


def test_split_utf8_across_a_window_edge() -> None:
    first, second = b"=?utf-8?q?=C3?=", b"=?utf-8?q?=A9?="
    value = b" ".join([first, second] * 50)
    for window in range(18, 90):  # a window holds a whole word and a line break
        f = _subject(b"Subject: " + value + b"\r\n")
        assert _rfc2047.words_clean(f.buffer, f.value_start, f.end, window=window)
    # one half missing: not valid UTF-8, at whatever window the halves meet
    bad = b" ".join([first, second] * 20 + [first] + [first, second] * 20)
    for window in range(1, 80):
        f = _subject(b"Subject: " + bad + b"\r\n")
        assert not _rfc2047.words_clean(f.buffer, f.value_start, f.end, window=window)
        assert _rfc2047.decode_words(f.value)[1]
    f = _subject(b"Subject: " + value + b" " + first + b"\r\n")
    assert not _rfc2047.words_clean(f.buffer, f.value_start, f.end, window=30)


def test_many_distinct_words_are_left_to_the_decoder() -> None:
    words = [b"=?utf-8?q?w%d?=" % i for i in range(2000)]
    f = _subject(b"Subject: " + b" ".join(words) + b"\r\n")
    assert not _rfc2047.words_clean(f.buffer, f.value_start, f.end)
    assert _rfc2047.decode_words(f.value)[1] == []


def _report(data: bytes) -> list[Finding]:
    return list(mimeguard.validate(data, limits=_WIDE).findings)


@settings(max_examples=150, deadline=None)
@given(_fields(), st.sampled_from((1, 2, 7)))
def test_mg116_reports_the_same_with_and_without_the_stream(field: bytes, times: int) -> None:
    # every field taken as long (the stream first), and none (the decoder only)
    name, _, value = field.partition(b": ")
    data = b"From: a@example.com\r\n" + name + b": " + b" ".join([value[:-2]] * times)
    data += b"\r\n\r\nbody\r\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(header_rules, "STREAM_FROM", 0)
        fast = _report(data)
        patch.setattr(header_rules, "STREAM_FROM", 1 << 62)
        assert _report(data) == fast


def test_a_million_words_validate_in_less_memory_than_the_input() -> None:
    # issue 16's worst case at a tenth of its size: the field is read in windows
    line = b" ".join([b"=?utf-8?q?caf=C3=A9?="] * 3)
    words = b"\r\n ".join([line] * 33_333 + [b"=?utf-8?b?Y2Fmw6k=?="])
    data = b"From: a@example.com\r\nSubject: " + words + b"\r\n\r\nbody\r\n"
    report = mimeguard.validate(data, limits=_WIDE)
    assert not [x for x in report.findings if x.code == "MG116"]
    assert (
        peak := peak_extra(lambda d: mimeguard.validate(d, limits=_WIDE), data)
    ).ok and peak.bytes < len(data)


_DECODE_WORDS = (
    *(w.decode("latin-1") for w in _CLEAN + _HOSTILE),
    "=?utf-8?b?Y2Fmw6k=?=",
    "=?utf-8?B?Y2Fm?=",
    "=?UTF-8?q?caf=C3=A9?=",
    "=?utf-8?q?=c3=a9?=",
)


@st.composite
def _values(draw: st.DrawFn) -> str:
    common = draw(st.lists(st.sampled_from(_DECODE_WORDS), min_size=1, max_size=3))
    count = draw(st.sampled_from((1, 2, 5, 40, 400, 1500)))
    rare = draw(st.integers(0, 3))
    out: list[str] = [draw(st.sampled_from(("", "[EXT] ", "a")))]
    for i in range(count):
        odd = rare and i % (count // rare + 1) == count // (rare + 1)
        out.append(draw(st.sampled_from(_DECODE_WORDS)) if odd else common[i % len(common)])
        seps = (" ", "\r\n ", "\t", "  ", "", "x", "\r\n")
        out.append(draw(st.sampled_from(seps)) if odd else " ")
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(_values(), st.sampled_from((0, 1, 64)), st.sampled_from((4096, 5000, 1 << 16)))
def test_batches_by_table_or_passes_in_any_window_decode_word_by_word(
    value: str, table_max: int, max_window: int
) -> None:
    # a table of distinct words, or the passes (table_max 0), windows capped anywhere
    reference = _rfc2047._decode_matches(value, _rfc2047._WORD_RE, str, batched=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_rfc2047, "_TABLE_MAX", table_max)
        patch.setattr(_rfc2047, "_MAX_WINDOW", max_window)
        assert _rfc2047._decode_matches(value, _rfc2047._WORD_RE, str) == reference
        assert _rfc2047.decode_words(value) == reference


def test_a_million_words_decode_in_bounded_windows() -> None:
    value = " ".join(["=?utf-8?q?caf=C3=A9?="] * 100_000)
    text, problems = _rfc2047.decode_words(value)
    assert (text, problems) == ("café" * 100_000, [])
    # the copies a batch is read in stay within a window, not the value (2.56x before):
    # what is left is the decoded bytes and text, 0.23x and 0.18x of the value each
    peak = peak_extra(lambda v: _rfc2047.decode_words(v), value)
    assert peak.ok and peak.bytes < len(value)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.sampled_from((b"a", b"aa", b"ab", b"ba", b"b", b"=?q?=", b" ", b"\t", b"\r", b"\n")),
        max_size=30,
    )
)
def test_tokens_are_the_words_between_whitespace(pieces: list[bytes]) -> None:
    # a word made of two copies of another ("aa", or two encoded-words glued) is no copy
    raw = b"".join(pieces)
    words, times = _rfc2047._tokens(raw)
    assert words * times == raw.split()
    assert _rfc2047._tokens(b" =?a?= =?a?==?a?=") == ([b"=?a?=", b"=?a?==?a?="], 1)
    assert _rfc2047._tokens(b" =?a?=\r\n =?a?=\t") == ([b"=?a?="], 2)


def _words_message(count: int) -> bytes:
    line = b" ".join([b"=?utf-8?q?caf=C3=A9?="] * 3)
    words = b"\r\n ".join([line] * (count // 3))
    return (
        b"From: a@example.com\r\nTo: b@example.org\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m@example.com>\r\nMIME-Version: 1.0\r\nSubject: " + words + b"\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--b\r\n"
        b'Content-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
        b"\r\nJVBERi0=\r\n--b--\r\n"
    )


def _pipeline(data: bytes) -> bytes:
    out: bytes = (
        mimeguard.Editor(data, repair=True, profile="rfc", limits=_WIDE)
        .add_disclaimer(text="Outside.")
        .rewrite_subject(prefix="[EXT] ")
        .strip_attachments(match=["*.exe"])
        .to_bytes()
    )
    return out


def test_the_repairing_pipeline_holds_less_than_the_input_besides_its_output() -> None:
    # issue 16's worst case at a twentieth of its size: the Subject is read where it
    # lies, prefixed as a spliced line (head and view), and the output is its one copy
    # (a strip that removes a part before repair has repair parse what it made: that
    # copy is held too, and this bound is not claimed for it)
    data = _words_message(50_000)
    out = _pipeline(data)
    subject = parse(out, limits=_WIDE)["Subject"]
    assert subject is not None and subject == "[EXT] " + "café" * 49_998
    peak = peak_extra(_pipeline, data)
    assert peak.ok and peak.bytes - len(out) < len(data)


def _joined(original: Callable[..., object]) -> Callable[..., object]:
    def prefixed(*args: object) -> object:
        found = original(*args)
        return None if found is None else bytes(found)  # type: ignore[call-overload]

    return prefixed


@pytest.mark.parametrize("order", ["subject-first", "disclaimer-first", "subject-twice"])
def test_a_spliced_subject_line_writes_the_bytes_the_joined_one_did(order: str) -> None:
    # edits after the rewrite see the spliced line as any other (its name, its value);
    # the output is byte for byte the one a joined line gives
    data = _words_message(3_000)

    def run() -> bytes:
        editor = mimeguard.Editor(data, limits=_WIDE)
        if order == "disclaimer-first":
            editor = editor.add_disclaimer(text="Outside.")
        editor = editor.rewrite_subject(prefix="[EXT] ")
        if order == "subject-twice":
            editor = editor.rewrite_subject(prefix="[EXT] ", suffix=" (checked)")
        if order == "subject-first":
            editor = editor.add_disclaimer(text="Outside.").strip_attachments(match=["*.pdf"])
        out: bytes = editor.to_bytes()
        return out

    spliced = run()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subject_edit, "_prefixed", _joined(subject_edit._prefixed))
        joined = run()
    assert spliced == joined
    subject = parse(spliced, limits=_WIDE)["Subject"]
    assert subject is not None and subject.startswith("[EXT] cafécafé")
