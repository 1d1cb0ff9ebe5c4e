"""The names users of the standard library's ``email`` package reach for, on :class:`Part`.

A mixin that :class:`mimeguard.Part` (and so :class:`mimeguard.Message`)
inherits.  It reads only the public attributes of a part (``headers``,
``children``, ``content_type``, ``disposition``, ``decoded()``, ``text()`` …)
and changes nothing: the tree stays as parsed.  Each method mirrors the
``email.message.EmailMessage`` method of the same name (Python 3.11), with
the differences noted where there are any.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar, cast, overload

if TYPE_CHECKING:
    from .message import Part

__all__ = ["StdlibAPI"]

_T = TypeVar("_T")

#: the (maintype, subtype) pairs ``iter_attachments`` treats as the body, as the stdlib does
_BODY_TYPES = frozenset(
    {("text", "plain"), ("text", "html"), ("multipart", "related"), ("multipart", "alternative")}
)


def _p(obj: object) -> Part:
    # the mixin is only ever a base of Part
    return cast("Part", obj)


def _name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a header field name is a str, not {type(name).__name__}")
    return name.lower()


class StdlibAPI:
    """``msg["Subject"]``, ``get_all_decoded``, ``get_body``, ``iter_attachments`` and friends."""

    __slots__ = ()

    # -- header fields (email.message.Message.__getitem__, get_all, __contains__, keys)

    def __getitem__(self, name: str) -> str | None:
        """The first field called ``name``, RFC 2047-decoded; ``None`` when absent.

        Like the stdlib, a missing field is ``None``, not a ``KeyError``.
        """
        lname = _name(name)
        for field in _p(self).headers:
            if field.valid and field.lname == lname:
                return field.decoded
        return None

    def __contains__(self, name: object) -> bool:
        """Whether a field called ``name`` is present (case-insensitive)."""
        if not isinstance(name, str):
            return False
        lname = name.lower()
        return any(f.valid and f.lname == lname for f in _p(self).headers)

    @overload
    def get_all_decoded(self, name: str) -> list[str] | None: ...

    @overload
    def get_all_decoded(self, name: str, failobj: _T) -> list[str] | _T: ...

    def get_all_decoded(self, name: str, failobj: object = None) -> object:
        """Every value of the fields called ``name``, decoded, in order; ``failobj`` if none.

        The stdlib's ``get_all(name, failobj=None)``.  :meth:`Part.get_all` keeps
        returning the :class:`HeaderField` objects (raw bytes and spans too).
        """
        lname = _name(name)
        values = [f.decoded for f in _p(self).headers if f.valid and f.lname == lname]
        return values if values else failobj

    def keys(self) -> list[str]:
        """The field names as written, in order, repeats included (stdlib ``keys``)."""
        return [f.name for f in _p(self).headers if f.valid]

    def items(self) -> list[tuple[str, str]]:
        """``(name, decoded value)`` for every field, in order (stdlib ``items``)."""
        return [(f.name, f.decoded) for f in _p(self).headers if f.valid]

    # -- content (get_content_type, get_filename, get_content_charset, get_content)

    def get_content_type(self) -> str:
        """``maintype/subtype`` in lower case; ``text/plain`` when absent or invalid."""
        return _p(self).mime_type

    def get_content_maintype(self) -> str:
        return _p(self).maintype

    def get_content_subtype(self) -> str:
        return _p(self).subtype

    def get_content_disposition(self) -> str | None:
        """``"inline"``, ``"attachment"`` (lower case) or ``None``."""
        d = _p(self).disposition
        return d.lower() if d else None

    def get_filename(self, failobj: str | None = None) -> str | None:
        """The decoded file name (RFC 2231, RFC 2047, Content-Type ``name`` too)."""
        name = _p(self).filename
        return name if name is not None else failobj

    def get_content_charset(self, failobj: str | None = None) -> str | None:
        """The ``charset`` parameter in lower case, ``failobj`` when there is none.

        Unlike :attr:`Part.charset`, no ``us-ascii`` default for text: the stdlib's reading.
        """
        part = _p(self)
        if part.header("content-type") is None:  # the RFC 2045 default is implied, not given
            return failobj
        cs = part.params.get("charset")
        return cs.strip().lower() if cs and cs.strip() else failobj

    def get_content(self) -> str | bytes | Part | None:
        """What the stdlib's raw-data content manager gives: text for ``text/*``
        (charset applied, undecodable bytes replaced), the attached message for
        ``message/rfc822``, bytes otherwise; ``None`` for a multipart."""
        part = _p(self)
        if part.is_multipart:
            return None
        if part.maintype == "text":
            return part.text()
        if part.encapsulates:
            return part.attached
        return part.decoded()

    # -- navigating (get_body, iter_attachments, iter_parts)

    def iter_parts(self) -> Iterator[Part]:
        """The direct children of a multipart (the attached message of a message/rfc822)."""
        yield from _p(self).children

    def get_body(self, preferencelist: Sequence[str] = ("related", "html", "plain")) -> Part | None:
        """The best candidate for the body, as ``EmailMessage.get_body`` picks it.

        ``preferencelist`` orders ``related``, ``html`` and ``plain``; the search
        goes down multipart/alternative and mixed, into the start part of a
        multipart/related, never into a part whose Content-Disposition is
        ``attachment`` nor into an attached message (RFC 2046 section 5.1.4;
        RFC 2387 section 3.1 for ``start``).
        """
        if isinstance(preferencelist, str) or not all(isinstance(p, str) for p in preferencelist):
            raise TypeError("preferencelist is a sequence of str such as ('html', 'plain')")
        unknown = [p for p in preferencelist if p not in ("related", "html", "plain")]
        if unknown:
            raise ValueError(f"preferencelist takes 'related', 'html' and 'plain', not {unknown}")
        prefs = tuple(preferencelist)
        best: Part | None = None
        best_rank = len(prefs)
        for rank, part in _find_body(_p(self), prefs):
            if rank < best_rank:
                best, best_rank = part, rank
                if rank == 0:
                    break
        return best

    def iter_attachments(self) -> Iterator[Part]:
        """The direct children of a multipart that are not its body, as the stdlib yields them.

        Nothing for a non-multipart or a multipart/alternative; for
        multipart/related every part but the start (RFC 2387); otherwise every
        child but the first text/plain, text/html, multipart/related and
        multipart/alternative that is not an attachment.  Only direct children:
        ``(p for p in msg.walk() if p.is_attachment)`` finds them at any depth.
        """
        multipart = _p(self)
        if not multipart.is_multipart or multipart.subtype == "alternative":
            return
        parts = list(multipart.children)
        if multipart.subtype == "related":
            start = _start(multipart)
            yield from (p for p in parts if p is not start)
            return
        seen: set[str] = set()
        for part in parts:
            kind = (part.maintype, part.subtype)
            if kind in _BODY_TYPES and not _is_attachment(part) and part.subtype not in seen:
                seen.add(part.subtype)
                continue
            yield part


def _is_attachment(part: Part) -> bool:
    """The stdlib's reading: a Content-Disposition of ``attachment``, nothing else."""
    d = part.disposition
    return d is not None and d.lower() == "attachment"


def _start(related: Part) -> Part | None:
    """The start part of a multipart/related: named by ``start``, else the first child."""
    cid = related.params.get("start")
    if cid:
        for child in related.children:
            if child.get("content-id") == cid.strip():
                return child
    # no start parameter, or none matching it: the first child (RFC 2387 section 3.2)
    return related.children[0] if related.children else None


def _find_body(part: Part, prefs: tuple[str, ...]) -> Iterator[tuple[int, Part]]:
    if _is_attachment(part):
        return
    if part.maintype == "text":
        if part.subtype in prefs:
            yield prefs.index(part.subtype), part
        return
    if not part.is_multipart:
        return
    if part.subtype != "related":
        for child in part.children:
            yield from _find_body(child, prefs)
        return
    if "related" in prefs:
        yield prefs.index("related"), part
    start = _start(part)
    if start is not None:
        yield from _find_body(start, prefs)
