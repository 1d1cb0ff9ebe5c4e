"""Findings and reports: what validation returns, as plain data.

A :class:`Finding` is one problem at one place; a :class:`Report` is the list of
them for one message under one profile.  Both are immutable and convert to
dicts and JSON for machines.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["SEVERITIES", "Finding", "Report", "Severity"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True, order=False)
class Finding:
    """One problem: which rule, how bad, where.

    ``part`` is the dotted part path (``""`` for the root); ``offset`` and ``end``
    are the byte span ``data[offset:end]`` of what is wrong (``end`` defaults to
    ``offset``: a point, for findings with no extent); ``line`` and ``column`` are
    1-based and locate ``offset`` (column counts bytes).  Inside an attached
    message that was carried encoded (against RFC 2046) the position is that of
    the encoded body.
    """

    code: str
    name: str
    severity: Severity
    message: str
    part: str = ""
    offset: int = 0
    line: int = 1
    column: int = 1
    #: exclusive end of the span; ``-1`` (the default) means ``offset``
    end: int = -1

    def __post_init__(self) -> None:
        if self.end == -1:
            object.__setattr__(self, "end", self.offset)
        elif self.end < self.offset:
            raise ValueError(f"end {self.end} is before offset {self.offset}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "part": self.part,
            "offset": self.offset,
            "end": self.end,
            "line": self.line,
            "column": self.column,
        }

    def __str__(self) -> str:
        where = f" (part {self.part})" if self.part else ""
        return f"{self.line}:{self.column}: {self.code} [{self.severity}] {self.message}{where}"


@dataclass(frozen=True, slots=True)
class Report:
    """The findings for one message under one profile, in message order."""

    findings: Sequence[Finding]
    profile: str = "workmail"
    size: int = 0
    _counts: Counter[str] = field(default_factory=Counter, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._counts.update(f.severity for f in self.findings)

    @property
    def ok(self) -> bool:
        """True when no finding has severity ``"error"``."""
        return self._counts["error"] == 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def count(self, severity: Severity) -> int:
        return self._counts[severity]

    @property
    def codes(self) -> set[str]:
        """Every code that was reported."""
        return {f.code for f in self.findings}

    @property
    def names(self) -> set[str]:
        """Every rule name that was reported."""
        return {f.name for f in self.findings}

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "profile": self.profile,
            "size": self.size,
            "errors": self._counts["error"],
            "warnings": self._counts["warning"],
            "infos": self._counts["info"],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def __str__(self) -> str:
        if not self.findings:
            return f"ok ({self.profile} profile): no findings"
        head = (
            f"{'ok' if self.ok else 'not ok'} ({self.profile} profile): "
            f"{self._counts['error']} errors, {self._counts['warning']} warnings, "
            f"{self._counts['info']} infos"
        )
        return "\n".join([head, *(str(f) for f in self.findings)])


def sort_key(f: Finding) -> tuple[int, int, str]:
    return (f.offset, _RANK[f.severity], f.code)
