"""Size and count rules: service quotas and the parser's own limits."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from .._attachments import all_saved_names
from .._filenames import final_extension
from .._lists import SES_BLOCKED_EXTENSIONS
from .._registry import Context, Hit, parser_rule, rule, severities
from ..limits import Limits
from ..message import Part
from ._fixture import TEXT_PART, build, multipart
from ._shared import address_list

__all__: list[str] = []

_QUOTA = severities("error", rfc=None)


@rule(
    "MG401",
    "message-too-large",
    summary="The message is larger than the service takes (40 MB of MIME for WorkMail and SES).",
    severity=_QUOTA,
    source="WorkMail quotas (29 MB unencoded, 40 MB as MIME); SES v2 40 MB",
    fixture=lambda: build(
        body=(b"A" * 998 + b"\r\n") * (42 * 1024), mime=(b"Content-Type: text/plain",)
    ),
    fix="Not fixable: strip attachments to make it smaller.",
)
def message_too_large(ctx: Context) -> Iterator[Hit]:
    limit = ctx.profile.max_message_bytes
    size = ctx.msg.end - ctx.msg.start
    if limit is not None and size > limit:
        yield (
            ctx.msg,
            ctx.msg.start,
            (
                f"message is {size / 1048576:.1f} MB; {ctx.profile.name} takes at most "
                f"{limit / 1048576:.0f} MB"
            ),
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
    summary="More attachments than the service takes (500).",
    severity=_QUOTA,
    source="WorkMail quotas (500 attachments)",
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
    summary="More recipients in To, Cc and Bcc than the service takes (500).",
    severity=_QUOTA,
    source="WorkMail quotas (500 recipients)",
    fixture=build(b"Cc: " + b", ".join(b"r%d@example.org" % i for i in range(501))),
    fix="Not fixable: recipients are immutable in transit.",
)
def too_many_recipients(ctx: Context) -> Iterator[Hit]:
    limit = ctx.profile.max_recipients
    if limit is None:
        return
    n = 0
    for f in ctx.msg.headers:
        if f.lname in ("to", "cc", "bcc"):
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
    summary="An attachment has an extension Amazon SES refuses (.exe, .js, .bat, …) under "
    "some reading of its name (the final extension counts).",
    severity=severities("warning", rfc=None, ses="error"),
    source="Amazon SES developer guide, unsupported attachment types; WorkMail "
    "RawMessageContent rule 2",
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
    for part in ctx.parts:
        if part.children:
            continue
        # every name a client could read, judged by its final extension
        blocked = sorted(
            n for n in all_saved_names(part) if final_extension(n) in SES_BLOCKED_EXTENSIONS
        )
        if blocked:
            name = blocked[0]
            yield (
                part,
                part.start,
                f"attachment {name[:80]!r} has blocked extension .{final_extension(name)}",
            )


_LIMIT_FIX = "Not fixable: the part is kept as it is; raise the limit with mimeguard.Limits."
parser_rule(
    "MG410",
    "depth-limit",
    summary="Parts are nested deeper than the parser's limit (Limits.max_depth, 64).",
    severity="error",
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
    "part-limit",
    summary="More parts than the parser's limit (Limits.max_parts, 10,000).",
    severity="error",
    source="mimeguard limit (peers: flanker 5,000, mailsplit 1,000 children)",
    fixture=multipart(*([b"\r\nx"] * 10_001)),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG412",
    "header-field-limit",
    summary="A header block has more fields than the parser's limit "
    "(Limits.max_header_fields, 10,000).",
    severity="error",
    source="mimeguard limit (peers: mime4j 1,000)",
    fixture=build(*([b"X-Many: 1"] * 10_001)),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG413",
    "header-size-limit",
    summary="A header block is larger than the parser's limit (Limits.max_header_bytes, 1 MiB).",
    severity="error",
    source="mimeguard limit (peers: go-message, mailsplit 1 MB); SES 'header section too long'",
    fixture=build(*([b"X-Long: " + b"x" * 900] * 1200)),
    fix=_LIMIT_FIX,
)
parser_rule(
    "MG414",
    "message-size-limit",
    summary="The message is larger than the parser's limit (Limits.max_message_bytes, 512 MiB).",
    severity="error",
    source="mimeguard limit",
    fixture=build(),
    fix=_LIMIT_FIX,
    fixture_limits=Limits(max_message_bytes=100),
)
