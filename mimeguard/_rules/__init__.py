"""Rule families.  Importing this package registers every rule in ``_registry.RULES``."""

from __future__ import annotations

from . import encoding, headers, limits, lines, original, structure

__all__ = ["encoding", "headers", "limits", "lines", "original", "structure"]
