"""Incremental validation: after an edit, reuse the findings of the parts it copied.

An edit copies untouched parts byte for byte (``mimeguard._writer``).  A rule
registered with ``scope="part"`` reports on the parts it iterates over, and what
it reports on a part depends only on that part's bytes and on the context its
parse depends on (:func:`_context`).  So a part of the edited message whose bytes
and context equal those of a part of the message the edit started from has the
findings that part had, moved to its new offset and path; only the other parts
(edited, new, and their ancestors, the root among them) go through the part
rules again, and every ``scope="message"`` rule runs on the whole message.

The result is the :class:`~mimeguard.Report` a full :func:`~mimeguard.validate`
of the edited message returns: same findings, same order, same positions
(``tests/test_incremental.py`` holds it to that on generated edit chains).
Whenever a precondition does not hold (another profile, other limits, a parser
limit that makes the parse depend on more than the part), it is a full validate.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._defects import Defect
from ._registry import BASE64_MEMO, RULES, Context, Rule
from ._scan import Base64Body
from .findings import Finding, Report, Severity
from .limits import DEFAULT_LIMITS, Limits
from .message import Message, Part
from .profiles import DEFAULT_PROFILE, PROFILES, Profile, get_profile
from .validation import Input, _as_message, _findings, _rules_for, _span, validate

__all__ = ["revalidate"]

#: parser limits that make a part's parse depend on the rest of the message (depth,
#: parts counted so far, the whole size): with one of them met nothing is reused
_GLOBAL_LIMITS = (Defect.DEPTH_LIMIT, Defect.PART_LIMIT, Defect.MESSAGE_SIZE_LIMIT)
#: base parts of one size and tail whose bytes are compared with an edited part, at most
#: (the one at the same path first): bounds the cost when many parts look alike
_CANDIDATES = 4
#: bytes at the end of a part that, with its size, pick the base parts to compare it with
_TAIL = 16

#: (offset, code, part order, sequence), end, path, rule, severity, message
_Hit = tuple[tuple[int, str, int, int], int, str, Rule, Severity, str]
_Context = tuple[type, bool, frozenset[str]]


def revalidate(
    out: Message,
    *,
    base: Message,
    base_report: Report,
    profile: str | Profile = DEFAULT_PROFILE,
    original: Input | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Report:
    """``validate(out, profile=profile, original=original, limits=limits)``, reusing
    ``base_report`` (``validate(base, profile=profile, limits=limits)``, every rule of the
    profile: nothing selected or ignored) for every part of ``out`` copied unchanged from
    ``base``.  Raises :class:`TypeError` unless both messages are parsed."""
    prof = get_profile(profile)
    matches = _match(out, base) if _reusable(out, base, base_report, prof, limits) else []
    if not matches:
        return validate(out, profile=prof, original=original, limits=limits)
    _move_memos(matches)
    rules = _rules_for(prof, None, None)
    orig = None if original is None else _as_message(original, limits)
    ctx = Context(out, prof, orig)
    order = {id(p): i for i, p in enumerate(ctx.parts)}
    hits: list[_Hit] = []
    seq = 0
    part_rules: list[tuple[Rule, Severity]] = []
    for r, sev in rules:
        if r.scope == "part":
            part_rules.append((r, sev))
            continue
        for hit in r.check(ctx):
            start, end = _span(out, hit)
            hits.append(((start, r.code, 0, seq), end, hit[0].path, r, sev, hit[2]))
            seq += 1
    dirty = _dirty(out, matches)
    view = ctx.restricted(dirty)
    for r, sev in part_rules:
        for hit in r.check(view):
            start, end = _span(out, hit)
            key = (start, r.code, order[id(hit[0])], seq)
            hits.append((key, end, hit[0].path, r, sev, hit[2]))
            seq += 1
    hits.extend(_reused(matches, base_report, order, {r.code for r, _ in part_rules}))
    hits.sort(key=lambda h: h[0])
    flat = [(key[0], end, path, r, sev, text) for key, end, path, r, sev, text in hits]
    return Report(_findings(out, flat), prof.name, out.end - out.start)


def _reusable(out: Message, base: Message, report: Report, prof: Profile, limits: Limits) -> bool:
    if not isinstance(out, Message) or not isinstance(base, Message):
        raise TypeError("revalidate() needs the edited and the base message parsed")
    if not isinstance(report, Report):
        raise TypeError(f"base_report must be a Report, not {type(report).__name__}")
    if out.parent is not None or base.parent is not None:
        return False
    if report.profile != prof.name or PROFILES.get(prof.name) is not prof:
        return False  # a profile built by the caller may differ under the same name
    if report.size != base.end - base.start:
        return False
    if out.limits != limits or base.limits != limits:
        return False
    problems = (out.problems(), base.problems())
    return not any(name in found for found in problems for name in _GLOBAL_LIMITS)


def _context(part: Part) -> _Context:
    """What a part's parse depends on besides its bytes: whether it is an attached
    message's root, whether it has no Content-Type under a multipart/digest (its type is
    then message/rfc822, RFC 2046 section 5.1.5), and the enclosing boundaries (a header
    line that is a delimiter of one ends the header block, ``_parser.is_delimiter``)."""
    parent = part.parent
    digest = (
        parent is not None
        and parent.mime_type == "multipart/digest"
        and part.header("content-type") is None
    )
    bounds = frozenset(b for a in part.ancestors() if (b := a.boundary))
    return (type(part), digest, bounds)


def _match(out: Message, base: Message) -> list[tuple[Part, Part]]:
    """``(out part, base part)`` for each outermost part of ``out``'s buffer whose
    bytes and context equal a part of ``base``'s buffer: the parts copied unchanged."""
    root_buf, base_buf = out.buffer, base.buffer
    view = memoryview(base_buf)
    by_key: dict[tuple[int, bytes], list[Part]] = {}
    by_path: dict[str, Part] = {}
    for b in base.walk():
        if b._buf is base_buf:
            by_key.setdefault(_key(b), []).append(b)
            by_path[b._path] = b
    found: list[tuple[Part, Part]] = []
    stack: list[Part] = [out]
    while stack:
        part = stack.pop()
        if part._buf is not root_buf:
            continue  # decoded from an encoded attached message: not a span of the output
        twin = _twin(part, by_key, by_path, view)
        if twin is not None:
            found.append((part, twin))
        elif part._children:
            stack.extend(reversed(part._children))
    return found


def _key(part: Part) -> tuple[int, bytes]:
    """Size and last bytes: an edited part rarely keeps both (a disclaimer goes at the end
    of a body, a new header field changes the size), so few byte comparisons fail.
    (The slots, not the properties: this runs for every part of both messages.)"""
    start, end = part._start, part._end
    return (end - start, part._buf[max(start, end - _TAIL) : end])


def _twin(
    part: Part,
    by_key: dict[tuple[int, bytes], list[Part]],
    by_path: dict[str, Part],
    view: memoryview,
) -> Part | None:
    same = by_key.get(_key(part))
    if not same:
        return None
    first = by_path.get(part.path)
    tried = same[:_CANDIDATES]
    if first is not None and first in same and first not in tried:
        tried = [first, *tried[: _CANDIDATES - 1]]
    buf = part.buffer
    ctx: _Context | None = None
    for b in tried:
        if not buf.startswith(view[b.start : b.end], part.start):
            continue
        ctx = ctx or _context(part)
        if _context(b) == ctx and _same_shape(part, b):
            return b
    return None


def _same_shape(part: Part, twin: Part) -> bool:
    """Equal bytes and context parse alike; checked all the same (one walk of the subtree)."""
    a, b = list(part.walk()), list(twin.walk())
    return len(a) == len(b) and all(
        x.end - x.start == y.end - y.start and len(x.children) == len(y.children)
        for x, y in zip(a, b, strict=True)
    )


def _move_memos(matches: list[tuple[Part, Part]]) -> None:
    """What the base's validation learnt of a copied base64 body (the one pass over it
    that the shared line scan needs, ``Context.base64_body``), moved to its new offset."""
    for part, twin in matches:
        for new, old in zip(part.walk(), twin.walk(), strict=True):
            found: Base64Body | None = old._memo.get(BASE64_MEMO)
            if found is None or BASE64_MEMO in new._memo:
                continue
            problem = found.problem
            if problem is not None:
                problem = (problem[0] + new.body_start - old.body_start, problem[1])
            new._memo[BASE64_MEMO] = Base64Body(problem, found.width, found.crlf)


def _dirty(out: Message, matches: list[tuple[Part, Part]]) -> list[Part]:
    """The parts of ``out`` in document order that no match covers."""
    clean = {id(p) for p, _ in matches}
    parts: list[Part] = []
    stack: list[Part] = [out]
    while stack:
        part = stack.pop()
        if id(part) in clean:
            continue
        parts.append(part)
        if part.children:
            stack.extend(reversed(part.children))
    return parts


def _reused(
    matches: list[tuple[Part, Part]], report: Report, order: dict[int, int], codes: set[str]
) -> Iterator[_Hit]:
    """The part-rule findings of each matched base subtree, at their place in ``out``."""
    by_path: dict[str, list[tuple[int, Finding]]] = {}
    for i, f in enumerate(report.findings):
        if f.code in codes:
            by_path.setdefault(f.part, []).append((i, f))
    if not by_path:
        return
    for part, twin in matches:
        shift = part.start - twin.start
        for new, old in zip(part.walk(), twin.walk(), strict=True):
            for i, f in by_path.get(old.path, ()):
                key = (f.offset + shift, f.code, order[id(new)], i)
                yield key, f.end + shift, new.path, RULES[f.code], f.severity, f.message
