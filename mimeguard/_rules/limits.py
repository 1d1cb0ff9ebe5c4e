"""Size and count rules: the quotas of the profile in use, and the parser's own limits.

Each quota rule reads one ``Profile`` field and runs only under profiles that set
it; the number and its source live in ``mimeguard/profiles.py``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from .._abnf import MAX_LINE_OCTETS
from .._attachments import all_saved_names
from .._defects import Defect
from .._filenames import final_extension
from .._registry import Context, Hit, parser_rule, rule
from .._spans import value_span
from ..limits import Limits
from ..message import Part
from ._fixture import TEXT_PART, build, multipart
from ._shared import address_list, mailbox_list

__all__: list[str] = []


def _quota_source(field: str) -> str:
    return f"the profile's {field} (docs/rules.md, Profiles, gives each number and its source)"


@rule(
    "MG401",
    "message-too-large",
    summary="The message is larger than the profile's size quota (40 MB of MIME for WorkMail, "
    "40 MB after base64 for SES).",
    severity="error",
    fixable=False,
    needs="max_message_bytes",
    no_injector="a message over the smallest size quota (3 MiB of MIME for graph) is too big "
    "to draw",
    source=_quota_source("max_message_bytes, measured as its size_measure says"),
    fixture=lambda: build(
        body=(b"A" * MAX_LINE_OCTETS + b"\r\n") * (42 * 1024), mime=(b"Content-Type: text/plain",)
    ),
    fix="Not fixable: strip attachments to make it smaller.",
)
def message_too_large(ctx: Context) -> Iterator[Hit]:
    prof = ctx.profile
    limit = prof.max_message_bytes
    octets = ctx.msg.end - ctx.msg.start
    size = prof.measured_size(octets)
    if limit is not None and size > limit:
        after = " after base64" if prof.size_measure == "base64" else ""
        measured = f" ({size:,}{after})" if after else ""
        yield (
            ctx.msg,
            ctx.msg.start,
            f"message is {octets:,} bytes{measured}; {prof.name} takes at most {limit:,}{after}",
        )


def attachments(ctx: Context) -> list[Part]:
    """Attachments of the root message; an attached message counts once."""
    out: list[Part] = []
    stack: list[Part] = [ctx.msg]
    while stack:
        part = stack.pop()
        if part.is_message and part is not ctx.msg:
            out.append(part)
        elif part.children:
            stack.extend(part.children)
        elif part.is_attachment:
            out.append(part)
    return out


@rule(
    "MG402",
    "too-many-attachments",
    summary="More attachments than the profile's quota (500 for WorkMail, 250 for Graph).",
    severity="error",
    fixable=False,
    needs="max_attachments",
    source=_quota_source("max_attachments"),
    fixture=multipart(
        *(
            [
                b"Content-Type: application/octet-stream\r\n"
                b"Content-Disposition: attachment; filename=a.bin\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\nAAAA"
            ]
            * 501
        )
    ),
    fix="Not fixable: strip attachments to stay under the quota.",
)
def too_many_attachments(ctx: Context) -> Iterator[Hit]:
    limit = ctx.profile.max_attachments
    if limit is not None:
        n = len(attachments(ctx))
        if n > limit:
            yield (
                ctx.msg,
                ctx.msg.start,
                (f"{n:,} attachments; {ctx.profile.name} takes at most {limit}"),
            )


@rule(
    "MG403",
    "too-many-recipients",
    summary="More recipients in the counted fields (To, Cc and Bcc) than the profile's quota "
    "(500 for WorkMail, 50 for SES).",
    severity="error",
    fixable=False,
    needs="max_recipients",
    source=_quota_source("max_recipients and recipient_fields"),
    fixture=build(b"Cc: " + b", ".join(b"r%d@example.org" % i for i in range(501))),
    fix="Not fixable: recipients are immutable in transit.",
)
def too_many_recipients(ctx: Context) -> Iterator[Hit]:
    limit = ctx.profile.max_recipients
    if limit is None:
        return
    counted = ctx.profile.recipient_fields
    n = 0
    for f in ctx.msg.headers:
        if f.lname in counted:
            # allow_empty only decides whether an empty list is a problem, so the parse
            # invalid-address made of the same value is reused
            n += len(address_list(ctx, f.value, allow_empty=f.lname == "bcc").mailboxes)
    if n > limit:
        yield (
            ctx.msg,
            ctx.msg.start,
            (f"{n:,} recipients; {ctx.profile.name} takes at most {limit}"),
        )


@rule(
    "MG404",
    "blocked-attachment",
    scope="part",
    summary="An attachment has an extension the profile's service refuses (.exe, .js, .bat, …) "
    "under some reading of its name (the final extension counts).",
    severity="error",
    fixable=False,
    needs="blocked_extensions",
    source="the profile's blocked_extensions: Amazon SES developer guide, unsupported attachment "
    "types (workmail, ses; WorkMail RawMessageContent rule 2); Gmail Help, file types blocked "
    "in Gmail (gmail)",
    fixture=multipart(
        TEXT_PART,
        b"Content-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="invoice.pdf.exe"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"MZ") + b"\r\n",
    ),
    fix="Not fixable by repair (it is not a format error): strip_attachments(match=SES_BLOCKED) "
    "removes them.",
)
def blocked_attachment(ctx: Context) -> Iterator[Hit]:
    blocked_set = ctx.profile.blocked_extensions
    for part in ctx.parts:
        if part.children:
            continue
        # every name a client could read, judged by its final extension
        names = all_saved_names(part)
        if not names:
            continue  # (most parts have no name)
        blocked = sorted(n for n in names if final_extension(n) in blocked_set)
        if blocked:
            name = blocked[0]
            yield (
                part,
                part.start,
                f"attachment {name[:80]!r} has blocked extension .{final_extension(name)}",
            )


@rule(
    "MG405",
    "too-many-parts",
    summary="More MIME parts (every entity, the root and multiparts included) than the "
    "profile's quota (500 for SES).",
    severity="error",
    fixable=False,
    needs="max_parts",
    source=_quota_source("max_parts"),
    fixture=multipart(*([TEXT_PART] * 500)),
    fix="Not fixable: strip attachments to stay under the quota.",
)
def too_many_parts(ctx: Context) -> Iterator[Hit]:
    limit = ctx.profile.max_parts
    n = len(ctx.parts)
    if limit is not None and n > limit:
        yield ctx.msg, ctx.msg.start, f"{n:,} MIME parts; {ctx.profile.name} takes at most {limit}"


@rule(
    "MG406",
    "header-block-too-large",
    summary="The root header block is larger than the profile's quota (512 KiB for imap).",
    severity="error",
    fixable=False,
    needs="max_header_bytes",
    no_injector="a header block over 512 KiB is too big to draw",
    source=_quota_source("max_header_bytes"),
    fixture=build(*([b"X-Long: " + b"x" * 900] * 600)),
    fix="Not fixable: header fields are not dropped to make room.",
)
def header_block_too_large(ctx: Context) -> Iterator[Hit]:
    limit = ctx.profile.max_header_bytes
    size = ctx.msg.header_end - ctx.msg.start
    if limit is not None and size > limit:
        yield (
            ctx.msg,
            ctx.msg.start,
            f"header block is {size:,} bytes; {ctx.profile.name} takes at most {limit:,}",
        )


@rule(
    "MG420",
    "multiple-from-mailboxes",
    summary="From names more than one mailbox where the service takes exactly one (Gmail).",
    severity="error",
    fixable=False,
    needs="single_from",
    source="the profile's single_from (Gmail API: 'Expected a single From header', 'Invalid "
    "From header')",
    fixture=build(
        b"From: alice@example.com, carol@example.com",
        b"Sender: alice@example.com",
        drop=(b"From",),
    ),
    fix="Not fixable: From is immutable in transit and which author to keep is not known.",
)
def multiple_from_mailboxes(ctx: Context) -> Iterator[Hit]:
    for f in ctx.msg.headers:
        if f.lname == "from":
            n = len(mailbox_list(ctx, f.value).mailboxes)
            if n > 1:
                a, b = value_span(f)
                yield ctx.msg, a, f"From names {n} mailboxes; {ctx.profile.name} takes one", b


_LIMIT_FIX = "Not fixable: the part is kept as it is; raise the limit with mimeguard.Limits."
parser_rule(
    "MG410",
    Defect.DEPTH_LIMIT,
    summary="Parts are nested deeper than the parser's limit (Limits.max_depth, 64).",
    severity="error",
    fixable=False,
    source="mimeguard limit (peers: MimeKit 1,024, postal-mime 256)",
    fixture=build(
        body=b"".join(
            b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1)
            for i in range(70)
        ),
        mime=(b'Content-Type: multipart/mixed; boundary="b0"',),
    ),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG411",
    Defect.PART_LIMIT,
    summary="More parts than the parser's limit (Limits.max_parts, 10,000).",
    severity="error",
    fixable=False,
    no_injector="10,000 parts are too many to draw",
    source="mimeguard limit (peers: flanker 5,000, mailsplit 1,000 children)",
    fixture=multipart(*([b"\r\nx"] * 10_001)),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG412",
    Defect.HEADER_FIELD_LIMIT,
    summary="A header block has more fields than the parser's limit "
    "(Limits.max_header_fields, 10,000).",
    severity="error",
    fixable=False,
    no_injector="10,000 header fields are too many to draw",
    source="mimeguard limit (peers: mime4j 1,000)",
    fixture=build(*([b"X-Many: 1"] * 10_001)),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG413",
    Defect.HEADER_SIZE_LIMIT,
    summary="A header block is larger than the parser's limit (Limits.max_header_bytes, 1 MiB).",
    severity="error",
    fixable=False,
    no_injector="a 1 MiB header block is too big to draw",
    source="mimeguard limit (peers: go-message, mailsplit 1 MB); SES 'header section too long'",
    fixture=build(*([b"X-Long: " + b"x" * 900] * 1200)),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG414",
    Defect.MESSAGE_SIZE_LIMIT,
    summary="The message is larger than the parser's limit (Limits.max_message_bytes, 512 MiB).",
    severity="error",
    fixable=False,
    no_injector="a 512 MiB message is too big to draw",
    source="mimeguard limit",
    fixture=build(),
    fix=_LIMIT_FIX,
    fixture_limits=Limits(max_message_bytes=100),
)
