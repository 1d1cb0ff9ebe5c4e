"""mimeguard: make raw email safe to hand back to Amazon WorkMail.

Parse any bytes into a lossless tree of spans, validate against named profiles
(``workmail`` by default) and edit without breaking what you did not touch.

>>> import mimeguard
>>> data = b"From: a@example.com\\r\\nDate: Mon, 23 Nov 2026 10:00:00 +0000\\r\\n\\r\\nHi\\r\\n"
>>> msg = mimeguard.parse(data)
>>> msg.to_bytes()[:5]
b'From:'
>>> mimeguard.validate(msg).ok
True
"""

from __future__ import annotations

from ._parser import parse
from .arc import arc_seal
from .edit import (
    DEFAULT_NOTICE,
    EXECUTABLES,
    SES_BLOCKED,
    Change,
    Editor,
    EditResult,
    add_disclaimer,
    larger_than,
    repair,
    repair_result,
    rewrite_subject,
    strip_attachments,
)
from .errors import (
    EditIntegrityError,
    InvalidMessageError,
    MimeguardError,
    SealError,
    SignedMessageError,
    UnknownProfileError,
    UnknownRuleError,
)
from .findings import Finding, Report, Severity
from .headers import parse_addresses, parse_date
from .limits import DEFAULT_LIMITS, Limits
from .message import HeaderField, Message, Part
from .profiles import PROFILES, Profile, get_profile
from .rules import RULES, Rule, get_rule
from .validation import validate

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_NOTICE",
    "EXECUTABLES",
    "PROFILES",
    "RULES",
    "SES_BLOCKED",
    "Change",
    "EditIntegrityError",
    "EditResult",
    "Editor",
    "Finding",
    "HeaderField",
    "InvalidMessageError",
    "Limits",
    "Message",
    "MimeguardError",
    "Part",
    "Profile",
    "Report",
    "Rule",
    "SealError",
    "Severity",
    "SignedMessageError",
    "UnknownProfileError",
    "UnknownRuleError",
    "__version__",
    "add_disclaimer",
    "arc_seal",
    "get_profile",
    "get_rule",
    "larger_than",
    "parse",
    "parse_addresses",
    "parse_date",
    "repair",
    "repair_result",
    "rewrite_subject",
    "strip_attachments",
    "validate",
]
