"""DKIM signatures read offline (RFC 6376): tag lists, body hashes, signed header fields.

No DNS and no public key: this module answers what a gateway can know from the
bytes alone, namely whether a signature's body hash (``bh=``) matches the body
and which of the header fields it signs (``h=``) an edit changed.  The signature
itself (``b=``) is not verified; :mod:`mimeguard.arc` leaves that to dkimpy.

The body is canonicalized in chunks of about :data:`CHUNK` bytes over the
message buffer: ``simple`` hashes memoryview slices (no copy at all), ``relaxed``
copies one chunk at a time, so the memory the check takes stays flat however
large the attachment (a single line longer than a chunk is read whole).
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from . import _abnf as g
from ._problem import Problem
from .message import HeaderField, Message

__all__ = [
    "CHUNK",
    "Signature",
    "body_hashes",
    "broken_signatures",
    "header_changes",
    "parse_tag_list",
    "signatures",
]

CHUNK = 1 << 20

# -- RFC 6376 section 3.2: tag=value lists -----------------------------------------------------

#: tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
#: tag-name = ALPHA *ALNUMPUNC; tag-value = [ tval *( 1*(WSP / FWS) tval ) ];
#: tval = 1*VALCHAR; VALCHAR = %x21-3A / %x3C-7E.  FWS is read as any run of
#: spaces, tabs and line breaks: the header parser has already decided where the
#: field ends, so a line break inside the value is a fold.
_WS = rb"[ \t\r\n]*"
_TAG_SPEC = re.compile(
    _WS + rb"([A-Za-z][A-Za-z0-9_]*)" + _WS + rb"=" + _WS
    + rb"((?:[\x21-\x3a\x3c-\x7e]+(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*)?)" + _WS
)  # fmt: skip
_BLANK = re.compile(_WS)
_NOT_WS = re.compile(rb"[^ \t\r\n]")
_ALL_WS = re.compile(rb"[ \t\r\n]+")
_DIGITS = re.compile(rb"[0-9]{1,76}")
#: section 3.5: d= domain-name and s= selector, sub-domain *("." sub-domain); RFC 5321
#: sub-domains, with "_" too (seen in selectors in the wild)
_DOMAIN_NAME = re.compile(
    rb"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*"
)
_B64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")

#: RFC 6376 section 3.5: tags a DKIM-Signature must carry.
REQUIRED = (b"v", b"a", b"b", b"bh", b"d", b"h", b"s")
_HASHES = {b"rsa-sha256": "sha256", b"rsa-sha1": "sha1", b"ed25519-sha256": "sha256"}
_CANONS = (b"simple", b"relaxed")
_Bad = Callable[[bytes, str], None]


def parse_tag_list(raw: bytes) -> tuple[dict[bytes, tuple[bytes, int]], list[Problem]]:
    """``tag-list = tag-spec *( ";" tag-spec ) [ ";" ]`` (RFC 6376 section 3.2).

    Returns each tag's value (with its offset in ``raw``) and the problems met; tag
    names are case-sensitive.  A tag-spec that does not parse is skipped, a
    duplicate tag is reported and the first one kept.  Never raises.
    """
    tags: dict[bytes, tuple[bytes, int]] = {}
    problems: list[Problem] = []
    pos, end = 0, len(raw)
    while pos <= end:
        semi = raw.find(b";", pos)
        stop = end if semi < 0 else semi
        m = _TAG_SPEC.fullmatch(raw, pos, stop)
        if m is not None:
            name, value = m.group(1), m.group(2)
            if name in tags:
                problems.append(
                    Problem(
                        "dkim-duplicate-tag",
                        f"tag {name.decode()}= occurs twice (RFC 6376 section 3.2)",
                        m.start(1),
                        m.end(2),
                    )
                )
            else:
                tags[name] = (value, m.start(2))
        elif semi < 0 and _BLANK.fullmatch(raw, pos, stop):
            pass  # the optional ";" at the end, or an empty value
        else:
            problems.append(_bad_spec(raw, pos, stop))
        if semi < 0:
            break
        pos = semi + 1
    return tags, problems


def _bad_spec(raw: bytes, pos: int, stop: int) -> Problem:
    first = _NOT_WS.search(raw, pos, stop)
    at = pos if first is None else first.start()
    spec = raw[at:stop].strip()
    if not spec:
        return Problem("dkim-tag-syntax", "empty tag-spec between two ';'", at)
    spec_end = at + len(spec)
    shown = spec[:40].decode("ascii", "backslashreplace")
    if b"=" not in spec:
        why = "has no '='"
    elif not re.match(rb"[A-Za-z][A-Za-z0-9_]*[ \t\r\n]*=", spec):
        why = "has a tag name that is not ALPHA *(ALPHA / DIGIT / '_')"
    else:
        why = "has a value with a byte outside %x21-3A / %x3C-7E"
    return Problem(
        "dkim-tag-syntax", f"tag-spec {shown!r} {why} (RFC 6376 section 3.2)", at, spec_end
    )


# -- the signature -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    """One DKIM-Signature field read from its tag list (RFC 6376 section 3.5).

    ``usable`` is true when every tag the body-hash and header checks need parsed;
    ``problems`` have offsets relative to the field's value (:attr:`HeaderField.value_start`).
    """

    field: HeaderField
    domain: str
    selector: str
    hash_name: str | None
    header_canon: bytes
    body_canon: bytes
    signed: tuple[str, ...]
    body_hash: bytes | None
    length: int | None
    problems: tuple[Problem, ...]

    @property
    def usable(self) -> bool:
        return self.hash_name is not None and self.body_hash is not None and bool(self.signed)


def _text(value: bytes) -> str:
    return value.decode("ascii", "replace")


def read_signature(field: HeaderField) -> Signature:
    """The tags of one DKIM-Signature field, checked; never raises."""
    raw = field.raw_value
    tags, problems = parse_tag_list(raw)
    # Offsets of values are relative to ``raw``, which starts at value_start.

    def bad(tag: bytes, why: str) -> None:
        value, at = tags.get(tag, (b"", 0))
        end = at + len(value)
        problems.append(Problem("dkim-bad-tag-value", f"{tag.decode()}= {why}", at, end))

    for tag in REQUIRED:
        if tag not in tags:
            problems.append(
                Problem(
                    "dkim-missing-tag",
                    f"required tag {tag.decode()}= is missing (RFC 6376 section 3.5)",
                    0,
                )
            )

    def value(tag: bytes) -> bytes | None:
        got = tags.get(tag)
        return None if got is None else got[0]

    v = value(b"v")
    if v is not None and v != b"1":
        bad(b"v", f"is {_text(v)!r}; only version 1 is defined")
    a = value(b"a")
    hash_name = None if a is None else _HASHES.get(a.lower())
    if a is not None and hash_name is None:
        bad(b"a", f"names the unknown algorithm {_text(a)!r}")
    header_canon = body_canon = b"simple"
    c = value(b"c")
    if c is not None:
        pieces = c.lower().split(b"/")
        if len(pieces) > 2 or any(p not in _CANONS for p in pieces):
            bad(b"c", f"{_text(c)!r} is not simple or relaxed, for header and body")
            hash_name = None  # the body cannot be canonicalized
        else:
            header_canon = pieces[0]
            body_canon = pieces[1] if len(pieces) == 2 else b"simple"
    body_hash = _base64(value(b"bh"), b"bh", bad)
    _base64(value(b"b"), b"b", bad)
    d, selector_value = value(b"d"), value(b"s")
    domain = _text(d or b"").lower()
    if d is not None and not _DOMAIN_NAME.fullmatch(d):
        bad(b"d", f"{_text(d)[:40]!r} is not a domain name")
    selector = _text(selector_value or b"")
    if selector_value is not None and not _DOMAIN_NAME.fullmatch(selector_value):
        bad(b"s", f"{_text(selector_value)[:40]!r} is not a selector (sub-domains)")
    signed: tuple[str, ...] = ()
    h = value(b"h")
    if h is not None:
        names = [n.strip() for n in _ALL_WS.sub(b"", h).split(b":")]
        if any(not g.HEADER_NAME_OK.fullmatch(n) for n in names):
            bad(b"h", "lists an empty or invalid field name")
        else:
            signed = tuple(_text(n).lower() for n in names)
            if "from" not in signed:
                bad(b"h", "does not list From, which must be signed (RFC 6376 section 5.4)")
    length = None
    ell = value(b"l")
    if ell is not None:
        if _DIGITS.fullmatch(ell):
            length = int(ell)
        else:
            bad(b"l", f"{_text(ell)[:20]!r} is not 1 to 76 digits")
            hash_name = None
    return Signature(
        field,
        domain,
        selector,
        hash_name,
        header_canon,
        body_canon,
        signed,
        body_hash,
        length,
        tuple(problems),
    )


def _base64(value: bytes | None, tag: bytes, bad: _Bad) -> bytes | None:
    if value is None:
        return None
    compact = _ALL_WS.sub(b"", value)
    if not compact or not _B64.fullmatch(compact) or len(compact) % 4:
        bad(tag, "is not base64")
        return None
    try:
        return binascii.a2b_base64(compact)
    except binascii.Error:  # pragma: no cover - the pattern and length admit only base64
        bad(tag, "is not base64")
        return None


def signatures(msg: Message) -> list[Signature]:
    """The DKIM-Signature fields of ``msg``'s header block, in header order."""
    return [read_signature(f) for f in msg.headers if f.lname == "dkim-signature" and f.valid]


# -- RFC 6376 section 3.4.3 and 3.4.4: body canonicalization ----------------------------------

_WSP_RUN = re.compile(rb"[ \t]+")
_TO_CRLF = re.compile(rb"\r?\n")
_CRLF = b"\r\n"


def _relaxing_changes(buf: bytes, pos: int, stop: int) -> bool:
    """Would relaxed canonicalization change ``buf[pos:stop]`` (CRLF lines)?  Only a
    tab, two spaces or a space before CRLF can; base64 has no space at all and prose
    rarely has the others, so memchr answers before any regex runs (the regexes cost
    about three times the hashing)."""
    if buf.find(b"\t", pos, stop) >= 0:
        return True
    if buf.find(b" ", pos, stop) < 0:
        return False
    return buf.find(b"  ", pos, stop) >= 0 or buf.find(b" \r\n", pos, stop) >= 0


#: halving passes over runs of spaces before the regex takes over (runs of up to 8)
_HALVINGS = 3


def _relax(piece: bytes) -> bytes:
    """Section 3.4.4 on CRLF lines: each run of WSP becomes one SP, and WSP before a
    CRLF goes.  What ``[ \\t]+(?=\\r\\n)`` removed, then ``[ \\t]+`` made one SP, gives, by
    ``replace`` passes (memchr speed, nine times the regexes on indented HTML); a run
    longer than eight spaces after them is left to the regex, so the cost stays linear."""
    piece = piece.replace(b"\t", b" ")
    for _ in range(_HALVINGS):
        if b"  " not in piece:
            break
        piece = piece.replace(b"  ", b" ")
    else:
        if b"  " in piece:
            piece = _WSP_RUN.sub(b" ", piece)
    return piece.replace(b" \r\n", b"\r\n")


def _chunks(
    buf: bytes, start: int, end: int, relaxed: bool, crlf_only: bool = False
) -> Iterator[bytes | memoryview]:
    """The canonical body of ``buf[start:end]``, in pieces.

    Like dkimpy (and the wire), LF alone ends a line as CRLF does; ``crlf_only`` says
    the caller knows there is no bare LF (counting them costs more than hashing).  Empty lines at
    the end are held back until a line with content follows, so trailing ones are
    dropped (sections 3.4.3 and 3.4.4) without seeing the whole body at once.
    """
    view = memoryview(buf)
    pending = 0  # CRLFs held back
    content = False
    pos = start
    while pos < end:
        stop = min(end, pos + CHUNK)
        if stop < end:
            nl = buf.rfind(b"\n", pos, stop)
            if nl < 0:
                nl = buf.find(b"\n", stop, end)
            stop = end if nl < 0 else nl + 1
        piece: bytes | memoryview
        bare_lf = not crlf_only and buf.count(b"\n", pos, stop) != buf.count(_CRLF, pos, stop)
        if not bare_lf and not (relaxed and _relaxing_changes(buf, pos, stop)):
            piece = view[pos:stop]
        else:
            piece = buf[pos:stop]
            if bare_lf:
                piece = _TO_CRLF.sub(_CRLF, piece)
            if relaxed and _relaxing_changes(piece, 0, len(piece)):
                piece = _relax(piece)
        pos = stop
        # count the CRLF pairs that end this piece
        n, tail = 0, len(piece)
        while tail >= 2 and piece[tail - 2 : tail] == _CRLF:
            n += 1
            tail -= 2
        if tail == 0:
            pending += n
            continue
        if pending:
            yield _CRLF * pending
        yield piece[:tail]
        content = True
        pending = n
    if content:
        yield _CRLF
    elif not relaxed:
        yield _CRLF  # section 3.4.3: an empty body is one CRLF under simple


Spec = tuple[bytes, str, int | None]  # body canonicalization, hash name, l=


def body_hashes(
    buf: bytes, start: int, end: int, specs: Iterable[Spec], *, crlf_only: bool = False
) -> dict[Spec, tuple[bytes, int]]:
    """Body hash of ``buf[start:end]`` for each (canon, hash, length), with the
    canonical body's full length.

    One pass per canonicalization and one running hash per algorithm whatever the
    number of signatures: each ``l=`` takes a copy of the running hash when the
    body reaches it, so a header of many signatures with distinct ``l=`` values
    costs no more than one.
    """
    out: dict[Spec, tuple[bytes, int]] = {}
    wanted = set(specs)
    for canon in _CANONS:
        mine = [s for s in wanted if s[0] == canon]
        if not mine:
            continue
        running = {name: hashlib.new(name) for name in sorted({s[1] for s in mine})}
        # (length, hash name) to stop at, shortest first
        stops = sorted({(s[2], s[1]) for s in mine if s[2] is not None}, reverse=True)
        at: dict[tuple[int, str], bytes] = {}
        total = 0
        for piece in _chunks(buf, start, end, canon == b"relaxed", crlf_only):
            size = len(piece)
            done = 0
            while stops and stops[-1][0] <= total + size:
                length, name = stops.pop()
                cut = length - total
                if cut > done:
                    for h in running.values():
                        h.update(piece[done:cut])
                    done = cut
                at[(length, name)] = running[name].copy().digest()
            if done < size:
                for h in running.values():
                    h.update(piece[done:] if done else piece)
            total += size
        full = {name: h.digest() for name, h in running.items()}
        for spec in mine:
            limit = spec[2]
            digest = full[spec[1]] if limit is None else at.get((limit, spec[1]), full[spec[1]])
            out[spec] = (digest, total)
    return out


def _spec(sig: Signature) -> Spec:
    assert sig.hash_name is not None
    return (sig.body_canon, sig.hash_name, sig.length)


def body_matches(
    msg: Message, sigs: list[Signature], *, crlf_only: bool = False
) -> list[bool | None]:
    """For each signature: does its ``bh=`` match the body?  ``None`` when unusable.

    RFC 6376 section 3.4.5: with ``l=`` only that many canonical octets are hashed,
    and a body shorter than ``l=`` fails.
    """
    usable = [s for s in sigs if s.usable]
    specs = {_spec(s) for s in usable}
    hashes = body_hashes(msg.buffer, msg.body_start, msg.end, specs, crlf_only=crlf_only)
    out: list[bool | None] = []
    for s in sigs:
        if not s.usable:
            out.append(None)
            continue
        digest, total = hashes[_spec(s)]
        out.append(digest == s.body_hash and (s.length is None or total >= s.length))
    return out


# -- RFC 6376 section 3.4.1, 3.4.2 and 5.4.2: signed header fields -----------------------------


def _canon_field(field: HeaderField, relaxed: bool) -> bytes:
    if not relaxed:
        return g.EOL.sub(_CRLF, field.raw)
    value = _WSP_RUN.sub(b" ", g.EOL.sub(b"", field.raw_value)).strip(b" ")
    return field.name.strip().lower().encode("ascii", "replace") + b":" + value + _CRLF


class _Fields:
    """The header fields of one message by name, each canonicalized at most once (a
    large field signed by many signatures is not rewritten once per signature)."""

    __slots__ = ("_canon", "by_name")

    def __init__(self, msg: Message) -> None:
        self.by_name: dict[str, list[HeaderField]] = {}
        for f in msg.headers:
            if f.valid:
                self.by_name.setdefault(f.lname, []).append(f)
        self._canon: dict[tuple[int, bool], bytes] = {}

    def canon(self, field: HeaderField, relaxed: bool) -> bytes:
        key = (field.start, relaxed)
        got = self._canon.get(key)
        if got is None:
            got = self._canon[key] = _canon_field(field, relaxed)
        return got

    def selected(self, names: tuple[str, ...], relaxed: bool) -> list[bytes | None]:
        """The field instances ``h=`` selects, bottom up (section 5.4.2); ``None`` for
        a name listed more often than it occurs (an over-signed, absent field)."""
        used: dict[str, int] = {}
        out: list[bytes | None] = []
        for name in names:
            found = self.by_name.get(name, ())
            k = used.get(name, 0)
            used[name] = k + 1
            out.append(self.canon(found[-1 - k], relaxed) if k < len(found) else None)
        return out


def header_changes(sig: Signature, before: Message, after: Message) -> list[tuple[str, str]]:
    """The fields of ``h=`` that differ between ``before`` and ``after``:
    ``(name, "changed" | "added" | "removed")`` in ``h=`` order."""
    return _changes(sig, _Fields(before), _Fields(after))


def _changes(sig: Signature, before: _Fields, after: _Fields) -> list[tuple[str, str]]:
    relaxed = sig.header_canon == b"relaxed"
    old = before.selected(sig.signed, relaxed)
    new = after.selected(sig.signed, relaxed)
    changes: list[tuple[str, str]] = []
    for name, o, n in zip(sig.signed, old, new, strict=True):
        if o == n:
            continue
        changes.append((name, "added" if o is None else "removed" if n is None else "changed"))
    return changes


# -- what an edit broke ------------------------------------------------------------------------


def _root(buf: bytes) -> Message:
    """The root header block only: the body span is all the check needs."""
    from ._parser import _Parser

    msg = Message(buf)
    _Parser(msg).headers(msg)
    return msg


_SIGNATURE_FIELD = re.compile(rb"^dkim-signature[ \t]*:", re.IGNORECASE | re.MULTILINE)


#: every blank line (``g.BLANK_LINE``) holds one of these pairs, at most two bytes in
_BLANK_PAIRS = (b"\n\r", b"\n\n", b"\r\r")
_NAME = b"dkim-signature"
#: the header block is lower-cased in slices of this size to look for the name
_SLICE = 1 << 16


def _header_end(buf: bytes) -> int:
    """Where the first blank line ends (the whole buffer when there is none): the
    earliest pair of :data:`_BLANK_PAIRS` by ``bytes.find``, the pattern confirmed in
    the bytes around it, so a header block of megabytes costs no regex step per byte."""
    first = -1
    for pair in _BLANK_PAIRS:
        at = buf.find(pair, 0, len(buf) if first < 0 else first + 1)
        if at >= 0:
            first = at
    if first < 0:
        return len(buf)
    # the earliest blank line starts at the pair or the byte before it
    blank = g.BLANK_LINE.search(buf, max(0, first - 1), first + 8)
    return len(buf) if blank is None else blank.end()


def _signed(buf: bytes) -> bool:
    """A quick look before any parse: does the header block name DKIM-Signature?
    (The name in any case is looked for in lower-cased slices first, at C speed.)"""
    end = _header_end(buf)
    reach = _SLICE + len(_NAME) - 1  # slices overlap by the name's length less one
    if not any(_NAME in buf[a : min(end, a + reach)].lower() for a in range(0, end, _SLICE)):
        return False
    return _SIGNATURE_FIELD.search(buf, 0, end) is not None


def broken_signatures(before: bytes, after: bytes) -> tuple[str, ...]:
    """The ``d=`` domains, in header order, of the well-formed signatures of ``before``
    whose body hash matched and no longer does in ``after``, or whose signed fields
    changed (including the DKIM-Signature field itself being changed or removed)."""
    if after is before or after == before or not _signed(before):
        return ()
    old = _root(before)
    # a malformed signature fails at every receiver already: no edit can break it
    sigs = [s for s in signatures(old) if s.usable and not s.problems]
    if not sigs:
        return ()
    # only signatures that held on the input can be broken (one already broken on
    # arrival is not this edit's doing): the output is hashed for those alone
    sigs = [s for s, ok in zip(sigs, body_matches(old, sigs), strict=True) if ok]
    if not sigs:
        return ()
    new = _root(after)
    # memcmp, no copy (a memoryview == compares item by item, four times slower)
    tail = len(before) - old.body_start
    same_body = len(after) - new.body_start == tail and after.endswith(
        memoryview(before)[old.body_start :]
    )
    holds = [True] * len(sigs) if same_body else body_matches(new, sigs)
    old_fields, new_fields = _Fields(old), _Fields(new)
    # the signature field itself is signed too, under its own header canonicalization
    outputs = new_fields.by_name.get("dkim-signature", [])
    canons = {s.header_canon == b"relaxed" for s in sigs}
    kept = {r: {new_fields.canon(f, r) for f in outputs} for r in canons}
    broken: list[str] = []
    for sig, ok in zip(sigs, holds, strict=True):
        relaxed = sig.header_canon == b"relaxed"
        if (
            not ok
            or old_fields.canon(sig.field, relaxed) not in kept[relaxed]
            or _changes(sig, old_fields, new_fields)
        ):
            broken.append(sig.domain)
    return tuple(broken)
