"""``rewrite_subject``: a prefix or suffix on the Subject, folded and encoded (RFC 5322
section 3.6.5, RFC 2047)."""

from __future__ import annotations

import re

from ._results import Change
from ._rfc2047 import decode_words
from ._session import _Session
from ._writer import header_line

_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|aw|sv|vs|wg)\s*(?:\[\d+\])?\s*:)+", re.IGNORECASE)


def _apply_subject(
    session: _Session,
    changes: list[Change],
    *,
    prefix: str,
    suffix: str,
    replace: str | None,
) -> None:
    # read from the tree's root: it holds what an earlier edit wrote (or the wrapper
    # an earlier disclaimer put around the message, which took over its fields)
    root = session.root
    fields = [line for name, line in root.fields() if name == "subject"]
    value = root.get_value("Subject")
    current = decode_words(value)[0] if value is not None else ""
    new = current if replace is None else replace
    if prefix:
        bare = _REPLY_PREFIX.sub("", new).lstrip()
        if not (
            new.lower().lstrip().startswith(prefix.strip().lower())
            or bare.lower().startswith(prefix.strip().lower())
        ):
            new = prefix + new
    if suffix and not new.lower().rstrip().endswith(suffix.strip().lower()):
        new = new + suffix
    new = new.strip()
    if new == current and len(fields) == 1:
        return
    root.set_header("Subject", header_line("Subject", new), first_only=False)
    changes.append(Change("subject", "", f"{current!r} -> {new!r}"))
