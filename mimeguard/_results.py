"""The record of an edit: each :class:`Change` and the :class:`EditResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .findings import Report

#: which bytes a :class:`Change` is about
ChangeScope = Literal["part", "outside", "message"]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing an edit did (or deliberately did not do).

    ``kind`` is one of ``disclaimer``, ``subject``, ``removed``, ``added``,
    ``wrapped``, ``repaired`` or ``skipped``; ``part`` the dotted part path.
    ``scope`` says which bytes the change is about: ``"part"`` (the part itself),
    ``"outside"`` (bytes of the multipart ``part`` outside every part of it: its
    preamble or epilogue) or ``"message"`` (every byte of the message at ``part``, the
    whole message or an attached message: its line endings).
    """

    kind: str
    part: str
    detail: str
    scope: ChangeScope = "part"

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
