"""Repair: fix what the validator reports, where it can be fixed without inventing data.

Each fixable rule has its repair registered here by code (:func:`repairs`,
:data:`REPAIRS`).  A round validates the message, groups the findings by part and
runs on each part the repairs its findings name (header lines, part bodies,
multipart delimiters; then the fields the message lacks and its line endings), on
a node tree that copies every other part unchanged, and serialises.  Rounds repeat
(at most three) while fixable findings remain, so a repaired message is a fixed
point: repairing it again changes nothing.  Headers WorkMail treats as immutable
are never touched.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from . import _abnf as g
from ._charset import decode_8bit
from ._date import format_date, received_date
from ._incremental import revalidate
from ._lists import (
    IMMUTABLE_HEADERS,
    MIME_UNIQUE_HEADERS,
    SINGLETON_HEADERS,
)
from ._params import format_param, parse_content_type, parse_disposition
from ._parser import parse
from ._registry import RULES
from ._rfc2047 import decode_words
from ._rules.encoding import KNOWN_ENCODINGS, base64_problem
from ._scan import first_line_over
from ._writer import CRLF, Node, encode_body, fold_structured, header_line, new_boundary, serialise
from .findings import Finding, Report
from .limits import Limits
from .message import HeaderField, Message, Part
from .profiles import Profile
from .validation import validate

if TYPE_CHECKING:
    from ._results import Change, ChangeScope

__all__ = ["REPAIRS", "repair_bytes", "repair_message", "repairs"]

_IMMUTABLE = frozenset(IMMUTABLE_HEADERS)
_STRUCTURED_PARAMS = frozenset({"content-type", "content-disposition"})
#: fields whose value is a list of addresses or ids: RFC 2047-encoding them whole would
#: change their meaning, so 8-bit in them is not repaired
_STRUCTURED = (SINGLETON_HEADERS - {"subject"}) | frozenset(
    {
        "resent-from",
        "resent-sender",
        "resent-to",
        "resent-cc",
        "resent-bcc",
        "resent-message-id",
        "resent-date",
        "return-path",
        "received",
        "content-id",
        "content-transfer-encoding",
        "mime-version",
        "dkim-signature",
        "list-id",
        "list-unsubscribe",
        "list-post",
        "list-help",
        "list-subscribe",
        "list-owner",
        "list-archive",
        "disposition-notification-to",
        "return-receipt-to",
    }
)
_ALL_EOLS = g.EOL


class _Note(NamedTuple):
    """What a repair did to the part at ``path`` (a :class:`Change` once deduplicated)."""

    path: str
    detail: str
    #: ``"message"`` when the line endings of every part of the message at ``path`` (the
    #: whole message, or an attached message) were rewritten
    scope: ChangeScope = "part"


#: the note of the one repair that rewrites bytes of every part: the line endings
_ALL_CRLF = _Note("", "every line ending is now CRLF", "message")


# -- the engine -------------------------------------------------------------------------------

#: A repair: it fixes, on one part of a round's tree, what the findings named for that
#: part say (rule names); message-wide ones are called once with the root.
Repair = Callable[["_Round", Part, Node, frozenset[str]], None]

#: rule code -> the repairs that fix it (a line too long or a NUL can be in a header and
#: in a body); every fixable rule has one at least (tests/test_profiles.py), registered
#: below with :func:`repairs`
REPAIRS: dict[str, tuple[Repair, ...]] = {}
#: the repairs of one part, in the order a round runs them on it: the header block first
#: (it may take a line back from the body), then the multipart structure or the body
_PART_REPAIRS: list[tuple[Repair, frozenset[str]]] = []
#: then, once, those of the whole message: the fields it lacks, its line endings
_MESSAGE_REPAIRS: list[tuple[Repair, frozenset[str]]] = []


def repairs(*codes: str, message_wide: bool = False) -> Callable[[Repair], Repair]:
    """Register ``fn`` as a repair of the rules ``codes`` (each a fixable rule)."""

    def register(fn: Repair) -> Repair:
        names = set()
        for code in codes:
            rule = RULES.get(code)
            if rule is None or not rule.fixable:
                raise ValueError(f"{code} is not a fixable rule")
            REPAIRS[code] = (*REPAIRS.get(code, ()), fn)
            names.add(rule.name)
        (_MESSAGE_REPAIRS if message_wide else _PART_REPAIRS).append((fn, frozenset(names)))
        return fn

    return register


@dataclass(slots=True)
class _Round:
    """One repair round: the parse, its node tree and what was done."""

    msg: Message
    root: Node
    notes: list[_Note]
    profile: Profile
    envelope_from: str | None
    now: datetime | None
    #: parts whose header block gave a line back to the body: their body waits a round
    moved: set[int] = field(default_factory=set)
    #: the output's line endings are all made CRLF when serialised
    crlf: bool = False


def repair_bytes(
    data: bytes | Message,
    changes: list[Change],
    *,
    envelope_from: str | None,
    profile: Profile,
    limits: Limits,
    now: datetime | None,
) -> bytes:
    """:func:`repair_message`, as bytes."""
    msg, _ = repair_message(
        data, changes, envelope_from=envelope_from, profile=profile, limits=limits, now=now
    )
    return msg.to_bytes()


def repair_message(
    data: bytes | Message,
    changes: list[Change],
    *,
    envelope_from: str | None,
    profile: Profile,
    limits: Limits,
    now: datetime | None,
) -> tuple[Message, Report | None]:
    """Fix every fixable finding of ``data`` under ``profile``: the fixed point, parsed,
    with its report under ``profile`` when the last round computed it (else None).

    Each round validates, then runs, part by part, the repairs the findings name
    (:data:`REPAIRS`), so that a part nothing is reported for is copied as it is.
    """
    from ._results import Change  # a late import: edit imports this module

    notes: list[_Note] = []
    msg = data if isinstance(data, Message) else parse(data, limits=limits)
    report: Report | None = None
    last: tuple[Message, Report] | None = None
    for _ in range(3):
        if last is None:
            report = validate(msg, profile=profile, limits=limits)
        else:  # a round copies the parts it does not fix: their findings are reused
            report = revalidate(
                msg, base=last[0], base_report=last[1], profile=profile, limits=limits
            )
        last = (msg, report)
        found = [f for f in report.findings if f.code in REPAIRS]
        if envelope_from is None:
            found = [f for f in found if f.name != "missing-from"]
        if not found:
            break
        job = _Round(msg, Node.mirror(msg), notes, profile, envelope_from, now)
        out = _run(job, found)
        if out == msg.to_bytes():
            break
        msg, report = parse(out, limits=limits), None
    for note in dict.fromkeys(notes):
        changes.append(Change("repaired", note.path, note.detail, scope=note.scope))
    return msg, report


def _run(job: _Round, found: Sequence[Finding]) -> bytes:
    """The round's output: the repairs the findings name, part by part, then those of
    the whole message."""
    by_path: dict[str, set[str]] = {}
    for f in found:
        by_path.setdefault(f.part, set()).add(f.name)
    nodes = {id(n.part): n for n in job.root.walk() if n.part is not None}
    for part in job.msg.walk():
        names = by_path.get(part.path)
        node = nodes.get(id(part))
        if not names or node is None:
            continue
        named = frozenset(names)
        for fn, wanted in _PART_REPAIRS:
            if not named.isdisjoint(wanted):
                fn(job, part, node, named)
    everywhere = frozenset(n for names in by_path.values() for n in names)
    for fn, wanted in _MESSAGE_REPAIRS:
        if not everywhere.isdisjoint(wanted):
            fn(job, job.msg, job.root, everywhere)
    root = job.root
    out = serialise(root) if root.dirty else job.msg.to_bytes()
    if job.crlf and (
        out.count(b"\n") != out.count(b"\r\n") or out.count(b"\r") != out.count(b"\r\n")
    ):
        out = _ALL_EOLS.sub(CRLF, out)
        job.notes.append(_ALL_CRLF)
    return out


@repairs("MG111", "MG112", "MG113", message_wide=True)
def _repair_line_endings(job: _Round, part: Part, node: Node, names: frozenset[str]) -> None:
    """Every line ending becomes CRLF (RFC 5322 section 2.3), once the output is written."""
    job.crlf = True


# -- headers ---------------------------------------------------------------------------------


def _value_text(field: HeaderField) -> str:
    return decode_8bit(field.unfolded.replace(b"\x00", b""))


#: a field once its leading whitespace is stripped: a valid name right before the colon
_STRIPPED_FIELD = re.compile(rb"[ \t]+([" + g.FTEXT_CHARS.encode() + rb"]+):")
#: a line that only continues a parameter list: ``name=value`` (RFC 2045 section 5.1,
#: RFC 2231 section 3 names), optionally more parameters after a ";"
_PARAM_LINE = re.compile(
    rb"[ \t]*[" + g.TOKEN_CHARS.encode() + rb"]+[ \t]*=" + g.LINE.pattern + rb"\Z"
)


def _stripped_field(f: HeaderField) -> HeaderField | None:
    """A first header line indented by mistake (`` From: a@b``) that is otherwise a
    valid field, as that field; else None."""
    raw = f.raw
    m = _STRIPPED_FIELD.match(raw)
    if m is None:
        return None
    lead = m.start(1)
    data = raw[lead:]
    return HeaderField(data, 0, len(data), m.end() - lead, m.group(1).decode("ascii"))


def _continues_params(previous: bytes | None, line: bytes) -> bool:
    """Is ``line`` a parameter that lost the indentation of its continuation line,
    after a Content-Type or Content-Disposition field that ends with ";"?"""
    if previous is None or _PARAM_LINE.match(line) is None:
        return False
    colon = previous.find(b":")
    name = previous[:colon].strip().lower()
    return name in (b"content-type", b"content-disposition") and previous.rstrip().endswith(b";")


def _rebuild_structured(name: str, text: str) -> bytes:
    """Content-Type / Content-Disposition with parameters re-quoted (RFC 2231 for non-ASCII)."""
    if name.lower() == "content-type":
        ct = parse_content_type(text)
        head, params = (ct.mime_type or "application/octet-stream"), ct.params
    else:
        d = parse_disposition(text)
        head, params = (d.kind or "attachment"), d.params
    rendered = [head]
    for k, v in params.items():
        try:
            rendered.append(format_param(k, v))
        except ValueError:
            # a name that is no RFC 2045 token (8-bit, say) has no valid spelling at all:
            # the parameter cannot be kept, and no MIME reader would have understood it
            continue
    return fold_structured(name, "; ".join(rendered))


def _fix_headers(
    part: Part, node: Node, notes: list[_Note], *, is_root: bool, profile: Profile
) -> bool:
    """Fix the header block of ``part``; True when a line moved from its body to it."""
    out: list[bytes] = []
    changed = part.separator is None and part.body_start < part.end
    seen: dict[str, bytes] = {}
    unique = set(SINGLETON_HEADERS if is_root else ()) | MIME_UNIQUE_HEADERS
    if is_root:
        unique |= profile.once_only
    for f in part.headers:
        raw = f.raw
        if not f.valid:
            if out and _continues_params(out[-1], raw):
                line = raw.lstrip(b" \t")
                out[-1] += b" " + (line if line.endswith((b"\n", b"\r")) else line + CRLF)
                notes.append(
                    _Note(
                        part.path, f"joined the parameter line {_show(raw)} to the field before it"
                    )
                )
                changed = True
                continue
            stripped = _stripped_field(f) if f.start == part.start else None
            if stripped is None:
                notes.append(
                    _Note(part.path, f"removed a header line that is not a field: {_show(raw)}")
                )
                changed = True
                continue
            notes.append(
                _Note(part.path, f"removed the whitespace before the first field {stripped.name}")
            )
            f = stripped
            raw = f.raw
            changed = True
        immutable = is_root and f.lname in _IMMUTABLE
        name_bytes = raw[: f.value_start - f.start - 1]
        if not f.name or g.HEADER_NAME_OK.fullmatch(name_bytes) is None:
            if g.HEADER_NAME_OK.fullmatch(name_bytes.rstrip(b" \t")) is None:
                notes.append(
                    _Note(part.path, f"removed a field with an invalid name: {_show(raw)}")
                )
                changed = True
                continue
            if not immutable:  # obsolete whitespace (MG105); an immutable field keeps it
                raw = name_bytes.rstrip(b" \t") + raw[len(name_bytes) :]
                notes.append(_Note(part.path, f"removed whitespace before the colon of {f.name}"))
                changed = True
        if f.lname in unique and not immutable:
            key = g.EOL.sub(b"", raw[len(name_bytes) + 1 :]).strip()
            if f.lname in seen:
                kind = "an exact copy" if seen[f.lname] == key else "a second"
                notes.append(_Note(part.path, f"removed {kind} {f.name} field (first one kept)"))
                changed = True
                continue
            seen[f.lname] = key
        if not immutable:
            fixed = _fix_field(f, raw)
            if fixed is not None:
                raw, what = fixed
                notes.append(_Note(part.path, what))
                changed = True
        out.append(raw if raw.endswith((b"\n", b"\r")) else raw + CRLF)
    moved = False
    if part.separator is None and part.body_start < part.end:
        moved = _join_body_param(part, node, out, notes)
        if not moved:
            notes.append(_Note(part.path, "inserted the empty line between header and body"))
    if changed:
        node.headers = [*out]
    return moved


@repairs(
    "MG101", "MG102", "MG103", "MG104", "MG105", "MG106", "MG107", "MG110", "MG114", "MG115",
    "MG203", "MG204", "MG211", "MG310",
)  # fmt: skip
def _repair_headers(job: _Round, part: Part, node: Node, names: frozenset[str]) -> None:
    """The part's header block: lines that are no field, names, duplicates, encoding."""
    if _fix_headers(part, node, job.notes, is_root=part is job.msg, profile=job.profile):
        job.moved.add(id(part))  # its body was cut: the next round looks at it again


def _join_body_param(part: Part, node: Node, out: list[bytes], notes: list[_Note]) -> bool:
    """The header block ended at a parameter line that lost its indentation (the
    parser saw no field there): move the line back to the field it continues."""
    buf, bs, be = part.buffer, part.body_start, part.body_end
    if not out or part.children or part.is_multipart or bs >= be:
        return False
    m = g.LINE.match(buf, bs, be)
    if m is None or not _continues_params(out[-1], m.group()):
        return False
    line = m.group()
    out[-1] += b" " + (line if line.endswith((b"\n", b"\r")) else line + CRLF)
    rest = m.end()
    blank = g.LINE.match(buf, rest, be)
    what = f"joined the parameter line {_show(line)} to the field before it"
    if blank is not None and blank.group() in (b"\r\n", b"\n", b"\r"):
        rest = blank.end()  # the empty line was there, one line late
    else:
        what += " and inserted the empty line between header and body"
    node.body = buf[rest:be]
    notes.append(_Note(part.path, what))
    return True


def _fix_field(f: HeaderField, raw: bytes) -> tuple[bytes, str] | None:
    """A new line for a field with 8-bit bytes, NUL or a line over 998 and what was done,
    else None."""
    eight_bit = not raw.isascii()
    too_long = any(len(line) > g.MAX_LINE_OCTETS for line in _ALL_EOLS.split(raw))
    if f.lname == "content-type" and not (eight_bit or too_long):
        ct = parse_content_type(f.value)
        if not ct.mime_type and f.value.split(";")[0].strip().lower() == "text":
            # RFC 2045 section 5.2 reads it as text/plain; say so explicitly
            rest = f.value.split(";", 1)[1] if ";" in f.value else ""
            line = fold_structured(f.name, "text/plain" + (";" + rest if rest else ""))
            return line, f"wrote the media type 'text' of {f.name} as text/plain"
    nul = b"\x00" in raw
    if not (eight_bit or too_long or nul):
        return None
    what = [
        *(["removed its NUL bytes"] if nul else []),
        *(["folded its line of over 998 octets"] if too_long else []),
    ]
    text = _value_text(f)
    if f.lname in _STRUCTURED_PARAMS:
        if eight_bit:
            what.append("wrote its 8-bit parameter values as RFC 2231 UTF-8 values")
        line = _rebuild_structured(f.name, text)
    elif f.lname in _STRUCTURED:
        if eight_bit:
            return None  # encoding it would change its meaning: stays an error
        line = fold_structured(f.name, text)
    else:
        if eight_bit:
            what.append("encoded its 8-bit text as RFC 2047 UTF-8 encoded-words")
        # words already encoded are decoded first, from the raw bytes, so that an 8-bit
        # byte inside one is read in the word's charset
        decoded = decode_words(f.unfolded.replace(b"\x00", b""))[0] if "=?" in text else text
        line = header_line(f.name, decoded)
    return line, f"{f.name}: {', '.join(what)}"


def _show(raw: bytes) -> str:
    text = raw.strip().decode("utf-8", "replace")
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


@repairs("MG201", "MG202", "MG209", message_wide=True)
def _repair_required(job: _Round, part: Part, node: Node, names: frozenset[str]) -> None:
    """Fields the message must have: From (from the envelope), Date, MIME-Version."""
    _fix_required(
        job.msg, job.root, set(names), job.notes, envelope_from=job.envelope_from, now=job.now
    )


def _fix_required(
    msg: Message,
    root: Node,
    names: set[str],
    notes: list[_Note],
    *,
    envelope_from: str | None,
    now: datetime | None,
) -> None:
    if "missing-from" in names and envelope_from and root.get_value("From") is None:
        root.set_header("From", fold_structured("From", f"<{envelope_from.strip('<>')}>"))
        notes.append(_Note("", f"added From from the envelope sender {envelope_from}"))
    if "missing-date" in names and root.get_value("Date") is None:
        stamps = [received_date(f.value) for f in msg.get_all("received")]
        dated = [d for d in stamps if d is not None]
        if dated:
            when, source = max(dated), "the newest Received timestamp"
        else:
            when, source = (now or datetime.now(UTC)), "the current time"
        root.set_header("Date", f"Date: {format_date(when)}\r\n".encode())
        notes.append(_Note("", f"added Date from {source}"))
    if "missing-mime-version" in names and root.get_value("MIME-Version") is None:
        root.set_header("MIME-Version", b"MIME-Version: 1.0\r\n")
        notes.append(_Note("", "added MIME-Version: 1.0"))


# -- bodies ----------------------------------------------------------------------------------


def _give_new_boundary(part: Part, node: Node) -> None:
    """A fresh boundary for ``node``, clear of every boundary in the message."""
    root = [part, *part.ancestors()][-1]
    node.boundary = new_boundary(part.raw_body, (p.boundary or "" for p in root.walk()))
    node.set_param("Content-Type", "boundary", node.boundary.decode())


def _text_child(body: bytes) -> Node:
    """A text/plain part holding ``body`` as it is."""
    text = Node()
    text.headers = [b"Content-Type: text/plain; charset=us-ascii\r\n"]
    text.body = body
    return text


@repairs("MG301", "MG302", "MG303", "MG304", "MG305", "MG306", "MG313", "MG314", "MG317")
def _repair_multipart(job: _Round, part: Part, node: Node, names: frozenset[str]) -> None:
    """A multipart's encoding label, boundary, delimiters and parts."""
    if part.is_multipart and not part.opaque and id(part) not in job.moved:
        _fix_multipart(part, node, job.notes)


def _fix_multipart(part: Part, node: Node, notes: list[_Note]) -> None:
    if part.transfer_encoding not in ("7bit", "8bit", "binary"):
        node.set_header("Content-Transfer-Encoding", b"Content-Transfer-Encoding: 7bit\r\n")
        notes.append(
            _Note(part.path, f"{part.mime_type} relabelled 7bit (multiparts are not encoded)")
        )
    elif part.transfer_encoding == "binary":
        # RFC 2045 section 6.4 allows binary on a multipart, SMTP without BINARYMIME does
        # not: once no line is over 998 octets and no NUL is left (its parts are
        # re-encoded in this round), the label says what the body is
        buf, bs, be = part.buffer, part.body_start, part.body_end
        if b"\x00" not in buf[bs:be] and first_line_over(buf, bs, be, g.MAX_LINE_OCTETS) < 0:
            label = "7bit" if g.EIGHT_BIT.search(buf, bs, be) is None else "8bit"
            node.set_header(
                "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {label}\r\n".encode()
            )
            notes.append(_Note(part.path, f"{part.mime_type} relabelled {label} instead of binary"))
    boundary = part.boundary
    if not boundary:
        _give_boundary(part, node, notes)
        return
    if any(a.boundary == boundary for a in part.ancestors()):
        # equal to an enclosing boundary (RFC 2046 section 5.1.2): which delimiter lines are
        # whose cannot be told, so nothing is written with it and MG305 stays an error;
        # new delimiters would hand the enclosing multipart parts that were never its own
        return
    if g.BOUNDARY_OK.fullmatch(boundary) is None or (part.delimiters and _overlaps(part)):
        _give_new_boundary(part, node)
        notes.append(_Note(part.path, "gave the multipart a valid boundary"))
    if not part.delimiters:
        node.children = [_text_child(part.raw_body)]
        node.boundary = node.boundary or boundary.encode("utf-8", "replace")
        notes.append(_Note(part.path, "the body without delimiters became a text/plain part"))
    elif not part.children:
        node.children = [_text_child(b"")]
        node.boundary = node.boundary or boundary.encode("utf-8", "replace")
        notes.append(_Note(part.path, "added an empty text/plain part to the empty multipart"))
    elif part.epilogue is None:
        node.boundary = node.boundary or boundary.encode("utf-8", "replace")
        notes.append(_Note(part.path, "added the closing delimiter"))


#: a line that looks like a delimiter: "--" and a boundary of bchars (RFC 2046 section 5.1.1)
_DELIMITER_LIKE = g.DELIMITER_LIKE
_ALNUM = re.compile(rb"[0-9A-Za-z]")
#: lines of dashes looked past before the first delimiter-like line
_DASH_LINES = 100


def _give_boundary(part: Part, node: Node, notes: list[_Note]) -> None:
    """A multipart without a boundary parameter (RFC 2046 section 5.1.1 requires one).

    When its body has a delimiter line (one with a letter or digit in its boundary, so
    that a line of dashes is not taken for one) and a matching close delimiter, the
    boundary they use is the one that was lost from the header; otherwise the body is
    kept as a text/plain part under a new boundary.
    """
    buf, bs, be = part.buffer, part.body_start, part.body_end
    # from the line feed that ends the header block, so that the body's first line counts
    start = bs - 1 if bs > part.start and buf[bs - 1] == 10 else bs
    for tried, m in enumerate(_DELIMITER_LIKE.finditer(buf, start, be)):
        found = m.group(1)
        if _ALNUM.search(found) is None:
            if tried < _DASH_LINES:
                continue
            break
        close = re.compile(rb"\n--" + re.escape(found) + rb"--[ \t]*\r?$", re.M)
        if close.search(buf, m.end(), be) is not None:
            node.set_param("Content-Type", "boundary", found.decode("ascii"))
            notes.append(
                _Note(
                    part.path,
                    f"set the missing boundary to {found.decode('ascii')!r}, "
                    "the one its delimiter lines use",
                )
            )
            return
        break
    _give_new_boundary(part, node)
    node.children = [_text_child(part.raw_body)]
    notes.append(
        _Note(part.path, "gave the multipart a boundary; its body became a text/plain part")
    )


#: spellings of the standard encodings seen in the wild, compared without spaces,
#: dashes and underscores
_CTE_ALIASES = {
    "quotedprintable": "quoted-printable",
    "qp": "quoted-printable",
    "base64": "base64",
    "b64": "base64",
    "xuuencode": "uuencode",
    "xuue": "uuencode",
    "uuencode": "uuencode",
    "uue": "uuencode",
}


def _uudecode(raw: bytes) -> bytes | None:
    """The data of a uuencoded body (``begin`` … ``end``), or None when it is not one."""
    if not raw.strip():
        return b""
    lines = _ALL_EOLS.split(raw)
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(b"begin "))
    except StopIteration:
        return None
    out = bytearray()
    for line in lines[start + 1 :]:
        if line.strip() in (b"end", b"`", b""):
            if line.strip() == b"end":
                return bytes(out)
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            return None
    return None


def _overlaps(part: Part) -> bool:
    """Does the boundary overlap an enclosing one (RFC 2046 section 5.1.2)?"""
    mine = part.boundary or ""
    for ancestor in part.ancestors():
        other = ancestor.boundary
        if other and other != mine and (other.startswith(mine) or mine.startswith(other)):
            return True
    return False


@repairs("MG110", "MG114", "MG313", "MG315", "MG316", "MG317", "MG318", "MG319", "MG320", "MG325")
def _repair_body(job: _Round, part: Part, node: Node, names: frozenset[str]) -> None:
    """A leaf's body (or an attached message's encoding): encoded as its content needs."""
    if part.is_multipart or part.opaque or id(part) in job.moved:
        return
    if not part.children or part.encapsulates:
        _fix_body(part, node, job.notes)


def _fix_body(part: Part, node: Node, notes: list[_Note]) -> None:
    buf, bs, be = part.buffer, part.body_start, part.body_end
    cte = part.transfer_encoding
    if part.encapsulates:
        if cte == "binary" or cte not in KNOWN_ENCODINGS:
            body = buf[bs:be]
            if b"\x00" not in body and first_line_over(buf, bs, be, g.MAX_LINE_OCTETS) < 0:
                label = "7bit" if body.isascii() else "8bit"
                node.set_header(
                    "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {label}\r\n".encode()
                )
                notes.append(
                    _Note(part.path, f"attached message labelled {label} instead of {cte}")
                )
            return
        if cte not in ("", "7bit", "8bit") and part.children:
            inner = part.children[0].buffer
            inner = _ALL_EOLS.sub(CRLF, inner)
            if first_line_over(inner, 0, len(inner), g.MAX_LINE_OCTETS) < 0:
                label = "7bit" if inner.isascii() else "8bit"
                node.children = []
                node.body = inner
                node.set_header(
                    "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {label}\r\n".encode()
                )
                # its line endings were made CRLF: a line-ending repair of every part in it
                notes.append(
                    _Note(part.path, f"decoded the {cte} attached message ({label})", "message")
                )
        return
    eight_bit = g.EIGHT_BIT.search(buf, bs, be) is not None
    reasons = []
    if cte not in KNOWN_ENCODINGS:
        alias = _CTE_ALIASES.get(re.sub(r"[\s_\-]", "", cte))
        if alias in ("base64", "quoted-printable"):
            node.set_header(
                "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {alias}\r\n".encode()
            )
            notes.append(_Note(part.path, f"transfer encoding {cte!r} read as {alias}"))
            return
        if alias == "uuencode":
            data = _uudecode(buf[bs:be])
            if data is None:
                return
            node.body = encode_body(data, "base64", text=False)
            node.set_header("Content-Transfer-Encoding", b"Content-Transfer-Encoding: base64\r\n")
            notes.append(_Note(part.path, f"uudecoded the {cte} body and re-encoded it as base64"))
            return
        if cte.startswith("x-") or "64" in cte or "quoted" in cte:
            return  # a real encoding we cannot undo: what the bytes mean is unknown
        # "7-bit", "plain", "text", "none"…: the body is not encoded, only mislabelled
        if (
            not eight_bit
            and b"\x00" not in buf[bs:be]
            and first_line_over(buf, bs, be, g.MAX_LINE_OCTETS) < 0
        ):
            node.set_header("Content-Transfer-Encoding", b"Content-Transfer-Encoding: 7bit\r\n")
            notes.append(_Note(part.path, f"unknown transfer encoding {cte!r} relabelled 7bit"))
            return
        cte = "8bit"
    body = buf[bs:be]
    if cte == "binary":
        reasons.append("it was labelled binary, which SMTP without BINARYMIME cannot carry")
    if cte in ("7bit", "8bit") and eight_bit:
        reasons.append(
            "it held raw 8-bit bytes under 7bit"
            if cte == "7bit"
            else "it held raw 8-bit bytes (8bit), which the profile wants transfer-encoded"
        )
    nuls = body.count(b"\x00") if cte in ("7bit", "8bit", "binary") else 0
    if cte in ("7bit", "8bit") and first_line_over(buf, bs, be, g.MAX_LINE_OCTETS) >= 0:
        reasons.append("it had lines over 998 octets")
    if cte == "base64":
        problem = base64_problem(buf, bs, be)
        if problem is not None:
            reasons.append(f"its base64 was invalid ({problem[1]}); each byte that decodes is kept")
        elif first_line_over(buf, bs, be, g.MAX_ENCODED_LINE) >= 0:
            reasons.append("its base64 lines were longer than 76 characters")
    if cte == "quoted-printable":
        if g.QP_BAD_ESCAPE.search(buf, bs, be) is not None:
            reasons.append("its quoted-printable had '=' escapes that are not two hex digits")
        if eight_bit:
            reasons.append("its quoted-printable held raw 8-bit bytes")
        if first_line_over(buf, bs, be, g.MAX_ENCODED_LINE) >= 0:
            reasons.append("its quoted-printable lines were longer than 76 characters")
    if not reasons and not nuls:
        return
    data = part.decoded() if cte in KNOWN_ENCODINGS else body
    text = part.maintype == "text"
    if nuls:
        if text:
            data = data.replace(b"\x00", b"")
            reasons.append(f"{nuls:,} NUL bytes were removed from the text")
        else:
            reasons.append(f"it held {nuls:,} NUL bytes, kept inside the base64")
    new_cte = "quoted-printable" if text else "base64"
    node.body = encode_body(data, new_cte, text=text)
    node.set_header(
        "Content-Transfer-Encoding", f"Content-Transfer-Encoding: {new_cte}\r\n".encode()
    )
    notes.append(
        _Note(part.path, f"re-encoded the body from {cte} as {new_cte}: {'; '.join(reasons)}")
    )
