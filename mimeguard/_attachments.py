"""Which parts of a message are blocked files, read the way every client reads them.

A part is blocked when **any** plausible reading of it gives a blocked name, type or
content: every candidate name (:mod:`mimeguard._filenames`) judged by its final
extension, every Content-Type field, the magic bytes of its start
(:mod:`mimeguard._magic`), the files inside a TNEF container (:mod:`mimeguard._tnef`)
or an attached message, the uuencoded blocks of a text body (:mod:`mimeguard._uu`).
MIME structure outside the delimiters (RFC 2046 section 5.1.1 says preamble and
epilogue are to be ignored; some clients do not) and a second reading of the
boundary are found here too.  :func:`plan` says what strip must do; the edit
applies it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ._filenames import (
    MAX_CANDIDATES,
    MAX_SECTIONS,
    candidate_name_sets,
    final_extension,
    iter_field_params,
    mentions_name,
    saved_names,
)
from ._magic import executable_kind, head, part_executable
from ._params import parse_content_type
from ._tnef import SIGNATURE, TnefError, read_tnef
from ._uu import uu_blocks, uu_head
from .limits import Limits
from .message import HeaderField, Message, Part

__all__ = [
    "EXECUTABLES",
    "Plan",
    "Policy",
    "all_saved_names",
    "boundary_readings",
    "outside_structure",
    "plan",
    "type_readings",
]

Matcher = Callable[[Part], bool]
Span = tuple[int, int]

_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_TNEF_NAMES = frozenset({"winmail.dat", "win.dat"})
_UU_ENCODINGS = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})
#: header blocks up to this size are searched as one lower-case copy by _may_have_name
_SMALL_BLOCK = 1 << 12
#: containers whose body is a message that strip reads but the parser does not enter
_MESSAGE_LIKE = frozenset({"message/news", "message/partial", "message/x-rfc822"})
_STAR = re.compile(rb"\*")
_ENTITY = re.compile(
    rb"(?im)^(?:content-(?:type|disposition|transfer-encoding)[ \t]*:"
    rb"|begin(?:-base64)?[ \t]+[0-7]{1,6}[ \t]+\S)"
)
_MAX_NESTED = 16
_SIGNATURE_B64 = b"eJ8+I"  # how a base64 body holding TNEF starts


class _Executables:
    """Matches a part whose first bytes are an executable's (see :mod:`mimeguard._magic`)."""

    __name__ = "EXECUTABLES"

    def __call__(self, part: Part) -> bool:
        return part_executable(part) is not None

    @staticmethod
    def data(start: bytes) -> bool:
        return executable_kind(start) is not None

    def __repr__(self) -> str:
        return "EXECUTABLES"


#: a matcher for renamed executables: PE/MZ, ELF, Mach-O (thin and universal) and
#: ``#!`` scripts, found by the magic bytes at the start of the decoded body
EXECUTABLES: Matcher = _Executables()


def type_readings(part: Part) -> set[str]:
    """The MIME type under each Content-Type field (first-wins and last-wins parsers)."""
    out = {part.mime_type}
    fields = [f for f in part.headers if f.lname == "content-type"]
    if len(fields) < 2:
        return out  # the parser read the one there is
    for f in fields:
        ct = parse_content_type(f.value)
        if ct.mime_type:
            out.add(ct.mime_type)
    return out


def boundary_readings(part: Part) -> list[str]:
    """Every distinct ``boundary`` value in the part's Content-Type fields, in order
    (read once per part: a rule, both preamble/epilogue checks and strip ask)."""
    cache: dict[str, Any] = part._memo
    found: list[str] | None = cache.get("_mimeguard_boundaries")
    if found is None:
        found = cache["_mimeguard_boundaries"] = []
        for f in part.headers:
            if f.lname == "content-type":
                for name, value, _raw in iter_field_params(f):
                    if name == "boundary" and value and value not in found:
                        found.append(value)
    return list(found)


def _uu_name(part: Part) -> list[str]:
    if part.transfer_encoding not in _UU_ENCODINGS:
        return []
    raw = part.buffer[part.body_start : min(part.body_end, part.body_start + 4096)]
    return [name.decode("utf-8", "replace") for _, _, name in uu_blocks(raw)[:1]]


def _location_name(part: Part) -> list[str]:
    """The file name a Content-Location gives a part that has no other name and is not
    shown as text (RFC 2557 section 4.2; Apple Mail and Outlook save it so)."""
    field = part.header("content-location")
    if field is None or part.is_body_text:
        return []
    value = "".join(field.value.split()).strip("<>\"'")
    path = value.split("?", 1)[0].split("#", 1)[0]
    return [path, unquote(path)] if "%" in path else [path]


def all_saved_names(part: Part, *, partial: bool = True) -> AbstractSet[str]:
    """Every name ``part`` could be saved under (empty: it has no name); without
    ``partial``, only whole readings (the up-to-the-gap RFC 2231 reading left out).
    Read-only: the set kept in the part's memo, not a copy (three rules ask it of every
    part)."""
    return _readings(part, partial)[0]


def _may_have_name(part: Part) -> bool:
    """Whether a reading could find a name: a Content-Type/-Disposition mentioning
    ``name``, a Content-Location, or a uuencoded body (the places ``_readings`` reads)."""
    if part.transfer_encoding in _UU_ENCODINGS:
        return True
    fields = part.headers
    if not fields:
        return False
    start, end = fields[0].start, fields[-1].end
    if end - start <= _SMALL_BLOCK:
        # a small header block in lower case holds "name" or "content-location" wherever
        # a field below could (a superset: a name in another field only costs the loop)
        block = part.buffer[start:end].lower()
        if b"name" not in block and b"content-location" not in block:
            return False
    for f in fields:
        lname = f.lname
        if lname == "content-location" or (
            lname in ("content-type", "content-disposition") and mentions_name(f)
        ):
            return True
    return False


def _has_star(field: HeaderField) -> bool:
    """Whether ``*`` is in the field (a long one is searched where it lies, not copied)."""
    if field.end - field.start <= 1 << 12:
        return b"*" in field.raw
    return _STAR.search(field.raw_view()) is not None


def _readings(part: Part, partial: bool = True) -> tuple[set[str], bool]:
    """The saved names and whether there were too many readings to judge (computed
    once per part: strip and three rules ask)."""
    key = "_mimeguard_names" if partial else "_mimeguard_whole_names"
    cache: dict[str, Any] = part._memo
    found: tuple[set[str], bool] | None = cache.get(key)
    if found is None and not _may_have_name(part):
        # no field that can carry a name: nothing to read (most parts of most mail)
        found = cache["_mimeguard_names"] = cache["_mimeguard_whole_names"] = (set(), False)
        return found
    if (
        found is None
        and not partial
        and not any(_has_star(f) for f in part.headers if f.lname.startswith("content-"))
    ):
        return _readings(part, True)  # no RFC 2231 sections: both readings are one
    if found is None:
        # both readings come from one read of the fields; the other is kept for its ask
        *both, sections_overflow = candidate_name_sets(part)
        for mode, names in zip(("_mimeguard_names", "_mimeguard_whole_names"), both, strict=True):
            if names is both[0] and mode != "_mimeguard_names":
                cache[mode] = cache["_mimeguard_names"]  # no sections: one reading
                continue
            out: set[str] = set()
            for name in names + _uu_name(part) + ([] if names else _location_name(part)):
                out |= saved_names(name)
            cache[mode] = (out, sections_overflow or len(names) > MAX_CANDIDATES)
        found = cache[key]
    return found


class Policy:
    """What strip removes: extension, name and type patterns, content tests and
    other part tests (``larger_than``…)."""

    __slots__ = ("content", "extensions", "names", "tests", "types")

    def __init__(self, match: Matcher | Iterable[str | Matcher]) -> None:
        self.extensions: set[str] = set()
        self.names: list[str] = []
        self.types: list[str] = []
        self.content: list[Callable[[bytes], bool]] = []
        self.tests: list[Matcher] = []
        items: Iterable[str | Matcher] = [match] if callable(match) else match
        if isinstance(items, str):
            items = [items]
        count = 0
        for item in items:
            count += 1
            if isinstance(item, str):
                self._add(item)
            elif isinstance(item, _Executables):
                self.content.append(item.data)
            elif callable(item):
                self.tests.append(item)
            else:
                raise TypeError(f"a match is a pattern or a callable, not {type(item).__name__}")
        if not count:
            raise ValueError("strip_attachments needs at least one pattern")

    def _add(self, pattern: str) -> None:
        pat = pattern.strip().lower()
        if not pat:
            raise ValueError("an empty pattern matches nothing")
        if "/" in pat:
            self.types.append(pat)
        elif pat.startswith("*.") and not any(c in pat[2:] for c in "*?[."):
            self.extensions.add(pat[2:])
        else:
            self.names.append(pat)

    @property
    def by_name(self) -> bool:
        """Names decide: a container whose names cannot be read is removed."""
        return bool(self.extensions or self.names or self.content)

    def name_blocked(self, saved: str) -> bool:
        if final_extension(saved) in self.extensions:
            return True
        return any(fnmatch.fnmatchcase(saved, p) for p in self.names)

    def names_blocked(self, names: Iterable[str]) -> str | None:
        if not names:
            return None
        for name in sorted(names):
            if self.name_blocked(name):
                return name
        return None

    def data_blocked(self, start: bytes) -> bool:
        return any(test(start) for test in self.content)

    def __call__(self, part: Part) -> bool:
        return self.part_reason(part) is not None

    def part_reason(
        self, part: Part, names: set[str] | None = None, overflow: bool = False
    ) -> str | None:
        """Why ``part`` itself is blocked, or ``None`` (``names``: its saved names,
        when known; ``overflow``: it has more readings than can be judged)."""
        if names is None:
            names, overflow = _readings(part)
        if overflow and self.by_name:
            return (
                f"its name cannot be judged (more than {MAX_CANDIDATES} readings, "
                f"or more than {MAX_SECTIONS:,} RFC 2231 sections)"
            )
        name = self.names_blocked(names)
        if name is not None:
            return f"name {name!r}"
        if self.types:
            for t in sorted(type_readings(part)):
                if any(fnmatch.fnmatchcase(t, p) for p in self.types):
                    return f"type {t}"
        if self.content and not part.children:
            kind = part_executable(part)
            if kind is not None:
                return f"content: {kind}"
        for test in self.tests:
            if test(part):
                return f"matched {getattr(test, '__name__', 'a test')}"
        return None


@dataclass
class Plan:
    """What strip must do to a message."""

    #: parts to remove, with the reason
    hits: list[tuple[Part, str]] = field(default_factory=list)
    #: text parts with uuencoded blocks to cut: (part, decoded body, blocks)
    uu: list[tuple[Part, bytes, list[tuple[int, int, str]]]] = field(default_factory=list)
    #: multiparts whose preamble or epilogue holds MIME structure: (part, what)
    outside: list[tuple[Part, list[str]]] = field(default_factory=list)


def outside_structure(part: Part) -> list[str]:
    """``"preamble"``/``"epilogue"`` when that span of a multipart holds MIME
    structure: header fields of an entity, a delimiter line, a uuencoded file
    (computed once per part: two rules and strip ask)."""
    cache: dict[str, Any] = part._memo
    found: list[str] | None = cache.get("_mimeguard_outside")
    if found is None:
        found = cache["_mimeguard_outside"] = _outside_structure(part)
    return list(found)


def _outside_structure(part: Part) -> list[str]:
    out = []
    buf = part.buffer
    bounds = [b.encode("utf-8", "replace") for b in boundary_readings(part)]
    for what, span in (("preamble", part.preamble), ("epilogue", part.epilogue)):
        if span is None or span[1] - span[0] < 4:
            continue
        chunk = buf[span[0] : span[1]]
        if _ENTITY.search(chunk) is not None or any(b"--" + b in chunk for b in bounds):
            out.append(what)
    return out


def _tnef_reason(part: Part, policy: Policy, names: set[str]) -> str | None:
    raw = part.buffer[part.body_start : part.body_start + 16].lstrip()
    is_tnef = (
        part.mime_type in _TNEF_TYPES
        or bool(names & _TNEF_NAMES)
        or raw.startswith((SIGNATURE, _SIGNATURE_B64))
        or (part.transfer_encoding == "quoted-printable" and head(part, 8).startswith(SIGNATURE))
    )
    if not is_tnef:
        return None
    try:
        files = read_tnef(part.decoded())
    except TnefError as exc:
        return f"unreadable TNEF ({exc})" if policy.by_name else None
    for f in files:
        saved: set[str] = set()
        for n in f.names:
            saved |= saved_names(n)
        name = policy.names_blocked(saved)
        if name is not None:
            return f"TNEF holding {name!r}"
        if policy.data_blocked(f.head):
            return f"TNEF holding {executable_kind(f.head)}"
    return None


def _alternative_boundaries(part: Part, policy: Policy, limits: Limits, depth: int) -> str | None:
    """A second ``boundary`` parameter: read the body with each other boundary too."""
    from ._parser import parse

    used = part.boundary
    for other in boundary_readings(part):
        if other == used:
            continue
        data = (
            b'Content-Type: multipart/mixed; boundary="'
            + other.encode("utf-8", "replace").replace(b'"', b"")
            + b'"\r\n\r\n'
            + part.raw_body
        )
        # no further alternative readings inside this one: one extra parse per multipart
        inner = plan(
            parse(data, limits=limits),
            policy,
            descend=True,
            limits=limits,
            _depth=depth,
            _alternatives=False,
        )
        if inner.hits or inner.uu:
            return f"read with its other boundary {other!r}, it holds a blocked file"
    return None


def _message_body(part: Part, policy: Policy, limits: Limits, depth: int) -> str | None:
    """message/news, message/partial…: the body is a message the parser leaves whole."""
    from ._parser import parse

    inner = plan(
        parse(part.decoded(), limits=limits), policy, descend=True, limits=limits, _depth=depth
    )
    if inner.hits or inner.uu:
        what = inner.hits[0][1] if inner.hits else "a uuencoded file"
        return f"{part.mime_type} holding a blocked file ({what})"
    return None


def _uu_cuts(part: Part, policy: Policy) -> tuple[bytes, list[tuple[int, int, str]]] | None:
    if not policy.by_name:
        return None
    data = (
        part.decoded()
        if part.transfer_encoding in ("base64", "quoted-printable")
        else (part.raw_body)
    )
    if b"begin" not in data:
        return None
    cuts = []
    for start, end, raw_name in uu_blocks(data):
        name = raw_name.decode("utf-8", "replace")
        saved = saved_names(name)
        hit = policy.names_blocked(saved)
        if hit is None and policy.data_blocked(uu_head(data, start, end)):
            hit = name
        # a block without a usable name is saved under a name the client makes up
        # (ATT00001.dat): judged by its content only, like an unnamed MIME part
        if hit is not None:
            cuts.append((start, end, name or "unnamed"))
    return (data, cuts) if cuts else None


def plan(
    msg: Message,
    policy: Policy,
    *,
    descend: bool,
    limits: Limits,
    _depth: int = 0,
    _alternatives: bool = True,
) -> Plan:
    """Everything strip must remove from ``msg`` under ``policy``."""
    out = Plan()
    if _depth > _MAX_NESTED:
        out.hits.append((msg, "containers nested too deep to read"))
        return out
    stack: list[Part] = [msg]
    while stack:
        part = stack.pop()
        if part.is_multipart:
            if part.children:
                stack.extend(reversed(part.children))
            where = outside_structure(part)
            if where:
                out.outside.append((part, where))
            if _alternatives:
                reason = _alternative_boundaries(part, policy, limits, _depth + 1)
                if reason is not None:
                    out.hits.append((part, reason))
            continue
        if part.is_message and part is not msg:
            reason = policy.part_reason(part)
            if reason is not None:
                out.hits.append((part, reason))
            elif descend:
                stack.extend(reversed(part.children))
            continue
        if part.children:  # message/external-body: its child is a header block
            stack.extend(reversed(part.children))
            continue
        names, overflow = _readings(part)
        if not names and part.is_body_text:
            # text shown as the message: only its uuencoded blocks can be files
            cuts = _uu_cuts(part, policy)
            if cuts is not None:
                out.uu.append((part, *cuts))
            continue
        reason = policy.part_reason(part, names, overflow)
        if reason is None:
            reason = _tnef_reason(part, policy, names)
        if reason is None and descend and part.mime_type in _MESSAGE_LIKE:
            reason = _message_body(part, policy, limits, _depth + 1)
        if reason is not None:
            out.hits.append((part, reason))
        elif part.maintype == "text":
            cuts = _uu_cuts(part, policy)
            if cuts is not None:
                out.uu.append((part, *cuts))
    return out
