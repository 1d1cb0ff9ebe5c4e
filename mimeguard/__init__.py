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
from .errors import (
    InvalidMessageError,
    MimeguardError,
    SignedMessageError,
    UnknownProfileError,
    UnknownRuleError,
)
from .findings import Finding, Report, Severity
from .limits import DEFAULT_LIMITS, Limits
from .message import HeaderField, Message, Part
from .profiles import PROFILES, Profile, get_profile
from .rules import RULES, Rule, get_rule
from .validation import validate

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "PROFILES",
    "RULES",
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
    "Severity",
    "SignedMessageError",
    "UnknownProfileError",
    "UnknownRuleError",
    "__version__",
    "get_profile",
    "get_rule",
    "parse",
    "validate",
]
