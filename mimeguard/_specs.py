"""One spec per edit: its options, checked once, and how it is applied (issue 14 §3).

A spec is a frozen record of one edit's options, validated in ``__post_init__``;
``apply(session, changes)`` runs the edit on the :class:`~mimeguard._session._Session`
tree.  Each option also says, as data (an :class:`Option` in its field's metadata),
its ``mimeguard edit`` flags and its :class:`~mimeguard.Recipe` field and
``MIMEGUARD_*`` variable, so the ``Editor`` methods, the recipe and the command line
are all built from here and check each option with the same code.

The specs stay private: the public way to ask for an edit is an ``Editor`` method,
a ``Recipe`` field or a flag, and keeping the records private leaves their flag and
field metadata free to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from ._attachments import EXECUTABLES, Policy
from ._conservation import check_conserved
from ._disclaimer import OnNoText, OnSigned, Position, _apply_disclaimer
from ._lists import SES_BLOCKED_EXTENSIONS
from ._repair import repair_message
from ._results import Change
from ._session import _Session
from ._strip import Match, Matcher, _apply_strip
from ._subject import _apply_subject

__all__ = [
    "DEFAULT_NOTICE",
    "PRESETS",
    "SES_BLOCKED",
    "SPECS",
    "Disclaimer",
    "Flag",
    "Option",
    "Repair",
    "Spec",
    "StripAttachments",
    "SubjectRewrite",
    "build",
    "expand_presets",
    "missing_key",
    "options",
]

#: The notice that replaces a removed attachment; ``{filename}``, ``{content_type}``
#: and ``{size}`` are filled in.
DEFAULT_NOTICE = 'The attachment "{filename}" ({content_type}, {size}) was removed.'

#: Filename patterns for every attachment extension Amazon SES refuses.
SES_BLOCKED: tuple[str, ...] = tuple(f"*.{ext}" for ext in sorted(SES_BLOCKED_EXTENSIONS))

#: Names a recipe or the command line may give among strip patterns.
PRESETS: Mapping[str, tuple[str | Matcher, ...]] = {
    "ses-blocked": SES_BLOCKED,
    "executables": (EXECUTABLES,),  # content, whatever the name says
}

Check = Callable[[str, Any], None]
#: how the option's ``MIMEGUARD_*`` variable is read (mimeguard.recipe reads it)
EnvKind = Literal["text", "lower", "list", "optional", "bool"]
#: ``key``: giving it asks for the edit; ``needs-key``: it may not be given without a
#: key option; ``modifier``: it tunes the edit and is ignored without one;
#: ``switch``: a bool that asks for the edit (an edit with a switch has no key)
Role = Literal["key", "needs-key", "modifier", "switch"]


@dataclass(frozen=True, slots=True)
class Flag:
    """How an option is given to ``mimeguard edit``."""

    name: str
    help: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    #: the flag may be given again (its values are collected)
    repeat: bool = False
    #: the flag takes no value (it sets the option to True)
    switch: bool = False
    #: ``text-or-file``: a file to read when it names one, else the text itself;
    #: ``file``: a file to read
    read: Literal["", "text-or-file", "file"] = ""
    #: the values are strip patterns where the names in :data:`PRESETS` stand for theirs
    presets: bool = False


@dataclass(frozen=True, slots=True)
class Option:
    """What one option of an edit is and where it may be given besides the ``Editor``."""

    check: Check
    role: Role = "modifier"
    flags: tuple[Flag, ...] = ()
    #: the :class:`~mimeguard.Recipe` field and the ``MIMEGUARD_*`` variable
    recipe: str | None = None
    env: str | None = None
    env_kind: EnvKind = "text"
    #: a recipe's values are strip patterns where preset names stand for theirs
    presets: bool = False


def _opt(**kwargs: Any) -> dict[str, Option]:
    """A field's metadata: the :class:`Option` it is."""
    return {"option": Option(**kwargs)}


# -- the checks, each written once ------------------------------------------------------------


def _text(name: str, value: object) -> None:
    """``value`` is a str that can be written in some charset."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            # a lone surrogate (U+D800-U+DFFF) is no character: no charset can carry it
            raise ValueError(
                f"{name} holds a lone surrogate {value[exc.start]!r} at index {exc.start}"
            ) from None


def _optional_text(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    _text(name, value)


def _header_text(name: str, value: object) -> None:
    """Text for a header field: no CR or LF, which would start a field of its own."""
    _optional_text(name, value)
    if isinstance(value, str) and ("\r" in value or "\n" in value):
        raise ValueError(f"{name} must not contain CR or LF (header injection)")


def _required_header_text(name: str, value: object) -> None:
    _text(name, value)
    _header_text(name, value)


def _disclaimer_text(name: str, value: object) -> None:
    _text(name, value)
    assert isinstance(value, str)
    if not value.strip():
        raise ValueError(f"{name} is empty: a disclaimer needs some text")


def _notice(name: str, value: object) -> None:
    """A notice template names only ``{filename}``, ``{content_type}`` and ``{size}``."""
    _optional_text(name, value)
    if not isinstance(value, str):
        return
    try:
        value.format(filename="", content_type="", size="")
    except (KeyError, IndexError, AttributeError, ValueError) as exc:
        raise ValueError(
            f"{name} {value!r} is not a valid template ({type(exc).__name__}: {exc}); it may "
            "use {filename}, {content_type} and {size}, and {{ }} for a literal brace"
        ) from None


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _datetime(name: str, value: object) -> None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime or None, not {type(value).__name__}")


def _one_of(choices: tuple[str, ...]) -> Check:
    quoted = [repr(c) for c in choices]
    wanted = f"{', '.join(quoted[:-1])} or {quoted[-1]}"

    def check(name: str, value: object) -> None:
        if value not in choices:
            raise ValueError(f"{name} must be {wanted}, not {value!r}")

    return check


def _items(match: Any) -> tuple[str | Matcher, ...]:
    """The patterns and tests of a ``match``, read once (a generator is consumed here)."""
    items: Any = [match] if callable(match) or isinstance(match, str) else match
    return tuple(items)


def _match(name: str, value: object) -> None:
    Policy(_items(value))  # raises TypeError/ValueError for what it cannot use


# -- the specs ----------------------------------------------------------------------------------


class _Checked:
    """Runs every option's check on the values the record was made with."""

    __slots__ = ()

    def _check(self, *, done: str = "") -> None:
        for name, option in options(type(self)):
            if option.role != "switch" and name != done:
                option.check(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class Disclaimer(_Checked):
    """Add ``text`` (and ``html`` for HTML parts) to every body text part."""

    group: ClassVar[str] = "disclaimer"

    text: str = field(
        metadata=_opt(
            check=_disclaimer_text,
            role="key",
            flags=(
                Flag(
                    "--disclaimer-text",
                    metavar="FILE|TEXT",
                    help="plain-text disclaimer: a file to read, or the text itself",
                    read="text-or-file",
                ),
            ),
            recipe="disclaimer_text",
            env="MIMEGUARD_DISCLAIMER_TEXT",
        )
    )
    html: str | None = field(
        default=None,
        metadata=_opt(
            check=_optional_text,
            role="needs-key",
            flags=(
                Flag(
                    "--disclaimer-html",
                    metavar="FILE",
                    help="HTML disclaimer for HTML parts",
                    read="file",
                ),
            ),
            recipe="disclaimer_html",
            env="MIMEGUARD_DISCLAIMER_HTML",
        ),
    )
    position: Position = field(
        default="bottom",
        metadata=_opt(
            check=_one_of(get_args(Position)),
            flags=(Flag("--position", choices=get_args(Position), help="where the text goes"),),
            recipe="position",
            env="MIMEGUARD_DISCLAIMER_POSITION",
            env_kind="lower",
        ),
    )
    on_signed: OnSigned = field(
        default="skip",
        metadata=_opt(
            check=_one_of(get_args(OnSigned)),
            flags=(
                Flag(
                    "--on-signed",
                    choices=get_args(OnSigned),
                    help="signed or encrypted messages: leave alone (default), wrap, or fail",
                ),
            ),
            recipe="on_signed",
            env="MIMEGUARD_ON_SIGNED",
            env_kind="lower",
        ),
    )
    on_no_text: OnNoText = field(default="add", metadata=_opt(check=_one_of(get_args(OnNoText))))

    def __post_init__(self) -> None:
        self._check()

    def apply(self, session: _Session, changes: list[Change]) -> None:
        _apply_disclaimer(
            session,
            changes,
            text=self.text,
            html=self.html,
            position=self.position,
            on_signed=self.on_signed,
            on_no_text=self.on_no_text,
        )


@dataclass(frozen=True, slots=True)
class SubjectRewrite(_Checked):
    """Prefix, suffix or replace the decoded subject (never doubling a prefix)."""

    group: ClassVar[str] = "subject"

    prefix: str = field(
        default="",
        metadata=_opt(
            check=_required_header_text,
            role="key",
            flags=(Flag("--subject-prefix", metavar="TEXT", help="put before the subject"),),
            recipe="subject_prefix",
            env="MIMEGUARD_SUBJECT_PREFIX",
        ),
    )
    suffix: str = field(
        default="",
        metadata=_opt(
            check=_required_header_text,
            role="key",
            flags=(Flag("--subject-suffix", metavar="TEXT", help="put after the subject"),),
            recipe="subject_suffix",
            env="MIMEGUARD_SUBJECT_SUFFIX",
        ),
    )
    replace: str | None = field(default=None, metadata=_opt(check=_header_text, role="key"))

    def __post_init__(self) -> None:
        self._check()

    def apply(self, session: _Session, changes: list[Change]) -> None:
        _apply_subject(
            session, changes, prefix=self.prefix, suffix=self.suffix, replace=self.replace
        )


@dataclass(frozen=True, slots=True)
class StripAttachments(_Checked):
    """Remove matching attachments, each replaced by a short text notice."""

    group: ClassVar[str] = "attachments"

    match: Match = field(
        metadata=_opt(
            check=_match,
            role="key",
            flags=(
                Flag(
                    "--strip",
                    metavar="PATTERN",
                    repeat=True,
                    presets=True,
                    help="remove attachments whose file name (*.exe) or type (image/*) matches, "
                    f"or a preset ({', '.join(PRESETS)}); repeatable",
                ),
                Flag(
                    "--strip-preset",
                    choices=tuple(PRESETS),
                    repeat=True,
                    presets=True,
                    help="remove every attachment type Amazon SES refuses (ses-blocked), or "
                    "executables recognised by their content",
                ),
            ),
            recipe="strip",
            env="MIMEGUARD_STRIP",
            env_kind="list",
            presets=True,
        )
    )
    notice: str | None = field(
        default=DEFAULT_NOTICE,
        metadata=_opt(
            check=_notice,
            flags=(
                Flag(
                    "--strip-notice",
                    metavar="TEXT",
                    help="text left in place of a removed attachment "
                    "({filename}, {content_type}, {size})",
                ),
            ),
            recipe="strip_notice",
            env="MIMEGUARD_STRIP_NOTICE",
            env_kind="optional",
        ),
    )
    descend: bool = field(default=True, metadata=_opt(check=_bool))
    _policy: Policy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "match", _items(self.match))
        # the policy is the check of ``match``: compiled once (hundreds of patterns)
        object.__setattr__(self, "_policy", Policy(self.match))
        self._check(done="match")

    def apply(self, session: _Session, changes: list[Change]) -> None:
        _apply_strip(session, changes, match=self._policy, notice=self.notice, descend=self.descend)


@dataclass(frozen=True, slots=True)
class Repair(_Checked):
    """Fix every fixable problem (:func:`mimeguard.repair`); run before the other edits.

    ``envelope_from`` fills a missing From; a missing Date comes from the newest
    Received timestamp, else ``now`` (default: the current time).
    """

    group: ClassVar[str] = "repair"
    #: an edit without a key option: this switch asks for it
    switch: ClassVar[Option] = Option(
        check=_bool,
        role="switch",
        flags=(Flag("--repair", switch=True, help="repair the input first"),),
        recipe="repair",
        env="MIMEGUARD_REPAIR",
        env_kind="bool",
    )

    envelope_from: str | None = field(
        default=None,
        metadata=_opt(
            check=_header_text,
            flags=(
                Flag(
                    "--envelope-from", metavar="ADDRESS", help="with --repair: fill a missing From"
                ),
            ),
        ),
    )
    now: datetime | None = field(default=None, metadata=_opt(check=_datetime))

    def __post_init__(self) -> None:
        self._check()

    def apply(self, session: _Session, changes: list[Change]) -> None:
        """Repair what the tree holds now; the session then holds the repaired parse.

        Repair works on a parse (it rounds until a fixed point), so the tree is written
        out first; an unchanged message keeps its parse, a repaired one is parsed once.
        """
        before = session.finish()
        mark = len(changes)
        after, _ = repair_message(
            before,
            changes,
            envelope_from=self.envelope_from,
            profile=session.profile,
            limits=session.limits,
            now=self.now,
        )
        if after is not before:
            check_conserved(before, after, changes[mark:])
            session.load(after)
        elif before is not session.msg:
            session.load(before)


Spec: TypeAlias = Disclaimer | SubjectRewrite | StripAttachments | Repair

#: Every edit, in the order the command line lists their flags.
SPECS: tuple[type[Spec], ...] = (Disclaimer, SubjectRewrite, StripAttachments, Repair)


# -- building a spec from what a caller gave ----------------------------------------------------


def options(spec: type[Any]) -> list[tuple[str, Option]]:
    """The options of ``spec`` by field name; a switch is named ``"switch"``."""
    found = [(f.name, f.metadata["option"]) for f in fields(spec) if "option" in f.metadata]
    switch: Option | None = getattr(spec, "switch", None)
    return found if switch is None else [("switch", switch), *found]


def expand_presets(patterns: Iterable[str | Matcher]) -> list[str | Matcher]:
    """``patterns`` with each preset name (:data:`PRESETS`) replaced by its patterns."""
    out: list[str | Matcher] = []
    for p in patterns:
        preset = PRESETS.get(p.lower()) if isinstance(p, str) else None
        if preset is None:
            out.append(p)
        else:
            out.extend(preset)
    return out


def missing_key(spec: type[Spec], given: Iterable[str], label: Callable[[str], str]) -> None:
    """Raise :class:`ValueError` when an option that needs the edit's key is given alone."""
    names = set(given)
    opts = options(spec)
    keys = [n for n, o in opts if o.role in ("key", "switch")]
    if names.intersection(keys):
        return
    for name, option in opts:
        if option.role == "needs-key" and name in names:
            raise ValueError(f"{label(name)} needs {label(keys[0])}")


def build(
    spec: type[Spec], given: Mapping[str, object], label: Callable[[str], str]
) -> Spec | None:
    """The spec for the options a caller gave (field name to value; ``"switch"`` for a
    switch), or None when the edit is not asked for.  Each value is checked under the
    caller's own name for it (``label``), so an error names the flag or field it gave.
    """
    opts = dict(options(spec))
    missing_key(spec, given, label)
    if "switch" in opts:
        opts["switch"].check(label("switch"), given.get("switch", False))
        asked = bool(given.get("switch"))
    else:
        asked = any(opts[name].role == "key" for name in given)

    def relabelled() -> None:
        for name, value in given.items():
            opts[name].check(label(name), value)

    if not asked:
        relabelled()  # an option given without the edit is still checked
        return None
    values: dict[str, Any] = {n: v for n, v in given.items() if n != "switch"}
    try:
        return spec(**values)
    except (TypeError, ValueError):
        relabelled()  # the same check again, raising under the caller's name
        raise
