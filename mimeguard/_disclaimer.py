"""``add_disclaimer``: text inserted into each body text part, or the message wrapped
(RFC 2046 section 5.1), each part kept in its own charset and transfer encoding."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Literal, overload

from . import _html
from ._results import Change
from ._rfc2047 import lookup_charset
from ._rules.encoding import KNOWN_ENCODINGS
from ._session import _fits_7bit, _outside_attached, _Session, _text_part
from ._writer import (
    HeaderLine,
    Node,
    Spliced,
    as_bytes,
    crlf,
    encode_body,
    head_of,
    looks_like_delimiter,
    new_boundary,
    serialise,
)
from .errors import SignedMessageError
from .message import Message, Part

Position = Literal["top", "bottom"]
OnSigned = Literal["skip", "wrap", "error"]
OnNoText = Literal["add", "skip"]

_SIGNED_TYPES = frozenset(
    {
        "multipart/signed",
        "multipart/encrypted",
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
    }
)


def _split_content_headers(
    lines: list[tuple[str, HeaderLine]],
) -> tuple[list[HeaderLine], list[HeaderLine]]:
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
    while any(looks_like_delimiter(as_bytes(n.body or b""), [boundary]) for n in (first, content)):
        boundary = new_boundary(msg.buffer, taken)
    new = Node()
    headers = list(outer)
    if not any(head_of(line).lower().startswith(b"mime-version:") for line in headers):
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


#: the ASCII characters ``str.isspace`` accepts (``\\s`` of a bytes pattern lacks 1C-1F)
_ASCII_SPACE = rb"[\t-\r\x1c- ]++"


def _already_there(snippet: str, body: str | bytes | memoryview) -> bool:
    """Is ``" ".join(snippet.split())`` inside ``" ".join(body.split())``? (``body`` as
    bytes is ASCII text.)

    Found without building either string: the snippet's words joined by runs of
    whitespace (``\\s`` is ``str.isspace``, where ``str.split`` splits), the first word
    allowed to end a longer word and the last to begin one, as in the joined text.
    """
    words = snippet.split()
    if not words:
        return True
    if not isinstance(body, str):
        if not all(map(str.isascii, words)):
            return False  # ASCII text holds no other character
        raw = [re.escape(w.encode("ascii")) for w in words]
        return re.search(_ASCII_SPACE.join(raw), body) is not None
    if len(words) == 1:
        return words[0] in body
    # possessive runs: no backtracking into a run of whitespace, linear in the body
    return re.search(r"\s++".join(map(re.escape, words)), body) is not None


@overload
def _insert(part: Part, body: str, snippet: str, position: Position) -> str: ...
@overload
def _insert(part: Part, body: bytes | memoryview, snippet: bytes, position: Position) -> bytes: ...
def _insert(
    part: Part, body: str | bytes | memoryview, snippet: str | bytes, position: Position
) -> str | bytes:
    """``body`` with ``snippet`` after the opening or before the end of an HTML body, or
    as a paragraph of its own at the top or bottom of other text.

    Over bytes (an ASCII-compatible charset), ``<``, ``>`` and quotes are never the
    second byte of a multibyte character, so tags are found in the bytes; the result
    is joined in one copy (the body may be a view of the message)."""
    if isinstance(body, str) and isinstance(snippet, str):
        if part.subtype == "html":
            at = _html.insertion_point(body, position)
            return body[:at] + "\r\n" + snippet + "\r\n" + body[at:]
        if position == "top":
            return snippet + "\r\n\r\n" + body
        if body and not body.endswith(("\r\n", "\n", "\r")):
            body += "\r\n"
        return body + "\r\n" + snippet + "\r\n"
    if isinstance(body, str) or not isinstance(snippet, bytes):
        raise TypeError("body and snippet must both be str or both bytes")
    if part.subtype == "html":
        at = _html.insertion_point(bytes(body).decode("latin-1"), position)
        return b"".join((body[:at], b"\r\n", snippet, b"\r\n", body[at:]))
    if position == "top":
        return b"".join((snippet, b"\r\n\r\n", body))
    ended = not body or bytes(body[-2:]).endswith((b"\r\n", b"\n", b"\r"))
    return b"".join((body, b"" if ended else b"\r\n", b"\r\n", snippet, b"\r\n"))


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


#: codecs whose encoding gives back, byte for byte, any bytes their strict decoding
#: accepts (tests/test_pipeline_perf.py checks every byte of each)
_ROUND_TRIP = frozenset(
    {"ascii", "utf-8", "koi8-r", "koi8-u"}
    | {f"iso8859-{n}" for n in range(1, 17) if n != 12}
    | {f"cp{n}" for n in range(1250, 1259)}
)


def _spliceable(part: Part, codec: str | None) -> bool:
    """Can the disclaimer be spliced into the body bytes of ``part`` as they are?

    True for 7bit or 8bit plain text whose every line ends in CRLF, in a charset of
    :data:`_ROUND_TRIP`: there, decoding the body, inserting and encoding again gives
    back the body's own bytes around the disclaimer's, so the bytes are spliced
    instead of a text the size of the body being built twice (issue 16). The result
    is then written as any other (:func:`_store_body`).
    """
    if part.subtype != "plain" or part.transfer_encoding not in ("7bit", "8bit"):
        return False
    if codec not in _ROUND_TRIP:
        return False
    buf, start, end = part.buffer, part.body_start, part.body_end
    lf = buf.count(b"\n", start, end)
    return lf == buf.count(b"\r", start, end) == buf.count(b"\r\n", start, end)


def _encoded_snippet(snippet: str, codec: str | None) -> bytes | None:
    if codec is None:
        return None
    try:
        return crlf(snippet).encode(codec)
    except UnicodeEncodeError:
        return None


def _readable(raw: bytes | memoryview, codec: str | None) -> str | memoryview | None:
    """What the already-there check reads of a body: its text, or, given a view of a
    body that is spliced and ASCII, the view (ASCII bytes are their own text in every
    charset of :data:`_ROUND_TRIP`, so no copy is made); ``None`` if it does not decode."""
    if codec is None:
        return None
    if isinstance(raw, memoryview) and all(
        raw[at : at + _ASCII_STEP].tobytes().isascii() for at in range(0, len(raw), _ASCII_STEP)
    ):
        return raw
    try:
        return str(raw, codec)
    except UnicodeDecodeError:
        return None


#: a view is read for 8-bit bytes in copies of this size
_ASCII_STEP = 1 << 20


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


def _store_spliced(
    node: Node,
    part: Part,
    view: memoryview,
    snippet: bytes,
    position: Position,
    boundaries: Collection[bytes],
) -> None:
    """:func:`_store_body` of the plain text body ``view`` (CRLF lines, see
    :func:`_spliceable`) with ``snippet`` as a paragraph at the top or the bottom, kept
    as pieces when it can stay in its transfer encoding: the body is not copied before
    the output is (issue 16).

    The pieces meet at line starts, so each line of the whole is a line of one piece:
    the whole fits its encoding when the body does (read where it lies) and the new
    lines do."""
    buf, start, end = part.buffer, part.body_start, part.body_end
    if position == "top":
        new = snippet + b"\r\n\r\n"
        pieces: tuple[bytes | memoryview, ...] = (new, view)
    else:
        ended = start == end or buf[end - 1] in (10, 13)
        new = b"".join((b"" if ended else b"\r\n", b"\r\n", snippet, b"\r\n"))
        pieces = (view, new)
    eight_bit = part.transfer_encoding != "7bit"
    if _fits_7bit(new, boundaries, eight_bit=eight_bit) and _fits_7bit(
        buf, boundaries, eight_bit=eight_bit, start=start, end=end
    ):
        node.body = Spliced(*pieces)
        if part.header("content-transfer-encoding") is None and eight_bit:
            node.set_header(
                "Content-Transfer-Encoding",
                f"Content-Transfer-Encoding: {part.transfer_encoding}\r\n".encode(),
            )
        return
    _store_body(node, part, b"".join(pieces), boundaries)


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
        codec = lookup_charset(part.charset or "us-ascii")
        own = _encoded_snippet(snippet, codec) if _spliceable(part, codec) else None
        # a body that is spliced is read where it lies, never copied
        view = None if own is None else memoryview(part.buffer)[part.body_start : part.body_end]
        body = None if view is None else _readable(view, codec)
        raw = b""
        if body is None:
            own = view = None
            raw = part.decoded()
            body = _readable(raw, codec)
        if body is not None and codec is not None:
            reached += 1
            if _already_there(snippet, body):
                changes.append(Change("skipped", part.path, "the disclaimer is already there"))
                continue
            if view is not None and own is not None:
                del body  # no text of the body is held beside its bytes
                _store_spliced(nodes[id(part)], part, view, own, position, boundaries)
            elif isinstance(body, str):
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
            if _already_there(own.decode("latin-1"), raw.decode("latin-1")):
                changes.append(Change("skipped", part.path, "the disclaimer is already there"))
                continue
            new_data = _insert(part, crlf(raw), own, position)
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
