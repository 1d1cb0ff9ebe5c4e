"""Invariants over generated mail (mimeguard.strategies), not arbitrary bytes.

Valid messages: mimeguard and the stdlib see the same tree and the same text, repair
leaves them alone, edits keep them valid.  Malformed messages: the injected defects are
reported, repair either fixes what it can or says what is left, and is idempotent.
``fuzz/properties.py`` runs these same tests under atheris.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from fuzz.targets import stdlib_differences
from mimeguard import strategies as ms

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PROFILES = list(mimeguard.PROFILES)


@given(ms.messages())
def test_mimeguard_and_the_stdlib_see_the_same_tree(data: bytes) -> None:
    assert stdlib_differences(data) == []


@given(ms.messages())
def test_repair_leaves_a_valid_message_alone(data: bytes) -> None:
    assert mimeguard.repair(data, now=NOW) == data


@given(ms.messages(), st.sampled_from(["top", "bottom"]))
def test_a_disclaimer_keeps_a_valid_message_valid(data: bytes, position: str) -> None:
    out = mimeguard.add_disclaimer(data, text="External sender.", position=position)  # type: ignore[arg-type]
    assert mimeguard.validate(out).ok
    assert mimeguard.add_disclaimer(out, text="External sender.", position=position) == out  # type: ignore[arg-type]


@given(ms.messages())
def test_a_subject_prefix_is_added_once(data: bytes) -> None:
    out = mimeguard.rewrite_subject(data, prefix="[EXT] ")
    assert mimeguard.validate(out).ok
    subject = mimeguard.parse(out).header("subject")
    assert subject is not None and subject.decoded.startswith("[EXT]")
    assert mimeguard.rewrite_subject(out, prefix="[EXT] ") == out


@given(ms.messages())
def test_stripping_every_attachment_leaves_none(data: bytes) -> None:
    out = mimeguard.strip_attachments(data, match=["*"], notice=None)
    assert mimeguard.validate(out).ok
    assert not [p for p in mimeguard.parse(out).walk() if p.filename and p.is_attachment]


@given(ms.messages(line_endings=("\n",)))
def test_repair_turns_lf_into_crlf(lf: bytes) -> None:
    out = mimeguard.repair(lf, now=NOW)
    assert out == lf.replace(b"\n", b"\r\n")


@given(
    st.sampled_from(PROFILES).flatmap(
        lambda p: st.tuples(st.just(p), ms.malformed_messages(profile=p))
    )
)
def test_injected_defects_are_reported(case: tuple[str, tuple[bytes, frozenset[str]]]) -> None:
    profile, (data, expected) = case
    assert expected <= mimeguard.validate(data, profile=profile).codes


@given(ms.malformed_messages(max_defects=2), st.booleans())
def test_repair_fixes_or_explains_and_is_idempotent(
    case: tuple[bytes, frozenset[str]], envelope: bool
) -> None:
    data, _expected = case
    sender = "bounce@example.net" if envelope else None
    refused: mimeguard.Report | None
    try:
        out = mimeguard.repair(data, envelope_from=sender, now=NOW)
    except mimeguard.InvalidMessageError as exc:
        refused = exc.report
    else:
        refused = None
    if refused is not None:
        assert not refused.ok  # refused with the findings that are left
        return
    assert mimeguard.validate(out).ok
    assert mimeguard.repair(out, envelope_from=sender, now=NOW) == out
