"""How raw 8-bit text without a declared charset reads: one decision for the whole package.

Header values with raw 8-bit bytes (RFC 5322 allows none; RFC 6532 means UTF-8),
file names, and 8-bit bodies without a usable charset all come through
:func:`decode_8bit`, so a subject, a file name and a repaired header read the
same bytes the same way.
"""

from __future__ import annotations

from ._rfc2047 import lookup_charset

__all__ = ["decode_8bit"]

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
