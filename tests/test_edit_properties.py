"""Edit invariants over generated valid messages (mimeguard.strategies).

For every valid message and every edit: the output validates clean, the stdlib
parses it without defects, the disclaimer is in the decoded text of every body
text part, untouched parts keep their bytes, and editing twice equals editing once.
"""

from __future__ import annotations

import email
import email.policy

from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import Editor, parse, validate
from mimeguard.strategies import messages

DISCLAIMER = "External sender: take care with links and attachments."
NON_ASCII = "Extern: Vorsicht bei Links – Grüße"


def _outside_attached(msg: mimeguard.Message) -> list[mimeguard.Part]:
    out: list[mimeguard.Part] = []
    stack: list[mimeguard.Part] = [msg]
    while stack:
        part = stack.pop()
        out.append(part)
        if not part.encapsulates:
            stack.extend(part.children)
    return out


def assert_clean(data: bytes) -> None:
    report = validate(data)
    assert report.ok, str(report)
    stdlib = email.message_from_bytes(data, policy=email.policy.compat32)
    assert all(not p.defects for p in stdlib.walk())


def untouched(before: bytes, after: bytes, changed: set[str]) -> None:
    """Leaves whose path was not changed appear byte for byte in the output."""
    for part in parse(before).walk():
        if part.children or part.path in changed or not part.path:
            continue
        if any(c == part.path or c.startswith(part.path + ".") for c in changed):
            continue
        assert part.raw in after, part.path


@given(messages(), st.sampled_from([DISCLAIMER, NON_ASCII]), st.sampled_from(["top", "bottom"]))
def test_add_disclaimer(data: bytes, text: str, position: str) -> None:
    result = Editor(data).add_disclaimer(text=text, position=position).result()  # type: ignore[arg-type]
    out = result.data
    assert_clean(out)
    msg = parse(out)
    if not any(c.kind == "skipped" and "signature" in c.detail for c in result.changes):
        bodies = [p for p in _outside_attached(msg) if p.is_body_text and not p.children]
        assert bodies
        for part in bodies:
            assert " ".join(text.split()) in " ".join(part.text().split()), part.path
    changed = {c.part for c in result.changes if c.kind == "disclaimer"}
    if not any(c.kind in ("added", "wrapped") for c in result.changes):
        untouched(data, out, changed)
    assert Editor(out).add_disclaimer(text=text, position=position).to_bytes() == out  # type: ignore[arg-type]


@given(messages(signed=True))
def test_signed_messages_are_skipped_or_wrapped(data: bytes) -> None:
    result = Editor(data).add_disclaimer(text=DISCLAIMER).result()
    assert_clean(result.data)
    wrapped = Editor(data).add_disclaimer(text=DISCLAIMER, on_signed="wrap").to_bytes()
    assert_clean(wrapped)


@given(messages(), st.sampled_from(["[EXT] ", "[Extern] Ä "]))
def test_rewrite_subject(data: bytes, prefix: str) -> None:
    out = mimeguard.rewrite_subject(data, prefix=prefix)
    assert_clean(out)
    subjects = parse(out).get_all("subject")
    assert len(subjects) == 1
    assert subjects[0].decoded.startswith(prefix.strip())
    assert mimeguard.rewrite_subject(out, prefix=prefix) == out
    for part in parse(data).children:
        assert part.raw in out


@given(messages(attachments=True))
def test_strip_attachments(data: bytes) -> None:
    result = Editor(data).strip_attachments(match=lambda p: p.is_attachment).result()
    assert_clean(result.data)
    again = Editor(result.data).strip_attachments(match=lambda p: p.is_attachment)
    assert again.to_bytes() == result.data or all(
        "was removed" in p.text() for p in parse(result.data).walk() if p.is_attachment
    )


@given(messages())
def test_repair_leaves_valid_messages_alone(data: bytes) -> None:
    assert mimeguard.repair(data) == data


@given(messages(line_endings=("\n",)))
def test_repair_fixes_line_endings(data: bytes) -> None:
    out = mimeguard.repair(data)
    assert_clean(out)
    assert mimeguard.repair(out) == out


_OPS = {
    "disclaimer": (
        lambda e: e.add_disclaimer(text=DISCLAIMER),
        lambda d: mimeguard.add_disclaimer(d, text=DISCLAIMER),
    ),
    "disclaimer-top": (
        lambda e: e.add_disclaimer(text=NON_ASCII, position="top"),
        lambda d: mimeguard.add_disclaimer(d, text=NON_ASCII, position="top"),
    ),
    "subject": (
        lambda e: e.rewrite_subject(prefix="[EXT] "),
        lambda d: mimeguard.rewrite_subject(d, prefix="[EXT] "),
    ),
    "subject-replace": (
        lambda e: e.rewrite_subject(replace="Nouveau sujet é"),
        lambda d: mimeguard.rewrite_subject(d, replace="Nouveau sujet é"),
    ),
    "strip": (
        lambda e: e.strip_attachments(match=lambda p: p.is_attachment),
        lambda d: mimeguard.strip_attachments(d, match=lambda p: p.is_attachment),
    ),
    "strip-all": (  # text parts go too: the disclaimer then has nothing to reach
        lambda e: e.strip_attachments(match=lambda p: not p.children, notice=None),
        lambda d: mimeguard.strip_attachments(d, match=lambda p: not p.children, notice=None),
    ),
}


@given(messages(), st.lists(st.sampled_from(sorted(_OPS)), min_size=1, max_size=4))
def test_a_chain_of_edits_equals_the_edits_one_after_the_other(data: bytes, ops: list[str]) -> None:
    # Editor edits one tree and parses again only where an edit must see an earlier one;
    # the result is the bytes that applying the one-call functions in turn gives
    import uuid
    from unittest import mock

    def counter() -> mock.Mock:
        n = iter(range(1 << 30))
        return mock.Mock(side_effect=lambda: uuid.UUID(int=next(n)))

    with mock.patch("uuid.uuid4", counter()):
        editor = Editor(data)
        for name in ops:
            editor = _OPS[name][0](editor)
        chained = editor.to_bytes()
    with mock.patch("uuid.uuid4", counter()):
        stepwise = data
        for name in ops:
            stepwise = _OPS[name][1](stepwise)
    assert chained == stepwise
