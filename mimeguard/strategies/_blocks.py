"""Building blocks: charsets, text, RFC 2047 words, addresses, dates, header fields,
parameters, the entity tree and its independent encoders (a deliberate oracle: they
share no code with the library they test)."""

from __future__ import annotations

import base64
import codecs
import email.utils
import functools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .._rfc2047 import lookup_charset

#: Charsets text is drawn in by default: every one is known to Python and to mimeguard,
#: and encodes ASCII as itself.
DEFAULT_CHARSETS: tuple[str, ...] = (
    "us-ascii",
    "utf-8",
    "iso-8859-1",
    "iso-8859-2",
    "iso-8859-5",
    "iso-8859-7",
    "iso-8859-15",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "koi8-r",
    "shift_jis",
    "euc-jp",
    "iso-2022-jp",
    "gb2312",
    "big5",
    "euc-kr",
)
#: Every Content-Transfer-Encoding of RFC 2045.
TRANSFER_ENCODINGS: tuple[str, ...] = ("7bit", "8bit", "binary", "quoted-printable", "base64")
#: The encodings that keep a message warning-free under every profile.  ``"8bit"`` with
#: 8-bit content is a warning under ``workmail`` (MG325, an info elsewhere), ``"binary"``
#: an error under ``workmail``, ``mailmanager`` and ``imap`` (MG317) and a warning
#: elsewhere.
DEFAULT_TRANSFER_ENCODINGS: tuple[str, ...] = ("7bit", "quoted-printable", "base64")
#: The multipart subtypes :func:`messages` builds (``signed=True`` adds signed and encrypted).
MULTIPART_SUBTYPES: tuple[str, ...] = ("mixed", "alternative", "related", "digest")
_LINE_ENDINGS = ("\r\n", "\n")

CRLF = b"\r\n"
_TLDS = ("com", "org", "net", "example", "test")
_DOMAINS = ("example.com", "example.org", "example.net")
_LOCAL = "abcdefghijklmnopqrstuvwxyz0123456789"
_LOCAL_EXTRA = "._+-"
_ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$_-"
#: atext that cannot start or be read as an RFC 2047 encoded-word ("=" and "?" left out)
_ATOM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'!"
#: RFC 2046 bchars without the space (which may not end a boundary)
_BCHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=?"
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9._+-]+")
#: characters an RFC 2047 "Q" word may carry as they are, even in a phrase (section 5 (3))
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
#: RFC 2231 attribute-char: what a percent-encoded value keeps as is
_ATTR_CHARS = frozenset(
    "!#$&+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
#: file name extensions per media type (none on Amazon SES's blocked list)
_ATTACHMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("application/pdf", "pdf"),
    ("application/octet-stream", "bin"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("application/zip", "zip"),
    ("application/json", "json"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
)
#: code point ranges non-ASCII text is drawn from (filtered per charset)
_CANDIDATES: tuple[tuple[int, int], ...] = (
    (0x00A1, 0x0180),  # Latin-1 Supplement, Latin Extended-A
    (0x0386, 0x03CF),  # Greek
    (0x0401, 0x045F),  # Cyrillic
    (0x05D0, 0x05EA),  # Hebrew
    (0x2013, 0x2027),  # dashes, quotes, bullets, ellipsis
    (0x20AC, 0x20AD),  # euro sign
    (0x3041, 0x3097),  # Hiragana
    (0x30A1, 0x30FB),  # Katakana
    (0x4E00, 0x4F40),  # CJK ideographs
    (0xAC00, 0xAC60),  # Hangul syllables
)
_EXTRA_UTF8 = "\U0001f600\U0001f680\U0001f44d\u00e9\u0301\u200d\u2764\ufe0f"


def _fail(message: str) -> InvalidArgument:
    return InvalidArgument(message)


# -- charsets --------------------------------------------------------------------------------------


@functools.cache
def _codec(charset: str) -> str:
    """The Python codec for ``charset`` as a sender would mean it (strict)."""
    label = "ascii" if charset.lower() in ("us-ascii", "ascii") else charset
    return codecs.lookup(label).name


@functools.cache
def _pool(charset: str) -> str:
    """Non-ASCII characters ``charset`` carries and both Python and mimeguard read back."""
    mine = _codec(charset)
    theirs = lookup_charset(charset)
    chars = []
    for lo, hi in _CANDIDATES:
        for cp in range(lo, hi):
            ch = chr(cp)
            try:
                data = ch.encode(mine)
            except UnicodeError:
                continue
            try:
                ok = data.decode(mine) == ch and theirs is not None and data.decode(theirs) == ch
            except UnicodeError:
                ok = False
            if ok:
                chars.append(ch)
    if mine == "utf-8":
        chars.extend(_EXTRA_UTF8)
    return "".join(chars)


def _check_charsets(charsets: Collection[str], what: str = "charsets") -> tuple[str, ...]:
    if isinstance(charsets, str) or not isinstance(charsets, Collection):
        raise _fail(f"{what} must be a collection of charset names, not {charsets!r}")
    out = tuple(charsets)
    if not out:
        raise _fail(f"{what} is empty: give at least one charset (for example 'utf-8')")
    for cs in out:
        if not isinstance(cs, str):
            raise _fail(f"{what}: {cs!r} is not a charset name")
        try:
            codec = _codec(cs)
        except LookupError:
            raise _fail(f"{what}: Python does not know the charset {cs!r}") from None
        if lookup_charset(cs) is None:
            raise _fail(f"{what}: mimeguard does not know the charset {cs!r}")
        try:
            ascii_ok = "Az09 -\r\n".encode(codec) == b"Az09 -\r\n"
        except UnicodeError:
            ascii_ok = False
        if not ascii_ok:
            raise _fail(f"{what}: {cs!r} does not encode ASCII as itself (UTF-16 and the like)")
    return out


def _check_choice(
    value: Collection[str], allowed: Collection[str], what: str, *, nonempty: bool = True
) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        raise _fail(f"{what} must be a collection such as a tuple, not {value!r}")
    out = tuple(value)
    if nonempty and not out:
        raise _fail(f"{what} is empty; choose from {', '.join(map(repr, allowed))}")
    for v in out:
        if v not in allowed:
            raise _fail(f"{what}: {v!r} is not one of {', '.join(map(repr, allowed))}")
    return out


def _check_int(value: object, what: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(f"{what} must be an int, not {value!r}")
    if value < low:
        raise _fail(f"{what} must be at least {low}, not {value}")
    return value


def _check_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(f"{what} must be True or False, not {value!r}")
    return value


# Strategies are built once and reused: building (and validating) a new strategy
# object inside every draw costs more than the draw itself.
_BOOL = st.booleans()


@functools.cache
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=lo, max_value=hi)


@functools.cache
def _pick(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


# -- text ------------------------------------------------------------------------------------------

_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_WORD_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


@functools.cache
def _chars(charset: str, *, ascii_only: bool = False) -> st.SearchStrategy[str]:
    """Printable ASCII first (so text shrinks to ASCII), then the charset's own letters."""
    pool = "" if ascii_only else _pool(charset)
    if not pool:
        return _PRINTABLE
    return st.one_of(_PRINTABLE, st.sampled_from(pool))


@functools.cache
def _line(charset: str, *, ascii_only: bool = False, max_size: int = 72) -> st.SearchStrategy[str]:
    return st.text(_chars(charset, ascii_only=ascii_only), max_size=max_size)


@functools.cache
def _words(charset: str, *, ascii_only: bool) -> st.SearchStrategy[list[str]]:
    word = st.text(
        st.one_of(_WORD_CHARS, st.sampled_from(_pool(charset) or "a"))
        if not ascii_only and _pool(charset)
        else _WORD_CHARS,
        min_size=1,
        max_size=20,
    )
    return st.lists(word, min_size=1, max_size=8)


# -- RFC 2047 --------------------------------------------------------------------------------------


def _q(data: bytes) -> str:
    return "".join(chr(b) if b in _Q_SAFE else "_" if b == 0x20 else f"={b:02X}" for b in data)


def _encoded_word(text: str, charset: str, method: str) -> str:
    data = text.encode(_codec(charset))
    if method == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode('ascii')}?="
    return f"=?{charset}?Q?{_q(data)}?="


def _encode_words(text: str, charset: str, method: str) -> list[str]:
    """``text`` as encoded-words of at most 75 characters, never splitting a character
    (RFC 2047 sections 2 and 5); the words decode back to ``text`` when joined."""
    words: list[str] = []
    cur = ""
    for ch in text:
        if cur and len(_encoded_word(cur + ch, charset, method)) > 75:
            words.append(_encoded_word(cur, charset, method))
            cur = ch
        else:
            cur += ch
    if cur:
        words.append(_encoded_word(cur, charset, method))
    return words


def _plain_ok(word: str) -> bool:
    return word.isascii() and word.isprintable() and "=?" not in word and " " not in word


def _unstructured(words: list[str], charset: str, method: str) -> list[str]:
    """Tokens for an unstructured value: plain words as they are, runs of words that need
    encoding as encoded-words (the spaces inside a run are encoded with it)."""
    tokens: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if w and not _plain_ok(w):
            run.append(w)
            continue
        if run:
            cs = charset if all(_encodable(r, charset) for r in run) else "utf-8"
            tokens.extend(_encode_words(" ".join(run), cs, method))
            run = []
        if w:
            tokens.append(w)
    return tokens


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(_codec(charset))
    except UnicodeError:
        return False
    return True


def _fold(name: str, tokens: list[str], sep: str = " ") -> bytes:
    """``Name: tokens`` folded before a token once a line would pass 78 characters
    (RFC 5322 section 2.2.3); a folded line always starts with a space and a token."""
    line = f"{name}:"
    lines: list[str] = []
    for i, tok in enumerate(tokens):
        piece = (sep if i else " ") + tok
        if i and len(line) + len(piece) > 78:
            lines.append(line + sep.rstrip())
            line = " " + tok
        else:
            line += piece
    lines.append(line)
    return "\r\n".join(lines).encode("ascii")


# -- addresses, dates, ids -------------------------------------------------------------------------


_LOCAL_REST = st.text(st.sampled_from(_LOCAL + _LOCAL_EXTRA), max_size=12)
_DOMAIN = st.one_of(
    st.sampled_from(_DOMAINS),
    st.builds(
        lambda label, tld: f"{label}.{tld}",
        st.text(st.sampled_from(_LOCAL + "-"), min_size=1, max_size=12).map(
            lambda label: label.strip("-") or "x"
        ),
        st.sampled_from(_TLDS),
    ),
)
_ADDR_SPEC = st.builds(
    lambda first, rest, domain: re.sub(r"\.+", ".", first + rest).rstrip(".") + "@" + domain,
    st.sampled_from(_LOCAL),
    _LOCAL_REST,
    _DOMAIN,
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_ATOMS = st.lists(
    st.text(st.sampled_from(_ATOM), min_size=1, max_size=10), min_size=1, max_size=3
).map(" ".join)
_QUOTED = st.text(_PRINTABLE, min_size=1, max_size=24).filter(lambda t: "=?" not in t).map(_quote)


@functools.cache
def _encoded_name(charset: str) -> st.SearchStrategy[str]:
    text = st.text(_chars(charset), min_size=1, max_size=20).filter(lambda t: t.strip() == t)
    return st.builds(
        lambda t, method: " ".join(_encode_words(t, charset, method)), text, st.sampled_from("BQ")
    )


@functools.cache
def _display_name(charsets: tuple[str, ...], encoded_words: bool) -> st.SearchStrategy[str]:
    if not encoded_words:
        return st.one_of(_ATOMS, _QUOTED)
    return st.one_of(_ATOMS, _QUOTED, st.one_of(*(_encoded_name(c) for c in charsets)))


@functools.cache
def _mailbox(charsets: tuple[str, ...], encoded_words: bool, names: bool) -> st.SearchStrategy[str]:
    if not names:
        return _ADDR_SPEC
    named = st.builds(lambda n, a: f"{n} <{a}>", _display_name(charsets, encoded_words), _ADDR_SPEC)
    return st.one_of(_ADDR_SPEC, named)


def addresses(
    *,
    display_names: bool = True,
    encoded_words: bool = True,
    charsets: Collection[str] = ("utf-8", "iso-8859-1"),
) -> st.SearchStrategy[str]:
    """One RFC 5322 mailbox: ``a@example.com``, ``Name <a@example.com>``,
    ``"Quoted, Name" <a@example.com>`` or an RFC 2047 encoded display name.

    Local parts are dot-atoms and domains end in reserved names, so nothing is ever
    sent anywhere; ``=`` and ``?`` are left out of atoms so nothing reads as an
    encoded-word by accident.
    """
    _check_bool(display_names, "display_names")
    _check_bool(encoded_words, "encoded_words")
    return _mailbox(_check_charsets(charsets), encoded_words, display_names)


@functools.cache
def _address_list(
    mailbox: st.SearchStrategy[str], *, groups: bool, max_size: int = 3
) -> st.SearchStrategy[list[str]]:
    items = st.lists(mailbox, min_size=1, max_size=max_size)
    if not groups:
        return items
    group = st.builds(
        lambda name, members: (
            [f"{name}: " + ", ".join(members) + ";"] if members else [f"{name}:;"]
        ),
        st.sampled_from(("undisclosed-recipients", "Team", "Friends")),
        st.lists(_ADDR_SPEC, max_size=2),
    )
    return st.one_of(items, group)


_MIN_DATE = datetime(1990, 1, 1)
_MAX_DATE = datetime(2037, 12, 31)


@functools.cache
def dates() -> st.SearchStrategy[str]:
    """An RFC 5322 date-time such as ``Sat, 01 Jan 2000 00:00:00 +0000``."""

    def fmt(dt: datetime, quarters: int) -> str:
        return email.utils.format_datetime(
            dt.replace(tzinfo=timezone(timedelta(minutes=15 * quarters)))
        )

    return st.builds(
        fmt,
        st.datetimes(min_value=_MIN_DATE, max_value=_MAX_DATE).map(
            lambda d: d.replace(microsecond=0)
        ),
        st.integers(min_value=-48, max_value=56),
    )


@functools.cache
def _msg_id() -> st.SearchStrategy[str]:
    atom = st.text(st.sampled_from(_ID_CHARS), min_size=1, max_size=12)
    left = st.lists(atom, min_size=1, max_size=3).map(".".join)
    return st.builds(lambda lft, dom: f"<{lft}@{dom}>", left, st.sampled_from(_DOMAINS))


# -- header fields ---------------------------------------------------------------------------------

_UNSTRUCTURED_NAMES = ("Subject", "Comments", "X-Mailer", "X-Note", "Organization", "Thread-Topic")


@functools.cache
def _unstructured_field(
    name: str, charsets: tuple[str, ...], encoded_words: bool
) -> st.SearchStrategy[bytes]:
    @st.composite
    def field(draw: st.DrawFn) -> bytes:
        charset: str = draw(_pick(charsets))
        words = draw(_words(charset, ascii_only=not encoded_words))
        if not encoded_words:
            words = [w.replace("=?", "=-?") for w in words]
        method: str = draw(_pick(("Q", "B")))
        return _fold(name, _unstructured(words, charset, method))

    return field()


def header_fields(
    *,
    names: Collection[str] = _UNSTRUCTURED_NAMES,
    charsets: Collection[str] = DEFAULT_CHARSETS,
    encoded_words: bool = True,
) -> st.SearchStrategy[bytes]:
    """One unstructured header field, folded, ending in CRLF: ``b"Subject: Hi\\r\\n"``.

    Non-ASCII words become RFC 2047 encoded-words (B or Q) in one of ``charsets``;
    runs of them are encoded together so the value decodes to the words joined by
    spaces.  Lines stay within 78 characters unless one word is longer.
    """
    if isinstance(names, str) or not names:
        raise _fail(f"names must be a non-empty collection of field names, not {names!r}")
    for n in names:
        if not isinstance(n, str) or not re.fullmatch(r"[!-9;-~]+", n):
            raise _fail(f"names: {n!r} is not a valid field name (RFC 5322 section 3.6.8)")
    cs = _check_charsets(charsets)
    _check_bool(encoded_words, "encoded_words")
    return st.sampled_from(tuple(names)).flatmap(
        lambda n: _unstructured_field(n, cs, encoded_words).map(lambda b: b + CRLF)
    )


# -- parameters ------------------------------------------------------------------------------------


def _param_value(name: str, value: str) -> str:
    """``name=value`` bare when plainly a token, else as a quoted-string (ASCII only).

    ``'``, ``*`` and ``%`` are token characters (RFC 2045) but mark RFC 2231 values,
    so values holding them are quoted, as careful senders do."""
    if _SAFE_TOKEN.fullmatch(value):
        return f"{name}={value}"
    return f"{name}={_quote(value)}"


def _percent(text: str, charset: str) -> list[str]:
    """RFC 2231 section 4 units, one per character (a character is never split)."""
    codec = _codec(charset)
    return [
        ch if ch in _ATTR_CHARS else "".join(f"%{b:02X}" for b in ch.encode(codec)) for ch in text
    ]


def _filename_params(
    draw: st.DrawFn, name: str, value: str, charsets: tuple[str, ...], rfc2231: bool
) -> list[str]:
    """``name`` (filename or name) = ``value`` in one of the forms mail clients send."""
    if value.isascii() and "=?" not in value:
        style = draw(_pick(("plain", "sections") if rfc2231 else ("plain",)))
        if style == "plain" or len(value) < 4:
            return [_param_value(name, value)]
        cut = draw(_ints(1, len(value) - 1))
        return [f"{name}*0={_quote(value[:cut])}", f"{name}*1={_quote(value[cut:])}"]
    usable = [
        c for c in charsets if c.lower() not in ("us-ascii", "ascii") and _encodable(value, c)
    ]
    if "iso-2022-jp" in usable:
        usable.remove("iso-2022-jp")  # stateful: sections could not be decoded one by one
    charset = draw(_pick(tuple(usable) or ("utf-8",)))
    units = _percent(value, charset)
    style = draw(_pick(("single", "sections")))
    if style == "single" or len(units) < 2:
        return [f"{name}*={charset}''{''.join(units)}"]
    cut = draw(_ints(1, len(units) - 1))
    return [
        f"{name}*0*={charset}''{''.join(units[:cut])}",
        f"{name}*1*={''.join(units[cut:])}",
    ]


def _fold_params(name: str, head: str, params: list[str]) -> bytes:
    line = f"{name}: {head}"
    lines: list[str] = []
    for p in params:
        piece = "; " + p
        if len(line) + len(piece) > 78:
            lines.append(line + ";")
            line = " " + p
        else:
            line += piece
    lines.append(line)
    return "\r\n".join(lines).encode("ascii")


# -- the entity tree -------------------------------------------------------------------------------


@dataclass(eq=False)
class _Entity:
    """One MIME entity, rendered to bytes at the end (so defects can be injected first)."""

    mime: str = ""  # "" -> no Content-Type field
    params: list[str] = field(default_factory=list)
    cte: str | None = None  # None -> no Content-Transfer-Encoding field
    disposition: str | None = None
    #: fields other than Content-Type/-Transfer-Encoding/-Disposition (From, Subject, ...)
    headers: list[bytes] = field(default_factory=list)
    #: MIME fields that travel with the content (Content-ID, ...)
    mime_extra: list[bytes] = field(default_factory=list)
    #: raw lines before the first field and after the last one (injected defects)
    lead: list[bytes] = field(default_factory=list)
    tail: list[bytes] = field(default_factory=list)
    duplicate_ct: bool = False
    # leaf content
    payload: bytes = b""
    text: bool = False  # payload is CRLF-separated lines (quoted-printable keeps them)
    charset: str | None = None
    body_lead: bytes = b""
    # multipart
    children: list[_Entity] = field(default_factory=list)
    boundary: str = ""
    declared: str | None = None  # boundary parameter when it differs; "" -> left out
    preamble: bytes = b""
    epilogue: bytes = b""
    close: bool = True
    # message/rfc822
    attached: _Entity | None = None

    @property
    def is_multipart(self) -> bool:
        return self.mime.startswith("multipart/")

    @property
    def is_leaf(self) -> bool:
        return not self.is_multipart and self.attached is None

    def walk(self) -> Iterator[_Entity]:
        yield self
        for c in self.children:
            yield from c.walk()
        if self.attached is not None:
            yield from self.attached.walk()

    def boundaries(self) -> set[str]:
        return {e.boundary for e in self.walk() if e.is_multipart and e.boundary}

    # -- rendering -----------------------------------------------------------------------------

    def content_type_line(self) -> bytes:
        params = list(self.params)
        if self.is_multipart:
            declared = self.boundary if self.declared is None else self.declared
            if declared:
                params.insert(0, _param_value("boundary", declared))
        return _fold_params("Content-Type", self.mime, params)

    def render(self) -> bytes:
        lines = [*self.lead, *self.headers]
        if self.mime:
            ct = self.content_type_line()
            lines.append(ct)
            if self.duplicate_ct:
                lines.append(ct)
        if self.cte is not None:
            lines.append(b"Content-Transfer-Encoding: " + self.cte.encode("ascii"))
        if self.disposition is not None:
            lines.append(_fold_params("Content-Disposition", *_split_disposition(self.disposition)))
        lines += self.mime_extra
        lines += self.tail
        return b"".join(line + CRLF for line in lines) + CRLF + self.render_body()

    def render_body(self) -> bytes:
        if self.is_multipart:
            dash = b"--" + self.boundary.encode("ascii")
            out = [self.preamble + CRLF] if self.preamble else []
            for child in self.children:
                out += [dash, CRLF, child.render(), CRLF]
            if self.close:
                out += [dash, b"--", CRLF, self.epilogue]
            return b"".join(out)
        if self.attached is not None:
            inner = self.attached.render()
            return (
                _encode(inner, self.cte or "7bit", text=False) if self.cte in ("base64",) else inner
            )
        return self.body_lead + _encode(self.payload, self.cte or "7bit", text=self.text)


def _split_disposition(value: str) -> tuple[str, list[str]]:
    head, _, rest = value.partition(";")
    return head, [p.strip() for p in rest.split(";") if p.strip()] if rest else []


def _qp(data: bytes, *, text: bool) -> bytes:
    """Quoted-printable (RFC 2045 section 6.7): lines of at most 76 characters."""
    out: list[str] = []
    for line in data.split(CRLF) if text else [data]:
        units = [
            chr(b)
            if (33 <= b <= 126 and b != 61) or (b in (9, 32) and i < len(line) - 1)
            else f"={b:02X}"
            for i, b in enumerate(line)
        ]
        cur = ""
        for u in units:
            if len(cur) + len(u) > 75:
                out.append(cur + "=")
                cur = ""
            cur += u
        out.append(cur)
    return "\r\n".join(out).encode("ascii")


def _b64(data: bytes) -> bytes:
    enc = base64.b64encode(data)
    return b"".join(enc[i : i + 76] + CRLF for i in range(0, len(enc), 76))


def _encode(payload: bytes, cte: str, *, text: bool) -> bytes:
    cte = cte.lower()
    if cte == "quoted-printable":
        return _qp(payload, text=text)
    if cte == "base64":
        return _b64(payload)
    return payload


# -- other building blocks -------------------------------------------------------------------------


def boundaries() -> st.SearchStrategy[str]:
    """A valid multipart boundary (RFC 2046 section 5.1.1): 1 to 70 bchars, no final space."""
    return st.builds(
        lambda head, tail: (head + tail)[:70],
        st.text(st.sampled_from(_BCHARS + " "), max_size=69),
        st.sampled_from(_BCHARS),
    )


def content_types(
    *,
    types: Collection[str] | None = None,
    charsets: Collection[str] = DEFAULT_CHARSETS,
    rfc2231: bool = True,
) -> st.SearchStrategy[str]:
    """A Content-Type value: ``text/plain; charset=utf-8``, ``multipart/mixed;
    boundary="..."``, ``application/pdf; name*=utf-8''...``, …

    ``types`` limits the media types (``type/subtype`` strings); by default text,
    multipart, message/rfc822 and a few attachment types.
    """
    cs = _check_charsets(charsets)
    _check_bool(rfc2231, "rfc2231")
    default = (
        "text/plain",
        "text/html",
        "multipart/mixed",
        "multipart/alternative",
        "multipart/related",
        "message/rfc822",
        *(t for t, _ in _ATTACHMENT_TYPES),
    )
    if types is None:
        chosen: tuple[str, ...] = default
    else:
        if isinstance(types, str) or not types:
            raise _fail(f"types must be a non-empty collection of 'type/subtype', not {types!r}")
        for t in types:
            if not isinstance(t, str) or not re.fullmatch(
                r"[!#$%&'*+\-.0-9A-Za-z^_`{|}~]+/[!#$%&'*+\-.0-9A-Za-z^_`{|}~]+", t
            ):
                raise _fail(f"types: {t!r} is not a type/subtype of RFC 2045 tokens")
        chosen = tuple(types)
    opts = _options(
        max_depth=0,
        max_parts=1,
        multipart_subtypes=(),
        attachments=True,
        attached_messages=False,
        charsets=cs,
        transfer_encodings=DEFAULT_TRANSFER_ENCODINGS,
        signed=False,
        encoded_words=True,
        rfc2231=rfc2231,
    )

    @st.composite
    def build(draw: st.DrawFn) -> str:
        mime = draw(st.sampled_from(chosen))
        params: list[str] = []
        if mime.startswith("text/"):
            params.append(_param_value("charset", draw(st.sampled_from(cs))))
        elif mime.startswith("multipart/"):
            params.append(_param_value("boundary", draw(boundaries())))
        elif mime != "message/rfc822" and draw(st.booleans()):
            params += _filename_params(draw, "name", draw(_stems(opts)) + ".dat", cs, rfc2231)
        return "; ".join([mime, *params])

    return build()


class Body(NamedTuple):
    """A body as it goes in a message (``encoded``) and what it stands for (``decoded``)."""

    encoded: bytes
    decoded: bytes


def bodies(
    *,
    encoding: str = "7bit",
    charset: str | None = "utf-8",
) -> st.SearchStrategy[Body]:
    """A leaf body in Content-Transfer-Encoding ``encoding``, as :class:`Body`
    ``(encoded, decoded)``.

    With a ``charset`` the body is text in it (CRLF lines; ``7bit`` keeps it ASCII,
    except for 7-bit charsets such as ISO-2022-JP); with ``charset=None`` it is arbitrary
    bytes (``base64`` and ``quoted-printable`` only, since identity encodings cannot
    carry NUL, CR or LF freely).
    """
    if encoding not in TRANSFER_ENCODINGS:
        raise _fail(f"encoding {encoding!r} is not one of {', '.join(TRANSFER_ENCODINGS)}")
    if charset is None:
        if encoding not in ("base64", "quoted-printable"):
            raise _fail(
                f"arbitrary bytes (charset=None) need base64 or quoted-printable, not {encoding}"
            )
        return st.binary(max_size=400).map(lambda d: Body(_encode(d, encoding, text=False), d))
    cs = _check_charsets([charset], "charset")[0]
    ascii_only = encoding == "7bit" and cs.lower() != "iso-2022-jp"

    def make(lines: list[str]) -> Body:
        data = "".join(ln + "\r\n" for ln in lines).encode(_codec(cs))
        return Body(_encode(data, encoding, text=True), data)

    return st.lists(_line(cs, ascii_only=ascii_only), max_size=8).map(make)


# -- options shared by the message builders ------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    max_depth: int
    max_parts: int
    subtypes: tuple[str, ...]
    attachments: bool
    attached_messages: bool
    charsets: tuple[str, ...]
    encodings: tuple[str, ...]
    signed: bool
    encoded_words: bool
    rfc2231: bool


def _options(
    *,
    max_depth: int,
    max_parts: int,
    multipart_subtypes: Collection[str],
    attachments: bool,
    attached_messages: bool,
    charsets: Collection[str],
    transfer_encodings: Collection[str],
    signed: bool,
    encoded_words: bool,
    rfc2231: bool,
) -> _Options:
    return _Options(
        max_depth=_check_int(max_depth, "max_depth", 0),
        max_parts=_check_int(max_parts, "max_parts", 1),
        subtypes=_check_choice(
            multipart_subtypes, MULTIPART_SUBTYPES, "multipart_subtypes", nonempty=False
        ),
        attachments=_check_bool(attachments, "attachments"),
        attached_messages=_check_bool(attached_messages, "attached_messages"),
        charsets=_check_charsets(charsets),
        encodings=_check_choice(transfer_encodings, TRANSFER_ENCODINGS, "transfer_encodings"),
        signed=_check_bool(signed, "signed"),
        encoded_words=_check_bool(encoded_words, "encoded_words"),
        rfc2231=_check_bool(rfc2231, "rfc2231"),
    )


@functools.cache
def _stems(opts: _Options) -> st.SearchStrategy[str]:
    charset = "utf-8" if any(c.lower() == "utf-8" for c in opts.charsets) else opts.charsets[0]
    ascii_only = not opts.rfc2231
    chars = st.one_of(
        st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_ ABCXYZ"),
        st.sampled_from(_pool(charset) if not ascii_only and _pool(charset) else "a"),
    )
    return st.text(chars, min_size=1, max_size=24).map(lambda s: s.strip() or "file")
