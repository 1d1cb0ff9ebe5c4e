"""The fast paths of the edit pipeline (issue 16) write what the slow paths write.

A disclaimer is spliced into the bytes of a 7bit/8bit plain text body instead of the
body being decoded, normalised and encoded again; "is it already there" is a search,
not two normalised copies; ``crlf`` returns data that needs no change as it is. Each
is compared with the path it stands in for on hostile inputs: bare CR and LF, lines
of 997-999 octets, a last line without a line break, lines that look like a
delimiter, 8-bit bytes, every case of a charset label, whitespace ``str.split``
knows and ``\\s`` of a bytes pattern does not.
"""

from __future__ import annotations

import codecs
import itertools
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard import (
    Editor,
    InvalidMessageError,
    _conservation,
    _disclaimer,
    _rfc2047,
    _scan,
    _subject,
    _writer,
    add_disclaimer,
    parse,
    validate,
)
from mimeguard._scan import first_line_over
from mimeguard._writer import crlf
from mimeguard.errors import MimeguardError
from mimeguard.limits import DEFAULT_LIMITS, Limits
from mimeguard.message import Part

HEAD = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n"
    b"Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <a@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
)
BOUNDARY = b"b" * 69 + b"1"

# -- "already there" -------------------------------------------------------------------------

#: whitespace str.split splits at, ASCII and not (1C-1F are not \s in a bytes pattern)
_SPACES = " \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000"
_TEXT = st.text(alphabet=st.sampled_from(_SPACES + "abAB.é-="), max_size=40)


def _normalised_in(snippet: str, body: str) -> bool:
    """The reference the search replaces: both texts with their whitespace collapsed."""
    return " ".join(snippet.split()) in " ".join(body.split())


@given(snippet=_TEXT, body=_TEXT)
def test_already_there_is_the_normalised_substring_test(snippet: str, body: str) -> None:
    assert _disclaimer._already_there(snippet, body) == _normalised_in(snippet, body)


@given(snippet=_TEXT, body=_TEXT)
def test_already_there_over_ascii_bytes_reads_as_the_text(snippet: str, body: str) -> None:
    data = body.encode("ascii", "ignore")
    expected = _normalised_in(snippet, data.decode("ascii"))
    assert _disclaimer._already_there(snippet, data) == expected


@given(
    words=st.lists(st.sampled_from(["This", "message", "came", "x", "é"]), min_size=1),
    seps=st.lists(st.sampled_from(list(_SPACES)), min_size=1),
    tail=st.sampled_from(["", "y", " "]),
)
def test_already_there_finds_the_snippet_across_any_whitespace(
    words: list[str], seps: list[str], tail: str
) -> None:
    snippet = " ".join(words)
    body = "x" + "".join(w + seps[i % len(seps)] for i, w in enumerate(words)).rstrip() + tail
    assert _disclaimer._already_there(snippet, body)
    if body.isascii():
        assert _disclaimer._already_there(snippet, body.encode("ascii"))


def test_ascii_space_class_is_str_isspace() -> None:
    assert [c for c in range(256) if re.fullmatch(_disclaimer._ASCII_SPACE, bytes([c]))] == [
        c for c in range(128) if chr(c).isspace()
    ]


# -- the charsets a body is spliced in -------------------------------------------------------


@pytest.mark.parametrize("codec", sorted(_disclaimer._ROUND_TRIP))
def test_round_trip_charsets_give_back_every_byte_they_decode(codec: str) -> None:
    assert codecs.lookup(codec).name == codec  # the name lookup_charset returns
    for byte in range(256):
        raw = bytes([byte])
        if byte < 0x80:
            # ASCII bytes are their own text: the splice reads them without decoding
            assert raw.decode(codec) == chr(byte)
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        assert text.encode(codec) == raw
    if codec != "utf-8":  # a single-byte charset: no two bytes read as one character
        texts = [bytes([b]).decode(codec, "replace") for b in range(256)]
        decodable = [t for t in texts if t != "\ufffd"]
        assert len(set(decodable)) == len(decodable)


# -- crlf --------------------------------------------------------------------------------------

_EOL_TEXT = st.text(alphabet=st.sampled_from("ab\r\n"), max_size=30)


def _crlf_reference(data: str) -> str:
    return data.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


@given(_EOL_TEXT)
def test_crlf_is_the_three_replaces(data: str) -> None:
    assert crlf(data) == _crlf_reference(data)
    assert crlf(data.encode()) == _crlf_reference(data).encode()


def test_crlf_returns_crlf_data_itself() -> None:
    data = b"a\r\nb\r\n" * 1000
    assert crlf(data) is data
    text = data.decode()
    assert crlf(text) is text


# -- the spliced disclaimer --------------------------------------------------------------------

_LINES = st.sampled_from(
    [
        b"hello",
        b"",
        b"a" * 997,
        b"a" * 998,
        b"a" * 999,
        b"--" + BOUNDARY,
        b"--" + BOUNDARY + b"--",
        b"--" + BOUNDARY[:-1] + b"2",
        b"--B",
        b"From here",
        b">quoted",
        b"caf\xc3\xa9",
        b"caf\xe9",
        b"\xff\xfe",
        b"nul\x00",
        b"trailing  ",
        b"This message came",
        b"from   outside.",
    ]
)
_EOLS = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r"])


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(_LINES, _EOLS), max_size=8))
    body = b"".join(line + eol for line, eol in lines)
    if draw(st.booleans()):
        body += draw(_LINES)  # a last line without a line break
    return body


_LABELS = st.sampled_from(
    [
        None,
        "us-ascii",
        "US-ASCII",
        "Us-Ascii",
        "utf-8",
        "UTF-8",
        "utf8",
        "iso-8859-1",
        "ISO-8859-1",
        "latin1",
        "windows-1252",
        "Windows-1252",
        "koi8-r",
        "iso-8859-3",
        "shift_jis",
        "x-unknown",
        "utf-16",
    ]
)


@st.composite
def _messages(draw: st.DrawFn) -> bytes:
    label = draw(_LABELS)
    ctype = b"text/plain"
    if label is not None:
        ctype += b"; charset=" + (b'"%s"' if draw(st.booleans()) else b"%s") % label.encode()
    if draw(st.booleans()):
        ctype += b"; format=flowed"
    cte = draw(st.sampled_from([None, b"7bit", b"8bit", b"7BIT", b"binary"]))
    head = b"Content-Type: " + ctype + b"\r\n"
    if cte is not None:
        head += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    part = head + b"\r\n" + draw(_bodies())
    if draw(st.booleans()):
        return HEAD + part
    return (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="'
        + BOUNDARY
        + b'"\r\n\r\n--'
        + BOUNDARY
        + b"\r\n"
        + part
        + b"\r\n--"
        + BOUNDARY
        + b"--\r\n"
    )


_SNIPPETS = st.sampled_from(
    [
        "This message came from outside.",
        "Ce message vient de l'extérieur.",
        "--" + BOUNDARY.decode(),
        "line one\nline two\r\n-- \r\n",
        "x" * 1000,
        "from outside",
        "日本語",
        "a\xa0b\u3000c",
    ]
)


def _outcome(data: bytes, text: str, position: str) -> tuple[str, bytes | str, list[str]]:
    """The edit's bytes and changes, or the refusal and the bytes it reports (new
    boundaries drawn from a fixed sequence, so two runs can be compared)."""
    ids = (uuid.UUID(int=n) for n in itertools.count())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(uuid, "uuid4", lambda: next(ids))  # what _writer.new_boundary draws
        return _edit(data, text, position)


def _edit(data: bytes, text: str, position: str) -> tuple[str, bytes | str, list[str]]:
    editor = Editor(data, profile="rfc").add_disclaimer(text=text, position=position)  # type: ignore[arg-type]
    try:
        result = editor.result()
    except InvalidMessageError as exc:
        made = exc.result.data if exc.result is not None else b""
        return type(exc).__name__, made, []
    except MimeguardError as exc:
        return type(exc).__name__, str(exc), []
    return "ok", result.data, [c.kind for c in result.changes]


@settings(max_examples=300)
@given(data=_messages(), text=_SNIPPETS, position=st.sampled_from(["bottom", "top"]))
def test_spliced_disclaimer_is_byte_for_byte_the_decoded_one(
    data: bytes, text: str, position: str
) -> None:
    fast = _outcome(data, text, position)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_disclaimer, "_spliceable", lambda part, codec: False)
        slow = _outcome(data, text, position)
    assert fast == slow
    status, out, kinds = fast
    if status == "ok" and kinds == ["disclaimer"]:
        assert isinstance(out, bytes)
        # the disclaimer is text of the part it went into, never structure
        assert len(list(parse(out).walk())) == len(list(parse(data).walk()))


def test_a_delimiter_in_the_disclaimer_is_not_structure_in_a_spliced_body() -> None:
    body = b"--" + BOUNDARY[:-1] + b"2\r\n"
    data = (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="'
        + BOUNDARY
        + b'"\r\n\r\n--'
        + BOUNDARY
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + body * 100
        + b"--"
        + BOUNDARY
        + b"--\r\n"
    )
    out = add_disclaimer(data, text="--" + BOUNDARY.decode() + "\r\n--" + BOUNDARY.decode() + "--")
    parts = list(parse(out).walk())
    assert len(parts) == 2
    leaf = parts[1]
    assert leaf.transfer_encoding == "quoted-printable"  # the delimiter line is escaped
    assert leaf.decoded().startswith(body * 100)
    assert leaf.text().endswith("--" + BOUNDARY.decode() + "--\r\n")


def test_spliced_disclaimer_is_not_added_twice() -> None:
    data = HEAD + b"Content-Type: text/plain\r\n\r\nhello\r\n"
    once = add_disclaimer(data, text="This message\r\ncame from outside.")
    twice = Editor(once).add_disclaimer(text="This  message came\tfrom outside.").result()
    assert twice.data == once
    assert [c.kind for c in twice.changes] == ["skipped"]


# -- the prefixed Subject ----------------------------------------------------------------------

_SUBJECT_TOKENS = st.sampled_from(
    [
        b"=?utf-8?q?caf=C3=A9?=",
        b"=?UTF-8?Q?caf=C3=A9?=",
        b"=?utf-8?b?Y2Fmw6k=?=",
        b"=?iso-8859-1?q?caf=E9?=",
        b"=?utf-8?q?a_?=",
        b"=?utf-8?q?=ZZ?=",
        b"=?utf-8?q?" + b"a" * 64 + b"?=",
        b"=?utf-8?q?=0D=0A?=",
        b"=?x-unknown?q?a?=",
        b"=?",
        b"plain",
        b"Re:",
        b"[EXT]",
        b"[ext]",
        b"caf\xc3\xa9",
        b"\xe9",
        b"a" * 990,
        b"nul\x00",
    ]
)
_SUBJECT_SEPS = st.sampled_from(
    [b" ", b" ", b"\r\n ", b"\r\n\t", b"  ", b"\r\n \r\n ", b"\n ", b"\r ", b""]
)


@st.composite
def _subjects(draw: st.DrawFn) -> bytes:
    tokens = draw(st.lists(st.tuples(_SUBJECT_SEPS, _SUBJECT_TOKENS), min_size=1, max_size=6))
    first = draw(st.sampled_from([b" ", b"", b"\r\n "]))
    return b"Subject:" + first + b"".join(sep + tok for sep, tok in tokens)[1:] + b"\r\n"


_PREFIXES = st.sampled_from(
    [
        "[EXT] ",
        "[EXT]",
        "[EXT]  ",
        " [EXT] ",
        "=?utf-8?q?x?= ",
        "a=?b ",
        "[ÉXT] ",
        "x" * 80 + " ",
        "[EXT] [SPAM] ",
        "Re: ",
    ]
)
_NO_SUBJECT = HEAD.replace(b"Subject: x\r\n", b"")


def _subject_outcome(data: bytes, prefix: str, *, repair: bool) -> tuple[str, bytes]:
    editor = Editor(data, repair=repair, profile="rfc").rewrite_subject(prefix=prefix)
    try:
        return "ok", editor.result().data
    except InvalidMessageError as exc:
        return type(exc).__name__, exc.result.data if exc.result is not None else b""


def _without_subject(data: bytes) -> list[bytes]:
    msg = parse(data)
    return [f.raw for f in msg.headers if f.lname != "subject"] + [data[msg.body_start :]]


@settings(max_examples=300)
@given(
    subject=_subjects(),
    prefix=_PREFIXES,
    repair=st.booleans(),
    mixed=st.booleans(),
)
def test_prefixed_subject_means_what_the_encoded_one_means(
    subject: bytes, prefix: str, repair: bool, mixed: bool
) -> None:
    data = _NO_SUBJECT + subject + b"Content-Type: text/plain\r\n\r\nhello\r\n"
    if mixed:
        data = data.replace(b"\r\n\r\nhello", b"\r\nSubject: second\r\n\r\nhello")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_subject, "_SPLICE_FROM", 0)  # every field is spliced when it can be
        fast = _subject_outcome(data, prefix, repair=repair)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_subject, "_prefixed", lambda buf, start, end, prefix: None)
        slow = _subject_outcome(data, prefix, repair=repair)
    assert fast[0] == slow[0]
    if fast[1] == slow[1] or not fast[1]:
        return
    out, ref = parse(fast[1]), parse(slow[1])
    assert len(out.get_all("subject")) == len(ref.get_all("subject")) == 1
    assert out.header("subject").decoded == ref.header("subject").decoded  # type: ignore[union-attr]
    assert _without_subject(fast[1]) == _without_subject(slow[1])
    assert first_line_over(fast[1], 0, len(fast[1]), 998) < 0
    assert fast[1].isascii()
    codes = {f.code for f in validate(fast[1], profile="rfc").findings}
    assert codes <= {f.code for f in validate(slow[1], profile="rfc").findings}


def test_a_million_word_subject_is_prefixed_not_reencoded() -> None:
    from benchmarks.adversarial import WIDE_HEADERS, encoded_words

    data = encoded_words(0.01)
    out = Editor(data, limits=WIDE_HEADERS).rewrite_subject(prefix="[EXT] ").result().data
    field = parse(out, limits=WIDE_HEADERS).header("subject")
    assert field is not None
    before = parse(data, limits=WIDE_HEADERS).header("subject")
    assert before is not None
    assert field.decoded == "[EXT] " + before.decoded
    # the words are the input's, byte for byte, after the prefix on a line of its own
    # (with it, the first line of words would be 80 characters long)
    assert field.raw == b"Subject: [EXT]\r\n " + before.raw[len(b"Subject: ") :]


def test_a_long_first_line_is_folded_after_the_prefix() -> None:
    words = b" ".join([b"=?utf-8?q?caf=C3=A9?="] * 3)  # 65 characters: 9 + 6 + 65 > 78
    subject = b"Subject: " + b"\r\n ".join([words] * 300) + b"\r\n"
    data = _NO_SUBJECT + subject + b"\r\nhello\r\n"
    out = Editor(data).rewrite_subject(prefix="[EXT] ").result().data
    field = parse(out).header("subject")
    assert field is not None
    assert field.raw.startswith(b"Subject: [EXT]\r\n " + words + b"\r\n ")
    assert max(map(len, field.raw.split(b"\r\n"))) <= 78


# -- batches of encoded-words checked with bytes passes ----------------------------------------

_BATCH_WORDS = {
    "q": [
        "=?utf-8?q?caf=C3=A9?=",
        "=?utf-8?q??=",
        "=?utf-8?q?a_b?=",
        "=?utf-8?q?=3D?=",
        "=?utf-8?q?" + "a" * 58 + "?=",  # 70 characters
        "=?utf-8?q?" + "a" * 59 + "?=",  # 71
        "=?utf-8?q?" + "a" * 63 + "?=",  # 75: the longest allowed
        "=?utf-8?q?" + "a" * 64 + "?=",  # 76: one too long
        "=?utf-8?q?=ZZ?=",
        "=?utf-8?q?a=?=",
        "=?utf-8?q?==41?=",
        "=?utf-8?q?=4?=",
        "=?utf-8?q?a?b?=",
        "=?UTF-8?q?x?=",
        "=?utf-8?Q?x?=",
        "=?utf-8?b?eA==?=",
        "plain",
        "=",
        "?=",
        "\x01",
        "\x03\x04\x05",
        "=?utf-8?q?\x01\x03?=",
    ],
    "b": [
        "=?utf-8?b?Y2Fm?=",
        "=?utf-8?b??=",
        "=?utf-8?b?Y2E?=",
        "=?utf-8?b?Y2E=?=",
        "=?utf-8?b?w6k=?=",
        "=?utf-8?b?Y2Fm*ZQ==?=",
        "=?utf-8?b?" + "QUJD" * 16 + "?=",  # 76: one too long
        "=?utf-8?b?" + "QUJD" * 15 + "?=",
        "=?utf-8?B?Y2Fm?=",
        "=?utf-8?q?x?=",
        "x",
        "=?utf-8?b?Y2Fm?=x",
    ],
}


@st.composite
def _regions(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from("qb"))
    words = draw(st.lists(st.sampled_from(_BATCH_WORDS[kind]), min_size=1, max_size=8))
    seps = draw(st.lists(st.sampled_from([" ", "\r\n ", "\t", "", " x "]), min_size=len(words)))
    first = "=?utf-8?" + kind + "?a?="  # the word the batch follows
    body = "".join(sep + w for sep, w in zip(seps, words, strict=False))
    return first + body + " ", kind


@settings(max_examples=500)
@given(_regions())
def test_bulk_batch_is_the_batch_regex(region: tuple[str, str]) -> None:
    """Where the bytes passes accept a stretch, the regex of a batch reads the same words
    to the same end and the same bytes; where that regex reads every word up to the
    last one, the passes accept it too (the fast path is taken, not just safe)."""
    value, kind = region
    start = value.index("?=") + 2
    stop, data = _rfc2047._bulk_batch(value, start, len(value), "utf-8", kind)
    pattern = _rfc2047._batch_pattern("utf-8", kind)
    assert pattern is not None
    found = pattern.match(value, start)
    last = value.rfind("?=") + 2
    if stop > 0:
        assert found is not None
        assert found.end() == stop == last
        assert data == _rfc2047._batch_bytes(found[0], "utf-8", kind)
    elif value.isascii():
        assert found is None or found.end() != last


def test_a_clean_stretch_of_a_million_words_is_one_bulk_batch() -> None:
    words = " " + " ".join(["=?utf-8?q?caf=C3=A9?="] * 1000) + " "
    value = "=?utf-8?q?a?=" + words
    start = value.index("?=") + 2
    stop, data = _rfc2047._bulk_batch(value, start, len(value), "utf-8", "q")
    assert stop == len(value) - 1
    assert data == "café".encode() * 1000


# -- long lines found by backward searches -------------------------------------------------------


def _first_over_reference(data: bytes, limit: int) -> int:
    """Lines split at LF, the CRs ending one belonging to its ending."""
    at = 0
    for line in data.split(b"\n"):
        if len(line.rstrip(b"\r")) > limit:
            return at
        at += len(line) + 1
    return -1


_LINE_BYTES = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"x"))


@given(
    lines=st.lists(st.tuples(_LINE_BYTES, st.sampled_from([b"\n", b"\r\n", b"\r", b""]))),
    limit=st.integers(0, 10),
    pad=st.integers(0, 3),
)
def test_first_line_over_is_the_line_by_line_reading(
    lines: list[tuple[bytes, bytes]], limit: int, pad: int
) -> None:
    data = b"\n" * pad + b"".join(line + eol for line, eol in lines)
    # the chunked search walks a buffer; the backward one answers for every offset
    assert first_line_over(data, 0, len(data), limit) == _first_over_reference(data, limit)
    assert _scan._lf_within(data, 0, len(data), limit) == all(
        len(piece) <= limit for piece in data.split(b"\n")
    )


@given(sizes=st.lists(st.sampled_from([0, 1, 997, 998, 999, 1000, 1001]), max_size=6))
def test_scan_finds_lines_over_998_octets_as_before(sizes: list[int]) -> None:
    data = b"".join(b"a" * n + b"\r\n" for n in sizes)
    stats = _scan.scan(data, 0, len(data))
    assert stats.long_line_count == sum(1 for n in sizes if n > 998)


# -- the look for a DKIM signature before any parse ---------------------------------------------

_HEADERISH = st.lists(
    st.sampled_from([b"\r", b"\n", b"\r\n", b"a", b":", b"DKIM-Signature:", b"dkim-signature :"])
).map(b"".join)


@settings(max_examples=1000)
@given(_HEADERISH)
def test_header_end_is_the_first_blank_line(buf: bytes) -> None:
    from mimeguard import _abnf, _dkim

    blank = _abnf.BLANK_LINE.search(buf)
    assert _dkim._header_end(buf) == (len(buf) if blank is None else blank.end())
    end = len(buf) if blank is None else blank.end()
    assert _dkim._signed(buf) == (_dkim._SIGNATURE_FIELD.search(buf, 0, end) is not None)


def test_a_signature_name_across_slices_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from mimeguard import _dkim

    monkeypatch.setattr(_dkim, "_SLICE", 8)
    for pad in range(10):
        buf = b"x" * pad + b"\r\nDKIM-Signature: v=1\r\n\r\nbody"
        assert _dkim._signed(buf)
        assert not _dkim._signed(b"x" * pad + b"\r\n\r\nDKIM-Signature: v=1\r\n")


_CASED = st.text(alphabet=st.sampled_from("aAΣσςİi\u0307 \t.[]EXText"), max_size=12)


@given(text=_CASED, head=_CASED)
def test_subject_prefix_test_lowers_only_the_start(text: str, head: str) -> None:
    head = head.strip().lower()
    assert _subject._starts(text, head) == text.lower().lstrip().startswith(head)
    assert _subject._ends(text, head) == text.lower().rstrip().endswith(head)


@given(st.lists(st.sampled_from([b"a", b" ", b"\r", b"\n", b"\xc3", b"\xa9", b"\x1c", b":"])))
def test_field_value_is_the_unfolded_lenient_text(pieces: list[bytes]) -> None:
    line = b"Subject:" + b"".join(pieces)
    value = line[line.find(b":") + 1 :].decode("utf-8", "replace")
    assert _writer.field_value(line) == re.sub(r"\r\n|\n|\r", "", value).strip()


# -- the pipeline of issue 16 on its worst cases, fast paths against slow ------------------------


def _slow_pipeline(data: bytes, limits: Limits) -> bytes:
    from benchmarks.adversarial import pipeline

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_disclaimer, "_spliceable", lambda part, codec: False)
        mp.setattr(_subject, "_prefixed", lambda buf, start, end, prefix: None)
        return pipeline(data, limits)


@pytest.mark.parametrize("case", ["near_boundary", "encoded_words"])
def test_the_worst_cases_pipeline_means_what_the_slow_paths_write(case: str) -> None:
    from benchmarks import adversarial

    build = getattr(adversarial, case)
    limits = adversarial.WIDE_HEADERS if case == "encoded_words" else DEFAULT_LIMITS
    data = build(0.002)
    fast, slow = adversarial.pipeline(data, limits), _slow_pipeline(data, limits)
    out, ref = parse(fast, limits=limits), parse(slow, limits=limits)
    assert out.header("subject").decoded == ref.header("subject").decoded  # type: ignore[union-attr]
    assert [p.text() for p in out.walk() if not p.children] == [
        p.text() for p in ref.walk() if not p.children
    ]
    if case == "near_boundary":
        assert fast == slow  # the spliced body is the decoded one, byte for byte
    else:  # the words are the input's (the encoded path writes the last ones in Q)
        words = data[data.index(b"Subject: ") + 9 : data.index(b"\r\n\r\n")]
        assert words in fast
        assert words not in slow
    assert validate(fast, profile="rfc", limits=limits).ok


# -- the integrity check reads a spliced text where it lies --------------------------------------

_PIECES = st.lists(st.sampled_from([b"a", b"b", b"\r\n", b"\n", b"\r", b"\xe9", b"x" * 5]))
_CTES = st.sampled_from([b"7bit", b"8bit", b"binary", b"quoted-printable"])


def _kept_reference(before: Part, after: Part) -> bool:
    """What _text_kept computed before it read spans: the decoded bodies, CRLF'd."""
    old, new = crlf(before.decoded()), crlf(after.decoded())
    if len(new) < len(old):
        return False
    head = _conservation._common_prefix(old, new)
    return head == len(old) or old[head:] == new[len(new) - (len(old) - head) :]


@settings(max_examples=1000)
@given(
    old=_PIECES.map(b"".join),
    new=_PIECES.map(b"".join),
    cut=st.integers(0, 40),
    ctes=st.tuples(_CTES, _CTES),
)
def test_text_kept_over_spans_is_the_decoded_comparison(
    old: bytes, new: bytes, cut: int, ctes: tuple[bytes, bytes]
) -> None:
    head = b"From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
    cut = min(cut, len(old))
    for body in (old[:cut] + new + old[cut:], new):  # an insertion, and anything else
        a = parse(head + b"Content-Transfer-Encoding: " + ctes[0] + b"\r\n\r\n" + old)
        b = parse(head + b"Content-Transfer-Encoding: " + ctes[1] + b"\r\n\r\n" + body)
        assert _conservation._text_kept(a, b) == _kept_reference(a, b)
