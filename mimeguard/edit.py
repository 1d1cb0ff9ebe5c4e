"""Edits that always produce a compliant message: disclaimer, subject, attachments, repair.

Every edit parses once, changes a :class:`~mimeguard._writer.Node` tree that
mirrors the parts, serialises by splicing the original spans (untouched parts
are copied byte for byte), validates the result and raises
:class:`~mimeguard.InvalidMessageError` with the report when errors remain.
Inputs are never mutated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from . import _html
from ._attachments import EXECUTABLES, Policy, plan
from ._conservation import OUTSIDE_STRUCTURE, EditIntegrityError, check_conserved
from ._dkim import broken_signatures
from ._filenames import candidate_names
from ._lists import SES_BLOCKED_EXTENSIONS
from ._parser import parse
from ._rfc2047 import decode_words, lookup_charset
from ._rules.encoding import KNOWN_ENCODINGS
from ._scan import first_line_over
from ._writer import (
    Node,
    crlf,
    encode_body,
    header_line,
    looks_like_delimiter,
    new_boundary,
    serialise,
)
from .errors import InvalidMessageError, SignedMessageError
from .findings import Report
from .limits import DEFAULT_LIMITS, Limits
from .message import Message, Part
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
    applying the edits one after the other to bytes.  Every new parse is checked
    against the one before with the changes made in between (the conservation
    invariant of :mod:`mimeguard._conservation`), so no edit returns having lost or
    invented a part.
    """

    __slots__ = ("changes", "limits", "mark", "msg", "nodes", "reshaped", "root", "texts_changed")

    def __init__(self, data: bytes, limits: Limits, changes: list[Change]) -> None:
        self.limits = limits
        #: every change of the edit; those from ``mark`` on were made on this parse
        self.changes = changes
        self._load(parse(data, limits=limits))

    def _load(self, msg: Message) -> None:
        self.msg = msg
        self.mark = len(self.changes)
        self.root = Node.mirror(msg)
        self.nodes = _index(self.root)
        #: parts were added, removed, or the root wrapped: the parse no longer matches
        self.reshaped = False
        #: body text parts were given new text
        self.texts_changed = False

    def to_bytes(self) -> bytes:
        return serialise(self.root) if self.root.dirty else self.msg.buffer

    def finish(self) -> Message:
        """The parse of the edited message, checked against the last parse."""
        if not self.root.dirty:
            return self.msg
        after = parse(self.to_bytes(), limits=self.limits)
        check_conserved(self.msg, after, self.changes[self.mark :])
        return after

    def commit(self) -> None:
        """Write the tree out and parse the result: the parse shows every change."""
        if self.reshaped or self.texts_changed:
            self._load(self.finish())


def _ensure_mime_version(root: Node) -> None:
    """An edit that wrote MIME header fields declares MIME (RFC 2045 section 4)."""
    if any(name == "mime-version" for name, _ in root.fields()):
        return
    for node in root.walk():
        if node.headers is not None and any(
            line[:8].lower() == b"content-" for line in node.headers
        ):
            root.set_header("MIME-Version", b"MIME-Version: 1.0\r\n")
            return


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
    """A new text part, 7bit when it can be, else UTF-8 quoted-printable.

    A line starting with ``--`` is never written as it is (quoted-printable writes
    the dash as ``=2D``), so the text cannot become a delimiter of any multipart the
    part is put in, whatever its boundary (RFC 2046 section 5.1.1).
    """
    body = crlf(text)
    if not body.endswith("\r\n"):
        body += "\r\n"
    # a lone surrogate (from a file name read with surrogateescape) cannot be written
    data = body.encode("utf-8", "replace")
    node = Node()
    if _fits_7bit(data, None):
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


def _fits_7bit(
    data: bytes, boundaries: Collection[bytes] | None, *, eight_bit: bool = False
) -> bool:
    """Can ``data`` be written unencoded as 7bit (or 8bit) (RFC 2045 section 2.7-2.8),
    with no line a delimiter of ``boundaries`` (``None``: of any boundary)?"""
    return (
        (eight_bit or data.isascii())
        and b"\x00" not in data
        and first_line_over(data, 0, len(data), 998) < 0
        and not looks_like_delimiter(data, boundaries)
    )


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
    taken = [p.boundary or "" for p in msg.walk()]
    boundary = new_boundary(msg.buffer, taken)
    # the new delimiter must not be a line of either part (the original could hold an
    # edited header line): never true, short of a uuid4 clash
    while any(looks_like_delimiter(n.body or b"", [boundary]) for n in (first, content)):
        boundary = new_boundary(msg.buffer, taken)
    new = Node()
    headers = list(outer)
    if not any(line.lower().startswith(b"mime-version:") for line in headers):
        headers.append(b"MIME-Version: 1.0\r\n")
    headers.append(b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n')
    new.headers = headers
    new.boundary = boundary
    new.children = [first, content] if top else [content, first]
    return new


# -- add_disclaimer ---------------------------------------------------------------------------


def _disclaimer_for(part: Part, text: str, html: str | None) -> str:
    if part.subtype == "html":
        return html if html is not None else _html.text_to_html(text)
    if part.params.get("format", "").lower() != "flowed":
        return crlf(text.strip("\r\n"))
    # RFC 3676: a trailing space would join lines; stuff lines that could be misread.
    lines = [line.rstrip(" ") for line in crlf(text.strip("\r\n")).split("\r\n")]
    lines = [" " + ln if ln.startswith((" ", ">", "From ")) else ln for ln in lines]
    return "\r\n".join(lines)


def _normalised(text: str) -> str:
    return " ".join(text.split())


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


#: charsets that are ASCII-compatible byte for byte but shift state with escapes, so an
#: ASCII byte need not mean an ASCII character (RFC 1468, RFC 2152, RFC 1843)
_STATEFUL = ("iso2022", "utf_7", "hz")
#: labels of charsets Python does not know that are not ASCII-compatible either
_NOT_ASCII_LABEL = re.compile(r"utf-?(?:16|32|7)|ucs|2022|ebcdic|\bhz\b|cp0?37\b|cp500|cp1026")
_PROBE = "".join(map(chr, range(32, 127))) + "\t\r\n"


@functools.lru_cache(maxsize=64)
def _ascii_compatible(codec: str) -> bool:
    """Does ``codec`` write every ASCII character as its ASCII byte and never shift?"""
    if codec.startswith(_STATEFUL):
        return False
    try:
        return _PROBE.encode(codec) == _PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _own_bytes(snippet: str, codec: str | None, label: str) -> bytes | None:
    """``snippet`` in the bytes of a part whose text cannot be decoded, or ``None``.

    A known ASCII-compatible charset takes any text it can encode; a label Python does
    not know takes ASCII text, unless the label names a charset that is not
    ASCII-compatible (UTF-16/32, UTF-7, ISO-2022, EBCDIC).
    """
    if codec is not None:
        if not _ascii_compatible(codec):
            return None
        try:
            return crlf(snippet).encode(codec)
        except UnicodeEncodeError:
            return None
    if not snippet.isascii() or _NOT_ASCII_LABEL.search(label.lower()):
        return None
    return crlf(snippet).encode("ascii")


def _insert_bytes(part: Part, raw: bytes, snippet: bytes, position: Position) -> bytes:
    """:func:`_insert` over bytes: ``<``, ``>`` and quotes are never the second byte of a
    multibyte character in an ASCII-compatible charset, so tags are found in the bytes."""
    raw = crlf(raw)
    if part.subtype == "html":
        at = _html.insertion_point(raw.decode("latin-1"), position)
        return raw[:at] + b"\r\n" + snippet + b"\r\n" + raw[at:]
    if position == "top":
        return snippet + b"\r\n\r\n" + raw
    if raw and not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return raw + b"\r\n" + snippet + b"\r\n"


def _rewrite_text(
    node: Node, part: Part, new_text: str, codec: str, boundaries: Collection[bytes]
) -> None:
    """Store ``new_text`` as the part's body, keeping charset and transfer encoding
    when they can carry it (RFC 2045 section 6), else UTF-8 and quoted-printable."""
    new_text = crlf(new_text)
    charset = None
    try:
        data = new_text.encode(codec)
    except UnicodeEncodeError:
        data = new_text.encode("utf-8")
        charset = "utf-8"
    _store_body(node, part, data, boundaries)
    if charset is not None:
        if part.header("content-type") is None:
            node.set_header(
                "Content-Type", f"Content-Type: {part.mime_type}; charset=utf-8\r\n".encode()
            )
        else:
            node.set_param("Content-Type", "charset", charset)


def _store_body(node: Node, part: Part, data: bytes, boundaries: Collection[bytes]) -> None:
    """Write ``data`` (CRLF lines) as the body in the part's transfer encoding, or in
    quoted-printable when that encoding cannot carry it: over-long lines, NUL, 8-bit
    data in 7bit, or a line that a parser would read as a delimiter of one of the
    message's ``boundaries`` (RFC 2046 section 5.1.1)."""
    cte = part.transfer_encoding
    new_cte = cte
    if cte in ("7bit", "8bit", "binary"):
        if not _fits_7bit(data, boundaries, eight_bit=cte != "7bit"):
            new_cte = "quoted-printable"
        elif cte == "binary":
            new_cte = "8bit" if not data.isascii() else "7bit"
    node.body = encode_body(data, new_cte, text=True)
    if new_cte != cte or (part.header("content-transfer-encoding") is None and new_cte != "7bit"):
        node.set_header(
            "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {new_cte}\r\n".encode()
        )


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
    boundaries = [p.boundary.encode("utf-8", "replace") for p in msg.walk() if p.boundary]
    reached = 0
    for part in parts:
        if not part.is_body_text or part.opaque or part.children:
            continue
        if part.transfer_encoding not in KNOWN_ENCODINGS:
            changes.append(
                Change(
                    "skipped", part.path, f"unknown transfer encoding {part.transfer_encoding!r}"
                )
            )
            continue
        snippet = _disclaimer_for(part, text, html)
        raw = part.decoded()
        codec = lookup_charset(part.charset or "us-ascii")
        body: str | None = None
        if codec is not None:
            try:
                body = raw.decode(codec)
            except UnicodeDecodeError:
                body = None
        if body is not None and codec is not None:
            reached += 1
            if _normalised(snippet) in _normalised(body):
                changes.append(Change("skipped", part.path, "the disclaimer is already there"))
                continue
            new_text = _insert(part, body, snippet, position)
            _rewrite_text(nodes[id(part)], part, new_text, codec, boundaries)
        else:
            # the label is wrong or unknown: the disclaimer goes into the part's own bytes,
            # which are not decoded, when it can be written in them
            own = _own_bytes(snippet, codec, part.charset or "us-ascii")
            if own is None:
                why = "unknown charset" if codec is None else "text that does not decode as"
                changes.append(
                    Change(
                        "skipped",
                        part.path,
                        f"{why} {part.charset!r}: the disclaimer cannot be written in its bytes",
                    )
                )
                continue
            reached += 1
            if _normalised(own.decode("latin-1")) in _normalised(raw.decode("latin-1")):
                changes.append(Change("skipped", part.path, "the disclaimer is already there"))
                continue
            new_data = _insert_bytes(part, raw, own, position)
            _store_body(nodes[id(part)], part, new_data, boundaries)
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


def _matcher(match: Match) -> Policy:
    return Policy(match)


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
    match: Policy,
    notice: str | None,
    descend: bool,
) -> None:
    # new text in body text parts changes nothing here (they are never stripped), but
    # parts added, removed or wrapped must be seen in the parse
    if session.reshaped:
        session.commit()
    msg, root, nodes = session.msg, session.root, session.nodes
    todo = plan(msg, match, descend=descend, limits=session.limits)
    if not (todo.hits or todo.uu or todo.outside):
        return
    session.reshaped = True
    parents: dict[int, Node] = {}
    for node in root.walk():
        for child in node.children:
            parents[id(child)] = node
    removed: set[int] = set()
    position: dict[int, int] = {}  # a child's index in its parent, for replacing it
    for part, reason in todo.hits:
        if any(id(a) in removed for a in part.ancestors()):
            continue  # inside a part already removed
        removed.add(id(part))
        node = nodes[id(part)]
        name = _display_name(part)
        size = part.body_end - part.body_start
        changes.append(
            Change("removed", part.path, f"{name} ({part.mime_type}, {_human(size)}): {reason}")
        )
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
            if id(node) not in position:
                position.update((id(c), i) for i, c in enumerate(parent.children))
            parent.children[position[id(node)]] = replacement
            parents[id(replacement)] = parent
    for part, data, cuts in todo.uu:
        if id(part) in removed or any(id(a) in removed for a in part.ancestors()):
            continue
        _cut_uu(nodes[id(part)], part, data, cuts, notice, changes)
    outside = {id(p): what for p, what in todo.outside}
    # children before parents: a rewritten body includes what was done below it
    for part in reversed(list(msg.walk())):
        found = nodes.get(id(part))
        if found is None or id(part) in removed or found.removed:
            continue
        node = found
        what = outside.get(id(part))
        if what and not node.removed and node.body is None:
            _drop_outside(node, part)
            changes.append(Change("removed", part.path, f"{OUTSIDE_STRUCTURE}{' and '.join(what)}"))
        if isinstance(part, Message) and part.outer is not None and node.dirty:
            # an attached message carried encoded: the edited message is encoded again
            outer = nodes.get(id(part.outer))
            if outer is not None and outer.body is None:
                cte = part.outer.transfer_encoding
                outer.body = encode_body(
                    serialise(node), cte if cte == "quoted-printable" else "base64", text=False
                )
                if cte != "quoted-printable":
                    outer.set_header(
                        "Content-Transfer-Encoding", b"Content-Transfer-Encoding: base64\r\n"
                    )


def _display_name(part: Part) -> str:
    name = part.filename
    if not name:
        names = candidate_names(part)
        name = names[0] if names else "unnamed"
    # the notice is body text: no line breaks or controls from a hostile name
    return "".join(c if c.isprintable() else "?" for c in name)[:200]


def _cut_uu(
    node: Node,
    part: Part,
    data: bytes,
    cuts: list[tuple[int, int, str]],
    notice: str | None,
    changes: list[Change],
) -> None:
    """Replace each blocked uuencoded block of a text body with the notice."""
    out = bytearray()
    pos = 0
    for start, end, name in cuts:
        shown = "".join(c if c.isprintable() else "?" for c in name)[:200]
        out += data[pos:start]
        if notice is not None:
            text = notice.format(filename=shown, content_type="uuencoded", size=_human(end - start))
            out += text.encode("ascii", "replace") + b"\r\n"
        pos = end
        changes.append(Change("removed", part.path, f"uuencoded {shown} ({_human(end - start)})"))
    out += data[pos:]
    cte = part.transfer_encoding
    node.body = encode_body(bytes(out), cte, text=True) if cte in _REENCODE else bytes(out)


_REENCODE = frozenset({"base64", "quoted-printable"})


def _drop_outside(node: Node, part: Part) -> None:
    """Write a multipart without its preamble and epilogue (RFC 2046 section 5.1.1
    says readers ignore them; some show what is there)."""
    holder = Node()
    holder.headers = []
    holder.children = node.children
    holder.boundary = (part.boundary or "").encode("utf-8", "replace")
    node.body = serialise(holder)[2:]  # the empty header block's line break


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
            )
        session = _Session(data, self._limits, changes)
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
        report = validate(out, profile=self._profile, original=baseline, limits=self._limits)
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
