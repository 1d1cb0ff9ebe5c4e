"""The rule registry: every rule is a small function registered with its metadata.

Rule families live in ``mimeguard._rules``; each rule function takes a
:class:`Context` and yields hits ``(part, offset, message)`` where ``offset``
indexes the part's buffer.  The engine (``mimeguard.validation``) adds code,
name, severity and line numbers.  ``docs/rules.md`` is generated from here.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from ._scan import Base64Body, ByteStats, base64_body, scan
from .findings import Severity
from .limits import Limits
from .message import Message, Part
from .profiles import PROFILES, Profile

__all__ = ["RULES", "Context", "Hit", "Rule", "rule", "severities"]

Hit = tuple[Part, int, str]
Check = Callable[["Context"], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the catalog.

    ``severity`` maps each profile name to the severity the rule has there, or
    ``None`` where the rule does not apply.  ``fixture`` is a message that
    triggers the rule; ``fix`` says what :func:`mimeguard.repair` does about it.
    """

    code: str
    name: str
    summary: str
    severity: Mapping[str, Severity | None]
    source: str
    #: a message that triggers the rule, or a function making one (for big ones)
    fixture_source: bytes | Callable[[], bytes]
    fix: str
    check: Check
    #: for rules that compare with an original message: the original of ``fixture``
    fixture_original: bytes | None = None
    #: parser limits under which ``fixture`` triggers the rule (``None``: the defaults)
    fixture_limits: Limits | None = None

    @property
    def fixture(self) -> bytes:
        """A message that triggers this rule."""
        src = self.fixture_source
        return src if isinstance(src, bytes) else src()

    def severity_in(self, profile: str | Profile) -> Severity | None:
        name = profile.name if isinstance(profile, Profile) else profile
        return self.severity.get(name)

    @property
    def profiles(self) -> tuple[str, ...]:
        return tuple(p for p in PROFILES if self.severity.get(p) is not None)

    @property
    def fixable(self) -> bool:
        return not self.fix.lower().startswith(("not fixable", "reported only"))


#: every rule, in code order once all families are imported
RULES: dict[str, Rule] = {}
_BY_NAME: dict[str, Rule] = {}


def severities(
    default: Severity | None, **per_profile: Severity | None
) -> dict[str, Severity | None]:
    """Severity per profile: ``default`` everywhere, overridden by keyword."""
    out: dict[str, Severity | None] = dict.fromkeys(PROFILES, default)
    for name, value in per_profile.items():
        if name not in PROFILES:
            raise ValueError(f"unknown profile {name!r}")
        out[name] = value
    return out


def rule(
    code: str,
    name: str,
    *,
    summary: str,
    severity: Mapping[str, Severity | None] | Severity,
    source: str,
    fixture: bytes | Callable[[], bytes],
    fix: str,
    fixture_original: bytes | None = None,
    fixture_limits: Limits | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated function as rule ``code``/``name``."""
    sev = severities(severity) if isinstance(severity, str) else dict(severity)

    def register(check: Check) -> Check:
        if code in RULES or name in _BY_NAME:
            raise RuntimeError(f"rule {code} {name} registered twice")
        r = Rule(
            code, name, summary, sev, source, fixture, fix, check, fixture_original, fixture_limits
        )
        RULES[code] = r
        _BY_NAME[name] = r
        return check

    return register


def by_name(name: str) -> Rule | None:
    return _BY_NAME.get(name)


def parser_rule(
    code: str,
    name: str,
    *,
    summary: str,
    severity: Mapping[str, Severity | None] | Severity,
    source: str,
    fixture: bytes | Callable[[], bytes],
    fix: str,
    fixture_limits: Limits | None = None,
) -> None:
    """Register a rule whose hits are the defects the parser recorded under ``name``."""

    def check(ctx: Context) -> Iterator[Hit]:
        yield from ctx.msg.defects(name)

    check.__name__ = name.replace("-", "_")
    rule(
        code,
        name,
        summary=summary,
        severity=severity,
        source=source,
        fixture=fixture,
        fix=fix,
        fixture_limits=fixture_limits,
    )(check)


class Context:
    """What a rule sees: the message, the profile, the original message if any,
    and a few views computed once and shared between rules."""

    __slots__ = ("__dict__", "msg", "original", "profile")

    def __init__(self, msg: Message, profile: Profile, original: Message | None) -> None:
        self.msg = msg
        self.profile = profile
        self.original = original

    @functools.cached_property
    def parts(self) -> list[Part]:
        return list(self.msg.walk())

    @functools.cached_property
    def stats(self) -> ByteStats:
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
        """:func:`~mimeguard._scan.base64_body` of ``part``'s body, computed once."""
        cache: dict[int, Base64Body] = self.__dict__.setdefault("_base64", {})
        found = cache.get(id(part))
        if found is None:
            found = cache[id(part)] = base64_body(part.buffer, part.body_start, part.body_end)
        return found

    @functools.cached_property
    def ascii(self) -> bool:
        """True when no byte of the message (attached messages decoded included) is 8-bit."""
        root = self.msg.buffer
        return self.stats.ascii and all(
            m.buffer.isascii() for m in self.messages if m.buffer is not root
        )

    @functools.cached_property
    def leaves(self) -> list[Part]:
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

    @functools.cached_property
    def messages(self) -> list[Message]:
        """The root and every attached message."""
        return [p for p in self.parts if isinstance(p, Message)]


def _start(part: Part) -> int:
    return part.start
