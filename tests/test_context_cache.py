"""The rule context keeps its caches in typed slots (issue 14 section 5): no ``__dict__``
a rule could hang an untyped value on, and each view is computed once."""

from __future__ import annotations

import pytest

from mimeguard import parse
from mimeguard._registry import Context
from mimeguard.profiles import PROFILES

MSG = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n"
)


def _ctx() -> Context:
    return Context(parse(MSG), PROFILES["rfc"], None)


def test_no_instance_dict() -> None:
    ctx = _ctx()
    assert not hasattr(ctx, "__dict__")
    with pytest.raises(AttributeError):
        ctx.anything = 1  # type: ignore[attr-defined]


def test_views_are_computed_once() -> None:
    ctx = _ctx()
    assert ctx.parts is ctx.parts
    assert ctx.leaves is ctx.leaves
    assert ctx.messages is ctx.messages
    assert ctx.stats is ctx.stats
    assert [p.mime_type for p in ctx.leaves] == ["text/plain", "text/plain"]
    body = ctx.base64_body(ctx.leaves[1])
    assert ctx.base64_body(ctx.leaves[1]) is body
    assert ctx.ascii is True
