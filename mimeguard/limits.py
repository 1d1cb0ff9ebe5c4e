"""Parser limits: every one is a finding when hit, never an exception.

Defaults follow what careful peers enforce (REFERENCE.md section 5): mime4j's
1,000-header default is too low for real mailing-list traffic, so ours are
higher, but every limit keeps time and memory linear in the input.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on what :func:`mimeguard.parse` will build.

    When a limit is hit the parser records a finding and keeps the rest of the
    affected part as opaque bytes (still written back byte for byte).
    """

    #: deepest nesting of multiparts and attached messages (root is depth 0)
    max_depth: int = 64
    #: total number of parts in the tree, root included
    max_parts: int = 10_000
    #: header fields in one header block
    max_header_fields: int = 10_000
    #: bytes in one header block
    max_header_bytes: int = 1 << 20
    #: bytes in the whole message; beyond it the message is kept opaque
    max_message_bytes: int = 512 << 20

    def __post_init__(self) -> None:
        for name in (
            "max_depth",
            "max_parts",
            "max_header_fields",
            "max_header_bytes",
            "max_message_bytes",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")


DEFAULT_LIMITS = Limits()
