"""The hypothesis property tests, driven by atheris through ``fuzz_one_input``.

Hypothesis turns the fuzzer's bytes into a generated message (valid or with injected
defects), so coverage-guided mutation explores the strategies' choices instead of
random bytes: cheaper than a separate target for each property.  The first byte picks
the property, the rest is Hypothesis's choice sequence.  Needs hypothesis (and pytest,
which the test modules import).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

# Before the test modules (and their conftest) pick a profile: no deadline under the
# fuzzer's instrumentation, no example database.
settings.register_profile(
    "fuzz", deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
os.environ["HYPOTHESIS_PROFILE"] = "fuzz"
settings.load_profile("fuzz")

from tests import test_properties_generated as generated  # noqa: E402
from tests import test_strategies as strategies  # noqa: E402

__all__ = ["PROPERTIES", "fuzz_one_input"]

#: every property test taking only generated arguments (parametrized tests need pytest)
PROPERTIES: tuple[Callable[..., Any], ...] = (
    strategies.test_messages_validate_clean_everywhere_and_the_stdlib_agrees,
    strategies.test_stdlib_decodes_every_text_part_like_mimeguard,
    strategies.test_stdlib_notices_broken_structure,
    strategies.test_addresses_parse_as_one_mailbox,
    strategies.test_header_fields_are_folded_ascii_with_good_encoded_words,
    strategies.test_content_types_parse_without_problems,
    strategies.test_dates_parse,
    generated.test_mimeguard_and_the_stdlib_see_the_same_tree,
    generated.test_repair_leaves_a_valid_message_alone,
    generated.test_a_disclaimer_keeps_a_valid_message_valid,
    generated.test_a_subject_prefix_is_added_once,
    generated.test_stripping_every_attachment_leaves_none,
    generated.test_repair_turns_lf_into_crlf,
    generated.test_injected_defects_are_reported,
    generated.test_repair_fixes_or_explains_and_is_idempotent,
)


def fuzz_one_input(data: bytes) -> None:
    """Run one property on one example; a failing property raises its AssertionError."""
    if not data:
        return
    test = PROPERTIES[data[0] % len(PROPERTIES)]
    test.hypothesis.fuzz_one_input(data[1:])  # type: ignore[attr-defined]
