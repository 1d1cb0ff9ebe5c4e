"""Hypothesis strategies that generate email, for testing any software that reads mail.

>>> from hypothesis import given
>>> from mimeguard import strategies as ms
>>> @given(ms.messages())
... def test_my_parser(data: bytes) -> None:
...     my_parser.parse(data)  # doctest: +SKIP

:func:`messages` draws valid RFC 5322 / MIME messages as bytes: single part,
multipart/mixed, alternative, related and digest, attached ``message/rfc822``,
RFC 2047 encoded-words, RFC 2231 parameters, every transfer encoding, and text
in many charsets.  "Valid" means, for the default arguments, that
:func:`mimeguard.validate` reports no error and no warning under every profile and
that the standard library's parser (``compat32`` and ``default`` policies) records
no defect on any part or header.  Knobs that leave that safe ground (``"8bit"`` and
``"binary"`` transfer encodings, ``"\\n"`` line endings) say so.

:func:`malformed_messages` draws a valid message, injects one or more targeted
defects and returns ``(data, expected)``: the bytes and the rule codes that
:func:`mimeguard.validate` must report for them -- a test oracle for any validator.

The building blocks (:func:`addresses`, :func:`header_fields`, :func:`content_types`,
:func:`bodies`, :func:`boundaries`, :func:`dates`) draw the pieces on their own.

Every strategy shrinks towards short, readable messages: plain ASCII, one part,
``a@example.com``.  Hypothesis is needed only here (``pip install hypothesis``);
``import mimeguard`` never imports it.
"""

from __future__ import annotations

import base64
import codecs
import email.utils
import functools
import itertools
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

try:
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as exc:  # pragma: no cover - exercised without hypothesis installed
    raise ImportError(
        "mimeguard.strategies needs Hypothesis, which is not installed: pip install hypothesis"
    ) from exc

from ._rfc2047 import lookup_charset
from .profiles import PROFILES
from .rules import RULES

__all__ = [
    "DEFAULT_CHARSETS",
    "DEFAULT_TRANSFER_ENCODINGS",
    "DEFECTS",
    "MULTIPART_SUBTYPES",
    "TRANSFER_ENCODINGS",
    "Body",
    "addresses",
    "bodies",
    "boundaries",
    "content_types",
    "dates",
    "header_fields",
    "malformed_messages",
    "messages",
]

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
#: 8-bit content is a warning under ``workmail`` and ``ses`` (MG325), ``"binary"`` an
#: error there (MG317) and a warning under ``rfc``.
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


# -- building messages -----------------------------------------------------------------------------


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


class _Budget:
    def __init__(self, parts: int) -> None:
        self.left = parts

    def take(self, n: int = 1) -> None:
        self.left -= n


def _fits_7bit(data: bytes) -> bool:
    return data.isascii() and b"\x00" not in data


def _text_leaf(
    draw: st.DrawFn, opts: _Options, subtype: str = "plain", *, attachment: bool = False
) -> _Entity:
    charset = draw(_pick(opts.charsets))
    cte = draw(_pick(opts.encodings))
    seven_bit_codec = charset.lower() == "iso-2022-jp"  # 7-bit escapes: fine in a 7bit body
    ascii_only = cte == "7bit" and not seven_bit_codec
    lines = draw(_lines(charset, ascii_only))
    if subtype == "html":
        escaped = [
            ln.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for ln in lines
        ]
        lines = ["<html><body>", *(f"<p>{ln}</p>" for ln in escaped), "</body></html>"]
    final_newline = draw(_BOOL) if lines else False
    text = "\r\n".join(lines) + ("\r\n" if final_newline else "")
    payload = text.encode(_codec(charset))
    if cte in ("7bit",) and not _fits_7bit(payload):  # pragma: no cover - excluded above
        cte = "quoted-printable"
    e = _Entity(payload=payload, text=True, charset=charset, cte=cte)
    explicit = charset.lower() != "us-ascii" or subtype != "plain" or draw(_BOOL)
    e.mime = f"text/{subtype}" if explicit or attachment else ""
    if e.mime:
        e.params = [_param_value("charset", charset)]
        if subtype == "plain" and _rarely(draw, 8):
            e.params.append("format=flowed")
    keep_cte = draw(_BOOL)  # drawn whatever the encoding, so 7bit stays the simplest choice
    if cte == "7bit" and not e.mime and not keep_cte:
        e.cte = None  # 7bit is the default
    if attachment:
        stem = draw(_stems(opts))
        e.disposition = "attachment; " + "; ".join(
            _filename_params(draw, "filename", f"{stem}.txt", opts.charsets, opts.rfc2231)
        )
    elif _rarely(draw, 4):
        e.disposition = "inline"
    return e


@functools.cache
def _lines(charset: str, ascii_only: bool) -> st.SearchStrategy[list[str]]:
    return st.lists(_line(charset, ascii_only=ascii_only), max_size=6)


@functools.cache
def _ascii_lines() -> st.SearchStrategy[list[str]]:
    return st.lists(_line("us-ascii", ascii_only=True), max_size=4)


_DATA = st.binary(max_size=300)


@functools.cache
def _stems(opts: _Options) -> st.SearchStrategy[str]:
    charset = "utf-8" if any(c.lower() == "utf-8" for c in opts.charsets) else opts.charsets[0]
    ascii_only = not opts.rfc2231
    chars = st.one_of(
        st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_ ABCXYZ"),
        st.sampled_from(_pool(charset) if not ascii_only and _pool(charset) else "a"),
    )
    return st.text(chars, min_size=1, max_size=24).map(lambda s: s.strip() or "file")


def _data_leaf(draw: st.DrawFn, opts: _Options, *, inline_id: str | None = None) -> _Entity:
    mime, ext = draw(_pick(_ATTACHMENT_TYPES))
    if inline_id is not None:
        mime, ext = draw(_pick((("image/png", "png"), ("image/jpeg", "jpg"), ("image/gif", "gif"))))
    binary_ok = [c for c in opts.encodings if c in ("base64", "quoted-printable")]
    cte = draw(_pick(tuple(binary_ok))) if binary_ok else draw(_pick(opts.encodings))
    if cte in ("base64", "quoted-printable"):
        payload = draw(_DATA)
        text = False
    else:  # only identity encodings allowed: the data are lines of ASCII
        payload = "\r\n".join(draw(_ascii_lines())).encode()
        text = True
    e = _Entity(mime=mime, payload=payload, text=text, cte=cte)
    stem = draw(_stems(opts))
    fname = f"{stem}.{ext}"
    kind = "inline" if inline_id is not None else "attachment"
    e.disposition = f"{kind}; " + "; ".join(
        _filename_params(draw, "filename", fname, opts.charsets, opts.rfc2231)
    )
    if draw(_BOOL):
        e.params = _filename_params(draw, "name", fname, opts.charsets, opts.rfc2231)
    if inline_id is not None:
        e.mime_extra.append(f"Content-ID: {inline_id}".encode("ascii"))
    return e


_EXTRA_FIELDS = st.lists(
    st.sampled_from(("X-Mailer", "X-Note", "Comments", "Organization")), max_size=2, unique=True
)
_BOUNDARY_BASE = st.text(st.sampled_from(_BCHARS), min_size=1, max_size=30)
_SMIME = st.binary(min_size=1, max_size=120)
_SIGNATURE = st.binary(min_size=1, max_size=60)
_CIPHERTEXT = st.binary(min_size=1, max_size=90)


def _root_headers(draw: st.DrawFn, opts: _Options) -> list[bytes]:
    mailbox = _mailbox(opts.charsets, opts.encoded_words, True)
    fields: list[bytes] = []
    senders = [draw(mailbox)]
    if _rarely(draw, 10):
        senders.append(draw(mailbox))
    fields.append(_fold("From", [s + "," for s in senders[:-1]] + senders[-1:]))
    if len(senders) > 1:
        fields.append(_fold("Sender", [draw(_ADDR_SPEC)]))
    to = draw(_address_list(mailbox, groups=True))
    fields.append(_fold("To", [t + "," for t in to[:-1]] + to[-1:]))
    if _rarely(draw, 4):
        cc = draw(_address_list(mailbox, groups=False))
        fields.append(_fold("Cc", [c + "," for c in cc[:-1]] + cc[-1:]))
    if _rarely(draw, 5):
        fields.append(_fold("Reply-To", [draw(mailbox)]))
    fields.append(f"Date: {draw(dates())}".encode("ascii"))
    fields.append(f"Message-ID: {draw(_msg_id())}".encode("ascii"))
    if draw(_BOOL):
        fields.append(draw(_unstructured_field("Subject", opts.charsets, opts.encoded_words)))
    if _rarely(draw, 5):
        ref = draw(_msg_id())
        fields.append(f"In-Reply-To: {ref}".encode("ascii"))
        fields.append(f"References: {ref}".encode("ascii"))
    extra = draw(_EXTRA_FIELDS)
    for name in extra:
        fields.append(draw(_unstructured_field(name, opts.charsets, opts.encoded_words)))
    fields = draw(st.permutations(fields))
    fields.append(b"MIME-Version: 1.0")
    return fields


def _new_boundary(draw: st.DrawFn, taken: set[str], content: list[bytes]) -> str:
    base = draw(_BOUNDARY_BASE)
    base = base.replace("=?", "=_")  # never an encoded-word look-alike
    if _rarely(draw, 4):  # a space inside (quoted) is allowed
        base = base[:1] + " " + base[1:] + "x"
    return _unique(base, taken, content)


def _unique(base: str, taken: set[str], content: list[bytes]) -> str:
    """``base``, or ``base`` behind a prefix no boundary in ``taken`` shares, so that it
    overlaps none of them; then numbered until no line of ``content`` starts with it."""
    if not _clashes(base, taken, content):
        return base
    prefix = _free_prefix(taken)
    for n in itertools.count():
        bnd = (prefix + base)[:60] + (f"={n}" if n else "")
        if not _clashes(bnd, taken, content):
            return bnd
    raise AssertionError("unreachable")  # pragma: no cover


def _free_prefix(taken: set[str]) -> str:
    """The shortest bchars string that is neither a prefix of a boundary in ``taken``
    nor has one as its prefix."""
    candidates = [""]
    while True:
        candidates = [c + ch for c in candidates for ch in _BCHARS]
        for c in candidates:
            if not any(t.startswith(c) or c.startswith(t) for t in taken):
                return c


def _clashes(bnd: str, taken: set[str], content: list[bytes]) -> bool:
    """``bnd`` overlaps a boundary in ``taken`` or starts a line of some ``content``."""
    for other in taken:
        if bnd.startswith(other) or other.startswith(bnd):
            return True
    dash = b"--" + bnd.encode("ascii")
    return any(c.startswith(dash) or b"\n" + dash in c for c in content)


def _finish_multipart(draw: st.DrawFn, e: _Entity) -> _Entity:
    taken: set[str] = set()
    for c in e.children:
        taken |= c.boundaries()
    pieces = [c.render() for c in e.children]
    if _rarely(draw, 4):
        e.preamble = b"This is a multi-part message in MIME format."
    if _rarely(draw, 6):
        e.epilogue = b"That was all." + CRLF
    e.boundary = _new_boundary(draw, taken, [*pieces, e.preamble, e.epilogue])
    return e


def _rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False (the simpler message)."""
    return draw(_ints(1, one_in)) == one_in


def _entity(draw: st.DrawFn, opts: _Options, depth: int, budget: _Budget, root: bool) -> _Entity:
    """A body entity at ``depth`` (root 0) using at most ``budget.left`` parts."""
    budget.take()
    left = budget.left  # parts left for children
    deeper = depth < opts.max_depth
    kinds = ["text"]
    if deeper:
        need = {"mixed": 1, "related": 1, "alternative": 2, "digest": 2}
        kinds += [
            f"multipart/{s}"
            for s in opts.subtypes
            if left >= need[s]
            and (s != "digest" or (opts.attached_messages and depth + 2 <= opts.max_depth))
        ]
        if opts.signed and left >= 2:
            kinds += ["multipart/signed", "multipart/encrypted"]
    if not root:
        if opts.attachments:
            kinds += ["data", "text-attachment"]
        if opts.signed:
            kinds.append("smime")
        if opts.attached_messages and deeper and left >= 1:
            kinds.append("message")
    kind = draw(_pick(tuple(kinds)))
    if kind == "text":
        return _text_leaf(draw, opts, draw(_pick(("plain", "html"))))
    if kind == "text-attachment":
        return _text_leaf(draw, opts, "plain", attachment=True)
    if kind == "data":
        return _data_leaf(draw, opts)
    if kind == "smime":
        e = _Entity(mime="application/pkcs7-mime", cte="base64")
        e.payload = draw(_SMIME)
        e.params = ["smime-type=enveloped-data", "name=smime.p7m"]
        e.disposition = "attachment; filename=smime.p7m"
        return e
    if kind == "message":
        inner = _message_entity(draw, opts, depth + 1, budget)
        e = _Entity(mime="message/rfc822", attached=inner)
        if draw(_BOOL):
            e.cte = "7bit"
        if draw(_BOOL):
            e.disposition = "attachment; filename=forwarded.eml"
        return e
    subtype = kind.split("/")[1]
    if subtype == "related":
        return _related(draw, opts, depth, budget, counted=True)
    e = _Entity(mime=kind)
    if subtype == "alternative":
        budget.take()
        e.children.append(_text_leaf(draw, opts, "plain"))
        if (
            budget.left >= 2
            and "related" in opts.subtypes
            and depth + 2 <= opts.max_depth
            and draw(_BOOL)
        ):
            e.children.append(_related(draw, opts, depth + 1, budget))
        else:
            budget.take()
            e.children.append(_text_leaf(draw, opts, "html"))
    elif subtype == "signed":
        e.params = ['protocol="application/pgp-signature"', "micalg=pgp-sha256"]
        budget.take()  # the signature, reserved before the content is drawn
        e.children.append(_entity(draw, opts, depth + 1, budget, False))
        sig = _Entity(mime="application/pgp-signature", params=['name="signature.asc"'])
        sig.cte, sig.text = "7bit", True
        sig.payload = (
            b"-----BEGIN PGP SIGNATURE-----\r\n\r\n"
            + _b64(draw(_SIGNATURE))
            + b"-----END PGP SIGNATURE-----\r\n"
        )
        sig.disposition = 'attachment; filename="signature.asc"'
        e.children.append(sig)
    elif subtype == "encrypted":
        budget.take(2)
        e.params = ['protocol="application/pgp-encrypted"']
        control = _Entity(mime="application/pgp-encrypted", payload=b"Version: 1\r\n")
        control.cte, control.text = "7bit", True
        data = _Entity(mime="application/octet-stream", params=['name="encrypted.asc"'])
        data.cte, data.text = "7bit", True
        data.payload = (
            b"-----BEGIN PGP MESSAGE-----\r\n\r\n"
            + _b64(draw(_CIPHERTEXT))
            + b"-----END PGP MESSAGE-----\r\n"
        )
        data.disposition = 'inline; filename="encrypted.asc"'
        e.children += [control, data]
    elif subtype == "digest":
        while budget.left >= 2 and (not e.children or (len(e.children) < 3 and draw(_BOOL))):
            budget.take()
            child = _Entity(attached=_message_entity(draw, opts, depth + 2, budget))
            if draw(_BOOL):
                child.mime = "message/rfc822"
            e.children.append(child)
    else:  # mixed: a body, then attachments
        e.children.append(_entity(draw, opts, depth + 1, budget, False))
        while budget.left >= 1 and len(e.children) < 4 and draw(_BOOL):
            e.children.append(_entity(draw, opts, depth + 1, budget, False))
    return _finish_multipart(draw, e)


def _related(
    draw: st.DrawFn, opts: _Options, depth: int, budget: _Budget, counted: bool = False
) -> _Entity:
    if not counted:
        budget.take()
    e = _Entity(mime="multipart/related", params=['type="text/html"'])
    ids = [
        f"<img{i}.{draw(_ints(0, 999))}@example.com>"
        for i in range(draw(_ints(0, max(0, min(2, budget.left - 1)))))
    ]
    html = _text_leaf(draw, opts, "html")
    budget.take()
    if ids:
        refs = "".join(f'<img src="cid:{i[1:-1]}">' for i in ids)
        html.payload = html.payload.replace(b"</body>", refs.encode("ascii") + b"</body>")
    e.children.append(html)
    for cid in ids:
        e.children.append(_data_leaf(draw, opts, inline_id=cid))
        budget.take()
    return _finish_multipart(draw, e)


def _message_entity(draw: st.DrawFn, opts: _Options, depth: int, budget: _Budget) -> _Entity:
    headers = _root_headers(draw, opts)
    e = _entity(draw, opts, depth, budget, True)
    e.headers = headers + e.headers
    return e


@st.composite
def _message_tree(draw: st.DrawFn, opts: _Options) -> _Entity:
    return _message_entity(draw, opts, 0, _Budget(opts.max_parts))


@functools.cache
def _message(opts: _Options) -> st.SearchStrategy[_Entity]:
    return _message_tree(opts)


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


def messages(
    *,
    max_depth: int = 3,
    max_parts: int = 8,
    multipart_subtypes: Collection[str] = MULTIPART_SUBTYPES,
    attachments: bool = True,
    attached_messages: bool = True,
    charsets: Collection[str] = DEFAULT_CHARSETS,
    transfer_encodings: Collection[str] = DEFAULT_TRANSFER_ENCODINGS,
    line_endings: Collection[str] = ("\r\n",),
    signed: bool = False,
    encoded_words: bool = True,
    rfc2231: bool = True,
) -> st.SearchStrategy[bytes]:
    """Valid RFC 5322 / MIME messages as bytes.

    * ``max_depth``: deepest nesting (the root is depth 0; 0 means single-part only).
    * ``max_parts``: most parts in the tree, counting the root, multiparts and attached
      messages.
    * ``multipart_subtypes``: which of ``mixed``, ``alternative``, ``related`` and
      ``digest`` may appear (empty: single-part messages only).
    * ``attachments``: non-text parts and text attachments with file names (RFC 2231
      ``filename*`` and continuations when ``rfc2231``).
    * ``attached_messages``: ``message/rfc822`` parts (and ``multipart/digest``).
    * ``charsets``: charsets text is drawn in; each must be known to Python and to
      mimeguard and encode ASCII as itself.
    * ``transfer_encodings``: which of :data:`TRANSFER_ENCODINGS` parts may use.  The
      default leaves out ``8bit`` and ``binary``; with them, 8-bit text goes unencoded
      and messages are valid RFC 6152 / RFC 3030 mail but mimeguard warns (MG325) or,
      for ``binary`` under ``workmail``/``ses``, errs (MG317).
    * ``line_endings``: ``("\\r\\n",)`` by default.  With ``"\\n"`` some messages use bare
      LF throughout, as Unix tools store mail; the validator reports those (MG111).
    * ``signed``: also PGP/MIME ``multipart/signed`` and ``multipart/encrypted`` and an
      S/MIME ``application/pkcs7-mime`` attachment (with made-up signature data).
    * ``encoded_words``: non-ASCII in headers as RFC 2047 encoded-words; ``False`` keeps
      headers ASCII-only.
    * ``rfc2231``: non-ASCII and split file names with RFC 2231 parameters.

    Impossible arguments raise :class:`hypothesis.errors.InvalidArgument` at once.
    """
    opts = _options(
        max_depth=max_depth,
        max_parts=max_parts,
        multipart_subtypes=multipart_subtypes,
        attachments=attachments,
        attached_messages=attached_messages,
        charsets=charsets,
        transfer_encodings=transfer_encodings,
        signed=signed,
        encoded_words=encoded_words,
        rfc2231=rfc2231,
    )
    endings = _check_choice(line_endings, _LINE_ENDINGS, "line_endings")
    rendered = _message(opts).map(lambda e: e.render())
    if endings == ("\r\n",):
        return rendered
    return st.tuples(rendered, st.sampled_from(endings)).map(
        lambda pair: pair[0] if pair[1] == "\r\n" else pair[0].replace(CRLF, b"\n")
    )


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


# -- malformed messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Defect:
    code: str
    summary: str
    phase: int
    apply: Callable[[_Injection], None]


class _Injection:
    """One defect injection pass over a drawn message tree."""

    def __init__(self, draw: st.DrawFn, root: _Entity, opts: _Options) -> None:
        self.draw = draw
        self.root = root
        self.opts = opts
        self.claimed: set[int] = set()
        self.sealed: set[int] = set()
        self.line_endings: str | None = None  # "lf" (MG111) or "mixed" (MG113)

    # -- the tree ---------------------------------------------------------------------------

    def chains(self) -> list[tuple[_Entity, list[_Entity]]]:
        """Every entity with its ancestors, root first."""
        out: list[tuple[_Entity, list[_Entity]]] = []

        def visit(e: _Entity, above: list[_Entity]) -> None:
            out.append((e, above))
            for c in e.children:
                visit(c, [*above, e])
            if e.attached is not None:
                visit(e.attached, [*above, e])

        visit(self.root, [])
        return out

    def free(self, e: _Entity, above: list[_Entity], subtree: bool) -> bool:
        if id(e) in self.claimed or any(id(a) in self.sealed for a in [*above, e]):
            return False
        if subtree:
            return not any(id(d) in self.claimed or id(d) in self.sealed for d in e.walk())
        return True

    def pick(self, pred: Callable[[_Entity], bool], *, subtree: bool = False) -> _Entity | None:
        found = [e for e, above in self.chains() if pred(e) and self.free(e, above, subtree)]
        if not found:
            return None
        return self.draw(st.sampled_from(found))

    def claim(self, e: _Entity, *, subtree: bool = False) -> _Entity:
        (self.sealed if subtree else self.claimed).add(id(e))
        return e

    def host(self, *, top: bool = False) -> _Entity:
        """A multipart/mixed that new parts can be appended to (the root is wrapped in
        one when there is none free); with ``top``, one of the message itself, not of a
        message attached to it."""
        inside = {id(d) for e, _ in self.chains() if e.attached is not None for d in e.walk()}
        found = self.pick(
            lambda e: (
                e.mime == "multipart/mixed"
                and e.close
                and bool(e.children)
                and not (top and id(e) in inside)
            )
        )
        if found is not None:
            return found
        old = self.root
        new = _Entity(mime="multipart/mixed")
        new.headers, old.headers = old.headers, []
        new.lead, old.lead = old.lead, []
        new.tail, old.tail = old.tail, []
        if not old.mime and old.attached is None:  # keep the type explicit once it moves
            old.mime, old.params = "text/plain", ["charset=us-ascii"]
        new.children = [old]
        new.boundary = self.fresh_boundary("wrap")
        self.root = new
        return new

    def fresh_boundary(self, base: str) -> str:
        return _unique(f"=_{base}", self.root.boundaries(), [self.root.render()])

    def append(self, e: _Entity) -> _Entity:
        self.host().children.append(e)
        return e

    def new_leaf(self, kind: str) -> _Entity:
        if kind == "base64":
            e = _Entity(mime="application/octet-stream", cte="base64", payload=b"hello, world")
            e.disposition = "attachment; filename=data.bin"
        elif kind == "qp":
            e = _Entity(mime="text/plain", params=["charset=utf-8"], cte="quoted-printable")
            e.payload, e.text, e.charset = "Grüße\r\n".encode(), True, "utf-8"
        else:
            e = _Entity(mime="text/plain", params=["charset=us-ascii"], cte="7bit")
            e.payload, e.text, e.charset = b"Hello.\r\n", True, "us-ascii"
        return self.append(e)

    def new_multipart(self) -> _Entity:
        leaf = _Entity(
            mime="text/plain",
            params=["charset=us-ascii"],
            cte="7bit",
            payload=b"Inside.\r\n",
            text=True,
        )
        e = _Entity(mime="multipart/mixed", children=[leaf])
        host = self.host()
        e.boundary = self.fresh_boundary("inner")
        host.children.append(e)
        return e

    def leaf(self, pred: Callable[[_Entity], bool], kind: str) -> _Entity:
        """A free leaf matching ``pred``, else a new one of ``kind``; claimed."""
        found = self.pick(lambda e: e.is_leaf and pred(e))
        return self.claim(found if found is not None else self.new_leaf(kind))

    def multipart(self, *, subtree: bool = False, retype: bool = False) -> _Entity:
        """A free multipart with parts and its close delimiter, else a new one; claimed.
        ``retype``: its subtype will change, so not a digest (whose parts are
        message/rfc822 only by default)."""
        found = self.pick(
            lambda e: (
                e.is_multipart
                and bool(e.children)
                and e.close
                and not (retype and e.mime == "multipart/digest")
            ),
            subtree=subtree,
        )
        return self.claim(found if found is not None else self.new_multipart(), subtree=subtree)

    # -- header helpers -----------------------------------------------------------------------

    def fields(self, name: str) -> list[int]:
        prefix = name.lower().encode("ascii") + b":"
        return [i for i, h in enumerate(self.root.headers) if h.lower().startswith(prefix)]

    def drop(self, name: str) -> None:
        for i in reversed(self.fields(name)):
            del self.root.headers[i]

    def replace(self, name: str, line: bytes) -> None:
        at = self.fields(name)
        if at:
            self.root.headers[at[0]] = line
        else:
            self.root.headers.append(line)

    def choice(self, options: tuple[Any, ...]) -> Any:
        return self.draw(_pick(options))


def _is_text(e: _Entity) -> bool:
    return e.text and e.charset is not None


def _d_header_line(line: bytes, *, anywhere: bool = True) -> Callable[[_Injection], None]:
    """Add a raw header line to the root, or to a free part's header block."""

    def apply(inj: _Injection) -> None:
        target = inj.root
        if anywhere and inj.draw(_BOOL):
            found = inj.pick(lambda e: e is not inj.root and e.mime != "")
            if found is not None:
                target = inj.claim(found)
        target.headers.append(line)

    return apply


def _d_dkim(extra: bytes, *, drop: bytes = b"") -> Callable[[_Injection], None]:
    """A DKIM-Signature on the root; its bh= (32 zero octets) matches no body."""
    tags = b"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" + b"A" * 43 + b"=;"
    return _d_header_line(
        b"DKIM-Signature:" + (b" " + tags).replace(drop, b"") + extra + b" b=AAAA",
        anywhere=False,
    )


def _mg101(inj: _Injection) -> None:
    inj.root.tail.append(b"This line is not a header")


def _mg102(inj: _Injection) -> None:
    headers = inj.root.headers
    regular = [i for i, h in enumerate(headers) if i >= 1 and re.match(rb"[!-9;-~]+:", h)]
    if not regular:
        headers.append(b"X-Filler: 1")
        headers.append(b"X-Filler: 2")
        regular = [len(headers) - 1]
    at = inj.draw(st.sampled_from(regular))
    headers.insert(at, b"This is not a header")


def _mg106(inj: _Injection) -> None:
    inj.root.lead.insert(0, b" folded")


def _mg107(inj: _Injection) -> None:
    inj.root.lead.insert(0, b"From alice@example.com Mon Nov 23 10:00:00 2026")


def _mg110(inj: _Injection) -> None:
    if inj.draw(_BOOL):
        inj.root.headers.append(b"X-Long: " + b"x" * inj.draw(_ints(999, 1200)))
    else:
        inj.leaf(lambda e: True, "text").body_lead += b"x" * inj.draw(_ints(999, 1200)) + CRLF


def _mg111(inj: _Injection) -> None:
    inj.line_endings = "lf"


def _mg112(inj: _Injection) -> None:
    inj.leaf(lambda e: True, "text").body_lead += b"one\rtwo" + CRLF


def _mg113(inj: _Injection) -> None:
    inj.line_endings = "mixed"


def _mg114(inj: _Injection) -> None:
    inj.leaf(lambda e: True, "text").body_lead += b"before\x00after" + CRLF


def _mg116(inj: _Injection) -> None:
    bad = inj.choice(
        (
            b"=?utf-8?B?not*base64?=",
            b"=?x-no-such-charset?Q?abc?=",
            b"=?utf-8?Q?caf=E?=",
            b"Hello=?utf-8?Q?glued?=",
            b"=?utf-8?Q?" + b"a" * 70 + b"?=",
        )
    )
    inj.replace("Subject", b"Subject: " + bad)


def _mg201(inj: _Injection) -> None:
    inj.drop("From")


def _mg202(inj: _Injection) -> None:
    inj.drop("Date")


def _mg203(inj: _Injection) -> None:
    if not inj.fields("Subject"):
        inj.root.headers.append(b"Subject: Quarterly report")
    inj.root.headers.append(
        inj.choice((b"Subject: Quarterly report, again", b"Subject: Quarterly report"))
    )


def _mg204(inj: _Injection) -> None:
    name = inj.choice((b"List-Id", b"Organization", b"Importance", b"Keywords"))
    inj.root.headers += [name + b": first", name + b": second"]


def _mg205(inj: _Injection) -> None:
    inj.replace(
        "From", inj.choice((b"From: Alice <alice.example.com", b"From: @example.com", b"From: <>"))
    )


def _mg206(inj: _Injection) -> None:
    inj.replace(
        "Reply-To", inj.choice((b"Reply-To: bob@@example.org", b"Reply-To: <bob@example.org"))
    )


def _mg207(inj: _Injection) -> None:
    inj.replace(
        "Date",
        inj.choice(
            (
                b"Date: yesterday at noon",
                b"Date: 2026-11-23T10:00:00Z",
                b"Date: Mon, 32 Nov 2026 10:00:00 +0000",
            )
        ),
    )


def _mg208(inj: _Injection) -> None:
    inj.replace("Message-ID", inj.choice((b"Message-ID: not-an-id", b"Message-ID: <no-at-sign>")))


def _mg209(inj: _Injection) -> None:
    inj.drop("MIME-Version")
    if not inj.root.mime:
        inj.root.mime, inj.root.params = "text/plain", ["charset=us-ascii"]


def _mg210(inj: _Injection) -> None:
    inj.drop("Sender")
    inj.replace("From", b"From: alice@example.com, carol@example.org")


def _mg211(inj: _Injection) -> None:
    found = inj.pick(lambda e: e.mime != "" and e is not inj.root) if inj.draw(_BOOL) else None
    if found is None:
        found = inj.pick(lambda e: e.mime != "")
    if found is None:
        found = inj.new_leaf("text")
    inj.claim(found).duplicate_ct = True


def _mg301(inj: _Injection) -> None:
    inj.multipart().close = False


def _mg302(inj: _Injection) -> None:
    e = inj.multipart(subtree=True)
    content = e.render_body()
    n = 0
    while True:
        declared = f"{e.boundary[:60]}-elsewhere{n or ''}"
        if (b"--" + declared.encode("ascii")) not in content:
            break
        n += 1
    e.declared = declared


def _mg303(inj: _Injection) -> None:
    inj.multipart(subtree=True).declared = ""


def _mg304(inj: _Injection) -> None:
    # The new boundary may overlap another one (MG305 then follows too): only its own
    # validity matters here, and no line of the message starts with it.
    e = inj.multipart()
    base = e.boundary.replace(" ", "_")
    if inj.choice(("long", "char")) == "long":
        e.boundary = (base + "_" * 71)[: max(71, len(base) + 1)]
    else:
        e.boundary = f"{base[:60]}[]"


def _mg305(inj: _Injection) -> None:
    pairs = [
        (e, next(a for a in reversed(above) if a.is_multipart))
        for e, above in inj.chains()
        if e.is_multipart
        and e.children
        and any(a.is_multipart for a in above)
        and inj.free(e, above, False)
    ]
    pairs = [(e, a) for e, a in pairs if id(a) not in inj.claimed]
    if pairs:
        inner, outer = inj.draw(st.sampled_from(pairs))
    else:
        inner = inj.new_multipart()
        outer = next(above[-1] for e, above in inj.chains() if e is inner)
    inj.claim(inner)
    inj.claim(outer)
    base = outer.boundary
    inner.boundary = f"{base}-x" if len(base) <= 68 else base[:-1].rstrip()


def _mg306(inj: _Injection) -> None:
    inj.multipart(subtree=True).children = []


def _mg310(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime != "" and e.attached is None, "text")
    e.mime = inj.choice(("text", "text/", "/plain", "te(x)t/plain"))


def _mg311(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.attached is None, "base64")
    e.disposition = inj.choice(("; filename=a.pdf", "inline@x; filename=a.pdf"))


def _mg312(inj: _Injection) -> None:
    found = inj.pick(lambda e: e.mime != "" and "/" in e.mime)
    e = inj.claim(found if found is not None else inj.new_leaf("text"))
    e.params = [
        *e.params,
        inj.choice(("x-bad", "x-dup=1; x-dup=2", "x-pct*=utf-8''%G1", "x-raw*=noquote")),
    ]


def _mg313(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.attached is None, "text")
    e.cte = inj.choice(("x-uuencode", "7-bit", "none", "uuencode"))


def _mg314(inj: _Injection) -> None:
    inj.multipart().cte = inj.choice(("base64", "quoted-printable"))


def _mg315(inj: _Injection) -> None:
    found = inj.pick(lambda e: e.attached is not None and e.mime == "message/rfc822", subtree=True)
    if found is None:
        inner = _Entity(
            mime="text/plain",
            params=["charset=us-ascii"],
            cte="7bit",
            payload=b"Forwarded.\r\n",
            text=True,
        )
        inner.headers = [
            b"From: alice@example.com",
            b"Date: Mon, 23 Nov 2026 10:00:00 +0000",
            b"MIME-Version: 1.0",
        ]
        found = inj.append(_Entity(mime="message/rfc822", attached=inner))
    inj.claim(found, subtree=True).cte = "base64"


def _mg316(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte in (None, "7bit"), "text")
    e.body_lead += "Grüße".encode() + CRLF


def _mg317(inj: _Injection) -> None:
    inj.leaf(lambda e: True, "text").cte = "binary"


def _mg318(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte == "base64", "base64")
    e.body_lead += inj.choice((b"SGVsbG8*gd29ybGQ", b"not base64!", b"QUJD=QUJD")) + CRLF


def _mg319(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte == "quoted-printable", "qp")
    e.body_lead += inj.choice((b"100% =ZZ sure", b"=\xe9t\xe9")) + CRLF


def _mg320(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte in ("base64", "quoted-printable"), "base64")
    e.body_lead += (b"QUFB" if e.cte == "base64" else b"abcd") * inj.draw(_ints(20, 24)) + CRLF


def _mg321(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime.startswith("text/"), "text")
    e.params = [p for p in e.params if not p.startswith("charset=")]
    e.params.insert(
        0, inj.choice(("charset=x-klingon", 'charset="utf-9"', "charset=no-such-charset"))
    )


def _mg322(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime.startswith("text/") and _is_text(e), "text")
    e.params = [p for p in e.params if not p.startswith("charset=")]
    e.params.insert(0, "charset=utf-8")
    e.payload += b"caf\xc3"
    if e.cte not in ("base64", "quoted-printable"):
        e.cte = inj.choice(("base64", "quoted-printable"))


def _mg323(inj: _Injection) -> None:
    e = inj.multipart(retype=True)
    e.mime, e.params = "multipart/signed", [p for p in e.params if not p.startswith("protocol")]


def _mg324(inj: _Injection) -> None:
    e = inj.multipart(retype=True)
    e.mime, e.params = "multipart/encrypted", [p for p in e.params if not p.startswith("protocol")]


def _mg325(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime.startswith("text/") and _is_text(e), "text")
    if e.payload.isascii():
        e.params = [p for p in e.params if not p.startswith("charset=")]
        e.params.insert(0, "charset=utf-8")
        e.payload += "Grüße".encode() + CRLF
    e.cte = "8bit"


def _mg402(inj: _Injection) -> None:
    host = inj.host(top=True)  # attachments of an attached message do not count
    inj.claim(host)
    for i in range(501):
        e = _Entity(mime="application/octet-stream", cte="base64", payload=b"\x00\x01\x02")
        e.disposition = f"attachment; filename=a{i}.bin"
        host.children.append(inj.claim(e))


def _mg403(inj: _Injection) -> None:
    names = [f"r{i}@example.org," for i in range(501)]
    names[-1] = names[-1].rstrip(",")
    inj.replace("Bcc", _fold("Bcc", names))


def _mg404(inj: _Injection) -> None:
    e = inj.leaf(
        lambda e: e.disposition is not None and e.disposition.startswith("attachment"), "base64"
    )
    e.params = [p for p in e.params if not p.startswith("name")]
    e.disposition = "attachment; " + inj.choice(
        ('filename="invoice.pdf.exe"', "filename=setup.msi", "filename*=utf-8''run.bat")
    )


def _mg410(inj: _Injection) -> None:
    host = inj.host()
    inj.claim(host)
    chain = _Entity(
        mime="text/plain", params=["charset=us-ascii"], cte="7bit", payload=b"Deep.\r\n", text=True
    )
    for level in range(67, -1, -1):
        chain = _Entity(mime="multipart/mixed", children=[chain], boundary=f"=_depth-{level:02d}")
    host.children.append(inj.claim(chain, subtree=True))


#: Every defect :func:`malformed_messages` can inject: rule code -> what is done.
_DEFECT_LIST: tuple[_Defect, ...] = (
    _Defect("MG101", "a line that is not a field ends the root header block", 3, _mg101),
    _Defect("MG102", "a line without colon between two header fields", 3, _mg102),
    _Defect("MG103", "a header line ': no name'", 2, _d_header_line(b": no name")),
    _Defect("MG104", "a field name with a DEL character", 2, _d_header_line(b"X-\x7fBad: 1")),
    _Defect(
        "MG105", "whitespace between a field name and its colon", 2, _d_header_line(b"X-Spaced : 1")
    ),
    _Defect("MG106", "the message starts with a continuation line", 3, _mg106),
    _Defect("MG107", "the message starts with an mbox 'From ' line", 3, _mg107),
    _Defect("MG110", "a header or body line over 998 octets", 3, _mg110),
    _Defect("MG111", "every CRLF becomes a bare LF", 4, _mg111),
    _Defect("MG112", "a bare CR in a body", 3, _mg112),
    _Defect("MG113", "one CRLF becomes a bare LF", 4, _mg113),
    _Defect("MG114", "a NUL byte in a body", 3, _mg114),
    _Defect(
        "MG115", "raw UTF-8 in a header field", 2, _d_header_line("X-Greeting: Grüße".encode())
    ),
    _Defect("MG116", "a malformed encoded-word in Subject", 2, _mg116),
    _Defect("MG201", "From removed", 2, _mg201),
    _Defect("MG202", "Date removed", 2, _mg202),
    _Defect("MG203", "a second Subject", 2, _mg203),
    _Defect("MG204", "an SES once-only field twice (List-Id, Organization, …)", 2, _mg204),
    _Defect("MG205", "From that is not a mailbox list", 2, _mg205),
    _Defect("MG206", "Reply-To that is not an address", 2, _mg206),
    _Defect("MG207", "Date that is not an RFC 5322 date-time", 2, _mg207),
    _Defect("MG208", "Message-ID that is not a msg-id", 2, _mg208),
    _Defect("MG209", "MIME-Version removed", 2, _mg209),
    _Defect("MG210", "From with two mailboxes and no Sender", 2, _mg210),
    _Defect("MG211", "a part with its Content-Type twice", 1, _mg211),
    _Defect("MG301", "a multipart without its closing delimiter", 1, _mg301),
    _Defect("MG302", "a multipart whose boundary parameter names another boundary", 0, _mg302),
    _Defect("MG303", "a multipart without boundary parameter", 0, _mg303),
    _Defect("MG304", "a boundary over 70 characters or with a character outside bchars", 1, _mg304),
    _Defect("MG305", "a nested boundary that extends (or is cut from) its parent's", 0, _mg305),
    _Defect("MG306", "a multipart with only its closing delimiter", 0, _mg306),
    _Defect("MG310", "a Content-Type that is not type/subtype", 1, _mg310),
    _Defect("MG311", "a Content-Disposition without a valid type", 1, _mg311),
    _Defect("MG312", "a malformed Content-Type parameter", 1, _mg312),
    _Defect("MG313", "an unknown Content-Transfer-Encoding", 1, _mg313),
    _Defect("MG314", "a multipart labelled base64 or quoted-printable", 1, _mg314),
    _Defect("MG315", "an attached message/rfc822 in base64", 0, _mg315),
    _Defect("MG316", "raw 8-bit bytes in a 7bit part", 1, _mg316),
    _Defect("MG317", "a part labelled binary", 1, _mg317),
    _Defect("MG318", "a character outside base64 in a base64 body", 1, _mg318),
    _Defect("MG319", "a bad '=' escape or raw 8-bit in a quoted-printable body", 1, _mg319),
    _Defect("MG320", "a base64 or quoted-printable line over 76 characters", 1, _mg320),
    _Defect("MG321", "a charset nobody knows", 1, _mg321),
    _Defect("MG322", "a text part that does not decode in its charset", 1, _mg322),
    _Defect("MG323", "a multipart/signed without protocol", 1, _mg323),
    _Defect("MG324", "a multipart/encrypted without protocol", 1, _mg324),
    _Defect("MG325", "8-bit text sent as 8bit", 1, _mg325),
    _Defect("MG402", "501 attachments", 0, _mg402),
    _Defect("MG403", "501 recipients in Bcc", 2, _mg403),
    _Defect("MG404", "an attachment with an extension Amazon SES blocks", 1, _mg404),
    _Defect("MG410", "parts nested 69 deep", 0, _mg410),
    _Defect("MG601", "a DKIM-Signature whose bh= is not the body's", 2, _d_dkim(b"")),
    _Defect("MG602", "a DKIM-Signature tag-spec without '='", 2, _d_dkim(b" junk;")),
    _Defect("MG603", "a DKIM-Signature with d= twice", 2, _d_dkim(b" d=example.org;")),
    _Defect("MG604", "a DKIM-Signature without s=", 2, _d_dkim(b"", drop=b" s=sel;")),
    _Defect(
        "MG605",
        "a DKIM-Signature with a=rsa-md5",
        2,
        _d_dkim(b" a=rsa-md5;", drop=b" a=rsa-sha256;"),
    ),
    _Defect("MG606", "a DKIM-Signature with l=", 2, _d_dkim(b" l=1;")),
)
_BY_CODE = {d.code: d for d in _DEFECT_LIST}
#: Rule code -> the defect :func:`malformed_messages` injects for it.  Not generated:
#: MG401 (over 40 MB), MG411-MG414 (parser limits of 10,000 parts or fields, 1 MiB
#: headers, 512 MiB messages) and MG501 (needs an original message).
DEFECTS: dict[str, str] = {d.code: d.summary for d in _DEFECT_LIST}
#: defects that cannot be in one message together
_CONFLICTS: tuple[frozenset[str], ...] = (
    frozenset({"MG111", "MG113"}),
    frozenset({"MG201", "MG205"}),
    frozenset({"MG201", "MG210"}),
    frozenset({"MG205", "MG210"}),
    frozenset({"MG202", "MG207"}),
    frozenset({"MG106", "MG107"}),
)


@functools.cache
def _permutations(codes: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.permutations(codes)


def _compatible(chosen: list[str]) -> list[str]:
    kept: list[str] = []
    for code in chosen:
        if not any(pair <= {code, *kept} and code in pair for pair in _CONFLICTS):
            kept.append(code)
    return kept


@st.composite
def _malformed(
    draw: st.DrawFn, opts: _Options, codes: tuple[str, ...], max_defects: int
) -> tuple[bytes, frozenset[str]]:
    root = draw(_message(opts))
    count = draw(_ints(1, min(max_defects, len(codes))))
    chosen = _compatible(list(draw(_permutations(codes))[:count]))
    inj = _Injection(draw, root, opts)
    for code in sorted(chosen, key=lambda c: (_BY_CODE[c].phase, c)):
        _BY_CODE[code].apply(inj)
    data = inj.root.render()
    if inj.line_endings == "lf":
        data = data.replace(CRLF, b"\n")
    elif inj.line_endings == "mixed":
        count = data.count(CRLF)
        nth = draw(_ints(0, count - 1))
        at = -1
        for _ in range(nth + 1):
            at = data.find(CRLF, at + 1)
        data = data[:at] + data[at + 1 :]
    return data, frozenset(chosen)


def malformed_messages(
    *,
    codes: Collection[str] | None = None,
    max_defects: int = 3,
    profile: str = "workmail",
    max_depth: int = 3,
    max_parts: int = 8,
    multipart_subtypes: Collection[str] = MULTIPART_SUBTYPES,
    attachments: bool = True,
    attached_messages: bool = True,
    charsets: Collection[str] = DEFAULT_CHARSETS,
    transfer_encodings: Collection[str] = DEFAULT_TRANSFER_ENCODINGS,
    signed: bool = False,
    encoded_words: bool = True,
    rfc2231: bool = True,
) -> st.SearchStrategy[tuple[bytes, frozenset[str]]]:
    """A valid message with one to ``max_defects`` targeted defects, as ``(data, expected)``.

    ``expected`` holds the rule codes of the injected defects: ``mimeguard.validate(data,
    profile=profile)`` reports at least those (other findings may follow from them, a
    NUL byte in a base64 body is also bad base64).  ``codes`` limits the defects to
    some of :data:`DEFECTS` (all that apply under ``profile`` by default); a code the
    profile does not check, or that cannot be generated, raises InvalidArgument.  The
    other arguments shape the underlying message as for :func:`messages`; the message
    is CRLF, and defects that need a part (a base64 body, a multipart) add one when the
    drawn message has none.
    """
    if profile not in PROFILES:
        raise _fail(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    active = tuple(c for c in DEFECTS if RULES[c].severity[profile] is not None)
    if codes is None:
        chosen = active
    else:
        if isinstance(codes, str) or not isinstance(codes, Collection):
            raise _fail(
                f"codes must be a collection of rule codes such as ('MG301',), not {codes!r}"
            )
        chosen = tuple(dict.fromkeys(c.upper() for c in codes))
        if not chosen:
            raise _fail("codes is empty: give at least one rule code, or None for all")
        for c in chosen:
            if c not in DEFECTS:
                why = "no such rule" if c not in RULES else "it cannot be generated"
                raise _fail(f"codes: {c!r}: {why}; choose from {', '.join(DEFECTS)}")
            if c not in active:
                raise _fail(f"codes: {c} does not apply under the {profile!r} profile")
    _check_int(max_defects, "max_defects", 1)
    opts = _options(
        max_depth=max_depth,
        max_parts=max_parts,
        multipart_subtypes=multipart_subtypes,
        attachments=attachments,
        attached_messages=attached_messages,
        charsets=charsets,
        transfer_encodings=transfer_encodings,
        signed=signed,
        encoded_words=encoded_words,
        rfc2231=rfc2231,
    )
    return _malformed(opts, chosen, max_defects)
