"""Date and time values (RFC 5322 section 3.3, obsolete forms section 4.3).

``date-time = [day-of-week ","] date time [CFWS]`` with ``date = day month
year`` and ``time = time-of-day zone``.  The obsolete forms of section 4.3 are
valid to receive and are not reported: CFWS between every element, two- and
three-digit years, and the alphabetic zones (UT, GMT, the US zones and the
military letters).

Reading is lenient and reporting strict: a date in another common shape
(ISO 8601, asctime, full month names, no zone) is still returned, with a
problem.  The value is cut into tokens once, so time is linear in its length.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, NamedTuple

from ._address import snippet
from ._problem import Problem
from ._tokens import scan_comment

__all__ = ["format_date", "parse_date", "received_date"]

RULE: Final = "invalid-date"

_DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_DAYS: Final = {name.lower(): k for k, name in enumerate(_DAY_NAMES)}
# Spelled out rather than taken from calendar.day_name, which follows the locale.
_FULL_DAYS: Final = {
    name: k
    for k, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_MONTHS: Final = {name.lower(): k + 1 for k, name in enumerate(_MONTH_NAMES)}
_FULL_MONTHS: Final = {
    name: k + 1
    for k, name in enumerate(
        ("january", "february", "march", "april", "may", "june", "july",
         "august", "september", "october", "november", "december")
    )
}  # fmt: skip

#: obs-zone (RFC 5322 section 4.3) names with a known offset, in minutes east of UTC.
_ZONES: Final = {
    "ut": 0, "gmt": 0,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300,
    "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
}  # fmt: skip

#: One token: a run of ASCII digits (unlike str.isdigit, no other scripts' digits),
#: a run of ASCII letters, or white space.  Each alternative is one repeated
#: character class, so nothing can backtrack.
_TOKEN: Final = re.compile(r"(?P<num>[0-9]+)|(?P<word>[A-Za-z]+)|(?P<wsp>[ \t\r\n]+)")
_MAX_TOKENS: Final = 40


class _Tok(NamedTuple):
    kind: str  # "num", "word" or "punct" (any other single character)
    text: str
    start: int
    space: bool  # white space or a comment came right before it


class _Fields(NamedTuple):
    """A date as read, before range checks; offsets point at the fields for problems."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    zone: int  # minutes east of UTC
    dow: int | None  # day of week as written, Monday = 0
    day_at: int
    time_at: int
    dow_at: int


def _tokenize(value: str, problems: list[Problem]) -> list[_Tok]:
    """Digits, letters and single characters; CFWS (section 3.2.2) is dropped.

    Stops after :data:`_MAX_TOKENS` tokens: a date-time has at most about 17,
    so the rest can only be reported as trailing text, and a megabyte of
    garbage costs no more than a short value.
    """
    tokens: list[_Tok] = []
    n = len(value)
    i = 0
    space = False
    while i < n and len(tokens) < _MAX_TOKENS:
        c = value[i]
        if c == "(":
            i = scan_comment(value, i, RULE, problems)
            space = True
            continue
        match = _TOKEN.match(value, i)
        if match is None:
            tokens.append(_Tok("punct", c, i, space))
            i += 1
        elif match.lastgroup == "wsp":
            i = match.end()
            space = True
            continue
        else:
            tokens.append(_Tok(match.lastgroup or "", match.group(), i, space))
            i = match.end()
        space = False
    return tokens


def _zone_name(name: str) -> tuple[int, bool] | None:
    """Read an alphabetic zone: (minutes east, valid per obs-zone), or None.

    RFC 5322 section 4.3: the military letters and unknown names carry no
    reliable offset and are read as "-0000" (UTC).
    """
    word = name.lower()
    if word in _ZONES:
        return _ZONES[word], True
    if len(word) == 1:
        return 0, word != "j"  # "J" is not a zone letter
    if len(word) <= 5:
        return 0, False  # "UTC", "CET", ...: not in the grammar
    return None


def _numeric_zone(sign: str, digits: str, at: int, problems: list[Problem]) -> int:
    """``zone = ("+" / "-") 4DIGIT`` (section 3.3), as minutes east of UTC."""
    hours, minutes = int(digits[:2]), int(digits[2:])
    if minutes > 59:
        problems.append(Problem(RULE, f"zone {sign}{digits} has minutes above 59", at))
        return 0
    if hours > 23:  # a datetime cannot hold it, and no place on earth uses it
        problems.append(Problem(RULE, f"zone {sign}{digits} has hours above 23", at))
        return 0
    total = hours * 60 + minutes
    return -total if sign == "-" else total


def _year(text: str) -> int:
    """``year`` (section 3.3) with obs-year (4.3): 2 digits +1900/+2000, 3 digits +1900."""
    year = int(text)
    if len(text) == 2:
        return year + (1900 if year >= 50 else 2000)
    if len(text) == 3:
        return year + 1900
    return year


def _rfc5322(toks: list[_Tok]) -> tuple[_Fields, list[Problem]] | None:
    """Read ``date-time`` (section 3.3 with 4.3) in its fixed order; None if it is not.

    Small slips that keep the order (full names, one-digit hours, no zone,
    an unknown zone name, text after the date) are read and reported.
    """
    problems: list[Problem] = []
    n = len(toks)
    i = 0

    def tok(k: int, kind: str, max_len: int = 0) -> _Tok | None:
        if k < n and toks[k].kind == kind and (not max_len or len(toks[k].text) <= max_len):
            return toks[k]
        return None

    dow = None
    dow_at = 0
    first = toks[0]
    if first.kind == "word":
        name = first.text.lower()
        if name in _DAYS:
            dow = _DAYS[name]
        elif name in _FULL_DAYS:
            dow = _FULL_DAYS[name]
            problems.append(
                Problem(
                    RULE,
                    f"day of week {first.text!r} must be abbreviated",
                    first.start,
                    first.start + len(first.text),
                )
            )
        else:
            return None
        dow_at = first.start
        i = 1
        if comma := tok(i, "punct"):
            if comma.text != ",":
                return None
            i += 1
        else:
            problems.append(Problem(RULE, "missing ',' after the day of week", first.start))
    day = tok(i, "num", 2)
    month = tok(i + 1, "word")
    year = tok(i + 2, "num", 4)
    if not (day and month and year) or len(year.text) < 2:
        return None
    name = month.text.lower()
    if name in _MONTHS:
        month_number = _MONTHS[name]
    elif name in _FULL_MONTHS:
        month_number = _FULL_MONTHS[name]
        problems.append(
            Problem(
                RULE,
                f"month {month.text!r} must be a three-letter abbreviation",
                month.start,
                month.start + len(month.text),
            )
        )
    else:
        return None
    i += 3
    clock: list[int] = []
    time_at = toks[i].start if i < n else 0
    while len(clock) < 3:
        if clock:
            colon = tok(i, "punct")
            if not colon or colon.text != ":":
                break
            i += 1
        part = tok(i, "num", 2)
        if not part:
            return None
        if len(part.text) != 2:
            problems.append(
                Problem(
                    RULE,
                    f"time field {part.text!r} must have two digits",
                    part.start,
                    part.start + len(part.text),
                )
            )
        clock.append(int(part.text))
        i += 1
    if len(clock) < 2:
        return None
    zone = 0
    sign = tok(i, "punct")
    if i >= n:
        problems.append(Problem(RULE, "missing time zone; read as UTC", toks[-1].start))
    elif sign and sign.text in "+-":
        digits = tok(i + 1, "num")
        if not digits or len(digits.text) != 4 or digits.space:
            return None
        zone = _numeric_zone(sign.text, digits.text, sign.start, problems)
        i += 2
    elif (word := tok(i, "word")) and (named := _zone_name(word.text)):
        zone, known = named
        if not known:
            problems.append(
                Problem(
                    RULE,
                    f"time zone {word.text!r} is not an RFC 5322 zone; read as UTC",
                    word.start,
                    word.start + len(word.text),
                )
            )
        i += 1
    else:
        return None
    if i < n:
        problems.append(Problem(RULE, "unexpected text after the date", toks[i].start))
    fields = _Fields(
        _year(year.text), month_number, int(day.text), clock[0], clock[1],
        clock[2] if len(clock) > 2 else 0, zone, dow, day.start, time_at, dow_at,
    )  # fmt: skip
    return fields, problems


def _iso8601(toks: list[_Tok]) -> tuple[_Fields, list[Problem]] | None:
    """Read ``YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|(+|-)hh[:]mm]``; None if it is not."""
    problems = [Problem(RULE, "date is in ISO 8601 form, not RFC 5322 form", toks[0].start)]
    n = len(toks)

    def is_(k: int, kind: str, text: str | None = None, length: int = 0) -> bool:
        if k >= n or toks[k].kind != kind:
            return False
        if text is not None and toks[k].text.lower() != text:
            return False
        return not length or len(toks[k].text) == length

    if not (is_(1, "punct", "-") and is_(2, "num") and is_(3, "punct", "-") and is_(4, "num")):
        return None
    if len(toks[2].text) > 2 or len(toks[4].text) > 2:
        return None
    year, month, day = int(toks[0].text), int(toks[2].text), int(toks[4].text)
    i = 5
    clock = [0, 0, 0]
    time_at = toks[4].start
    if is_(i, "word", "t") or (is_(i, "num", length=2) and is_(i + 1, "punct", ":")):
        i += 1 if toks[i].kind == "word" else 0
        time_at = toks[i].start if i < n else time_at
        for k in range(3):
            if k and not (is_(i, "punct", ":") and is_(i + 1, "num", length=2)):
                if k == 1:
                    return None
                break
            i += 1 if k else 0
            if not is_(i, "num", length=2):
                return None
            clock[k] = int(toks[i].text)
            i += 1
        if is_(i, "punct", ".") and is_(i + 1, "num"):
            i += 2  # fraction of a second: dropped
    else:
        problems.append(Problem(RULE, "date has no time of day; read as 00:00", toks[0].start))
    zone: int | None = None
    if is_(i, "word", "z"):
        zone = 0
        i += 1
    elif is_(i, "punct") and toks[i].text in "+-" and is_(i + 1, "num"):
        sign, digits, at = toks[i].text, toks[i + 1].text, toks[i].start
        i += 2
        if len(digits) == 2 and is_(i, "punct", ":") and is_(i + 1, "num", length=2):
            digits += toks[i + 1].text
            i += 2
        if len(digits) != 4:
            return None
        zone = _numeric_zone(sign, digits, at, problems)
    if zone is None:
        problems.append(Problem(RULE, "missing time zone; read as UTC", toks[-1].start))
    if i < n:
        problems.append(Problem(RULE, "unexpected text after the date", toks[i].start))
    fields = _Fields(
        year, month, day, clock[0], clock[1], clock[2], zone or 0, None,
        toks[4].start, time_at, 0,
    )  # fmt: skip
    return fields, problems


def _lenient(toks: list[_Tok]) -> tuple[_Fields, list[Problem]] | None:
    """Pick day, month, year, time and zone out of any order (asctime, "21-Nov-1997", ...).

    Returns None unless a day, a month name, a year and a time of day were found.
    """
    problems = [Problem(RULE, "date is not in RFC 5322 form", toks[0].start)]
    n = len(toks)
    dow: int | None = None
    day = month = year = None
    clock: list[int] | None = None
    zone: int | None = None
    day_at = time_at = dow_at = 0
    i = 0
    while i < n:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < n else None
        if t.kind == "word":
            word = t.text.lower()
            if month is None and (word in _MONTHS or word in _FULL_MONTHS):
                month = _MONTHS.get(word) or _FULL_MONTHS[word]
            elif (
                dow is None
                and day is None
                and month is None
                and (word in _DAYS or word in _FULL_DAYS)
            ):
                dow = _DAYS[word] if word in _DAYS else _FULL_DAYS[word]
                dow_at = t.start
            elif clock is not None and word in ("am", "pm"):
                if clock[0] == 12:
                    clock[0] = 0
                if word == "pm" and clock[0] < 12:
                    clock[0] += 12
            elif clock is not None and zone is None and (named := _zone_name(t.text)):
                zone = named[0]
        elif t.kind == "num":
            digits = t.text
            if clock is None and len(digits) <= 2 and nxt and nxt.text == ":":
                # h:mm[:ss]: fields that are not 1-2 digits end the time
                clock = [int(digits)]
                time_at = t.start
                while len(clock) < 3 and i + 2 < n and toks[i + 1].text == ":":
                    part = toks[i + 2]
                    if part.kind != "num" or len(part.text) > 2:
                        break
                    clock.append(int(part.text))
                    i += 2
                if len(clock) < 2:
                    return None
            elif 3 <= len(digits) <= 4 and year is None:
                year = _year(digits)
            elif len(digits) <= 2 and day is None:
                day = int(digits)
                day_at = t.start
            elif len(digits) == 2 and year is None:
                year = _year(digits)
        elif (
            t.text in "+-"
            and zone is None
            and (clock is not None or year is not None)
            and nxt
            and nxt.kind == "num"
            and not nxt.space
        ):
            digits = nxt.text
            if len(digits) == 2 and i + 3 < n and toks[i + 2].text == ":":
                digits += toks[i + 3].text  # "+01:00"
                i += 2
            if len(digits) == 4 and digits.isdigit():
                zone = _numeric_zone(t.text, digits, t.start, problems)
                i += 1
        i += 1
    # A time of day is required too: without it, stray numbers and a month
    # name in any text would pass for a date.
    if day is None or month is None or year is None or clock is None:
        return None
    if zone is None:
        problems.append(Problem(RULE, "missing time zone; read as UTC", toks[-1].start))
    fields = _Fields(
        year, month, day, clock[0], clock[1], clock[2] if len(clock) > 2 else 0,
        zone or 0, dow, day_at, time_at, dow_at,
    )  # fmt: skip
    return fields, problems


def _build(f: _Fields, problems: list[Problem]) -> datetime | None:
    """Range-check the fields and make the datetime; None when no such moment exists."""
    if not 1 <= f.year <= 9999:
        problems.append(Problem(RULE, f"year {f.year} is out of range", f.day_at))
        return None
    if not 1 <= f.month <= 12:
        problems.append(Problem(RULE, f"month {f.month} is out of range", f.day_at))
        return None
    ok = True
    last_day = calendar.monthrange(f.year, f.month)[1]
    if not 1 <= f.day <= last_day:
        month = _MONTH_NAMES[f.month - 1]
        problems.append(Problem(RULE, f"day {f.day} does not exist in {month} {f.year}", f.day_at))
        ok = False
    for value, limit, name in (
        (f.hour, 23, "hour"),
        (f.minute, 59, "minute"),
        (f.second, 60, "second"),
    ):
        if value > limit:
            problems.append(Problem(RULE, f"{name} {value} is above {limit}", f.time_at))
            ok = False
    if not ok:
        return None
    tz = UTC if f.zone == 0 else timezone(timedelta(minutes=f.zone))
    # A leap second (":60", allowed by section 3.3) cannot be held by datetime.
    dt = datetime(f.year, f.month, f.day, f.hour, f.minute, min(f.second, 59), tzinfo=tz)
    if f.year < 1900:
        problems.append(Problem(RULE, f"year {f.year} is before 1900", f.day_at))
    if f.dow is not None and f.dow != dt.weekday():
        problems.append(
            Problem(
                RULE,
                f"day of week {_DAY_NAMES[f.dow]} does not match the date "
                f"(a {_DAY_NAMES[dt.weekday()]})",
                f.dow_at,
            )
        )
    return dt


#: The date-time nearly every message carries, "Mon, 23 Nov 2026 10:00:00 +0000", maybe
#: with a zone comment ("(PST)"): read
#: in one match (:func:`_fast_date`); anything else goes through the tokenizer.
_CANONICAL: Final = re.compile(
    r"[ \t]*(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun),[ \t]+)?([0-9][0-9]?)[ \t]+"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+([0-9]{4})[ \t]+"
    r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?[ \t]+([+-])([0-9]{2})([0-9]{2})"
    r"(?:[ \t]+\([A-Za-z0-9 +:-]*\))?[ \t]*"
)
_MONTH_NUMBERS: Final = {name: k + 1 for k, name in enumerate(_MONTH_NAMES)}
_DAY_NUMBERS: Final = {name: k for k, name in enumerate(_DAY_NAMES)}


def _fast_date(value: str) -> datetime | None:
    """``value`` as a datetime when it is a canonical, faultless RFC 5322 date-time;
    None leaves it to the full reader (which also says what is wrong)."""
    m = _CANONICAL.fullmatch(value)
    if m is None:
        return None
    dow, day, month, year, hour, minute, second, sign, zh, zm = m.groups()
    y, mo, d = int(year), _MONTH_NUMBERS[month], int(day)
    h, mi, sec = int(hour), int(minute), int(second or 0)
    zone_h, zone_m = int(zh), int(zm)
    if not (
        y >= 1900
        and 1 <= d <= calendar.monthrange(y, mo)[1]
        and h <= 23
        and mi <= 59
        and sec <= 59
        and zone_h <= 23
        and zone_m <= 59
    ):
        return None
    offset = zone_h * 60 + zone_m
    tz = UTC if offset == 0 else timezone(timedelta(minutes=-offset if sign == "-" else offset))
    dt = datetime(y, mo, d, h, mi, sec, tzinfo=tz)
    if dow is not None and _DAY_NUMBERS[dow] != dt.weekday():
        return None
    return dt


def parse_date(value: str) -> tuple[datetime | None, list[Problem]]:
    """Parse a ``date-time`` (RFC 5322 section 3.3; obsolete forms, section 4.3).

    Returns an aware datetime in the zone as written ("-0000", the military
    letters and unknown zone names read as UTC), or None when no date can be
    read or the date does not exist (31 Feb, 25:00).  A leap second reads as
    :59.
    """
    fast = _fast_date(value)
    if fast is not None:
        return fast, []
    problems: list[Problem] = []
    toks = _tokenize(value, problems)
    if not toks:
        problems.append(Problem(RULE, "date is empty", 0))
        return None, problems
    if (
        toks[0].kind == "num"
        and len(toks[0].text) == 4
        and len(toks) > 1
        and toks[1].text == "-"
        and not toks[1].space
    ):
        result = _iso8601(toks)
    else:
        result = _rfc5322(toks) or _lenient(toks)
    if result is None:
        problems.append(Problem(RULE, f"cannot read a date in {snippet(value.strip())}", 0))
        return None, problems
    fields, found = result
    problems += found
    return _build(fields, problems), problems


def format_date(dt: datetime) -> str:
    """Render ``dt`` as an RFC 5322 ``date-time`` (section 3.3).

    E.g. ``Mon, 23 Nov 2026 19:29:49 +0000``.  A naive datetime is taken as
    UTC; microseconds are dropped; an offset that is not whole minutes is
    converted to UTC first, since the zone has minute precision.
    """
    offset = dt.utcoffset()
    if offset is None:
        offset = timedelta(0)
    elif offset % timedelta(minutes=1):
        dt = dt.astimezone(UTC)
        offset = timedelta(0)
    minutes = offset // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return (
        f"{_DAY_NAMES[dt.weekday()]}, {dt.day:02d} {_MONTH_NAMES[dt.month - 1]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {sign}{hours:02d}{minutes:02d}"
    )


def received_date(value: str) -> datetime | None:
    """The ``date-time`` after the last ";" of a Received value (RFC 5322 section 3.6.7).

    None when there is no ";" or the date cannot be read.
    """
    semicolon = value.rfind(";")
    if semicolon < 0:
        return None
    return parse_date(value[semicolon + 1 :])[0]
