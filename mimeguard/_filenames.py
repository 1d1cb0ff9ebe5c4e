"""Every name a mail client could give a part, and the name it would save it under.

A filter that reads a part's name one way is walked past by a message that a client
reads another way.  :func:`candidate_names` therefore collects the name from every
place and in every decoding a client is known to use, and :func:`saved_names` turns
each into what Windows, macOS or Linux would write to disk:

- Content-Disposition ``filename``/``filename*`` and Content-Type ``name``/``name*``
  (RFC 2183 section 2.3, RFC 2045 section 5.1, RFC 2231 sections 3-4), plus the
  non-standard ``filename`` on Content-Type and ``name`` on Content-Disposition;
- every occurrence of those parameters and of those fields: first-wins and last-wins
  parsers both;
- RFC 2231 continuations in numeric order, in the order written and up to the first
  gap; extended values in the charset they name, or UTF-8 and
  Latin-1 when the charset is unknown;
- RFC 2047 encoded-words anywhere in a value (RFC 2047 section 5 forbids them there,
  every major client decodes them): glued to text, unpadded, unknown charsets;
- a strict tokenizer (quoted-pairs, comments) and a naive ``name=value`` search
  (unterminated quotes, values with spaces) over the unfolded field, read as UTF-8
  and as Latin-1.

Only the **final** extension of a saved name decides what it is
(:func:`final_extension`): ``invoice.pdf.exe`` is an executable,
``statement.example.com.pdf`` a document.
"""

from __future__ import annotations

import binascii
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import unquote_to_bytes

from . import _abnf as g
from ._params import plain_view, unfolded_windows
from ._rfc2047 import lookup_charset
from ._tokens import comment_end
from .message import HeaderField, Part

__all__ = [
    "MAX_CANDIDATES",
    "MAX_SECTIONS",
    "candidate_name_sets",
    "candidate_names",
    "field_params",
    "final_extension",
    "iter_field_params",
    "mentions_name",
    "name_reading_sets",
    "name_readings",
    "saved_names",
]

#: readings kept per part: a hostile header cannot make the set grow without bound; a
#: part with more is blocked by name-judging policies (it cannot be judged)
MAX_CANDIDATES = 256
#: distinct RFC 2231 sections of one parameter joined into names: four times what the
#: longest file name (255 characters, each percent-encoded UTF-8) takes in sections of 40
#: characters; a part with more cannot be judged (name-judging policies block it)
MAX_SECTIONS = 256
#: characters of a field value read for names: the parser's header limit, so that no
#: padding pushes a name out of sight (every step below is linear in the length)
_MAX_VALUE = 1 << 20

_FOLD = g.EOL_TEXT
_WORD = g.ENCODED_WORD_LENIENT  # RFC 2047 section 2, read as clients read it
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?)")
_NAIVE = re.compile(
    r"""(?i)(?<![\w*-])((?:file)?name)((?:\*[0-9]*)*)[ \t]*=[ \t]*("[^"]*"?|[^;"\r\n]*)"""
)
_SECTION = re.compile(r"^\*0*([0-9]{1,6})(\*?)$")
_BIDI_ZW = dict.fromkeys(
    [
        *(0x00AD, 0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
_DOTS = str.maketrans(dict.fromkeys("\uff0e\u3002\uff61\u2024\ufe52\u2e33\u00b7", "."))
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAME_PARAMS = frozenset({"name", "filename"})
_NAME_END = re.compile(r'[^=;"(]*')
_QTEXT = re.compile(r'[^"\\]*')
# A value every reading parses the same way: tokens and plain quoted strings only (no
# comments, quoted-pairs, RFC 2231 or 2047, 8-bit): read once, by one regex.  The runs
# are possessive: each parameter matches one way only, so nothing is given back, and
# re keeps no backtracking state per parameter (30x the value for 100,000 of them).
_SIMPLE = re.compile(
    r'[^;"\\()=*?\x00-\x1f\x7f]*+(?:;[ \t]*[!#$%&\'+\-.0-9A-Z^_`a-z{|}~]+='
    r'(?:[!#$%&\'+\-.0-9A-Z^_`a-z{|}~]+|"[^"\\=*?\x00-\x1f\x7f]*")[ \t]*)*+;?[ \t]*'
)
_SIMPLE_PARAM = re.compile(r';[ \t]*([^=]+)=("?)([^";]*)\2')
# The same with RFC 2231 names (``filename*0*``): letters, digits, "-" and "_" only, so the
# naive reading finds exactly the name parameters the strict one does, at the same
# places; and no "%" in a quoted value (an extended value is never quoted).
_SIMPLE_2231 = re.compile(
    r'[^;"\\()=*?\x00-\x1f\x7f]*+(?:;[ \t]*[-0-9A-Za-z_]+(?:\*[0-9]{1,6})?\*?='
    r'(?:[!#$%&\'+\-.0-9A-Z^_`a-z{|}~]+|"[^"\\=*?%\x00-\x1f\x7f]*")[ \t]*)*+;?[ \t]*'
)
_NAME_ANY_CASE = re.compile(rb"(?i)name")  # ASCII case folding, as bytes.lower()
_LINE_BREAK = re.compile(rb"[\r\n]")
_PLAIN_NAME = re.compile(r"[ !#-)+-.0-9;=@-\[\]-~]*")


# -- parameters of one field --------------------------------------------------------------


def _unfold(field: HeaderField) -> list[str]:
    """The field value unfolded (RFC 5322 section 2.2.3), as UTF-8 and, when that is
    not what the bytes are, as Latin-1 too."""
    raw = field.raw_value[: _MAX_VALUE * 2]
    if raw.isascii():
        # CR and LF go before decoding (the same for ASCII), and the bytes as written
        # before the text is made: no more than two copies are held at once (issue 16:
        # 100,000 folded sections)
        unfolded = raw.translate(None, b"\r\n")
        del raw
        if len(unfolded) > _MAX_VALUE:  # cut before decoding: one character a byte
            unfolded = unfolded[:_MAX_VALUE]
        return [unfolded.decode("ascii")]
    texts = [raw.decode("utf-8", "replace"), raw.decode("latin-1")]
    return [_FOLD.sub("", t)[:_MAX_VALUE] for t in texts]


def _skip_comment(value: str, pos: int) -> int:
    """The end of the (nested) comment starting at ``pos`` (:func:`_tokens.comment_end`)."""
    return comment_end(value, pos)[0]


def _tokenize(value: str) -> Iterator[tuple[str, str, str]]:
    """``(name, value, raw value)`` of each parameter in order, duplicates kept.

    A strict reading (RFC 2045 section 5.1 with RFC 822 comments): quoted strings
    with quoted-pairs undone, an unterminated quote running to the end, unquoted
    values up to the next ``;`` (spaces kept).  The type token is skipped.
    """
    n = len(value)
    pos = value.find(";")
    if pos < 0:
        return
    while pos < n:
        c = value[pos]
        if c in "; \t":
            pos += 1
            continue
        if c == "(":
            pos = _skip_comment(value, pos)
            continue
        eq = _NAME_END.match(value, pos).end()  # type: ignore[union-attr]  # always matches
        name = value[pos:eq].strip().lower()
        if eq >= n or value[eq] != "=":
            pos = eq + 1 if eq < n and value[eq] == ";" else max(eq, pos + 1)
            if eq < n and value[eq] == "(":
                pos = _skip_comment(value, eq)
            continue
        pos = eq + 1
        while pos < n and value[pos] in " \t":
            pos += 1
        while pos < n and value[pos] == "(":
            pos = _skip_comment(value, pos)
            while pos < n and value[pos] in " \t":
                pos += 1
        if pos < n and value[pos] == '"':
            start = pos
            pos += 1
            chars: list[str] = []
            while True:
                run = _QTEXT.match(value, pos).end()  # type: ignore[union-attr]
                chars.append(value[pos:run])
                pos = run
                if pos + 1 < n and value[pos] == "\\":  # a quoted-pair
                    chars.append(value[pos + 1])
                    pos += 2
                    continue
                if pos < n and value[pos] == "\\":
                    pos += 1
                break
            raw = value[start + 1 : pos]
            pos += 1
            yield name, "".join(chars), raw
        else:
            end = value.find(";", pos)
            end = n if end < 0 else end
            raw = value[pos:end].strip()
            plain = raw
            cut = plain.find("(")
            if cut > 0:
                plain = plain[:cut].rstrip()
            yield name, plain, raw
            pos = end


def _naive(value: str) -> Iterator[tuple[str, str, str]]:
    """``name=value`` found anywhere, the way regex-based readers find it."""
    for m in _NAIVE.finditer(value):
        v = m.group(3).strip()
        if v.startswith('"'):
            v = v[1:].rstrip('"')
        yield m.group(1).lower() + m.group(2), v, v


def field_params(field: HeaderField) -> list[tuple[str, str, str]]:
    """Every ``(name, value, raw value)`` parameter of ``field`` under every reading,
    in order, duplicates kept (names lower-case, RFC 2231 suffixes kept)."""
    return list(iter_field_params(field))


def _one_line(field: HeaderField) -> str | None:
    """The value of an unfolded ASCII field that every reading parses alike, or None."""
    raw = field.raw_value
    if raw.isascii() and b"\n" not in raw and b"\r" not in raw:
        text = raw.decode("ascii").strip()
        if _SIMPLE.fullmatch(text) is not None:
            return text
    return None


def _simple_params(text: str) -> Iterator[tuple[str, str, str]]:
    for m in _SIMPLE_PARAM.finditer(text):
        yield m.group(1).strip().lower(), m.group(3), m.group(3)


def _windowed_params(field: HeaderField) -> Iterator[tuple[str, str, str]] | None:
    """The parameters of a long folded field every reading parses alike, read in windows
    of its unfolded text (:func:`_params.unfolded_windows`), or None.

    The windows of a value with no quote or comment split it between parameters
    (before a ``;``), so the value matches ``_SIMPLE_2231`` when each window does and
    its parameters are the windows' parameters: 100,000 folded RFC 2231 sections are
    read twice, a window at a time, instead of copied whole twice (issue 16)."""
    view = plain_view(field)
    if view is None or _LINE_BREAK.search(view) is None:
        return None  # short, not plain, or one line (read by _one_line)
    # cut as _unfold cuts: the bytes written first, then the unfolded text
    windows = functools.partial(
        unfolded_windows, view[: _MAX_VALUE * 2], strip=False, limit=_MAX_VALUE
    )
    if not all(_SIMPLE_2231.fullmatch(text) is not None for _, text in windows()):
        return None
    return itertools.chain.from_iterable(_simple_params(text) for _, text in windows())


def iter_field_params(field: HeaderField) -> Iterator[tuple[str, str, str]]:
    """:func:`field_params` one at a time: a reader of 100,000 RFC 2231 sections keeps
    what it needs of each, not a list of them all."""
    windowed = _windowed_params(field)
    if windowed is not None:
        return windowed
    text = _one_line(field)
    if text is not None:
        return _simple_params(text)
    texts = _unfold(field)
    if len(texts) == 1 and _SIMPLE_2231.fullmatch(texts[0]) is not None:
        # every reading is the strict one: read once (a value of 100,000 RFC 2231
        # sections is read by one regex instead of two scanners)
        return _simple_params(texts[0])
    return itertools.chain.from_iterable(
        itertools.chain(_tokenize(text), _naive(text)) for text in texts
    )


# -- decoding a value ---------------------------------------------------------------------


def _codecs_for(charset: str) -> list[str]:
    label = charset.strip().strip('"').lower()
    found = lookup_charset(label)
    if found is None and label.replace("-", "").replace("_", "") in ("utf7", "unicode11utf7"):
        found = "utf-7"  # the RFC 2047 lookup refuses UTF-7; clients still decode it
    # an unknown charset: clients fall back to UTF-8 or to Latin-1
    return [found] if found else ["utf-8", "latin-1"]


def _decode(data: bytes, charset: str) -> list[str]:
    out = []
    names = _codecs_for(charset)
    for codec in names:
        try:
            out.append(data.decode(codec, "replace"))
        except (LookupError, ValueError):  # pragma: no cover - codecs come from lookup
            out.append(data.decode("latin-1"))
    if not data.isascii() and "utf-8" not in names:
        # a mislabelled charset: clients that sniff read the bytes as UTF-8
        out.append(data.decode("utf-8", "replace"))
    return list(dict.fromkeys(out))


def _word_bytes(kind: str, text: str) -> bytes:
    if kind in "bB":
        clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
        if len(clean) % 4 == 1:
            clean = clean[:-1]  # a lone trailing character carries no byte
        clean += "=" * (-len(clean) % 4)  # B without padding (RFC 2047 section 4.1)
        return binascii.a2b_base64(clean)
    return unquote_to_bytes(text.replace("_", " ").replace("=", "%"))


def _decode_words(value: str) -> list[str]:
    """``value`` with every RFC 2047 word decoded: one string per charset reading."""
    if "=?" not in value:
        return [value]
    value = _BETWEEN_WORDS.sub(r"\1", value)  # section 6.2: space between words goes
    # pieces are joined once at the end (linear); a word with several readings forks
    # the result, at most 8 ways
    results: list[list[str]] = [[]]
    pos = 0
    for m in _WORD.finditer(value):
        texts = _decode(_word_bytes(m.group(2), m.group(3)), m.group(1).split("*", 1)[0])
        lead = value[pos : m.start()]
        if len(texts) > 1 and len(results) * len(texts) <= 8:
            results = [[*r, lead, t] for r in results for t in texts]
        else:
            for r in results:
                r += (lead, texts[0])
        pos = m.end()
    return ["".join(r) + value[pos:] for r in results]


def _extended(raw: str) -> list[str]:
    """An RFC 2231 extended value ``charset'language'%xx…`` decoded."""
    parts = raw.split("'", 2)
    if len(parts) == 3:
        charset, _lang, text = parts
    else:
        charset, text = "utf-8", raw
    return _decode(unquote_to_bytes(text), charset or "utf-8")


def _sections(pieces: list[tuple[int, bool, str, int]], partial: bool) -> list[str]:
    """RFC 2231 section 3 continuations ``(number, extended, value, order)`` joined
    every way a parser joins them: by number and as written (with ``partial``,
    also up to the first gap, where some parsers stop)."""
    if not pieces:
        return []
    charset = "utf-8"
    for _, ext, v, _ in sorted(pieces):
        if ext and v.count("'") >= 2:
            charset = v.split("'", 1)[0] or "utf-8"
            break

    def join(seq: Iterable[tuple[int, bool, str, int]]) -> list[str]:
        chunks: list[bytes] = []
        for _, ext, v, _ in seq:
            if ext:
                if v.count("'") >= 2:
                    v = v.split("'", 2)[2]
                chunks.append(unquote_to_bytes(v))
            else:
                chunks.append(v.encode("utf-8", "replace"))
        return _decode(b"".join(chunks), charset)

    ordered = sorted(pieces)
    out = join(ordered)
    out += join(sorted(pieces, key=lambda p: p[3]))
    if not partial:
        return out
    gapless: list[tuple[int, bool, str, int]] = []
    for i, p in enumerate(ordered):
        if p[0] != (ordered[0][0] if i == 0 else gapless[-1][0] + 1):
            break
        gapless.append(p)
    out += join(gapless)
    return out


def name_readings(fields: Iterable[HeaderField], *, partial: bool = True) -> list[str]:
    """Every decoded name the ``name``/``filename`` parameters of ``fields`` give;
    ``partial`` adds the readings of parsers that read only some continuations."""
    return _readings(fields, (partial,))[0][0]


def name_reading_sets(fields: Iterable[HeaderField]) -> tuple[list[str], list[str], bool]:
    """:func:`name_readings` with ``partial`` and without, from one read of the fields,
    and whether a parameter had more than :data:`MAX_SECTIONS` distinct sections (its
    names cannot be judged: the readings join only the first ones)."""
    (with_partial, whole), overflow = _readings(fields, (True, False))
    return with_partial, whole, overflow


def _readings(
    fields: Iterable[HeaderField], modes: tuple[bool, ...]
) -> tuple[list[list[str]], bool]:
    values: list[str] = []
    groups: list[list[tuple[int, bool, str, int]]] = []
    overflow = False
    for field in fields:
        # per parameter, every distinct section, each with the place of its last copy
        # (the tokenizer and the naive reading find each section: once is enough), kept
        # as they come.  All of them: a name cut after some sections hides what the
        # parser and the clients that join them all read (".exe" in section 70)
        sections: dict[str, dict[tuple[int, bool, str], tuple[int, bool, str, int]]] = {}
        for order, (name, value, raw) in enumerate(iter_field_params(field)):
            base, star, suffix = name.partition("*")
            if base not in _NAME_PARAMS:
                continue
            if not star:
                values.append(value)
                if raw != value:
                    values.append(raw)
                continue
            if suffix == "":
                values += _extended(value)
                continue
            m = _SECTION.match("*" + suffix)
            if m is None:
                values.append(value)
                continue
            key = (int(m.group(1)), m.group(2) == "*", value)
            kept = sections.setdefault(base, {})
            if key in kept or len(kept) < MAX_SECTIONS:
                kept[key] = (*key, order)
            else:
                overflow = True
        groups += (list(kept.values()) for kept in sections.values())
    if not groups:
        return [_decoded(values)] * len(modes), False  # no sections: every mode reads alike
    out: list[list[str]] = []
    for partial in modes:
        found = list(values)
        for unique in groups:
            found += _sections(unique, partial)
        out.append(_decoded(found))
    return out, overflow


def _decoded(values: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        for d in _decode_words(v):
            if d and d not in seen:
                seen.add(d)
                out.append(d)
                if len(out) > MAX_CANDIDATES:
                    return out  # one more than the cap: the caller fails closed
    return out


def mentions_name(field: HeaderField) -> bool:
    """Whether ``name`` appears in the field in any case (read where it lies: neither a
    copy nor a lower-case copy of a 100,000-section field is made)."""
    return _NAME_ANY_CASE.search(field.buffer, field.start, field.end) is not None


def _name_fields(part: Part) -> list[HeaderField]:
    # every spelling of both parameters contains "name" (names are case-insensitive)
    return [
        f
        for f in part.headers
        if f.lname in ("content-type", "content-disposition") and mentions_name(f)
    ]


def candidate_names(part: Part, *, partial: bool = True) -> list[str]:
    """Every name a client could read for ``part`` from its Content-Type and
    Content-Disposition fields (all of them), decoded every way clients decode."""
    fields = _name_fields(part)
    if not fields:
        return []
    return name_readings(fields, partial=partial)


def candidate_name_sets(part: Part) -> tuple[list[str], list[str], bool]:
    """:func:`candidate_names` with ``partial`` and without, reading the fields once, and
    whether the names cannot be judged (:func:`name_reading_sets`)."""
    fields = _name_fields(part)
    if not fields:
        return [], [], False
    return name_reading_sets(fields)


# -- the name as a client saves it --------------------------------------------------------


def _last_component(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def saved_names(name: str) -> set[str]:
    """What ``name`` becomes on disk, lower-case, under each client's clean-up.

    NUL cuts the name (C strings) or is dropped; other control characters,
    bidi overrides and zero-width characters are dropped; compatibility forms
    (full-width letters and dots) are folded (NFKC); paths keep their last
    component; an NTFS stream suffix (``::$DATA``, ``:x``) goes, or the part after
    a colon is the name (a colon is the classic Mac path separator); trailing dots
    and spaces go (Windows).
    """
    if _PLAIN_NAME.fullmatch(name) is not None:  # printable ASCII, no path or stream
        clean = name.strip().rstrip(". \t").lower()
        return {clean} if clean else set()
    out: set[str] = set()
    cuts = {name.split("\x00", 1)[0], name.replace("\x00", "")}
    for cut in cuts:
        text = _CONTROLS.sub("", cut).translate(_BIDI_ZW)
        for form in {text, unicodedata.normalize("NFKC", text)}:
            dotted = form.translate(_DOTS)
            # "evil.exe/" is saved as evil.exe by tools that drop a trailing separator
            bases = {_last_component(dotted), _last_component(dotted.rstrip("/\\ \t"))}
            for piece in {p for b in bases for p in (b.split(":", 1)[0], b.rsplit(":", 1)[-1])}:
                clean = piece.strip().rstrip(". \t").lower()
                if clean:
                    out.add(clean)
    return out


def final_extension(saved: str) -> str:
    """The extension after the last dot of a saved name, ``""`` when there is none."""
    _stem, dot, ext = saved.rpartition(".")
    return ext.strip() if dot else ""
