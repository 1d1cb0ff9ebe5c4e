"""``strip_attachments``: attachments removed on every reading of their names
(:mod:`mimeguard._attachments`), each replaced by a notice."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._attachments import Policy, plan
from ._filenames import candidate_names
from ._results import Change
from ._session import _Session, _text_part
from ._writer import Node, encode_body, serialise
from .message import Message, Part

Matcher = Callable[[Part], bool]
Match = Matcher | Iterable[str | Matcher]


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
    judged = session.nothing_to_strip
    if judged is not None and judged[0] is msg and judged[1] is match and judged[2] == descend:
        return  # this parse was judged under this policy already (see below)
    todo = plan(msg, match, descend=descend, limits=session.limits)
    if not (todo.hits or todo.uu or todo.outside):
        # a repairing edit judges the input before repair and what repair made of it
        # again; a message repair left as it was is the same parse: judged once
        session.nothing_to_strip = (msg, match, descend)
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
            detail = f"MIME structure in the {' and '.join(what)}"
            changes.append(Change("removed", part.path, detail, scope="outside"))
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
    # the notice is body text: no line breaks or controls from a hostile name (cut
    # first: each character maps to one, and a name may be megabytes long)
    return "".join(c if c.isprintable() else "?" for c in name[:200])


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
