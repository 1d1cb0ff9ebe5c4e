"""The rule registry: every rule is a small function registered with its metadata.

Rule families live in ``mimeguard._rules``; each rule function takes a
:class:`Context` and yields hits ``(part, offset, message)`` where ``offset``
indexes the part's buffer (or ``(part, offset, message, end)``: the bytes
``[offset, end)`` of what is wrong).  The engine (``mimeguard.validation``) adds code,
name, severity and line numbers.  ``docs/rules.md`` is generated from here.
"""

from __future__ import annotations

import bisect
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ._scan import Base64Body, ByteStats, base64_body, scan
from .findings import Severity
from .limits import Limits
from .message import Message, Part
from .profiles import PROFILES, Profile

if TYPE_CHECKING:
    from ._address import AddressList
    from ._dkim import Signature

__all__ = [
    "RULES",
    "Context",
    "Hit",
    "Rule",
    "by_name",
    "fixable_names",
    "parser_rule",
    "parser_rule_names",
    "rule",
    "severities",
]

#: ``(part, offset, message)``, or ``(part, offset, message, end)`` for a span ``[offset, end)``
Hit = tuple[Part, int, str] | tuple[Part, int, str, int]
#: ``"part"``: each hit is on a part the rule iterates over (``ctx.parts``/``ctx.leaves``)
#: and depends only on that part's bytes and its parse context (see ``mimeguard._incremental``);
#: ``"message"``: anything else, always run on the whole message
Scope = Literal["part", "message"]
Check = Callable[["Context"], Iterable[Hit]]

#: profile fields a rule may need (it runs only under profiles where the field is set)
_NEEDS = frozenset(
    {
        "max_message_bytes",
        "max_recipients",
        "max_attachments",
        "max_parts",
        "max_header_bytes",
        "single_from",
        "once_only",
        "immutable",
        "blocked_extensions",
    }
)
_LEGACY_PROFILES = ("rfc", "workmail", "ses")
#: the key of a part's :class:`~mimeguard._scan.Base64Body` in ``Part._memo``
BASE64_MEMO = "_mimeguard_base64_body"
_NO_MAPPING: Mapping[str, Severity | None] = types.MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A rule of the catalog.

    ``default`` is the rule's severity under ``rfc`` (``None``: it does not run
    there); a profile changes it through its ``overrides``, and a rule that
    ``needs`` a profile field (a quota, a header list) runs only where that
    field is set.  ``fixture`` is a message that triggers the rule; ``fix`` says
    what :func:`mimeguard.repair` does about it and ``fixable`` whether it does
    anything.  ``no_injector`` says why :mod:`mimeguard.strategies` cannot
    inject the rule's defect (``None``: it can, and a test holds it to that).
    """

    code: str
    name: str
    summary: str
    default: Severity | None
    source: str
    #: a message that triggers the rule, or a function making one (for big ones)
    fixture_source: bytes | Callable[[], bytes]
    fix: str
    fixable: bool
    check: Check
    #: for rules that compare with an original message: the original of ``fixture``
    fixture_original: bytes | None = None
    #: parser limits under which ``fixture`` triggers the rule (``None``: the defaults)
    fixture_limits: Limits | None = None
    #: the profile field the rule reads; the rule runs only where it is set
    needs: str | None = None
    no_injector: str | None = None
    #: severities given the old way (``severities(...)``), per profile name: see ``rule``
    legacy: Mapping[str, Severity | None] = field(default_factory=lambda: _NO_MAPPING)
    scope: Scope = "message"

    @property
    def fixture(self) -> bytes:
        """A message that triggers this rule."""
        src = self.fixture_source
        return src if isinstance(src, bytes) else src()

    @property
    def severity(self) -> Mapping[str, Severity | None]:
        """Severity per profile name, ``None`` where the rule does not run (from the profiles)."""
        return {name: self.severity_in(p) for name, p in PROFILES.items()}

    def severity_in(self, profile: str | Profile) -> Severity | None:
        """The rule's severity under ``profile``, ``None`` where it does not run there."""
        prof = profile if isinstance(profile, Profile) else PROFILES.get(profile)
        if prof is None:
            return None
        if self.needs is not None and not getattr(prof, self.needs):
            return None
        if self.code in prof.overrides or not self.legacy:
            return prof.severity_of(self.code, self.default)
        base: Profile | None = prof
        while base is not None:  # the old form names profiles: the nearest one counts
            if base.name in self.legacy:
                return self.legacy[base.name]
            base = PROFILES.get(base.base) if base.base else None
        return self.default

    @property
    def profiles(self) -> tuple[str, ...]:
        """The profiles the rule runs under."""
        return tuple(p for p in PROFILES if self.severity_in(p) is not None)


#: every rule, in code order once all families are imported
RULES: dict[str, Rule] = {}
_BY_NAME: dict[str, Rule] = {}
#: names of the rules whose hits are parser defects
_PARSER_RULES: set[str] = set()


def severities(
    default: Severity | None, **per_profile: Severity | None
) -> dict[str, Severity | None]:
    """The old way to give a severity per profile: ``default`` everywhere, overridden by keyword.

    Kept so that rules written before profiles became data still register;
    :func:`rule` turns it into the rule's ``rfc`` severity plus per-profile
    exceptions.  New rules give their ``rfc`` severity and leave the rest to the
    profiles' ``overrides``.
    """
    for name in per_profile:
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}")
    out: dict[str, Severity | None] = dict.fromkeys(_LEGACY_PROFILES, default)
    out.update(per_profile)
    return out


def _split_legacy(
    mapping: Mapping[str, Severity | None],
) -> tuple[Severity | None, dict[str, Severity | None]]:
    default = mapping.get("rfc")
    return default, {p: v for p, v in mapping.items() if p != "rfc" and v != default}


def _infer_fixable(fix: str) -> bool:
    # only for rules registered without fixable= (the old form): the lead converts them
    return not fix.lower().startswith(("not fixable", "reported only"))


def rule(
    code: str,
    name: str,
    *,
    summary: str,
    severity: Mapping[str, Severity | None] | Severity | None,
    source: str,
    fixture: bytes | Callable[[], bytes],
    fix: str,
    fixable: bool | None = None,
    needs: str | None = None,
    no_injector: str | None = None,
    fixture_original: bytes | None = None,
    fixture_limits: Limits | None = None,
    scope: Scope = "message",
) -> Callable[[Check], Check]:
    """Register the decorated function as rule ``code``/``name``.

    ``severity`` is the rule's severity under ``rfc`` (``None``: not checked
    there); profiles override it.  A mapping (the old ``severities(...)`` form)
    is still taken: its ``rfc`` entry becomes the default and every other entry
    that differs an exception for that profile and those derived from it.
    """
    if needs is not None and needs not in _NEEDS:
        raise ValueError(f"rule {code}: needs={needs!r} is not one of {sorted(_NEEDS)}")
    if scope not in ("part", "message"):
        raise ValueError(f"rule {code}: scope={scope!r} is not 'part' or 'message'")
    legacy: dict[str, Severity | None] = {}
    if severity is None or isinstance(severity, str):
        default: Severity | None = severity
    else:
        default, legacy = _split_legacy(severity)

    def register(check: Check) -> Check:
        if code in RULES or name in _BY_NAME:
            raise RuntimeError(f"rule {code} {name} registered twice")
        r = Rule(
            code=code,
            name=name,
            summary=summary,
            default=default,
            source=source,
            fixture_source=fixture,
            fix=fix,
            fixable=_infer_fixable(fix) if fixable is None else fixable,
            check=check,
            fixture_original=fixture_original,
            fixture_limits=fixture_limits,
            needs=needs,
            no_injector=no_injector,
            legacy=types.MappingProxyType(legacy) if legacy else _NO_MAPPING,
            scope=scope,
        )
        RULES[code] = r
        _BY_NAME[name] = r
        return check

    return register


def by_name(name: str) -> Rule | None:
    return _BY_NAME.get(name)


def fixable_names() -> frozenset[str]:
    """Names of the rules :func:`mimeguard.repair` does something about."""
    return frozenset(r.name for r in RULES.values() if r.fixable)


def parser_rule_names() -> frozenset[str]:
    """Names of the rules whose hits are defects the parser records."""
    return frozenset(_PARSER_RULES)


def parser_rule(
    code: str,
    name: str,
    *,
    summary: str,
    severity: Mapping[str, Severity | None] | Severity | None,
    source: str,
    fixture: bytes | Callable[[], bytes],
    fix: str,
    fixable: bool | None = None,
    no_injector: str | None = None,
    fixture_limits: Limits | None = None,
) -> None:
    """Register a rule whose hits are the defects the parser recorded under ``name``
    (a :class:`~mimeguard._defects.Defect`)."""
    name = str(name)

    def check(ctx: Context) -> Iterable[Hit]:
        return ctx.msg.defects(name)  # a list, no generator: most mail has no defect

    check.__name__ = name.replace("-", "_")
    rule(
        code,
        name,
        summary=summary,
        severity=severity,
        source=source,
        fixture=fixture,
        fix=fix,
        fixable=fixable,
        no_injector=no_injector,
        fixture_limits=fixture_limits,
    )(check)
    _PARSER_RULES.add(name)


class Context:
    """What a rule sees: the message, the profile, the original message if any,
    and a few views computed once and shared between rules."""

    __slots__ = (
        "_addresses",
        "_dkim",
        "ascii",
        "leaves",
        "messages",
        "msg",
        "original",
        "parts",
        "profile",
        "stats",
    )

    # The views below are slots filled on first use (see ``__getattr__``): once set, a
    # rule reads them at slot speed, and no untyped ``__dict__`` holds them (issue 14 s5).
    #: every part, the root first
    parts: list[Part]
    #: line endings, NUL, 8-bit and long lines of the root buffer (see ``_stats``)
    stats: ByteStats
    #: True when no byte of the message (attached messages decoded included) is 8-bit
    ascii: bool
    #: parts with a body of their own: neither multipart nor parsed attached message
    leaves: list[Part]
    #: the root and every attached message
    messages: list[Message]

    def __init__(self, msg: Message, profile: Profile, original: Message | None) -> None:
        self.msg = msg
        self.profile = profile
        self.original = original
        #: parsed address lists by (kind, value), for ``_rules._shared``
        self._addresses: dict[tuple[int, str], AddressList] = {}
        #: the DKIM-Signature fields of each message, for ``_rules.dkim`` (None: not read)
        self._dkim: list[tuple[Message, list[Signature]]] | None = None

    if not TYPE_CHECKING:  # mypy keeps checking attribute names: only the views come here

        def __getattr__(self, name: str) -> object:
            # called only while a view's slot is empty: compute it once and fill the slot
            make = _VIEWS.get(name)
            if make is None:
                raise AttributeError(f"'Context' object has no attribute {name!r}")
            value = make(self)
            setattr(self, name, value)
            return value

    def _parts(self) -> list[Part]:
        return list(self.msg.walk())

    def restricted(self, parts: list[Part]) -> Context:
        """This context with ``parts`` (in document order) standing for the message's parts
        and leaves, for ``scope="part"`` rules (``mimeguard._incremental``); the caches
        and views computed so far are shared, and ``messages`` and ``ascii`` stay the
        whole message's."""
        view = Context(self.msg, self.profile, self.original)
        view._addresses = self._addresses
        view._dkim = self._dkim
        view.messages = self.messages
        view.ascii = self.ascii
        view.stats = self.stats  # computed for ascii already
        view.parts = parts
        view.leaves = [p for p in parts if not p.children and not p.is_multipart]
        return view

    def _stats(self) -> ByteStats:
        """Line endings, NUL, 8-bit and long lines of the root buffer, in one pass
        (base64 bodies of lines of one width, known from :meth:`base64_body`, skipped)."""
        root = self.msg.buffer
        regular = []
        for part in self.leaves:
            if part.buffer is root and part.transfer_encoding == "base64":
                body = self.base64_body(part)
                if body.width:
                    regular.append((part.body_start, part.body_end, body.crlf))
        regular.sort()
        return scan(root, self.msg.start, self.msg.end, regular)

    def base64_body(self, part: Part) -> Base64Body:
        """:func:`~mimeguard._scan.base64_body` of ``part``'s body, computed once per part
        (kept in the part's memo: incremental validation moves it to an equal part)."""
        found: Base64Body | None = part._memo.get(BASE64_MEMO)
        if found is None:
            found = part._memo[BASE64_MEMO] = base64_body(
                part.buffer, part.body_start, part.body_end
            )
        return found

    def _ascii(self) -> bool:
        """True when no byte of the message (attached messages decoded included) is 8-bit."""
        root = self.msg.buffer
        return self.stats.ascii and all(
            m.buffer.isascii() for m in self.messages if m.buffer is not root
        )

    def _leaves(self) -> list[Part]:
        """Parts with a body of their own: neither multipart nor parsed attached message."""
        return [p for p in self.parts if not p.children and not p.is_multipart]

    def part_at(self, offset: int) -> Part:
        """The innermost part of the root buffer whose span holds ``offset``."""
        part: Part = self.msg
        while part.children:
            children = part.children
            i = bisect.bisect_right(children, offset, key=_start) - 1
            if i < 0 or offset >= children[i].end or children[i].buffer is not part.buffer:
                break
            part = children[i]
        return part

    def _messages(self) -> list[Message]:
        """The root and every attached message."""
        return [p for p in self.parts if isinstance(p, Message)]


_VIEWS: dict[str, Callable[[Context], object]] = {
    "parts": Context._parts,
    "stats": Context._stats,
    "ascii": Context._ascii,
    "leaves": Context._leaves,
    "messages": Context._messages,
}


def _start(part: Part) -> int:
    return part.start
