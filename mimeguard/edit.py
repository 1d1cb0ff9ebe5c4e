"""Edits that always produce a compliant message: disclaimer, subject, attachments, repair.

Every edit parses once, changes a :class:`~mimeguard._writer.Node` tree that
mirrors the parts, serialises by splicing the original spans (untouched parts
are copied byte for byte), validates the result and raises
:class:`~mimeguard.InvalidMessageError` with the report when errors remain.
Inputs are never mutated.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from . import _html
from ._dkim import broken_signatures
from ._lists import SES_BLOCKED_EXTENSIONS, file_extensions
from ._parser import parse
from ._rfc2047 import decode_words, lookup_charset
from ._rules.encoding import KNOWN_ENCODINGS
from ._writer import Node, encode_body, header_line, new_boundary, serialise
from .errors import InvalidMessageError, SignedMessageError
from .findings import Report
from .limits import DEFAULT_LIMITS, Limits
from .message import Message, Part
from .profiles import DEFAULT_PROFILE, Profile, get_profile
from .validation import validate

__all__ = [
    "DEFAULT_NOTICE",
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

Position = Literal["top", "bottom"]
OnSigned = Literal["skip", "wrap", "error"]
OnNoText = Literal["add", "skip"]
Input = bytes | bytearray | memoryview | Message
Matcher = Callable[[Part], bool]
Match = Matcher | Iterable[str | Matcher]

#: The notice that replaces a removed attachment; ``{filename}``, ``{content_type}``
#: and ``{size}`` are filled in.
DEFAULT_NOTICE = 'The attachment "{filename}" ({content_type}, {size}) was removed.'

#: Filename patterns for every attachment extension Amazon SES refuses.
SES_BLOCKED: tuple[str, ...] = tuple(f"*.{ext}" for ext in sorted(SES_BLOCKED_EXTENSIONS))

_SIGNED_TYPES = frozenset(
    {
        "multipart/signed",
        "multipart/encrypted",
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
    }
)
_EOLS = re.compile(r"\r\n|\r|\n")
_WS = re.compile(r"\s+")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|aw|sv|vs|wg)\s*(?:\[\d+\])?\s*:)+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Change:
    """One thing an edit did (or deliberately did not do).

    ``kind`` is one of ``disclaimer``, ``subject``, ``removed``, ``added``,
    ``wrapped``, ``repaired`` or ``skipped``; ``part`` the dotted part path.
    """

    kind: str
    part: str
    detail: str

    def __str__(self) -> str:
        where = f" (part {self.part})" if self.part else ""
        return f"{self.kind}{where}: {self.detail}"


@dataclass(frozen=True, slots=True)
class EditResult:
    """The edited bytes, their validation report and what changed."""

    data: bytes
    report: Report
    changes: tuple[Change, ...] = field(default=())
    #: ``d=`` domains of the DKIM signatures the edit broke, in header order (RFC 6376)
    broken_signatures: tuple[str, ...] = field(default=())

    @property
    def skipped(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "skipped"]

    @property
    def removed(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "removed"]

    @property
    def touched(self) -> list[str]:
        """Paths of the parts that were changed."""
        return sorted({c.part for c in self.changes if c.kind != "skipped"})


# -- shared helpers --------------------------------------------------------------------------


def _index(root: Node) -> dict[int, Node]:
    return {id(n.part): n for n in root.walk() if n.part is not None}


class _Session:
    """The message being edited: its parse and the tree of nodes the edits change.

    Edits work on one tree, serialised once at the end, so a chain of edits costs one
    parse and one copy of the message. An edit whose decisions depend on what an
    earlier one changed, and which it cannot see in the parse, first has the tree
    written out and parsed again (:meth:`commit`), so the result is the same as
    applying the edits one after the other to bytes.
    """

    __slots__ = ("limits", "msg", "nodes", "reshaped", "root", "texts_changed")

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.limits = limits
        self._load(parse(data, limits=limits))

    def _load(self, msg: Message) -> None:
        self.msg = msg
        self.root = Node.mirror(msg)
        self.nodes = _index(self.root)
        #: parts were added, removed, or the root wrapped: the parse no longer matches
        self.reshaped = False
        #: body text parts were given new text
        self.texts_changed = False

    def to_bytes(self) -> bytes:
        return serialise(self.root) if self.root.dirty else self.msg.buffer

    def commit(self) -> None:
        """Write the tree out and parse the result: the parse shows every change."""
        if self.reshaped or self.texts_changed:
            self._load(parse(self.to_bytes(), limits=self.limits))


def _outside_attached(msg: Message) -> list[Part]:
    """Parts of the message itself: attached messages are not entered."""
    out: list[Part] = []
    stack: list[Part] = [msg]
    while stack:
        part = stack.pop()
        out.append(part)
        if not part.encapsulates:
            stack.extend(reversed(part.children))
    return out


def _text_part(text: str, *, subtype: str = "plain", disposition: str | None = "inline") -> Node:
    """A new text part, 7bit when it can be, else UTF-8 quoted-printable."""
    body = _EOLS.sub("\r\n", text)
    if not body.endswith("\r\n"):
        body += "\r\n"
    data = body.encode("utf-8")
    node = Node()
    if data.isascii() and max(map(len, data.split(b"\r\n"))) <= 998:
        headers = [
            f"Content-Type: text/{subtype}; charset=us-ascii\r\n".encode(),
            b"Content-Transfer-Encoding: 7bit\r\n",
        ]
        node.body = data
    else:
        headers = [
            f"Content-Type: text/{subtype}; charset=utf-8\r\n".encode(),
            b"Content-Transfer-Encoding: quoted-printable\r\n",
        ]
        node.body = encode_body(data, "quoted-printable", text=True)
    if disposition:
        headers.append(f"Content-Disposition: {disposition}\r\n".encode())
    node.headers = headers
    return node


def _split_content_headers(lines: list[tuple[str, bytes]]) -> tuple[list[bytes], list[bytes]]:
    """(message headers, Content-* headers) of a root header block."""
    outer = [line for name, line in lines if not name.startswith("content-") and name]
    inner = [line for name, line in lines if name.startswith("content-")]
    return outer, inner


def _wrap_root(root: Node, msg: Message, first: Node, *, top: bool, attach_whole: bool) -> Node:
    """A new multipart/mixed root holding ``first`` and the original content.

    With ``attach_whole`` the original is attached entire as message/rfc822 (for
    signed mail, so its signature survives); otherwise its content headers and
    body move into the second part.
    """
    outer, inner = _split_content_headers(root.fields())
    boundary = new_boundary(msg.buffer, (p.boundary or "" for p in msg.walk()))
    new = Node()
    headers = list(outer)
    if not any(line.lower().startswith(b"mime-version:") for line in headers):
        headers.append(b"MIME-Version: 1.0\r\n")
    headers.append(b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n')
    new.headers = headers
    new.boundary = boundary
    content = Node()
    if attach_whole:
        whole = serialise(root)
        content.headers = [b"Content-Type: message/rfc822\r\n", b"Content-Disposition: inline\r\n"]
        if not whole.isascii():
            content.headers.append(b"Content-Transfer-Encoding: 8bit\r\n")
        content.body = whole
    else:
        content.headers = inner or [b"Content-Type: text/plain; charset=us-ascii\r\n"]
        content.body = msg.buffer[msg.body_start : msg.body_end]
    new.children = [first, content] if top else [content, first]
    return new


# -- add_disclaimer ---------------------------------------------------------------------------


def _disclaimer_for(part: Part, text: str, html: str | None) -> str:
    if part.subtype == "html":
        return html if html is not None else _html.text_to_html(text)
    lines = _EOLS.split(text.strip("\r\n"))
    if part.params.get("format", "").lower() == "flowed":
        # RFC 3676: a trailing space would join lines; stuff lines that could be misread.
        lines = [line.rstrip(" ") for line in lines]
        lines = [" " + ln if ln.startswith((" ", ">", "From ")) else ln for ln in lines]
    return "\r\n".join(lines)


def _normalised(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _insert(part: Part, body: str, snippet: str, position: Position) -> str:
    if part.subtype == "html":
        at = _html.insertion_point(body, position)
        pad = "\r\n"
        return body[:at] + pad + snippet + pad + body[at:]
    if position == "top":
        return snippet + "\r\n\r\n" + body
    if body and not body.endswith(("\r\n", "\n", "\r")):
        body += "\r\n"
    return body + "\r\n" + snippet + "\r\n"


def _rewrite_text(node: Node, part: Part, new_text: str, codec: str) -> None:
    """Store ``new_text`` as the part's body, keeping charset and transfer encoding
    when they can carry it (RFC 2045 section 6), else UTF-8 and quoted-printable."""
    new_text = _EOLS.sub("\r\n", new_text)
    charset = None
    try:
        data = new_text.encode(codec)
    except UnicodeEncodeError:
        data = new_text.encode("utf-8")
        charset = "utf-8"
    cte = part.transfer_encoding
    new_cte = cte
    longest = max(map(len, data.split(b"\r\n"))) if data else 0
    if cte in ("7bit", "8bit", "binary"):
        if longest > 998 or b"\x00" in data or (cte == "7bit" and not data.isascii()):
            new_cte = "quoted-printable"
        elif cte == "binary":
            new_cte = "8bit" if not data.isascii() else "7bit"
    node.body = encode_body(data, new_cte, text=True)
    if new_cte != cte or (part.header("content-transfer-encoding") is None and new_cte != "7bit"):
        node.set_header(
            "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {new_cte}\r\n".encode()
        )
    if charset is not None:
        if part.header("content-type") is None:
            node.set_header(
                "Content-Type", f"Content-Type: {part.mime_type}; charset=utf-8\r\n".encode()
            )
        else:
            node.set_param("Content-Type", "charset", charset)


def _apply_disclaimer(
    session: _Session,
    changes: list[Change],
    *,
    text: str,
    html: str | None,
    position: Position,
    on_signed: OnSigned,
    on_no_text: OnNoText,
) -> None:
    # which parts are body text, and whether a disclaimer is already in one, is read
    # from the parse: it must show what earlier edits did
    session.commit()
    msg, root = session.msg, session.root
    parts = _outside_attached(msg)
    signed = next((p for p in parts if p.mime_type in _SIGNED_TYPES), None)
    if signed is not None:
        if on_signed == "error":
            raise SignedMessageError(
                f"part {signed.path or 'root'} is {signed.mime_type}: adding a disclaimer would "
                "break its signature or encryption (on_signed='error')"
            )
        if on_signed == "skip":
            changes.append(
                Change(
                    "skipped",
                    signed.path,
                    f"{signed.mime_type}: left untouched so its signature stays valid",
                )
            )
            return
        session.root = _wrap_root(root, msg, _text_part(text), top=True, attach_whole=True)
        session.reshaped = True
        changes.append(
            Change(
                "wrapped",
                "",
                f"{signed.mime_type} attached as message/rfc822 under a disclaimer part",
            )
        )
        return
    nodes = session.nodes
    reached = 0
    for part in parts:
        if not part.is_body_text or part.opaque or part.children:
            continue
        codec = lookup_charset(part.charset or "us-ascii")
        if codec is None:
            changes.append(Change("skipped", part.path, f"unknown charset {part.charset!r}"))
            continue
        if part.transfer_encoding not in KNOWN_ENCODINGS:
            changes.append(
                Change(
                    "skipped", part.path, f"unknown transfer encoding {part.transfer_encoding!r}"
                )
            )
            continue
        try:
            body = part.decoded().decode(codec)
        except UnicodeDecodeError:
            changes.append(
                Change("skipped", part.path, f"the text does not decode as {part.charset}")
            )
            continue
        reached += 1
        snippet = _disclaimer_for(part, text, html)
        if _normalised(snippet) in _normalised(body):
            changes.append(Change("skipped", part.path, "the disclaimer is already there"))
            continue
        _rewrite_text(nodes[id(part)], part, _insert(part, body, snippet, position), codec)
        session.texts_changed = True
        changes.append(Change("disclaimer", part.path, f"{part.mime_type}, {position}"))
    if reached:
        return
    if on_no_text == "skip":
        changes.append(Change("skipped", "", "no body text part to carry the disclaimer"))
        return
    note = _text_part(text)
    session.reshaped = True
    if msg.mime_type == "multipart/mixed" and not msg.opaque and msg.delimiters:
        if position == "top":
            root.children.insert(0, note)
        else:
            root.children.append(note)
        changes.append(Change("added", "", "a text/plain part carrying the disclaimer"))
        return
    session.root = _wrap_root(root, msg, note, top=position == "top", attach_whole=False)
    changes.append(
        Change(
            "wrapped",
            "",
            f"{msg.mime_type} body wrapped in multipart/mixed with a text/plain disclaimer part",
        )
    )


# -- rewrite_subject --------------------------------------------------------------------------


def _check_header_text(name: str, value: str | None) -> None:
    if value is not None and ("\r" in value or "\n" in value):
        raise ValueError(f"{name} must not contain CR or LF (header injection)")


def _apply_subject(
    session: _Session,
    changes: list[Change],
    *,
    prefix: str,
    suffix: str,
    replace: str | None,
) -> None:
    # read from the tree's root: it holds what an earlier edit wrote (or the wrapper
    # an earlier disclaimer put around the message, which took over its fields)
    root = session.root
    fields = [line for name, line in root.fields() if name == "subject"]
    value = root.get_value("Subject")
    current = decode_words(value)[0] if value is not None else ""
    new = current if replace is None else replace
    if prefix:
        bare = _REPLY_PREFIX.sub("", new).lstrip()
        if not (
            new.lower().lstrip().startswith(prefix.strip().lower())
            or bare.lower().startswith(prefix.strip().lower())
        ):
            new = prefix + new
    if suffix and not new.lower().rstrip().endswith(suffix.strip().lower()):
        new = new + suffix
    new = new.strip()
    if new == current and len(fields) == 1:
        return
    root.set_header("Subject", header_line("Subject", new), first_only=False)
    changes.append(Change("subject", "", f"{current!r} -> {new!r}"))


# -- strip_attachments ------------------------------------------------------------------------


def larger_than(size: int) -> Matcher:
    """A matcher for parts whose encoded body is larger than ``size`` bytes."""

    def match(part: Part) -> bool:
        return part.body_end - part.body_start > size

    match.__name__ = f"larger_than_{size}"
    return match


def _clean_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(". ").lower()


def _pattern_matcher(pattern: str) -> Matcher:
    pat = pattern.strip().lower()
    if "/" in pat:
        return lambda part: fnmatch.fnmatchcase(part.mime_type, pat)
    ext = pat[2:] if pat.startswith("*.") and not any(c in pat[2:] for c in "*?[") else None

    def match(part: Part) -> bool:
        name = part.filename
        if not name:
            return False
        if ext is not None:
            return ext in file_extensions(name)
        return fnmatch.fnmatchcase(_clean_name(name), pat)

    return match


def _matcher(match: Match) -> Matcher:
    if callable(match):
        return match
    if isinstance(match, str):
        match = [match]
    tests = [m if callable(m) else _pattern_matcher(m) for m in match]
    if not tests:
        raise ValueError("strip_attachments needs at least one pattern")
    return lambda part: any(t(part) for t in tests)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _apply_strip(
    session: _Session,
    changes: list[Change],
    *,
    match: Matcher,
    notice: str | None,
    descend: bool,
) -> None:
    # new text in body text parts changes nothing here (they are never stripped), but
    # parts added, removed or wrapped must be seen in the parse
    if session.reshaped:
        session.commit()
    msg, root, nodes = session.msg, session.root, session.nodes
    parents: dict[int, Node] = {}
    for node in root.walk():
        for child in node.children:
            parents[id(child)] = node
    stack: list[Part] = [msg]
    hits: list[Part] = []
    while stack:
        part = stack.pop()
        if part.children and not part.is_message:
            stack.extend(reversed(part.children))
            continue
        if part is not msg and part.is_body_text:
            continue
        if part.is_message and part is not msg:
            if match(part):
                hits.append(part)
            elif descend:
                stack.extend(reversed(part.children))
            continue
        if not part.is_body_text and match(part):
            hits.append(part)
    if not hits:
        return
    session.reshaped = True
    for part in hits:
        node = nodes[id(part)]
        name = part.filename or "unnamed"
        size = part.body_end - part.body_start
        changes.append(Change("removed", part.path, f"{name} ({part.mime_type}, {_human(size)})"))
        if notice is None:
            replacement = None
        else:
            text = notice.format(filename=name, content_type=part.mime_type, size=_human(size))
            replacement = _text_part(text)
        parent = parents.get(id(node))
        if parent is None or (isinstance(part, Message) and not part.is_multipart):
            _replace_content(node, replacement)
        elif replacement is None:
            node.removed = True
            _prune(parent, parents)
        else:
            parent.children[parent.children.index(node)] = replacement


def _replace_content(node: Node, replacement: Node | None) -> None:
    """Give a message root new content headers and body in place."""
    keep = [line for name, line in node.fields() if not name.startswith("content-") and name]
    new = replacement or _text_part("", disposition=None)
    node.headers = keep + (new.headers or [])
    node.body = new.body
    node.children = []


def _prune(node: Node, parents: dict[int, Node]) -> None:
    """A multipart whose last child was removed goes too (the root becomes empty text)."""
    if any(not c.removed for c in node.children):
        return
    parent = parents.get(id(node))
    if (
        parent is None
        or (node.part is not None and node.part.encapsulates)
        or isinstance(node.part, Message)
    ):
        _replace_content(node, None)
    else:
        node.removed = True
        _prune(parent, parents)


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
        self._profile = get_profile(profile)
        self._repair = repair
        self._envelope_from = envelope_from
        self._limits = limits
        self._now = now
        self._ops: list[Operation] = []
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
        """Remove matching attachments, each replaced by a short text notice."""
        matcher = _matcher(match)
        if notice is not None:
            notice.format(filename="", content_type="", size="")  # fail early on a bad template
        self._ops.append(
            lambda session, ch: _apply_strip(
                session, ch, match=matcher, notice=notice, descend=descend
            )
        )
        return self

    def result(self) -> EditResult:
        """Apply the edits; raise :class:`InvalidMessageError` unless the result is clean."""
        from ._repair import repair_bytes

        changes: list[Change] = []
        data = baseline = self._input
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
            )
        session = _Session(data, self._limits)
        # Only the root header block is compared with the result (immutable fields), so
        # only it is kept: a repaired copy of the whole message need not stay alive.
        baseline = baseline[: session.msg.body_start]
        del data
        for op in self._ops:
            op(session, changes)
        data = session.to_bytes()
        del session
        report = validate(data, profile=self._profile, original=baseline, limits=self._limits)
        if not report.ok:
            raise InvalidMessageError(
                "the edited message would not be accepted"
                if data is not self._input
                else "the message is not valid",
                report,
            )
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
