"""Edits that always produce a compliant message: disclaimer, subject, attachments, repair.

Every edit parses once, changes a :class:`~mimeguard._writer.Node` tree that
mirrors the parts, serialises by splicing the original spans (untouched parts
are copied byte for byte), validates the result and raises
:class:`~mimeguard.InvalidMessageError` with the report when errors remain.
Inputs are never mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ._attachments import EXECUTABLES
from ._conservation import EditIntegrityError, check_conserved
from ._disclaimer import OnNoText, OnSigned, Position, _apply_disclaimer
from ._dkim import broken_signatures
from ._incremental import revalidate
from ._lists import SES_BLOCKED_EXTENSIONS
from ._parser import parse
from ._results import Change, EditResult
from ._session import _ensure_mime_version, _Session
from ._strip import Match, _apply_strip, _matcher, larger_than
from ._subject import _apply_subject
from .errors import InvalidMessageError
from .findings import Report
from .limits import DEFAULT_LIMITS, Limits
from .message import Message
from .profiles import DEFAULT_PROFILE, Profile, get_profile
from .validation import validate

__all__ = [
    "DEFAULT_NOTICE",
    "EXECUTABLES",
    "SES_BLOCKED",
    "Change",
    "EditResult",
    "Editor",
    "add_disclaimer",
    "larger_than",
    "repair",
    "repair_result",
    "rewrite_subject",
    "strip_attachments",
]

Input = bytes | bytearray | memoryview | Message

#: The notice that replaces a removed attachment; ``{filename}``, ``{content_type}``
#: and ``{size}`` are filled in.
DEFAULT_NOTICE = 'The attachment "{filename}" ({content_type}, {size}) was removed.'

#: Filename patterns for every attachment extension Amazon SES refuses.
SES_BLOCKED: tuple[str, ...] = tuple(f"*.{ext}" for ext in sorted(SES_BLOCKED_EXTENSIONS))


# -- argument checks --------------------------------------------------------------------------


def _check_header_text(name: str, value: str | None) -> None:
    _check_text(name, value, optional=True)
    if value is not None and ("\r" in value or "\n" in value):
        raise ValueError(f"{name} must not contain CR or LF (header injection)")


def _check_text(name: str, value: object, *, optional: bool = False) -> None:
    """``value`` is a str that can be written in some charset (None when ``optional``)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        wanted = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {wanted}, not {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            # a lone surrogate (U+D800-U+DFFF) is no character: no charset can carry it
            raise ValueError(
                f"{name} holds a lone surrogate {value[exc.start]!r} at index {exc.start}"
            ) from None


def _check_notice(notice: object) -> None:
    """A notice template names only ``{filename}``, ``{content_type}`` and ``{size}``."""
    _check_text("notice", notice, optional=True)
    if not isinstance(notice, str):
        return
    try:
        notice.format(filename="", content_type="", size="")
    except (KeyError, IndexError, AttributeError, ValueError) as exc:
        raise ValueError(
            f"notice template {notice!r} is not valid ({type(exc).__name__}: {exc}); it may use "
            "{filename}, {content_type} and {size}, and {{ }} for a literal brace"
        ) from None


# -- the Editor -------------------------------------------------------------------------------

Operation = Callable[[_Session, list[Change]], None]


def _as_bytes(data: Input) -> bytes:
    if isinstance(data, Message):
        return data.to_bytes()
    if isinstance(data, str):
        raise TypeError("edits need the message as bytes, not str: encode it first")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"edits need bytes or a parsed Message, not {type(data).__name__}")
    return bytes(data)


class Editor:
    """Chain edits on one message; :meth:`to_bytes` applies them and validates once.

    The edits change one tree of the message, written out once at the end (one parse,
    one copy, whatever the number of edits); the result is the same as applying them
    one after the other.

    >>> out = Editor(data).add_disclaimer(text="Sent from outside").to_bytes()  # doctest: +SKIP

    With ``repair=True`` the input is repaired first, so that real inbound mail,
    which often breaks the rules, still comes out compliant; ``envelope_from``
    then fills a missing From.
    """

    def __init__(
        self,
        data: Input,
        *,
        profile: str | Profile = DEFAULT_PROFILE,
        repair: bool = False,
        envelope_from: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        now: datetime | None = None,
    ) -> None:
        self._input = _as_bytes(data)
        if not isinstance(profile, (str, Profile)):
            raise TypeError(f"profile must be a name or a Profile, not {type(profile).__name__}")
        if not isinstance(repair, bool):
            raise TypeError(f"repair must be a bool, not {type(repair).__name__}")
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a Limits, not {type(limits).__name__}")
        if now is not None and not isinstance(now, datetime):
            raise TypeError(f"now must be a datetime or None, not {type(now).__name__}")
        self._profile = get_profile(profile)
        self._repair = repair
        self._envelope_from = envelope_from
        self._limits = limits
        self._now = now
        self._ops: list[Operation] = []
        #: the strip edits again, run on the input before repair (see :meth:`result`)
        self._strips: list[Operation] = []
        _check_header_text("envelope_from", envelope_from)

    def add_disclaimer(
        self,
        *,
        text: str,
        html: str | None = None,
        position: Position = "bottom",
        on_signed: OnSigned = "skip",
        on_no_text: OnNoText = "add",
    ) -> Editor:
        """Add ``text`` (and ``html`` for HTML parts) to every body text part."""
        _check_text("text", text)
        _check_text("html", html, optional=True)
        if position not in ("top", "bottom"):
            raise ValueError(f"position must be 'top' or 'bottom', not {position!r}")
        if on_signed not in ("skip", "wrap", "error"):
            raise ValueError(f"on_signed must be 'skip', 'wrap' or 'error', not {on_signed!r}")
        if on_no_text not in ("add", "skip"):
            raise ValueError(f"on_no_text must be 'add' or 'skip', not {on_no_text!r}")
        if not text.strip():
            raise ValueError("the disclaimer text is empty")
        self._ops.append(
            lambda session, ch: _apply_disclaimer(
                session,
                ch,
                text=text,
                html=html,
                position=position,
                on_signed=on_signed,
                on_no_text=on_no_text,
            )
        )
        return self

    def rewrite_subject(
        self, *, prefix: str = "", suffix: str = "", replace: str | None = None
    ) -> Editor:
        """Prefix, suffix or replace the decoded subject (never doubling a prefix)."""
        _check_text("prefix", prefix)
        _check_text("suffix", suffix)
        for name, value in (("prefix", prefix), ("suffix", suffix), ("replace", replace)):
            _check_header_text(name, value)
        self._ops.append(
            lambda session, ch: _apply_subject(
                session, ch, prefix=prefix, suffix=suffix, replace=replace
            )
        )
        return self

    def strip_attachments(
        self, *, match: Match, notice: str | None = DEFAULT_NOTICE, descend: bool = True
    ) -> Editor:
        """Remove matching attachments, each replaced by a short text notice.

        A part matches when any reading a mail client could make of it does: every
        candidate name judged by its final extension, every Content-Type, the files
        in TNEF containers, attached messages and uuencoded blocks (docs/attachments.md).
        """
        _check_notice(notice)
        if not isinstance(descend, bool):
            raise TypeError(f"descend must be a bool, not {type(descend).__name__}")
        matcher = _matcher(match)

        def op(session: _Session, ch: list[Change]) -> None:
            _apply_strip(session, ch, match=matcher, notice=notice, descend=descend)

        self._ops.append(op)
        self._strips.append(op)
        return self

    def result(self) -> EditResult:
        """Apply the edits; raise :class:`InvalidMessageError` unless the result is clean."""
        try:
            return self._result()
        except EditIntegrityError as exc:
            report = validate(self._input, profile=self._profile, limits=self._limits)
            raise EditIntegrityError(str(exc.args[0]), report) from None

    def _result(self) -> EditResult:
        from ._repair import repair_bytes

        changes: list[Change] = []
        data = baseline = self._input
        reports: list[tuple[bytes, Message, Report]] = []  # repair's, reused at the end
        if self._repair and self._strips:
            # Repair settles an ambiguity on one reading (the first of two fields, a NUL
            # dropped): strip first judges the input as every client reads it.
            session = _Session(data, self._limits, changes)
            for op in self._strips:
                op(session, changes)
            data = session.finish().to_bytes()
            del session
        if self._repair:
            # Repair adds missing required fields (Date, From, MIME-Version) but never
            # changes an immutable field that is present, so the repaired message is
            # the baseline the immutable-header rule compares with.
            data = baseline = repair_bytes(
                data,
                changes,
                envelope_from=self._envelope_from,
                profile=self._profile,
                limits=self._limits,
                now=self._now,
                reports=reports,
            )
        session = _Session(data, self._limits, changes)
        # repair's parse and report of the bytes the edits start from: the final check
        # then runs the part rules only on the parts the edits changed (issue 16)
        base = next(((m, r) for d, m, r in reports if d is data), None)
        reports.clear()  # a round's parse of other bytes is not kept alive
        if data is not self._input:
            check_conserved(parse(self._input, limits=self._limits), session.msg, changes)
        # Only the root header block is compared with the result (immutable fields), so
        # only it is kept: a repaired copy of the whole message need not stay alive.
        baseline = baseline[: session.msg.body_start]
        del data
        for op in self._ops:
            op(session, changes)
        _ensure_mime_version(session.root)
        out = session.finish()
        del session
        if base is None:
            report = validate(out, profile=self._profile, original=baseline, limits=self._limits)
        else:  # the same report as validate, the copied parts' findings reused
            report = revalidate(
                out,
                base=base[0],
                base_report=base[1],
                profile=self._profile,
                original=baseline,
                limits=self._limits,
            )
        data = out.buffer
        if not report.ok:
            error = InvalidMessageError(
                "the edited message would not be accepted"
                if data is not self._input
                else "the message is not valid",
                report,
            )
            # stripped but refused: what the edits made is reported, never delivered
            error.result = EditResult(data, report, tuple(changes))
            raise error
        broken = broken_signatures(self._input, data)
        return EditResult(data, report, tuple(changes), broken_signatures=broken)

    def to_bytes(self) -> bytes:
        return self.result().data


# -- one-call functions -----------------------------------------------------------------------


def add_disclaimer(
    data: Input,
    *,
    text: str,
    html: str | None = None,
    position: Position = "bottom",
    on_signed: OnSigned = "skip",
    on_no_text: OnNoText = "add",
    profile: str | Profile = DEFAULT_PROFILE,
) -> bytes:
    """Add a disclaimer to every body text part (see :meth:`Editor.add_disclaimer`)."""
    return (
        Editor(data, profile=profile)
        .add_disclaimer(
            text=text, html=html, position=position, on_signed=on_signed, on_no_text=on_no_text
        )
        .to_bytes()
    )


def rewrite_subject(
    data: Input,
    *,
    prefix: str = "",
    suffix: str = "",
    replace: str | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
) -> bytes:
    """Rewrite the Subject (see :meth:`Editor.rewrite_subject`)."""
    return (
        Editor(data, profile=profile)
        .rewrite_subject(prefix=prefix, suffix=suffix, replace=replace)
        .to_bytes()
    )


def strip_attachments(
    data: Input,
    *,
    match: Match,
    notice: str | None = DEFAULT_NOTICE,
    descend: bool = True,
    profile: str | Profile = DEFAULT_PROFILE,
) -> bytes:
    """Remove matching attachments (see :meth:`Editor.strip_attachments`)."""
    return (
        Editor(data, profile=profile)
        .strip_attachments(match=match, notice=notice, descend=descend)
        .to_bytes()
    )


def repair_result(
    data: Input,
    *,
    envelope_from: str | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    now: datetime | None = None,
) -> EditResult:
    """Repair and return the bytes, the report and the list of repairs."""
    return Editor(data, profile=profile, repair=True, envelope_from=envelope_from, now=now).result()


def repair(
    data: Input,
    *,
    envelope_from: str | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    now: datetime | None = None,
) -> bytes:
    """Fix every fixable problem; raise :class:`InvalidMessageError` with what remains.

    A missing From is filled from ``envelope_from`` when given; a missing Date
    from the newest Received timestamp, else ``now`` (default: the current
    time).  Headers that are present are changed only to fix their encoding or
    folding, and headers WorkMail treats as immutable never.
    """
    return repair_result(data, envelope_from=envelope_from, profile=profile, now=now).data
