"""The defects the parser records, each the name of a registered rule.

The parser names what it meets with these members, never with free strings;
``parser_rule`` registers each one as a rule and a test checks that every
member is registered (``tests/test_rules.py``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Defect"]


class Defect(StrEnum):
    """A defect the parser records on the root message (its value is the rule's name)."""

    MISSING_HEADER_BODY_SEPARATOR = "missing-header-body-separator"
    HEADER_LINE_WITHOUT_COLON = "header-line-without-colon"
    EMPTY_HEADER_NAME = "empty-header-name"
    ILLEGAL_HEADER_NAME = "illegal-header-name"
    HEADER_NAME_WHITESPACE = "header-name-whitespace"
    FIRST_LINE_CONTINUATION = "first-line-continuation"
    MBOX_FROM_LINE = "mbox-from-line"
    MISSING_CLOSING_BOUNDARY = "missing-closing-boundary"
    BOUNDARY_NOT_FOUND = "boundary-not-found"
    MULTIPART_MISSING_BOUNDARY = "multipart-missing-boundary"
    NESTED_BOUNDARY_CONFLICT = "nested-boundary-conflict"
    DEPTH_LIMIT = "depth-limit"
    PART_LIMIT = "part-limit"
    HEADER_FIELD_LIMIT = "header-field-limit"
    HEADER_SIZE_LIMIT = "header-size-limit"
    MESSAGE_SIZE_LIMIT = "message-size-limit"
