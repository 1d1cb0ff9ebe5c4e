"""Rule families.  Importing this package registers every rule in ``_registry.RULES``."""

from __future__ import annotations

from . import attachments, dkim, encoding, headers, limits, lines, original, structure

__all__ = [
    "attachments",
    "dkim",
    "encoding",
    "headers",
    "limits",
    "lines",
    "original",
    "structure",
]


def _sort_catalog() -> None:
    """Keep the catalog in code order whatever order the families were imported in."""
    from .._registry import RULES

    ordered = sorted(RULES.items())
    RULES.clear()
    RULES.update(ordered)


_sort_catalog()
