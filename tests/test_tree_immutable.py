"""The parsed tree is a value: nothing reachable from one parse changes another (issue 14 §5).

Long-running Lambdas and the gateway reuse one process for many messages, so a
tree that shared a default Content-Type's parameter dict let one message's code
change how the next message reads (``parse(a).params["charset"] = "evil"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mimeguard import parse
from mimeguard.message import HeaderField, Message, Part

PLAIN = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
NO_CT = b"Subject: no type\r\n\r\nbody\r\n"
MULTI = (
    b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n"
    b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\none\r\n"
    b"--b1\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\nJVBE\r\n'
    b"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
    b"--b1--\r\n"
)


def _snapshot(msg: Message) -> list[tuple[object, ...]]:
    return [
        (
            p.path,
            p.mime_type,
            dict(p.params),
            dict(p.disposition_params),
            p.charset,
            p.filename,
            p.transfer_encoding,
            tuple((f.name, f.value) for f in p.headers),
            len(p.children),
            p.span,
            p.body_span,
        )
        for p in msg.walk()
    ]


#: ``m`` is Any: each mutation is what mypy would refuse, tried at run time
MUTATIONS: list[tuple[str, Callable[[Any], object]]] = [
    ("params item", lambda m: m.params.__setitem__("charset", "evil")),
    ("params clear", lambda m: m.params.clear()),
    ("content_type.params", lambda m: m.content_type.params.__setitem__("charset", "evil")),
    ("content_type field", lambda m: setattr(m.content_type, "maintype", "evil")),
    (
        "disposition_params",
        lambda m: m.parts[-1].disposition_params.__setitem__("filename", "evil.exe"),
    ),
    ("headers append", lambda m: m.headers.append(m.headers[0])),
    ("headers assign", lambda m: setattr(m, "headers", [])),
    ("children append", lambda m: m.children.append(m)),
    ("children assign", lambda m: setattr(m, "children", ())),
    ("content_type assign", lambda m: setattr(m, "content_type", None)),
    ("transfer_encoding", lambda m: setattr(m, "transfer_encoding", "base64")),
    ("span", lambda m: setattr(m, "body_start", 0)),
    ("opaque", lambda m: setattr(m, "opaque", True)),
    ("parent", lambda m: setattr(m.parts[-1], "parent", None)),
    ("delimiters", lambda m: m.delimiters.append((0, 0))),
    ("field name", lambda m: setattr(m.headers[0], "name", "To")),
    ("field end", lambda m: setattr(m.headers[0], "end", 0)),
    ("limits", lambda m: setattr(m, "limits", None)),
    ("problems", lambda m: m.problems().__setitem__("x", [])),
    ("new attribute", lambda m: setattr(m, "evil", 1)),
]


@pytest.mark.parametrize(("what", "mutate"), MUTATIONS, ids=[w for w, _ in MUTATIONS])
@pytest.mark.parametrize("first", [PLAIN, NO_CT, MULTI], ids=["plain", "no-type", "multipart"])
def test_mutating_one_parse_cannot_change_another(
    what: str, mutate: Callable[[Any], object], first: bytes
) -> None:
    others = [parse(data) for data in (PLAIN, NO_CT, MULTI)]
    before = [_snapshot(m) for m in others]
    victim = parse(first)
    victim_before = _snapshot(victim)
    with pytest.raises((TypeError, AttributeError)):  # refused: the tree is read-only
        mutate(victim)
    # neither the trees parsed before nor the ones parsed after changed
    assert [_snapshot(m) for m in others] == before
    assert [_snapshot(parse(data)) for data in (PLAIN, NO_CT, MULTI)] == before
    # and the victim itself did not change either
    assert _snapshot(victim) == victim_before


def test_default_content_type_is_not_shared_mutable_state() -> None:
    a = parse(NO_CT)
    with pytest.raises(TypeError):
        a.params["charset"] = "evil"  # type: ignore[index]
    assert parse(b"Subject: x\r\n\r\nbody").charset == "us-ascii"


def test_public_attributes_are_read_only() -> None:
    msg = parse(MULTI)
    names = [
        "start",
        "end",
        "path",
        "depth",
        "parent",
        "headers",
        "header_end",
        "separator",
        "body_start",
        "body_end",
        "children",
        "delimiters",
        "preamble",
        "epilogue",
        "opaque",
        "content_type",
        "transfer_encoding",
    ]
    for part in msg.walk():
        for name in names:
            with pytest.raises(AttributeError):
                setattr(part, name, getattr(part, name))
    for field in msg.headers:
        for name in ("start", "end", "value_start", "name", "lname", "valid"):
            with pytest.raises(AttributeError):
                setattr(field, name, getattr(field, name))
    for name in ("limits", "outer"):
        with pytest.raises(AttributeError):
            setattr(msg, name, getattr(msg, name))


def test_sequences_are_tuples() -> None:
    msg = parse(MULTI)
    for part in msg.walk():
        assert isinstance(part.headers, tuple)
        assert isinstance(part.children, tuple)
        assert isinstance(part.delimiters, tuple)
        assert all(isinstance(f, HeaderField) for f in part.headers)
        assert all(isinstance(c, Part) for c in part.children)


def test_defect_lists_are_copies() -> None:
    msg = parse(b"Content-Type: multipart/mixed; boundary=zz\r\n\r\nno delimiter\r\n")
    found = msg.defects("boundary-not-found")
    assert len(found) == 1
    found.clear()
    assert len(msg.defects("boundary-not-found")) == 1
    assert len(msg.problems()["boundary-not-found"]) == 1


def test_attached_message_reports_to_its_root() -> None:
    data = (
        b"Content-Type: message/rfc822\r\n\r\n"
        b"Content-Type: multipart/mixed; boundary=q\r\n\r\nno delimiter\r\n"
    )
    msg = parse(data)
    inner = msg.attached
    assert inner is not None and inner.outer is None
    assert [p.path for p, _, _ in msg.defects("boundary-not-found")] == ["1"]
