"""Validation: run the rules of a profile over a message and report findings."""

from __future__ import annotations

from collections.abc import Iterable

from . import _rules  # noqa: F401  # registers every rule
from ._parser import parse
from ._registry import BASE64_MEMO, RULES, Context, Hit, Rule
from ._scan import Base64Body
from .errors import UnknownRuleError
from .findings import Finding, Report, Severity
from .limits import DEFAULT_LIMITS, Limits
from .message import Message, Part
from .profiles import DEFAULT_PROFILE, PROFILES, Profile, get_profile

__all__ = ["select_rules", "validate"]

Input = bytes | bytearray | memoryview | Message


def _as_message(data: Input, limits: Limits) -> Message:
    return data if isinstance(data, Message) else parse(data, limits=limits)


def select_rules(
    profile: str | Profile = DEFAULT_PROFILE,
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[tuple[Rule, Severity]]:
    """The rules that run under ``profile``, with their severity there.

    ``select`` and ``ignore`` take codes (``MG301``), code prefixes (``MG3``),
    rule names (``missing-closing-boundary``) or ``ALL``; like ruff, a rule runs
    when it is selected (everything by default) and not ignored.
    """
    prof = get_profile(profile)
    chosen = [r for r in RULES.values() if r.severity_in(prof) is not None]
    if select is not None:
        sel = _matcher(select)
        chosen = [r for r in chosen if sel(r)]
    if ignore is not None:
        ign = _matcher(ignore)
        chosen = [r for r in chosen if not ign(r)]
    out: list[tuple[Rule, Severity]] = []
    for r in chosen:
        sev = r.severity_in(prof)
        assert sev is not None
        out.append((r, sev))
    return out


def _matcher(specs: Iterable[str]) -> _Match:
    if isinstance(specs, str):
        specs = [s for s in specs.replace(",", " ").split() if s]
    prefixes: list[str] = []
    names: set[str] = set()
    for spec in specs:
        s = spec.strip()
        if not s:
            continue
        if s.upper() == "ALL":
            prefixes.append("MG")
        elif s.upper().startswith("MG"):
            code = s.upper()
            if not any(c.startswith(code) for c in RULES):
                raise UnknownRuleError(f"no rule code starts with {s!r}")
            prefixes.append(code)
        else:
            if not any(r.name == s.lower() for r in RULES.values()):
                raise UnknownRuleError(f"unknown rule {s!r}; see `mimeguard rules`")
            names.add(s.lower())
    return _Match(tuple(prefixes), frozenset(names))


class _Match:
    __slots__ = ("names", "prefixes")

    def __init__(self, prefixes: tuple[str, ...], names: frozenset[str]) -> None:
        self.prefixes = prefixes
        self.names = names

    def __call__(self, r: Rule) -> bool:
        return r.name in self.names or r.code.startswith(self.prefixes)


def validate(
    data: Input,
    *,
    profile: str | Profile = DEFAULT_PROFILE,
    original: Input | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Report:
    """Check a message (bytes or a parsed :class:`Message`) against ``profile``.

    With ``original`` (the message as received), the headers the profile treats
    as immutable must be unchanged.  Never raises for bad mail; raises
    :class:`~mimeguard.UnknownProfileError` / :class:`~mimeguard.UnknownRuleError`
    for bad arguments and :class:`TypeError` for ``str`` input.
    """
    rules = _rules_for(profile, select, ignore)
    prof = get_profile(profile)
    msg = _as_message(data, limits)
    orig = None if original is None else _as_message(original, limits)
    ctx = Context(msg, prof, orig)
    hits: list[_Located] = []
    for r, sev in rules:
        for hit in r.check(ctx):
            start, end = _span(msg, hit)
            hits.append((start, end, hit[0].path, r, sev, hit[2]))
    hits.sort(key=lambda h: (h[0], h[3].code))
    return Report(_findings(msg, hits), prof.name, msg.end - msg.start)


#: a hit placed in the message buffer: start, end, part path, rule, severity, message
_Located = tuple[int, int, str, Rule, Severity, str]


def _span(msg: Message, hit: Hit) -> tuple[int, int]:
    """Where a hit is in the message buffer: its span, or inside an attached message
    carried encoded, a point at the encoded body that carried it."""
    part, offset = hit[0], hit[1]
    if part.buffer is msg.buffer:
        end = hit[3] if len(hit) > 3 else offset
        return offset, max(offset, end)
    at = _offset(msg, part, offset)
    return at, at


#: the rules of each profile when nothing is selected or ignored, keyed by profile
#: name and rule count (selecting rules costs as much as checking a small message)
_DEFAULT_RULES: dict[tuple[str, int], list[tuple[Rule, Severity]]] = {}


def _rules_for(
    profile: str | Profile, select: Iterable[str] | None, ignore: Iterable[str] | None
) -> list[tuple[Rule, Severity]]:
    if select is not None or ignore is not None:
        return select_rules(profile, select=select, ignore=ignore)
    prof = get_profile(profile)
    if PROFILES.get(prof.name) is not prof:  # a profile built by the caller: not cached
        return select_rules(prof)
    key = (prof.name, len(RULES))
    rules = _DEFAULT_RULES.get(key)
    if rules is None:
        rules = _DEFAULT_RULES[key] = select_rules(profile)
    return rules


def _offset(msg: Message, part: Part, offset: int) -> int:
    """Map an offset in a part's buffer to the message buffer.

    An attached message that was carried encoded lives in a buffer of its own;
    its findings point at the encoded body in the message.
    """
    while part.buffer is not msg.buffer:
        node: Part | None = part
        while node is not None and not (isinstance(node, Message) and node.outer is not None):
            node = node.parent
        if node is None:  # pragma: no cover - every foreign buffer hangs below an outer part
            return 0
        assert isinstance(node, Message) and node.outer is not None
        part = node.outer
        offset = part.body_start
    return offset


#: findings past this offset have their line numbers counted around the base64 bodies
#: whose line breaks are known (:func:`_known_lines`)
_FAR = 1 << 20


def _known_lines(msg: Message) -> list[tuple[int, int, int]]:
    """``(start, end, line breaks)`` of the base64 bodies in ``msg``'s buffer already read
    as lines of one width (:meth:`Context.base64_body`): each LF in them ends one of those
    lines, so a line number past them adds their count instead of counting them again."""
    buf = msg.buffer
    out = []
    for part in msg.walk():
        if part.buffer is buf and not part.children:
            body: Base64Body | None = part._memo.get(BASE64_MEMO)
            if body is not None and body.width:
                out.append((part.body_start, part.body_end, body.crlf))
    out.sort()
    return out


def _findings(msg: Message, hits: list[_Located]) -> list[Finding]:
    buf = msg.buffer
    out: list[Finding] = []
    line, pos = 1, 0
    size = len(buf)
    known = _known_lines(msg) if hits and hits[-1][0] > _FAR else []
    k = 0
    for offset, end, path, r, sev, text in hits:
        while k < len(known) and known[k][1] <= offset:
            a, b, crlf = known[k]
            k += 1
            if a >= pos:
                line += buf.count(b"\n", pos, a) + crlf
                pos = b
        if offset > pos:
            line += buf.count(b"\n", pos, offset)
            pos = offset
        column = offset - (buf.rfind(b"\n", 0, offset) + 1) + 1
        end = min(end, max(offset, size))  # a span never runs past the buffer
        out.append(Finding(r.code, r.name, sev, text, path, offset, line, column, end))
    return out
