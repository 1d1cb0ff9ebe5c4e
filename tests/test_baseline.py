"""The baseline an edit's output is checked against: a large root header block keeps only
what the rules that compare with the original read of it, and the report is the same."""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

import mimeguard
from mimeguard import edit, profiles
from mimeguard import strategies as ms
from mimeguard._registry import Context
from mimeguard.rules import RULES

#: the rules that read ``ctx.original``: what _baseline keeps is chosen for these (MG501:
#: the immutable fields; MG115 and MG117: the fields with raw 8-bit bytes)
_COMPARING = {"MG501", "MG115", "MG117"}


class _Spy:
    """An original message that notes which rule reads it."""

    def __init__(self, real: mimeguard.Message, seen: set[str], code: str) -> None:
        self._real, self._seen, self._code = real, seen, code

    def __getattr__(self, name: str) -> Any:
        self._seen.add(self._code)
        return getattr(self._real, name)


def test_only_the_rules_the_baseline_was_made_for_read_the_original() -> None:
    data = (
        b"From: J\xc3\xb6rg <j@example.com>\r\nTo: b@example.org\r\nSubject: caf\xe9\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m@example.com>\r\n"
        b"MIME-Version: 1.0\r\n\r\nbody\r\n"
    )
    msg = mimeguard.parse(data)
    seen: set[str] = set()
    for name in ("workmail", "ses", "rfc"):
        prof = profiles.get_profile(name)
        for code, r in RULES.items():
            ctx = Context(msg, prof, _Spy(msg, seen, code))  # type: ignore[arg-type]
            for _hit in r.check(ctx):
                pass
    assert seen == _COMPARING, "the rules reading the original changed: check edit._baseline"


_HEADERS = st.lists(
    st.sampled_from(
        [
            b"From: Alice <alice@example.com>\r\n",
            b"From: J\xc3\xb6rg <j@example.com>\r\n",
            b"To: Bob <bob@example.org>\r\n",
            b"Cc: c@example.org\r\n",
            b"Subject: caf\xe9 raw 8-bit\r\n",
            b"Subject: =?utf-8?q?caf=C3=A9?=\r\n",
            b"Received: from a by b; Mon, 23 Nov 2026 10:00:00 +0000\r\n",
            b"Message-ID: <x@example.com>\r\n",
            b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n",
            b"X-Long: " + b"y" * 200 + b"\r\n folded\r\n",
            b"X-8bit: \xff\xfe\r\n",
            b"MIME-Version: 1.0\r\n",
            b"not a field\r\n",
            b"Content-Type: text/plain; charset=utf-8\r\n",
        ]
    ),
    max_size=12,
)


def _edits(data: bytes) -> list[bytes]:
    editors = [
        mimeguard.Editor(data).rewrite_subject(prefix="[EXT] "),
        mimeguard.Editor(data).add_disclaimer(text="Outside"),
        mimeguard.Editor(data, repair=True).rewrite_subject(prefix="[EXT] "),
    ]
    outs = []
    for editor in editors:
        try:
            outs.append(editor.result().data)
        except mimeguard.InvalidMessageError as exc:
            if exc.result is not None:
                outs.append(exc.result.data)
    return outs


@settings(max_examples=60, deadline=None)
@given(_HEADERS, st.sampled_from(sorted(profiles.PROFILES)), st.booleans())
def test_a_reduced_baseline_gives_the_same_report(
    fields: list[bytes], profile: str, body_8bit: bool
) -> None:
    data = b"".join(fields) + b"\r\n" + (b"h\xc3\xa9llo\r\n" if body_8bit else b"hello\r\n")
    msg = mimeguard.parse(data)
    prof = profiles.get_profile(profile)
    with mock.patch.object(edit, "_WHOLE_BASELINE", 0):
        reduced = edit._baseline(msg, prof)
    whole = data[: msg.body_start]
    assert edit._baseline(msg, prof) == whole  # small blocks are kept whole
    for out in [data, *_edits(data)]:
        full = mimeguard.validate(out, profile=prof, original=whole)
        assert mimeguard.validate(out, profile=prof, original=reduced) == full


@settings(max_examples=20, deadline=None)
@given(ms.messages())
def test_a_reduced_baseline_gives_the_same_report_on_generated_mail(data: bytes) -> None:
    msg = mimeguard.parse(data)
    for name in ("workmail", "rfc"):
        prof = profiles.get_profile(name)
        with mock.patch.object(edit, "_WHOLE_BASELINE", 0):
            reduced = edit._baseline(msg, prof)
        whole = data[: msg.body_start]
        for out in [data, *_edits(data)]:
            full = mimeguard.validate(out, profile=prof, original=whole)
            assert mimeguard.validate(out, profile=prof, original=reduced) == full


def test_a_huge_subject_is_not_part_of_the_baseline() -> None:
    subject = b"Subject: " + b"word " * 40_000 + b"\r\n"
    data = (
        b"From: a@example.com\r\nTo: b@example.org\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m@example.com>\r\nMIME-Version: 1.0\r\n" + subject + b"\r\nbody\r\n"
    )
    baseline = edit._baseline(mimeguard.parse(data), profiles.get_profile("workmail"))
    assert b"Subject" not in baseline and b"From: a@example.com\r\n" in baseline
    assert len(baseline) < 300
