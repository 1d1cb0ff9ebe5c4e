"""Header field rules: required, unique and structured fields (RFC 5322 section 3.6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from .._address import parse_mailbox
from .._date import parse_date
from .._lists import MIME_UNIQUE_HEADERS, SINGLETON_HEADERS
from .._msgid import parse_msg_id, parse_msg_id_list
from .._registry import Context, Hit, rule
from .._rfc2047 import STREAM_FROM, decode_words, words_clean
from .._spans import field_bytes, problem_span, value_span
from ..message import HeaderField, Part
from ._fixture import build, multipart
from ._shared import address_list, mailbox_list

__all__: list[str] = []

_ENCODED_WORD_FIELDS = frozenset(
    {
        "subject",
        "comments",
        "keywords",
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "content-description",
        "thread-topic",
    }
)


def _count(part: Part) -> Counter[str]:
    return Counter(f.lname for f in part.headers if f.valid)


def _duplicates(part: Part, names: frozenset[str]) -> Iterator[HeaderField]:
    """The second and later occurrence of each field in ``names``."""
    seen: set[str] = set()
    for f in part.headers:
        if f.lname in names and f.valid:
            if f.lname in seen:
                yield f
            seen.add(f.lname)


@rule(
    "MG116",
    "malformed-encoded-word",
    scope="part",
    summary="An RFC 2047 encoded-word is malformed (bad base64 or Q escape, unknown charset, "
    "over 75 characters, glued to other text).",
    severity="warning",
    fixable=False,
    source="RFC 2047 sections 2, 4 and 5",
    fixture=build(b"Subject: =?utf-8?B?not*base64?=", drop=(b"Subject",)),
    fix="Reported only: mail clients read most of these anyway.",
)
def malformed_encoded_word(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        for f in part.headers:
            buf = f.buffer
            if f.lname not in _ENCODED_WORD_FIELDS or buf.find(b"=?", f.start, f.end) < 0:
                continue
            # a field of megabytes is first read in windows: most are shown clean so
            if f.end - f.value_start >= STREAM_FROM and words_clean(buf, f.value_start, f.end):
                continue
            for problem in decode_words(f.value)[1]:
                a, b = problem_span(f, problem)
                yield part, a, f"{f.name}: {problem.message}", b


@rule(
    "MG201",
    "missing-from",
    summary="The message has no From field.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 3.6 (From: exactly once); WorkMail RawMessageContent rule 5",
    fixture=build(drop=(b"From",)),
    fix="Added from the envelope sender when the caller passes envelope_from=; otherwise not "
    "fixable (a sender cannot be invented).",
)
def missing_from(ctx: Context) -> Iterator[Hit]:
    if ctx.msg.header("from") is None:
        yield ctx.msg, ctx.msg.start, "no From field"


@rule(
    "MG202",
    "missing-date",
    summary="The message has no Date field.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 3.6 (Date: exactly once); WorkMail RawMessageContent rule 5",
    fixture=build(drop=(b"Date",)),
    fix="Added from the newest Received field's timestamp, else the current time.",
)
def missing_date(ctx: Context) -> Iterator[Hit]:
    if ctx.msg.header("date") is None:
        yield ctx.msg, ctx.msg.start, "no Date field"


@rule(
    "MG203",
    "duplicate-header",
    summary="A field that RFC 5322 allows once (From, Date, Subject, To, Message-ID, …) occurs "
    "more than once.",
    severity="error",
    fixable=True,
    source="RFC 5322 section 3.6 (table of occurrences); WorkMail RawMessageContent rule 7",
    fixture=build(b"Subject: Quarterly report, again"),
    fix="Exact copies are dropped; a repeated Subject keeps its first value; differing From, "
    "To, Cc, Date or Message-ID are not fixable (they are immutable and the meaning is unclear).",
)
def duplicate_header(ctx: Context) -> Iterator[Hit]:
    counts: Counter[str] | None = None  # counted only when there is a duplicate
    for f in _duplicates(ctx.msg, SINGLETON_HEADERS):
        counts = counts or _count(ctx.msg)
        yield ctx.msg, f.start, f"{f.name} occurs {counts[f.lname]} times", field_bytes(f)[1]


@rule(
    "MG204",
    "duplicate-ses-header",
    summary="A field on Amazon SES's once-only list occurs more than once.",
    severity="error",
    fixable=True,
    needs="once_only",
    source="Amazon SES developer guide, header fields that may appear only once",
    fixture=build(b"List-Id: <a.example.com>", b"List-Id: <b.example.com>"),
    fix="Exact copies are dropped; otherwise the first occurrence is kept.",
)
def duplicate_ses_header(ctx: Context) -> Iterator[Hit]:
    names = ctx.profile.once_only - SINGLETON_HEADERS - MIME_UNIQUE_HEADERS
    counts: Counter[str] | None = None
    for f in _duplicates(ctx.msg, names):
        counts = counts or _count(ctx.msg)
        yield (
            ctx.msg,
            f.start,
            f"{f.name} occurs {counts[f.lname]} times ({ctx.profile.name} allows one)",
            field_bytes(f)[1],
        )


@rule(
    "MG205",
    "invalid-from",
    summary="From cannot be parsed as a list of RFC 5322 mailboxes.",
    severity="error",
    fixable=False,
    source="RFC 5322 sections 3.4 and 3.6.2",
    fixture=build(b"From: Alice <alice.example.com", drop=(b"From",)),
    fix="Not fixable: From is immutable in transit.",
)
def invalid_from(ctx: Context) -> Iterator[Hit]:
    for f in ctx.msg.headers:
        if f.lname == "from":
            for p in mailbox_list(ctx, f.value).problems[:1]:
                a, b = problem_span(f, p)
                yield ctx.msg, a, f"{f.name}: {p.message}", b


@rule(
    "MG206",
    "invalid-address",
    summary="Sender, To, Cc, Bcc or Reply-To cannot be parsed as RFC 5322 addresses.",
    severity="error",
    fixable=False,
    source="RFC 5322 sections 3.4, 3.6.2 and 3.6.3 (warning for WorkMail: the fields are "
    "immutable in transit and are relayed as they are)",
    fixture=build(b"Cc: bob@@example.org"),
    fix="Not fixable: these fields are immutable in transit.",
)
def invalid_address(ctx: Context) -> Iterator[Hit]:
    for f in ctx.msg.headers:
        if f.lname == "sender":
            problems = parse_mailbox(f.value).problems
        elif f.lname in ("to", "cc", "reply-to"):
            problems = address_list(ctx, f.value).problems
        elif f.lname == "bcc":
            problems = address_list(ctx, f.value, allow_empty=True).problems
        else:
            continue
        for p in problems[:1]:
            a, b = problem_span(f, p)
            yield ctx.msg, a, f"{f.name}: {p.message}", b


@rule(
    "MG207",
    "invalid-date",
    summary="The Date field is not an RFC 5322 date-time.",
    severity="error",
    fixable=False,
    source="RFC 5322 section 3.3 (warning for WorkMail: Date is immutable in transit)",
    fixture=build(b"Date: yesterday at noon", drop=(b"Date",)),
    fix="Not fixable: Date is immutable in transit.",
)
def invalid_date(ctx: Context) -> Iterator[Hit]:
    for f in ctx.msg.headers:
        if f.lname == "date":
            for p in parse_date(f.value)[1][:1]:
                a, b = problem_span(f, p)
                yield ctx.msg, a, f"Date: {p.message}", b


@rule(
    "MG208",
    "invalid-message-id",
    scope="part",
    summary="Message-ID, Content-ID, In-Reply-To or References is not made of <left@right> "
    "message identifiers.",
    severity="warning",
    fixable=False,
    source="RFC 5322 section 3.6.4; RFC 2045 section 7",
    fixture=build(b"Message-ID: not-an-id", drop=(b"Message-ID",)),
    fix="Reported only: Message-ID and References are immutable in transit.",
)
def invalid_message_id(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        for f in part.headers:
            if f.lname in ("message-id", "content-id"):
                problems = parse_msg_id(f.value)[1]
            elif f.lname in ("in-reply-to", "references"):
                problems = parse_msg_id_list(f.value)[1]
            else:
                continue
            for p in problems[:1]:
                a, b = problem_span(f, p)
                yield part, a, f"{f.name}: {p.message}", b


@rule(
    "MG209",
    "missing-mime-version",
    summary="MIME fields are used but the message has no MIME-Version field.",
    severity="warning",
    fixable=True,
    source="RFC 2045 section 4",
    fixture=build(drop=(b"MIME-Version",)),
    fix="MIME-Version: 1.0 is added.",
)
def missing_mime_version(ctx: Context) -> Iterator[Hit]:
    msg = ctx.msg
    if msg.header("mime-version") is not None:
        return
    for part in ctx.parts:
        for f in part.headers:
            if f.lname.startswith("content-") and f.valid:
                yield msg, msg.start, f"{f.name} is used without MIME-Version"
                return


@rule(
    "MG210",
    "sender-required",
    summary="From names several mailboxes but there is no Sender field.",
    severity="error",
    fixable=False,
    source="RFC 5322 section 3.6.2",
    fixture=build(b"From: alice@example.com, carol@example.com", drop=(b"From",)),
    fix="Not fixable: which author sent it is not known.",
)
def sender_required(ctx: Context) -> Iterator[Hit]:
    f = ctx.msg.header("from")
    if f is not None and ctx.msg.header("sender") is None:
        n = len(mailbox_list(ctx, f.value).mailboxes)
        if n > 1:
            a, b = value_span(f)
            yield ctx.msg, a, f"From names {n} mailboxes and there is no Sender", b


@rule(
    "MG211",
    "duplicate-mime-header",
    scope="part",
    summary="A part has Content-Type, Content-Transfer-Encoding, Content-Disposition, "
    "Content-ID or MIME-Version more than once.",
    severity="error",
    fixable=True,
    source="RFC 2045 section 3 and RFC 2183 (one value each); SES rejects duplicate Content-Type",
    fixture=multipart(b"Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n"),
    fix="Exact copies are dropped; otherwise the first occurrence is kept (the one most "
    "clients read).",
)
def duplicate_mime_header(ctx: Context) -> Iterator[Hit]:
    for part in ctx.parts:
        if len(part.headers) < 2:
            continue
        counts: Counter[str] | None = None
        for f in _duplicates(part, MIME_UNIQUE_HEADERS):
            counts = counts or _count(part)
            end = field_bytes(f)[1]
            yield part, f.start, f"{f.name} occurs {counts[f.lname]} times in this part", end
