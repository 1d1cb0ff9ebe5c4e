"""The one-match fast paths for common dates, message identifiers and address lists
give exactly what the full readers give, or step aside."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import _address, _attachments, _date, _msgid
from mimeguard import strategies as ms

from .conftest import corpus_files

NEVER = re.compile(r"(?!)")


def _slow_date(value: str) -> Any:
    fast, _date._CANONICAL = _date._CANONICAL, NEVER  # type: ignore[misc]
    try:
        return _date.parse_date(value)
    finally:
        _date._CANONICAL = fast  # type: ignore[misc]


def _slow_ids(value: str) -> Any:
    one, many = _msgid._SIMPLE_ID, _msgid._SIMPLE_IDS
    _msgid._SIMPLE_ID = _msgid._SIMPLE_IDS = NEVER
    try:
        return _msgid.parse_msg_id(value), _msgid.parse_msg_id_list(value)
    finally:
        _msgid._SIMPLE_ID, _msgid._SIMPLE_IDS = one, many


def _slow_addresses(value: str) -> Any:
    return (
        _address._parse(value, groups_allowed=True, allow_empty=False).result(),
        _address._parse(value, groups_allowed=False, allow_empty=False).result(),
    )


def check_date(value: str) -> bool:
    fast = _date._fast_date(value)
    if fast is not None:
        assert (fast, []) == _slow_date(value), value
        assert fast.tzinfo == _slow_date(value)[0].tzinfo
    return fast is not None


def check_ids(value: str) -> bool:
    fast = (_msgid.parse_msg_id(value), _msgid.parse_msg_id_list(value))
    assert fast == _slow_ids(value), value
    return _msgid._SIMPLE_IDS.fullmatch(value) is not None


def check_addresses(value: str) -> bool:
    fast = _address._fast(value)
    if fast is not None:
        full, mailboxes = _slow_addresses(value)
        assert fast == full == mailboxes, value
    return fast is not None


_PIECES = st.sampled_from(
    ["a", "b.c", "x", "@", "<", ">", ",", " ", "\t", '"', ".", "(", ")", "=?", "é", ":", ";", "\\"]
)


def _near(pattern: str) -> st.SearchStrategy[str]:
    """Strings the fast pattern matches, and the same with a few pieces spliced in."""
    base = st.from_regex(pattern, fullmatch=True)

    @st.composite
    def spliced(draw: st.DrawFn) -> str:
        text = draw(base)
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(_PIECES) + text[at:]
        return text

    return spliced()


@given(st.one_of(_near(_date._CANONICAL.pattern), ms.dates(), st.text(max_size=40)))
def test_fast_dates_equal_the_full_reader(value: str) -> None:
    check_date(value)


def test_fast_date_steps_aside_for_what_the_full_reader_reports() -> None:
    for value in [
        "Mon, 24 Nov 2026 10:00:00 +0000",  # wrong day of week
        "Mon, 31 Feb 2026 10:00:00 +0000",
        "Mon, 23 Nov 1899 10:00:00 +0000",
        "Mon, 23 Nov 2026 24:00:00 +0000",
        "Mon, 23 Nov 2026 10:00:00 +0060",
        "Mon, 23 Nov 2026 10:00:00 +2400",
        "Mon, 23 Nov 2026 10:00:0١ +0000",  # an Arabic-Indic digit
    ]:
        assert _date._fast_date(value) is None
        assert _date.parse_date(value)[1], value
    assert _date._fast_date("Mon, 23 Nov 2026 10:00:60 +0000") is None  # a leap second
    assert check_date("Mon, 23 Nov 2026 10:00:00 +0000")
    assert check_date("23 Nov 2026 10:00 -0130")


_ID = r"[a-z0-9.$-]{1,8}@[a-z.]{1,8}"


@given(
    st.one_of(
        _near(_msgid._SIMPLE_IDS.pattern),
        _near(rf"<{_ID}>( +<{_ID}>)*"),
        st.text(max_size=40),
    )
)
def test_fast_message_ids_equal_the_full_reader(value: str) -> None:
    check_ids(value)


_BOX = (
    r'([a-zA-Z]{1,5}( [a-zA-Z]{1,5})? |"[a-z ,.]{0,6}" )?<[a-z.]{1,6}@[a-z.]{1,6}>'
    r"|[a-z.]{1,6}@[a-z.]{1,6}"
)


@given(
    st.one_of(
        _near(rf"({_BOX})(, ?({_BOX}))*"),
        _near(_address._FAST_MAILBOX.pattern),
        ms.addresses().map(lambda a: a if isinstance(a, str) else str(a)),
        st.text(max_size=40),
    )
)
def test_fast_address_lists_equal_the_full_parser(value: str) -> None:
    check_addresses(value)


def _corpus_values() -> Iterator[tuple[str, str]]:
    for path in corpus_files():
        msg = mimeguard.parse(path.read_bytes())
        for part in msg.walk():
            for f in part.headers:
                yield f.lname, f.value


@pytest.mark.skipif(not corpus_files(), reason="../shared/corpus is not present")
def test_fast_paths_agree_on_the_corpus() -> None:
    checks: dict[str, Callable[[str], bool]] = {
        "date": check_date,
        "message-id": check_ids,
        "references": check_ids,
        "in-reply-to": check_ids,
        "from": check_addresses,
        "to": check_addresses,
        "cc": check_addresses,
    }
    used = seen = 0
    for name, value in _corpus_values():
        check = checks.get(name)
        if check is not None:
            seen += 1
            used += check(value)
    assert seen > 500
    assert used > seen // 2  # the common shapes are the common case


def _slow_may_have_name(part: mimeguard.Part) -> bool:
    small, _attachments._SMALL_BLOCK = _attachments._SMALL_BLOCK, -1
    try:
        return _attachments._may_have_name(part)
    finally:
        _attachments._SMALL_BLOCK = small


_NAMEISH = st.sampled_from(
    [
        b"Content-Type: application/pdf; name=a.pdf",
        b"Content-Type: text/plain; charset=us-ascii",
        b'Content-Disposition: attachment; fileNAME*0="a"',
        b"Content-Disposition: inline",
        b"CONTENT-LOCATION: http://example.com/a.exe",
        b"Content-Location:",
        b"X-Name: not a file name",
        b"Subject: the filename is in the subject",
        b"Content-Type: image/png;\r\n name=x.png",
        b"Content-Transfer-Encoding: x-uuencode",
        b"content-type: text/plain; NaMe=\xe9.txt",
        b" continued name",
        b"no colon at all name",
    ]
)


@given(st.lists(_NAMEISH, max_size=6), st.booleans())
def test_the_name_prefilter_equals_reading_every_field(lines: list[bytes], multipart: bool) -> None:
    head = b"\r\n".join(lines) + b"\r\n\r\nbody\r\n"
    data = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' + head + b"--b--\r\n"
        if multipart
        else head
    )
    for part in mimeguard.parse(data).walk():
        assert _attachments._may_have_name(part) == _slow_may_have_name(part)


@pytest.mark.skipif(not corpus_files(), reason="../shared/corpus is not present")
def test_the_name_prefilter_agrees_on_the_corpus() -> None:
    for path in corpus_files():
        for part in mimeguard.parse(path.read_bytes()).walk():
            assert _attachments._may_have_name(part) == _slow_may_have_name(part), path
