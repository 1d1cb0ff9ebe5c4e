"""Rules that compare an edited message with the one it was made from."""

from __future__ import annotations

from collections.abc import Iterator

from .. import _abnf as g
from .._registry import Context, Hit, rule
from .._spans import field_bytes
from ..message import Part
from ._fixture import build

__all__: list[str] = []


def _raw_fields(part: Part, name: str) -> list[bytes]:
    return [g.EOL.sub(b"\r\n", f.raw) for f in part.headers if f.lname == name]


@rule(
    "MG501",
    "immutable-header-changed",
    summary="validate(new, original=old): a header WorkMail does not let a Lambda change "
    "(Received, DKIM-Signature, ARC-*, Message-ID, From, To, Cc, Date, Return-Path, Sender, "
    "Reply-To, In-Reply-To, References) was changed, removed or added.",
    severity="error",
    fixable=False,
    needs="immutable",
    no_injector="it compares with an original message, which malformed_messages does not return",
    source="WorkMail RawMessageContent rule 6 (list inferred, REFERENCE.md 2.6)",
    fixture=build().replace(b"From: Alice Example <", b"From: <"),
    fixture_original=build(),
    fix="Not fixable: keep the original field.",
)
def immutable_header_changed(ctx: Context) -> Iterator[Hit]:
    if ctx.original is None:
        return
    for name in ctx.profile.immutable:
        new = _raw_fields(ctx.msg, name)
        old = _raw_fields(ctx.original, name)
        if new == old:
            continue
        first = ctx.msg.header(name)
        where = ctx.msg.start if first is None else first.start
        if len(new) < len(old):
            what = "removed"
        elif len(new) > len(old):
            what = "added"
        else:
            what = "changed"
        label = first.name if first is not None else name
        end = where if first is None else field_bytes(first)[1]  # the whole field
        yield ctx.msg, where, f"{label} was {what} (it is immutable in transit)", end
