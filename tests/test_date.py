"""Tests for mimeguard._date (RFC 5322 section 3.3 and obsolete 4.3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mimeguard._date import format_date, parse_date, received_date
from mimeguard._problem import Problem

SETTINGS = settings(max_examples=200, deadline=None)


def tz(hours: int = 0, minutes: int = 0) -> timezone:
    return timezone(timedelta(hours=hours, minutes=minutes))


def found(problems: list[Problem]) -> list[tuple[int, str]]:
    assert all(p.name == "invalid-date" for p in problems)
    return [(p.offset, p.message) for p in problems]


# -- valid: RFC 5322 Appendix A and the obsolete forms ----------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # A.1.1, A.1.2, A.1.3, A.2, A.3
        ("Fri, 21 Nov 1997 09:55:06 -0600", datetime(1997, 11, 21, 9, 55, 6, tzinfo=tz(-6))),
        ("Tue, 1 Jul 2003 10:52:37 +0200", datetime(2003, 7, 1, 10, 52, 37, tzinfo=tz(2))),
        ("Thu, 13 Feb 1969 23:32:54 -0330", datetime(1969, 2, 13, 23, 32, 54, tzinfo=tz(-3, -30))),
        ("Fri, 21 Nov 1997 10:01:10 -0600", datetime(1997, 11, 21, 10, 1, 10, tzinfo=tz(-6))),
        ("Mon, 24 Nov 1997 14:22:01 -0800", datetime(1997, 11, 24, 14, 22, 1, tzinfo=tz(-8))),
        # A.4 (the dates of the Received fields)
        ("21 Nov 1997 10:05:43 -0600", datetime(1997, 11, 21, 10, 5, 43, tzinfo=tz(-6))),
        # A.5, unfolded, with a comment
        (
            "Thu,      13        Feb          1969      23:32"
            "               -0330 (Newfoundland Time)",
            datetime(1969, 2, 13, 23, 32, tzinfo=tz(-3, -30)),
        ),
        # A.6.2 obsolete dates: two-digit year, GMT
        ("21 Nov 97 09:55:06 GMT", datetime(1997, 11, 21, 9, 55, 6, tzinfo=UTC)),
        # A.6.3 obsolete white space and comments
        (
            "Fri, 21 Nov 1997 09(comment):   55  :  06 -0600",
            datetime(1997, 11, 21, 9, 55, 6, tzinfo=tz(-6)),
        ),
        # other valid forms
        ("Fri, 21 Nov 1997 09:55:06 +0000", datetime(1997, 11, 21, 9, 55, 6, tzinfo=UTC)),
        ("Fri, 21 Nov 1997 09:55:06 -0000", datetime(1997, 11, 21, 9, 55, 6, tzinfo=UTC)),
        ("fri, 21 nov 1997 09:55:06 -0600", datetime(1997, 11, 21, 9, 55, 6, tzinfo=tz(-6))),
        ("FRI, 21 NOV 1997 09:55 -0600", datetime(1997, 11, 21, 9, 55, tzinfo=tz(-6))),
        ("Fri,21 Nov 1997 09:55:06 +0545", datetime(1997, 11, 21, 9, 55, 6, tzinfo=tz(5, 45))),
        ("01 Jan 2000 00:00:00 +2359", datetime(2000, 1, 1, tzinfo=tz(23, 59))),
        ("21 Nov 097 09:55:06 UT", datetime(1997, 11, 21, 9, 55, 6, tzinfo=UTC)),
        ("1 Jan 49 00:00 +0000", datetime(2049, 1, 1, tzinfo=UTC)),
        ("1 Jan 50 00:00 +0000", datetime(1950, 1, 1, tzinfo=UTC)),
        ("1 Jan 00 00:00 +0000", datetime(2000, 1, 1, tzinfo=UTC)),
        ("1 Jan 100 00:00 +0000", datetime(2000, 1, 1, tzinfo=UTC)),
        (
            "(c) Sat (c) , (c) 1 (c) Jan (c) 2000 (c) 00 : 00 : 00 (c) +0000 (c)",
            datetime(2000, 1, 1, tzinfo=UTC),
        ),
        ("Sat, 31 Dec 2016 23:59:60 +0000", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("29 Feb 2024 12:00:00 +0100", datetime(2024, 2, 29, 12, tzinfo=tz(1))),
        ("1 Jan 1900 00:00:00 +0000", datetime(1900, 1, 1, tzinfo=UTC)),
        ("31 Dec 9999 23:59:59 +0000", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_valid_date(value: str, expected: datetime) -> None:
    dt, problems = parse_date(value)
    assert problems == []
    assert dt == expected
    assert dt is not None
    assert dt.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("zone", "hours"),
    [("UT", 0), ("GMT", 0), ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5),
     ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7), ("pst", -8)],
)  # fmt: skip
def test_obsolete_zone_names(zone: str, hours: int) -> None:
    assert parse_date(f"Mon, 1 Jan 2024 10:00:00 {zone}") == (
        datetime(2024, 1, 1, 10, tzinfo=tz(hours)),
        [],
    )


@pytest.mark.parametrize("letter", [*"ABCDEFGHIKLMNOPQRSTUVWXYZ", "z", "a"])
def test_military_zones_read_as_minus_0000(letter: str) -> None:
    # RFC 5322 section 4.3: their meaning is unreliable, so they read as -0000
    assert parse_date(f"Mon, 1 Jan 2024 10:00:00 {letter}") == (
        datetime(2024, 1, 1, 10, tzinfo=UTC),
        [],
    )


# -- defects --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "problems"),
    [
        # fields out of range: no such moment
        ("Sat, 31 Feb 2024 10:00:00 +0000", None, [(5, "day 31 does not exist in Feb 2024")]),
        ("29 Feb 2023 10:00:00 +0000", None, [(0, "day 29 does not exist in Feb 2023")]),
        ("0 Jan 2024 10:00:00 +0000", None, [(0, "day 0 does not exist in Jan 2024")]),
        ("Mon, 1 Jan 2024 24:00:00 +0000", None, [(16, "hour 24 is above 23")]),
        ("Mon, 1 Jan 2024 10:60:00 +0000", None, [(16, "minute 60 is above 59")]),
        ("Mon, 1 Jan 2024 10:00:61 +0000", None, [(16, "second 61 is above 60")]),
        # zone out of range: read as UTC
        (
            "Mon, 1 Jan 2024 10:00:00 +0060",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(25, "zone +0060 has minutes above 59")],
        ),
        (
            "Mon, 1 Jan 2024 10:00:00 -9900",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(25, "zone -9900 has hours above 23")],
        ),
        # day of week
        (
            "Fri, 1 Jan 2024 10:00:00 +0000",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(0, "day of week Fri does not match the date (a Mon)")],
        ),
        (
            "Mon 1 Jan 2024 10:00:00 +0000",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(0, "missing ',' after the day of week")],
        ),
        (
            "Monday, 1 Jan 2024 10:00:00 +0000",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(0, "day of week 'Monday' must be abbreviated")],
        ),
        # year before 1900
        (
            "1 Jan 1850 10:00:00 +0000",
            datetime(1850, 1, 1, 10, tzinfo=UTC),
            [(0, "year 1850 is before 1900")],
        ),
        ("1 Jan 0000 10:00:00 +0000", None, [(0, "year 0 is out of range")]),
        # zone
        (
            "Mon, 1 Jan 2024 10:00:00",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(22, "missing time zone; read as UTC")],
        ),
        (
            "Mon, 1 Jan 2024 10:00:00 UTC",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(25, "time zone 'UTC' is not an RFC 5322 zone; read as UTC")],
        ),
        (
            "Mon, 1 Jan 2024 10:00:00 CET",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(25, "time zone 'CET' is not an RFC 5322 zone; read as UTC")],
        ),
        (
            "Mon, 1 Jan 2024 10:00:00 J",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(25, "time zone 'J' is not an RFC 5322 zone; read as UTC")],
        ),
        # other slips of form
        (
            "Mon, 1 January 2024 10:00:00 +0000",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(7, "month 'January' must be a three-letter abbreviation")],
        ),
        (
            "Mon, 1 Jan 2024 9:05:00 +0000",
            datetime(2024, 1, 1, 9, 5, tzinfo=UTC),
            [(16, "time field '9' must have two digits")],
        ),
        (
            "Mon, 1 Jan 2024 10:00:00 +0000 GMT",
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(31, "unexpected text after the date")],
        ),
        # ISO 8601
        (
            "2024-01-02T03:04:05Z",
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            [(0, "date is in ISO 8601 form, not RFC 5322 form")],
        ),
        (
            "2024-01-02 03:04:05.123+01:00",
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz(1)),
            [(0, "date is in ISO 8601 form, not RFC 5322 form")],
        ),
        (
            "2024-01-02T03:04-0500",
            datetime(2024, 1, 2, 3, 4, tzinfo=tz(-5)),
            [(0, "date is in ISO 8601 form, not RFC 5322 form")],
        ),
        (
            "2024-01-02T03:04:05",
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            [
                (0, "date is in ISO 8601 form, not RFC 5322 form"),
                (17, "missing time zone; read as UTC"),
            ],
        ),
        (
            "2024-01-02",
            datetime(2024, 1, 2, tzinfo=UTC),
            [
                (0, "date is in ISO 8601 form, not RFC 5322 form"),
                (0, "date has no time of day; read as 00:00"),
                (8, "missing time zone; read as UTC"),
            ],
        ),
        (
            "2024-13-02T03:04:05Z",
            None,
            [(0, "date is in ISO 8601 form, not RFC 5322 form"), (8, "month 13 is out of range")],
        ),
        # other shapes, read leniently
        (
            "Fri Nov 21 09:55:06 1997",
            datetime(1997, 11, 21, 9, 55, 6, tzinfo=UTC),
            [(0, "date is not in RFC 5322 form"), (20, "missing time zone; read as UTC")],
        ),
        (
            "Fri Nov 21 09:55:06 PST 1997",
            datetime(1997, 11, 21, 9, 55, 6, tzinfo=tz(-8)),
            [(0, "date is not in RFC 5322 form")],
        ),
        (
            "21-Nov-1997 09:55:06 -0600",
            datetime(1997, 11, 21, 9, 55, 6, tzinfo=tz(-6)),
            [(0, "date is not in RFC 5322 form")],
        ),
        (
            "November 21, 1997 9:55 PM +0000",
            datetime(1997, 11, 21, 21, 55, tzinfo=UTC),
            [(0, "date is not in RFC 5322 form")],
        ),
        # unreadable
        ("yesterday at noon", None, [(0, "cannot read a date in 'yesterday at noon'")]),
        ("21 Nov 1997", None, [(0, "cannot read a date in '21 Nov 1997'")]),
        ("", None, [(0, "date is empty")]),
        ("   ", None, [(0, "date is empty")]),
        ("(just a comment)", None, [(0, "date is empty")]),
        (
            "(unclosed 1 Jan 2024 10:00 +0000",
            None,
            [(0, "unbalanced parentheses: a comment is not closed"), (0, "date is empty")],
        ),
        (
            "1 Jan 2024 10:00 +0000 " + "(" * 65 + ")" * 65,
            datetime(2024, 1, 1, 10, tzinfo=UTC),
            [(87, "comments are nested more than 64 deep")],
        ),
    ],
)
def test_defect(value: str, expected: datetime | None, problems: list[tuple[int, str]]) -> None:
    dt, found_problems = parse_date(value)
    assert found(found_problems) == problems
    assert dt == expected
    if expected is not None:
        assert dt is not None
        assert dt.utcoffset() == expected.utcoffset()


# -- format_date and received_date ----------------------------------------------


def test_format_date() -> None:
    assert format_date(datetime(2026, 11, 23, 19, 29, 49, tzinfo=UTC)) == (
        "Mon, 23 Nov 2026 19:29:49 +0000"
    )
    assert format_date(datetime(2003, 7, 1, 10, 52, 37, 999, tzinfo=tz(2))) == (
        "Tue, 01 Jul 2003 10:52:37 +0200"
    )
    assert format_date(datetime(1969, 2, 13, 23, 32, 54, tzinfo=tz(-3, -30))) == (
        "Thu, 13 Feb 1969 23:32:54 -0330"
    )
    # naive: taken as UTC
    assert format_date(datetime(2024, 1, 1)) == "Mon, 01 Jan 2024 00:00:00 +0000"
    # an offset with seconds cannot be written: converted to UTC
    odd = timezone(timedelta(minutes=10, seconds=30))
    assert format_date(datetime(2024, 1, 1, 0, 10, 30, tzinfo=odd)) == (
        "Mon, 01 Jan 2024 00:00:00 +0000"
    )


def test_received_date() -> None:
    # RFC 5322 Appendix A.4
    value = (
        "from x.y.test   by example.net   via TCP   with ESMTP   id ABC12345"
        "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600"
    )
    assert received_date(value) == datetime(1997, 11, 21, 10, 5, 43, tzinfo=tz(-6))
    value = "from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600"
    assert received_date(value) == datetime(1997, 11, 21, 10, 1, 22, tzinfo=tz(-6))
    value = "from a (b; c) by d; Tue, 1 Jul 2003 10:52:37 +0200"
    assert received_date(value) == datetime(2003, 7, 1, 10, 52, 37, tzinfo=tz(2))
    assert received_date("from a by b") is None
    assert received_date("from a by b; garbage") is None
    assert received_date("") is None


# -- pathological input: linear time ------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "(" * 100_000,
        "," * 100_000,
        "<" * 100_000,
        '"' * 100_001,
        "1" * 1_000_000,
        "1 " * 500_000,
        "1:" * 500_000,
        "Jan " * 250_000,
        "-" * 1_000_000,
    ],
    ids=lambda v: f"{v[:3]!r}*{len(v)}",
)
def test_pathological_input_completes(value: str) -> None:
    dt, problems = parse_date(value)
    assert dt is None
    assert problems
    assert received_date(";" + value) is None


# -- properties -----------------------------------------------------------------

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
NAMED_ZONES = {"UT": 0, "GMT": 0, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
               "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "Z": 0, "A": 0}  # fmt: skip

#: CFWS between elements: white space or a comment (section 3.2.2)
separators = st.sampled_from([" ", "  ", "\t", " (c) ", "(x(y))", " (a\\)b) "])
maybe = st.sampled_from(["", " ", "(c)"])
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1)
case: st.SearchStrategy[Callable[[str], str]] = st.sampled_from([str, str.lower, str.upper])


@st.composite
def rfc_dates(draw: st.DrawFn) -> tuple[str, datetime]:
    """A date-time from the grammar of sections 3.3 and 4.3, and what it means."""
    when = draw(st.datetimes(datetime(1900, 1, 1), datetime(9999, 12, 31, 23, 59, 59)))
    when = when.replace(microsecond=0)
    seconds = draw(st.booleans())
    if not seconds:
        when = when.replace(second=0)
    if draw(st.booleans()):
        minutes = draw(offsets)
        sign = "-" if minutes < 0 else "+"
        zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    else:
        zone = draw(st.sampled_from(sorted(NAMED_ZONES)))
        minutes = NAMED_ZONES[zone]
        zone = draw(case)(zone)
    year = f"{when.year:04d}"
    if 1950 <= when.year <= 2049 and draw(st.booleans()):
        year = year[2:]
    elif when.year <= 2899 and draw(st.booleans()):
        year = f"{when.year - 1900:03d}"
    day = draw(st.sampled_from([str(when.day), f"{when.day:02d}"]))

    def sep() -> str:
        return draw(separators)

    text = ""
    if draw(st.booleans()):
        text = draw(case)(DAYS[when.weekday()]) + draw(maybe) + "," + draw(maybe)
    text += f"{day}{sep()}{draw(case)(MONTHS[when.month - 1])}{sep()}{year}{sep()}"
    text += f"{when.hour:02d}{draw(maybe)}:{draw(maybe)}{when.minute:02d}"
    if seconds:
        text += f"{draw(maybe)}:{draw(maybe)}{when.second:02d}"
    text = draw(maybe) + text + sep() + zone + draw(maybe)
    return text, when.replace(tzinfo=timezone(timedelta(minutes=minutes)))


@SETTINGS
@given(st.text())
def test_never_raises(value: str) -> None:
    dt, problems = parse_date(value)
    assert dt is None or dt.tzinfo is not None
    assert all(0 <= p.offset <= len(value) for p in problems)
    received_date(value)


@SETTINGS
@given(st.text("0123456789 :+-,()TZJanFebMonUTC", max_size=40))
def test_never_raises_on_date_like_text(value: str) -> None:
    dt, problems = parse_date(value)
    assert dt is not None or problems


@SETTINGS
@given(rfc_dates())
def test_generated_date_is_valid(case: tuple[str, datetime]) -> None:
    text, expected = case
    dt, problems = parse_date(text)
    assert problems == []
    assert dt == expected
    assert dt is not None
    assert dt.utcoffset() == expected.utcoffset()


@SETTINGS
@given(
    st.datetimes(datetime(1900, 1, 1), datetime(9999, 12, 31, 23, 59, 59)),
    offsets.map(lambda m: timezone(timedelta(minutes=m))),
)
def test_format_parse_round_trip(when: datetime, zone: timezone) -> None:
    dt = when.replace(microsecond=0, tzinfo=zone)
    parsed, problems = parse_date(format_date(dt))
    assert problems == []
    assert parsed == dt
    assert parsed is not None
    assert parsed.utcoffset() == dt.utcoffset()
