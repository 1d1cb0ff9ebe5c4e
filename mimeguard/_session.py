"""The message being edited (:class:`_Session`) and the node helpers every edit shares."""

from __future__ import annotations

from collections.abc import Collection

from ._abnf import MAX_LINE_OCTETS
from ._conservation import check_conserved
from ._parser import parse
from ._results import Change
from ._scan import ascii_span, first_line_over
from ._writer import HeaderLine, Node, crlf, encode_body, head_of, looks_like_delimiter, serialise
from .findings import Report
from .limits import Limits
from .message import Message, Part
from .profiles import Profile

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

    __slots__ = (
        "changes",
        "checked",
        "limits",
        "mark",
        "msg",
        "nodes",
        "nothing_to_strip",
        "profile",
        "reshaped",
        "root",
        "texts_changed",
    )

    def __init__(
        self, data: bytes | Message, limits: Limits, changes: list[Change], profile: Profile
    ) -> None:
        self.limits = limits
        #: the profile the edit is judged by (repair fixes what it reports)
        self.profile = profile
        #: every change of the edit; those from ``mark`` on were made on this parse
        self.changes = changes
        #: a parse of some stage of the edit and its full report under ``profile``
        #: (repair's): the final check reuses the findings of parts copied from it
        self.checked: tuple[Message, Report] | None = None
        #: a parse strip found nothing to remove in, under a policy (the same objects: a
        #: strip run again on that parse, after a repair that changed nothing, is skipped)
        self.nothing_to_strip: tuple[Message, object, bool] | None = None
        # a parse given is used as it is: it is a read-only value
        self.load(data if isinstance(data, Message) else parse(data, limits=limits))

    def load(self, msg: Message) -> None:
        """Go on from ``msg`` (a parse of what the tree holds, or of what repair made of it)."""
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
            self.load(self.finish())


def _ensure_mime_version(root: Node) -> None:
    """An edit that wrote MIME header fields declares MIME (RFC 2045 section 4)."""
    if any(name == "mime-version" for name, _ in root.fields()):
        return
    for node in root.walk():
        if node.headers is not None and any(
            head_of(line)[:8].lower() == b"content-" for line in node.headers
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
    headers: list[HeaderLine]
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
    data: bytes,
    boundaries: Collection[bytes] | None,
    *,
    eight_bit: bool = False,
    start: int = 0,
    end: int | None = None,
) -> bool:
    """Can ``data[start:end]`` be written unencoded as 7bit (or 8bit) (RFC 2045 section
    2.7-2.8), with no line a delimiter of ``boundaries`` (``None``: of any boundary)?
    Read where it lies: a body of a message is not copied."""
    stop = len(data) if end is None else end
    return (
        (eight_bit or ascii_span(data, start, stop))
        and data.find(b"\x00", start, stop) < 0
        and first_line_over(data, start, stop, MAX_LINE_OCTETS) < 0
        and not looks_like_delimiter(data, boundaries, start, stop)
    )
