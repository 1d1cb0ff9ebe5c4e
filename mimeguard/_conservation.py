"""The conservation invariant: an edit keeps every part it was not told to change.

This is the promise of the README's edit section, checked after every edit,
before anything is returned.  Between the parse an edit started from and the
parse of what it wrote, walking the leaf parts of both in document order:

* a leaf no :class:`~mimeguard.edit.Change` names is in the output, in the same
  order, with the same body bytes and the same meaning (type, transfer encoding,
  charset, file name);
* a leaf with a ``removed`` change (on it or on a part above it) may vanish or be
  replaced by a notice;
* a leaf with a ``disclaimer`` change is in the output with its original text
  still inside it, whole (the disclaimer is one insertion);
* a leaf with a ``repaired`` change may be changed, and leaves may appear below it;
* no other leaf appears: each new leaf is a text/plain part that an ``added``,
  ``wrapped`` or ``removed`` change (a notice) accounts for.

Leaves are looked up by their meaning, body length and the bytes at both ends of the
body, and a match is confirmed by comparing the two body spans whole (one ``memcmp``,
no copy, no hash pass, never a decoded copy of an attachment).  Where a repair
rewrote the line endings of a whole message (``scope="message"``: the message, or an
attached message it decoded), the bodies in it are compared with their line endings
normalised, by digest.  Only the text of leaves with a ``disclaimer`` change is
decoded.  A violation raises :class:`~mimeguard.InvalidMessageError`: a broken edit
never returns.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._writer import crlf
from .errors import EditIntegrityError
from .findings import Report

if TYPE_CHECKING:
    from ._results import Change
    from .message import Message, Part

__all__ = ["EditIntegrityError", "check_conserved"]


#: the memo entry of a message's leaves (with the normalised paths they were read under)
_LEAVES_MEMO = "_mimeguard_leaves"
#: body bytes at each end that go into a leaf's look-up key
_ENDS = 32

_Key = tuple[str, str, str, str, bool, int, bytes]


@dataclass(frozen=True, slots=True)
class _Leaf:
    path: str
    key: _Key
    part: Part
    #: the body span compared (start, end) in ``part.buffer``
    span: tuple[int, int]
    #: the unparsed rest of a multipart a parser limit stopped (carried as one piece)
    tail: bool = False

    def describe(self) -> str:
        what = "the unparsed rest of" if self.tail else "leaf"
        name = f' "{self.part.filename}"' if self.part.filename else ""
        return f"{what} part {self.path or 'root'} ({self.part.mime_type}{name})"


def _fingerprint(buf: bytes, start: int, end: int, normalise: bool) -> tuple[int, bytes]:
    """What goes into the key for ``buf[start:end]``: its length and end bytes, or,
    when line endings are normalised, the length and a digest of the normalised bytes
    (which is then the comparison: :func:`_same` trusts it)."""
    if normalise:
        data = crlf(buf[start:end])
        return len(data), hashlib.sha256(data).digest()
    if end - start <= 2 * _ENDS:
        return end - start, buf[start:end]
    return end - start, buf[start : start + _ENDS] + buf[end - _ENDS : end]


def _same(a: _Leaf, b: _Leaf) -> bool:
    """Are the bodies of two leaves with equal keys the same bytes?"""
    (s, e), (t, _f) = a.span, b.span
    if a.key[4] or e - s <= 2 * _ENDS:
        return True  # the key held the normalised digest, or the whole body
    return b.part.buffer.startswith(memoryview(a.part.buffer)[s:e], t)


def _leaves(msg: Message, normalised: set[str]) -> list[_Leaf]:
    """The leaves of ``msg``, in order; those at or below a path in ``normalised`` are
    keyed by their bodies with line endings made CRLF.  Kept in the message's memo: the
    parse one check ends with is the one the next check of the session starts from."""
    memo = msg._memo
    key = f"{_LEAVES_MEMO}{sorted(normalised)!r}"
    found: list[_Leaf] | None = memo.get(key)
    if found is None:
        found = memo[key] = _read_leaves(msg, normalised)
    return found


def _read_leaves(msg: Message, normalised: set[str]) -> list[_Leaf]:
    out: list[_Leaf] = []
    for part in msg.walk():
        normalise = bool(normalised) and not normalised.isdisjoint(_lineage(part.path))
        if not part.children:
            span = (part.body_start, part.body_end)
            key = (
                part.mime_type,
                part.transfer_encoding,
                part.charset or "",
                part.filename or "",
                normalise,
                *_fingerprint(part.buffer, *span, normalise),
            )
            out.append(_Leaf(part.path, key, part, span))
        elif part.opaque and part.delimiters and part.epilogue is None:
            span = (part.delimiters[-1][0], part.body_end)
            key = ("", "", "", "", normalise, *_fingerprint(part.buffer, *span, normalise))
            out.append(_Leaf(part.path + ".rest", key, part, span, tail=True))
    return out


def _lineage(path: str) -> list[str]:
    """``path`` and every part above it, the root (``""``) last."""
    out = [path]
    while path:
        path = path.rpartition(".")[0]
        out.append(path)
    return out


class _Fates:
    """What the changes allow to happen to each part, looked up by path."""

    __slots__ = ("disclaimer", "removed", "repaired")

    def __init__(self, changes: Sequence[Change], leafy_root: bool) -> None:
        self.removed = {
            c.part
            for c in changes
            # bytes dropped outside every part (a preamble or epilogue holding MIME
            # structure) remove no leaf, so they are no fate of one
            if c.kind == "removed" and c.scope == "part"
        }
        self.disclaimer = {c.part for c in changes if c.kind == "disclaimer"}
        # a fix of the root's header fields touches no leaf below it, unless the root
        # itself is a leaf (or a multipart without parts that repair gave one)
        self.repaired = {c.part for c in changes if c.kind == "repaired" and (c.part or leafy_root)}

    def of(self, leaf: _Leaf) -> str:
        """``removed``, ``disclaimer``, ``repaired`` or ``kept``."""
        lineage = _lineage(leaf.part.path)
        if any(p in self.removed for p in lineage):
            return "removed"
        if not leaf.tail and leaf.part.path in self.disclaimer:
            return "disclaimer"
        if any(p in self.repaired for p in lineage):
            return "repaired"
        return "kept"

    def may_appear(self, leaf: _Leaf) -> bool:
        """A new leaf below a repaired part: repair rebuilt that part."""
        return any(p in self.repaired for p in _lineage(leaf.part.path))


def _text_kept(before: Part, after: Part) -> bool:
    """Is the decoded text of ``before`` inside ``after`` whole, as one insertion made it?"""
    if before.mime_type != after.mime_type:
        return False
    if (before.charset or "") == (after.charset or ""):
        if _as_written(before) and _as_written(after):
            return _span_kept(before, after)
        old, new = before.decoded(), after.decoded()
        old, new = crlf(old), crlf(new)
    else:
        old_t, new_t = before.text(), after.text()
        old = old_t.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8", "replace")
        new = new_t.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8", "replace")
    if len(new) < len(old):
        return False
    head = _common_prefix(old, new)
    return head == len(old) or old[head:] == new[len(new) - (len(old) - head) :]


def _as_written(part: Part) -> bool:
    """Is the body span the text's bytes as :func:`_text_kept` compares them: an identity
    transfer encoding (RFC 2045 section 6.2) and every line ended by CRLF?"""
    if part.transfer_encoding not in ("7bit", "8bit", "binary"):
        return False
    buf, a, b = part.buffer, part.body_start, part.body_end
    return buf.count(b"\n", a, b) == buf.count(b"\r", a, b) == buf.count(b"\r\n", a, b)


def _span_kept(before: Part, after: Part) -> bool:
    """:func:`_text_kept` over the two body spans where they lie: ``startswith`` over a
    view is one memcmp, so neither body is copied (a text part of 70 MB with a
    disclaimer is not decoded twice and sliced in halves)."""
    ob, os, n = before.buffer, before.body_start, before.body_end - before.body_start
    nb, ns, m = after.buffer, after.body_start, after.body_end - after.body_start
    if m < n:
        return False
    new = memoryview(nb)

    def same(i: int, j: int, k: int) -> bool:  # old[i:i+k] == new[j:j+k]
        return ob.startswith(new[ns + j : ns + j + k], os + i)

    lo, hi = 0, n
    while lo < hi:  # the common prefix, by bisection
        mid = (lo + hi + 1) // 2
        if same(lo, lo, mid - lo):
            lo = mid
        else:
            hi = mid - 1
    return lo == n or same(lo, m - (n - lo), n - lo)


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix, by bisection over slice compares (C speed)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _fail(detail: str) -> EditIntegrityError:
    return EditIntegrityError(
        f"edit integrity: {detail}; the edit was stopped instead of losing or inventing content",
        Report(()),
    )


def check_conserved(before: Message, after: Message, changes: Sequence[Change]) -> None:
    """Raise :class:`InvalidMessageError` unless ``after`` keeps what ``before`` held.

    ``changes`` are the changes made since ``before`` was parsed (their paths are
    paths of ``before``); see the module docstring for the invariant.
    """
    normalised = {c.part for c in changes if c.kind == "repaired" and c.scope == "message"}
    fates = _Fates(changes, leafy_root=not before.children or not after.children)
    old = _leaves(before, normalised)
    new = _leaves(after, normalised)
    where: dict[_Key, list[int]] = {}
    for i, leaf in enumerate(new):
        where.setdefault(leaf.key, []).append(i)
    used = [False] * len(new)
    j = 0  # output leaves before j are matched or left over
    for leaf in old:
        fate = fates.of(leaf)
        if fate == "removed":
            continue
        if fate == "disclaimer":
            k = j
            while k < len(new) and (used[k] or not _text_kept(leaf.part, new[k].part)):
                k += 1
            if k == len(new):
                raise _fail(
                    f"{leaf.describe()} was given a disclaimer but its original text is not "
                    "in the output"
                )
            used[k] = True
            j = k + 1
            continue
        spots = where.get(leaf.key, [])
        at = bisect.bisect_left(spots, j)
        while at < len(spots) and (used[spots[at]] or not _same(leaf, new[spots[at]])):
            at += 1
        if at < len(spots):
            used[spots[at]] = True
            j = spots[at] + 1
        elif fate != "repaired":
            raise _fail(f"{leaf.describe()} is missing from the output or was changed")
    budget = sum(1 for c in changes if c.kind in ("removed", "added", "wrapped"))
    for i, leaf in enumerate(new):
        if used[i] or fates.may_appear(leaf):
            continue
        if leaf.tail or leaf.part.mime_type != "text/plain" or budget == 0:
            raise _fail(f"{leaf.describe()} appeared in the output, but no edit created it")
        budget -= 1
