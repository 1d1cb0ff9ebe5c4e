"""The small record every low-level parser returns next to its value.

Header-value parsers (parameters, encoded-words, addresses, dates) never raise
for bad input: they return what they could read plus a list of :class:`Problem`.
The validator turns problems into :class:`mimeguard.Finding` objects, adding the
part path and translating ``offset`` (relative to the parsed value) into an
absolute byte offset in the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Problem"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a parsed value.

    ``name`` is a rule name from the catalog (kebab-case, e.g.
    ``"malformed-encoded-word"``); ``offset`` is relative to the start of the
    value that was handed to the parser (index into the bytes or str given), and
    ``end``, when the parser knows the bad token's extent, is its exclusive end
    in the same index (``None``: only the start is known).  ``end`` takes no part
    in equality: a problem is its name, message and offset.
    """

    name: str
    message: str
    offset: int = 0
    end: int | None = field(default=None, compare=False)
