"""Edits that always produce a compliant message: disclaimer, subject, attachments, repair.

Every edit parses once, changes a :class:`~mimeguard._writer.Node` tree that
mirrors the parts, serialises by splicing the original spans (untouched parts
are copied byte for byte), validates the result and raises
:class:`~mimeguard.InvalidMessageError` with the report when errors remain.
Inputs are never mutated.
"""

from __future__ import annotations

from datetime import datetime

from ._attachments import EXECUTABLES
from ._conservation import EditIntegrityError
from ._disclaimer import OnNoText, OnSigned, Position
from ._dkim import broken_signatures
from ._incremental import revalidate
from ._parser import parse
from ._results import Change, EditResult
from ._scan import ascii_span
from ._session import _ensure_mime_version, _Session
from ._specs import (
    DEFAULT_NOTICE,
    SES_BLOCKED,
    Disclaimer,
    Repair,
    Spec,
    StripAttachments,
    SubjectRewrite,
)
from ._strip import Match, larger_than
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


# -- the Editor -------------------------------------------------------------------------------


def _as_bytes(data: Input) -> bytes:
    if isinstance(data, Message):
        return data.to_bytes()
    if isinstance(data, str):
        raise TypeError("edits need the message as bytes, not str: encode it first")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"edits need bytes or a parsed Message, not {type(data).__name__}")
    return bytes(data)


def _check_output(
    out: Message,
    *,
    profile: Profile,
    original: bytes,
    limits: Limits,
    checked: tuple[Message, Report] | None,
) -> Report:
    """The one validation of an edit's output (``original``: the root header block the
    immutable fields are compared with).  With ``checked``, a parse of an earlier stage
    and its full report (repair's), the findings of the parts the edits copied from it
    are reused: the same report as :func:`validate` (issue 16)."""
    if checked is None:
        return validate(out, profile=profile, original=original, limits=limits)
    base, base_report = checked
    return revalidate(
        out,
        base=base,
        base_report=base_report,
        profile=profile,
        original=original,
        limits=limits,
    )


#: a root header block up to this size is the baseline as it is (see _baseline)
_WHOLE_BASELINE = 1 << 16
_EOL = b"\r\n"


def _baseline(msg: Message, profile: Profile) -> bytes:
    """The root header block of ``msg``, which an edit's output is checked against
    (``validate(out, original=...)``): its immutable fields (MG501) and its fields holding
    raw 8-bit bytes (which may stay as they arrived) are what the rules read of it.

    A large block keeps only those fields, in order, so that a Subject of megabytes is not
    held twice while the edit runs (issue 16); the report is the same.
    """
    buf, end = msg.buffer, msg.body_start
    if end <= _WHOLE_BASELINE or any(buf[f.end - 1] not in _EOL for f in msg.headers):
        return buf[:end]
    ascii_message = buf.isascii()
    kept = [
        f.raw
        for f in msg.headers
        if f.lname in profile.immutable
        or (not ascii_message and not ascii_span(buf, f.start, f.end))
    ]
    return b"".join(kept) + b"\r\n"


class Editor:
    """Chain edits on one message; :meth:`to_bytes` applies them and validates once.

    The edits change one tree of the message, written out once at the end (one parse,
    one copy, whatever the number of edits); the result is the same as applying them
    one after the other.

    >>> out = Editor(data).add_disclaimer(text="Sent from outside").to_bytes()  # doctest: +SKIP

    With ``repair=True`` (or :meth:`repair`) the input is repaired first, so that
    real inbound mail, which often breaks the rules, still comes out compliant;
    ``envelope_from`` then fills a missing From.
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
        self._profile = get_profile(profile)
        self._limits = limits
        # a parse given is a read-only value: the edit starts from it
        self._parsed: Message | None = None
        if (
            isinstance(data, Message)
            # an attached message reports to its root: edited, it is parsed on its own
            and data.parent is None
            and data.outer is None
            and data.to_bytes() is data.buffer
            and data.limits == limits
        ):
            self._parsed = data
        spec = Repair(envelope_from=envelope_from, now=now)  # checked even when not repairing
        #: run first, before the edits (see :meth:`_result`)
        self._repair: Repair | None = spec if repair else None
        self._specs: list[Spec] = []
        #: the parse of the last result, for the checks a caller runs on it (final_report)
        self._output: Message | None = None

    def _append(self, *specs: Spec) -> Editor:
        """Add edits given as specs (:mod:`mimeguard._specs`); a :class:`Repair` replaces
        the repair asked for before, and runs first whatever its place."""
        for spec in specs:
            if isinstance(spec, Repair):
                self._repair = spec
            else:
                self._specs.append(spec)
        return self

    def repair(self, *, envelope_from: str | None = None, now: datetime | None = None) -> Editor:
        """Repair the input first (see :func:`mimeguard.repair`), whatever the place of
        this call in the chain: the same as ``Editor(data, repair=True, …)``."""
        return self._append(Repair(envelope_from=envelope_from, now=now))

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
        return self._append(
            Disclaimer(
                text=text, html=html, position=position, on_signed=on_signed, on_no_text=on_no_text
            )
        )

    def rewrite_subject(
        self, *, prefix: str = "", suffix: str = "", replace: str | None = None
    ) -> Editor:
        """Prefix, suffix or replace the decoded subject (never doubling a prefix)."""
        return self._append(SubjectRewrite(prefix=prefix, suffix=suffix, replace=replace))

    def strip_attachments(
        self, *, match: Match, notice: str | None = DEFAULT_NOTICE, descend: bool = True
    ) -> Editor:
        """Remove matching attachments, each replaced by a short text notice.

        A part matches when any reading a mail client could make of it does: every
        candidate name judged by its final extension, every Content-Type, the files
        in TNEF containers, attached messages and uuencoded blocks (docs/attachments.md).
        """
        return self._append(StripAttachments(match=match, notice=notice, descend=descend))

    def _input_message(self) -> Message:
        """The parse of the input, made once and shared by every step that reads it."""
        if self._parsed is None:
            self._parsed = parse(self._input, limits=self._limits)
        return self._parsed

    def _parses(self) -> tuple[Message, Message]:
        """The parses of the input and of the last result (after :meth:`result`, also
        one that raised :class:`InvalidMessageError`), so that a caller's own check of
        them (:func:`mimeguard.recipe.final_report`) parses neither again."""
        if self._output is None:
            raise RuntimeError("no result yet: call result() first")
        return self._input_message(), self._output

    def result(self) -> EditResult:
        """Apply the edits; raise :class:`InvalidMessageError` unless the result is clean."""
        try:
            return self._result()
        except EditIntegrityError as exc:
            report = validate(self._input_message(), profile=self._profile, limits=self._limits)
            raise EditIntegrityError(str(exc.args[0]), report) from None

    def _result(self) -> EditResult:
        changes: list[Change] = []
        session = _Session(self._input_message(), self._limits, changes, self._profile)
        if self._repair is not None:
            # Repair settles an ambiguity on one reading (the first of two fields, a NUL
            # dropped): strip first judges the input as every client reads it, and
            # again what repair made of it.
            for spec in self._specs:
                if isinstance(spec, StripAttachments):
                    spec.apply(session, changes)
            # Repair adds missing required fields (Date, From, MIME-Version) but never
            # changes an immutable field that is present, so the repaired message is
            # the baseline the immutable-header rule compares with.
            self._repair.apply(session, changes)
        # Only the root header block is compared with the result (immutable fields), so
        # only it is kept: a repaired copy of the whole message need not stay alive.
        baseline = _baseline(session.msg, self._profile)
        for spec in self._specs:
            spec.apply(session, changes)
        _ensure_mime_version(session.root)
        out = session.finish()
        checked, session.checked = session.checked, None
        del session
        report = _check_output(
            out, profile=self._profile, original=baseline, limits=self._limits, checked=checked
        )
        del checked
        self._output = out
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
