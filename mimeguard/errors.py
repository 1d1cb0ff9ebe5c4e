"""Exceptions raised by mimeguard.

Parsing and validation never raise for bad mail: problems in the input become
findings. Exceptions are for bad use of the API and for edits whose result would
not be compliant. All share one root, :class:`MimeguardError`, and each also
subclasses the nearest builtin so callers can catch either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._results import EditResult
    from .findings import Report

__all__ = [
    "EditIntegrityError",
    "InvalidMessageError",
    "MimeguardError",
    "SealError",
    "SignedMessageError",
    "UnknownProfileError",
    "UnknownRuleError",
]


class MimeguardError(Exception):
    """Root of every exception mimeguard raises on purpose."""


class UnknownProfileError(MimeguardError, ValueError):
    """A profile name that is not one of :data:`mimeguard.PROFILES`."""


class UnknownRuleError(MimeguardError, KeyError):
    """A rule code or name that is not in the catalog."""

    def __str__(self) -> str:  # KeyError quotes its argument; a sentence reads better
        return str(self.args[0]) if self.args else "unknown rule"


class InvalidMessageError(MimeguardError, ValueError):
    """An edit or repair could not produce a message that validates clean.

    ``report`` holds the findings of the result (or of the input, when the
    input could not be repaired without inventing data); ``result``, when an
    editor raised it, the refused result with its changes.
    """

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report
        #: what an :class:`~mimeguard.Editor` produced before refusing it (attachments
        #: already stripped), for logs and quarantine; never to be delivered
        self.result: EditResult | None = None

    def __str__(self) -> str:
        head = self.args[0] if self.args else "invalid message"
        errors = [f for f in self.report.findings if f.severity == "error"]
        if not errors:
            return str(head)
        lines = [f"{head}:"]
        lines += [
            f"  {f.code} {f.name} (part {f.part or 'root'}): {f.message}" for f in errors[:10]
        ]
        if len(errors) > 10:
            lines.append(f"  … and {len(errors) - 10} more errors")
        return "\n".join(lines)


class EditIntegrityError(InvalidMessageError):
    """An edit would have lost or invented a part: it is stopped, never returned.

    ``report`` holds the findings of the input (what made the edit go wrong is usually
    in there); the message says which part.
    """


class SignedMessageError(MimeguardError, ValueError):
    """An edit would break a signature or encryption and ``on_signed="error"`` was asked."""


class SealError(MimeguardError, ValueError):
    """:func:`mimeguard.arc_seal` could not add an ARC set (a bad key, a chain too long)."""
