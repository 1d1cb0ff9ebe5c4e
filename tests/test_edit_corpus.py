"""Edits over real third-party mail (skipped without ../shared/corpus).

Every message either edits into a clean message or raises InvalidMessageError
with a report: never any other exception.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

import mimeguard
from mimeguard import Editor, InvalidMessageError, parse, validate
from mimeguard._repair import repair_bytes
from mimeguard.limits import DEFAULT_LIMITS
from mimeguard.profiles import get_profile

from .conftest import corpus_files, needs_corpus

CORPUS = corpus_files()
pytestmark = needs_corpus
DISCLAIMER = "This message came from outside the organisation. Be careful with links."
#: one clock for the edit and the baseline: a Date that repair adds must be the same in both
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _edit(data: bytes) -> mimeguard.EditResult:
    return (
        Editor(data, repair=True, now=NOW)
        .add_disclaimer(text=DISCLAIMER)
        .rewrite_subject(prefix="[EXT] ")
        .strip_attachments(match=mimeguard.SES_BLOCKED)
        .result()
    )


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_edit_is_clean_or_refused_with_report(path: Path) -> None:
    data = path.read_bytes()
    try:
        result = _edit(data)
    except InvalidMessageError as exc:
        report = exc.report
        assert not report.ok
        return
    # clean against the repaired message the edit started from, as the Editor checks it:
    # raw 8-bit fields left as they arrived are MG117 warnings there
    baseline = repair_bytes(
        data,
        [],
        envelope_from=None,
        profile=get_profile("workmail"),
        limits=DEFAULT_LIMITS,
        now=NOW,
    )
    assert validate(result.data, original=baseline).ok
    assert _edit(result.data).data == result.data  # editing twice equals editing once


def test_corpus_figures() -> None:
    counts: Counter[str] = Counter()
    reached = body_parts = 0
    for path in CORPUS:
        data = path.read_bytes()
        has_from = parse(data).header("from") is not None
        body_parts += sum(1 for p in parse(data).walk() if p.is_body_text and not p.children)
        try:
            result = _edit(data)
        except InvalidMessageError:
            counts["refused, with From" if has_from else "refused, no From"] += 1
            continue
        if any(c.kind == "skipped" and "signature" in c.detail for c in result.changes):
            counts["skipped (signed)"] += 1
        else:
            counts["edited clean"] += 1
        reached += sum(1 for c in result.changes if c.kind == "disclaimer")
    with_from = sum(v for k, v in counts.items() if k != "refused, no From")
    print(
        f"\nedit corpus figures: {dict(counts)}; body text parts reached {reached} "
        f"(of {body_parts} in the corpus, attached messages included); "
        f"refused among messages with From: {counts['refused, with From']}/{with_from}"
    )
    assert counts["edited clean"] > len(CORPUS) // 2


# -- issue 12: no refusal for a non-ASCII disclaimer, disclaimer reach ---------------------

NON_ASCII = "ACHTUNG: externer Absender – Grüße"
_SIGNED = {"multipart/signed", "multipart/encrypted", "application/pkcs7-mime"}


def _shown_text_parts(msg: mimeguard.Message) -> list[mimeguard.Part] | None:
    """Body text parts a client shows (not in attached messages); None for signed mail."""
    out: list[mimeguard.Part] = []
    stack: list[mimeguard.Part] = [msg]
    while stack:
        part = stack.pop()
        if part.mime_type in _SIGNED:
            return None
        if part.is_body_text and not part.children and not part.opaque:
            out.append(part)
        if not part.encapsulates:
            stack.extend(part.children)
    return out


def _disclaimer_run(text: str) -> tuple[set[str], int, int]:
    """(refused files, body text parts reached, body text parts shown) over the corpus."""
    refused: set[str] = set()
    reached = shown = 0
    for path in CORPUS:
        data = path.read_bytes()
        try:
            result = Editor(data, repair=True).add_disclaimer(text=text).result()
        except InvalidMessageError:
            refused.add(str(path))
            continue
        parts = _shown_text_parts(parse(mimeguard.repair_result(data).data))
        if parts is None:
            continue
        shown += len(parts)
        reached += sum(
            1
            for c in result.changes
            if c.kind == "disclaimer" or (c.kind == "skipped" and "already" in c.detail)
        )
    return refused, reached, shown


def test_non_ascii_disclaimer_is_refused_no_more_than_ascii() -> None:
    ascii_refused, ascii_reached, shown = _disclaimer_run(DISCLAIMER)
    other_refused, other_reached, other_shown = _disclaimer_run(NON_ASCII)
    print(
        f"\ndisclaimer refusals: ASCII {len(ascii_refused)}, non-ASCII {len(other_refused)} "
        f"of {len(CORPUS)}; reach ASCII {ascii_reached}/{shown} "
        f"({ascii_reached / max(shown, 1):.1%}), non-ASCII {other_reached}/{other_shown} "
        f"({other_reached / max(other_shown, 1):.1%})"
    )
    assert other_refused == ascii_refused
    assert ascii_reached >= 0.99 * shown
    assert other_reached >= 0.97 * other_shown  # parts labelled us-ascii holding 8-bit text
