"""The record of an edit: each :class:`Change` and the :class:`EditResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .findings import Report


@dataclass(frozen=True, slots=True)
class Change:
    """One thing an edit did (or deliberately did not do).

    ``kind`` is one of ``disclaimer``, ``subject``, ``removed``, ``added``,
    ``wrapped``, ``repaired`` or ``skipped``; ``part`` the dotted part path.
    """

    kind: str
    part: str
    detail: str

    def __str__(self) -> str:
        where = f" (part {self.part})" if self.part else ""
        return f"{self.kind}{where}: {self.detail}"


@dataclass(frozen=True, slots=True)
class EditResult:
    """The edited bytes, their validation report and what changed."""

    data: bytes
    report: Report
    changes: tuple[Change, ...] = field(default=())
    #: ``d=`` domains of the DKIM signatures the edit broke, in header order (RFC 6376)
    broken_signatures: tuple[str, ...] = field(default=())

    @property
    def skipped(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "skipped"]

    @property
    def removed(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "removed"]

    @property
    def touched(self) -> list[str]:
        """Paths of the parts that were changed."""
        return sorted({c.part for c in self.changes if c.kind != "skipped"})
