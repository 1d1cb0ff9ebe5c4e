"""Conformance over real third-party mail (../shared/corpus; skipped when absent).

- every message parses, round-trips byte for byte, and validates without raising;
- where the stdlib (compat32) reports no defect, the part tree agrees with it:
  content types, part count, decoded payload bytes;
- where flanker parses a message, its part tree's content types agree too.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
from pathlib import Path
from typing import Any

import pytest

import mimeguard
from mimeguard import parse, validate

from .conftest import corpus_files, needs_corpus

CORPUS = corpus_files()
pytestmark = needs_corpus


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parse_round_trip_and_validate(path: Path) -> None:
    data = path.read_bytes()
    msg = parse(data)
    assert msg.to_bytes() == data
    for part in msg.walk():
        part.decoded()
        if part.maintype == "text":
            part.text()
        _ = part.filename, part.is_attachment, part.charset, part.disposition
    for profile in mimeguard.PROFILES:
        report = validate(msg, profile=profile, original=msg)
        report.to_json()


Tree = list[tuple[str, bytes | None]]


def stdlib_tree(data: bytes) -> tuple[Tree, bool]:
    """(content type, decoded payload) per part, and whether the stdlib saw a defect."""
    root = email.message_from_bytes(data, policy=email.policy.compat32)
    out: Tree = []
    defect = False
    stack: list[Any] = [root]
    while stack:
        part = stack.pop()
        defect = defect or bool(part.defects)
        ct = part.get_content_type()
        if part.is_multipart() and ct != "message/delivery-status":
            out.append((ct, None))
            stack.extend(reversed(part.get_payload()))
        elif ct == "message/delivery-status":
            out.append((ct, None))
        else:
            cte = part.get("content-transfer-encoding")
            if cte is not None and cte != cte.strip():
                # RFC 2045 allows whitespace around the token; compat32 does not strip
                # it and then skips decoding.  Compare with the value read as we do.
                part.replace_header("content-transfer-encoding", cte.strip())
            out.append((ct, part.get_payload(decode=True)))
    return out, defect


def our_tree(data: bytes) -> Tree:
    out: Tree = []
    for part in parse(data).walk():
        if part.is_multipart or part.children or part.mime_type == "message/delivery-status":
            out.append((part.mime_type, None))
        else:
            out.append((part.mime_type, part.decoded()))
    return out


def _agrees(data: bytes) -> bool | None:
    """None when the stdlib reports a defect (no comparison), else agreement."""
    try:
        theirs, defect = stdlib_tree(data)
    except Exception:  # the stdlib raising is its problem, not a comparison
        return None
    if defect:
        return None
    ours = our_tree(data)
    if [t for t, _ in theirs] != [t for t, _ in ours]:
        return False
    for (_, a), (_, b) in zip(theirs, ours, strict=False):
        if a is not None and b is not None and a != b:
            return False
    return True


def test_agreement_with_stdlib() -> None:
    results = {p: _agrees(p.read_bytes()) for p in CORPUS}
    compared = [p for p, r in results.items() if r is not None]
    agree = [p for p in compared if results[p]]
    disagree = sorted(str(p.relative_to(p.parents[1])) for p in compared if not results[p])
    print(
        f"\nstdlib agreement: {len(agree)}/{len(compared)} messages without stdlib defects "
        f"({len(CORPUS)} in corpus); disagreements: {disagree}"
    )
    assert len(compared) > 100
    assert len(agree) / len(compared) >= 0.97, disagree


def flanker_types(data: bytes) -> list[str] | None:
    logging.getLogger("flanker").setLevel(logging.CRITICAL)
    from flanker import mime

    try:
        root = mime.from_string(data)
        return [str(p.content_type.value).lower() for p in root.walk(with_self=True)]
    except Exception:
        return None


def test_differential_with_flanker() -> None:
    compared = agree = 0
    disagree: list[str] = []
    for p in CORPUS:
        data = p.read_bytes()
        theirs = flanker_types(data)
        if theirs is None:
            continue
        compared += 1
        ours = [q.mime_type for q in parse(data).walk()]
        if ours == theirs:
            agree += 1
        else:
            disagree.append(str(p.relative_to(p.parents[1])))
    print(f"\nflanker agreement: {agree}/{compared}; disagreements: {disagree}")
    assert compared > 100
    assert agree / compared >= 0.85, disagree
