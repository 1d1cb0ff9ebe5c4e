"""How raw 8-bit text without a declared charset reads: one decision for the whole package.

Header values with raw 8-bit bytes (RFC 5322 allows none; RFC 6532 means UTF-8),
file names, and 8-bit bodies without a usable charset all come through
:func:`decode_8bit`, so a subject, a file name and a repaired header read the
same bytes the same way.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

__all__ = ["decode_8bit", "lookup_charset"]

# -- charset labels (RFC 2978) ------------------------------------------------------------------

# Labels seen in real mail that Python's codec registry does not know, or knows
# under a narrower codec than what senders actually mean (WHATWG Encoding
# Standard practice: decode with the superset that mail clients use).
_CHARSET_ALIASES: dict[str, str] = {
    "x-utf8": "utf-8",
    "x-utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "unicode-2-0-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "csksc56011987": "cp949",
    "iso-ir-149": "cp949",
    "korean": "cp949",
    "windows-949": "cp949",
    "euc-kr": "cp949",
    "x-euc-kr": "cp949",
    "iso-8859-8-i": "iso8859-8",
    "iso-8859-8-e": "iso8859-8",
    "iso_8859-8-i": "iso8859-8",
    "csiso88598i": "iso8859-8",
    "csiso88598e": "iso8859-8",
    "logical": "iso8859-8",
    "visual": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "iso-8859-6-e": "iso8859-6",
    "csiso88596i": "iso8859-6",
    "csiso88596e": "iso8859-6",
    # "Some 8-bit charset": Latin-1 maps every byte, so nothing is lost.
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "unknown": "latin-1",
    "gb2312": "gb18030",
    "gb_2312": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "x-ms-cp932": "cp932",
    "_iso-2022-jp$esc": "iso2022_jp",  # Outlook's label for ISO-2022-JP
    "csiso2022jp": "iso2022_jp",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "x-mac": "mac-roman",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "cp-1252": "cp1252",
    "win-1252": "cp1252",
    "x-cp1252": "cp1252",
}

# Codecs that are registered as text encodings but are not character sets a
# sender could mean; decoding mail with them would be surprising or unsafe.
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"}
)

# Only plain labels reach the codec registry: it imports modules named after
# the label, so odd names such as ``__init__`` must never get that far.
_LABEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,39}")


def lookup_charset(name: str) -> str | None:
    """Resolve a MIME charset label to a Python codec name, or ``None``.

    Labels are case-insensitive (RFC 2978 section 2.3); common non-registered
    labels are mapped through an alias table, the rest through :mod:`codecs`.
    Only bytes-to-text codecs are returned.  Results are cached.
    """
    if len(name) > 64:  # no real label is this long; keeps the cache small
        return None
    return _lookup_charset(name)


@lru_cache(maxsize=512)
def _lookup_charset(name: str) -> str | None:
    label = name.strip().strip('"').lower()
    label = _CHARSET_ALIASES.get(label, label)
    if not _LABEL_RE.fullmatch(label):
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:
        return None
    return info.name


# -- undeclared 8-bit text -----------------------------------------------------------------------

#: below this many bytes chardet's guesses are noise (a short Latin-1 subject comes
#: back as anything); above it, only a confident guess is taken
_GUESS_MIN = 64
_GUESS_CONFIDENCE = 0.5
#: chardet is pure Python: it reads at most this much of a long body
_GUESS_WINDOW = 1 << 16
#: more cut-off characters than this is not UTF-8 that lost a byte, but another charset
_MAX_CUTS = 8
_CUT_SHORT = frozenset({"invalid continuation byte", "unexpected end of data"})

# Windows-1252 as mail clients (and the WHATWG Encoding Standard) read it: the five
# bytes cp1252 leaves undefined read as their Latin-1 control characters, so every
# byte maps to exactly one character and nothing is replaced.
_CP1252 = "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256))
_FROM_LATIN1 = {b: ch for b, ch in enumerate(_CP1252) if ord(ch) != b}


def decode_8bit(raw: bytes) -> str:
    """Read ``raw`` the way mail clients read undeclared 8-bit text.

    Strict UTF-8 (RFC 6532) first; UTF-8 that is valid except for characters cut
    off (a name truncated mid-character, inside its quotes or at the end) is UTF-8
    with only those characters replaced; a longer text that chardet recognises
    with confidence is read in its charset; anything else is Windows-1252, which
    maps every byte.
    """
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    cut = _utf8_with_cut_characters(raw)
    if cut is not None:
        return cut
    if len(raw) >= _GUESS_MIN:
        guessed = _guess(raw)
        if guessed is not None:
            return guessed
    return raw.decode("latin-1").translate(_FROM_LATIN1)


def _utf8_with_cut_characters(raw: bytes) -> str | None:
    """``raw`` as UTF-8 when its only faults are a few multi-byte characters cut short.

    A lone lead byte is as likely a Latin-1 letter (``caf\xe9``): UTF-8 is taken
    only with evidence, a whole multi-byte character or a cut one of two bytes or more.
    """
    out: list[str] = []
    pos = 0
    evidence = False
    for _ in range(_MAX_CUTS + 1):
        try:
            rest = raw[pos:].decode("utf-8")
        except UnicodeDecodeError as exc:
            start, end = pos + exc.start, pos + exc.end
            if not 0xC2 <= raw[start] <= 0xF4 or exc.reason not in _CUT_SHORT:
                return None  # a byte no UTF-8 writer produces: another charset
            good = raw[pos:start].decode("utf-8")
            evidence = evidence or not good.isascii() or end - start >= 2
            out += (good, "\ufffd")
            pos = end
            continue
        if evidence or not rest.isascii():
            return "".join(out) + rest
        return None
    return None


def _guess(raw: bytes) -> str | None:
    import chardet  # only here: guessing is the last resort, and chardet is slow to import

    found = chardet.detect(raw[:_GUESS_WINDOW])
    label = found.get("encoding")
    if not label or (found.get("confidence") or 0.0) < _GUESS_CONFIDENCE:
        return None
    codec = lookup_charset(label)
    if codec is None or codec in ("utf-8", "ascii"):
        return None
    try:
        return raw.decode(codec)
    except (UnicodeError, LookupError):
        return None
