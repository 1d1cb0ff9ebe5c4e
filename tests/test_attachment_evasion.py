"""The evasion corpus: blocked files hidden the ways mail clients really read them.

Every blocked case must leave no byte of its payload in the output of
``strip_attachments(match=SES_BLOCKED)`` nor of the repairing Editor pipeline; every
harmless look-alike must come through whole.  Each case names the client whose
reading it defends against.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import mimeguard
from mimeguard import SES_BLOCKED, validate

from .attachment_cases import (
    TEXT,
    WITH_MAGIC,
    b64,
    disposition,
    leaks,
    message,
    mixed,
    part,
    payload,
    pipeline,
    strip,
    tnef,
    uuencode,
    with_text,
)

Build = Callable[[bytes], bytes]  # payload -> message


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # the class of evasion, for the counts
    build: Build
    match: tuple[object, ...] = SES_BLOCKED
    #: rule codes validate must report as errors under workmail and ses
    ambiguous: frozenset[str] = frozenset()


CASES: list[Case] = []


def case(
    id: str,
    kind: str,
    build: Build,
    *,
    match: tuple[object, ...] = SES_BLOCKED,
    ambiguous: tuple[str, ...] = (),
) -> None:
    CASES.append(Case(id, kind, build, match, frozenset(ambiguous)))


def cd(params: bytes, ctype: bytes = b"application/octet-stream") -> Build:
    return lambda data: with_text(disposition(params, data, ctype))


def ct(value: bytes, extra: bytes = b"") -> Build:
    return lambda data: with_text(part(b"Content-Type: " + value + extra, data))


# -- names: Content-Disposition filename read by every client ---------------------------------
N = "name"
# Outlook/Windows: only the final extension decides
case("double-extension", N, cd(b'filename="invoice.pdf.exe"'))
# every client: an unquoted token
case("unquoted", N, cd(b"filename=evil.exe"))
# Windows: extensions are case-insensitive
case("upper-case", N, cd(b'filename="EVIL.EXE"'))
# Windows Explorer drops trailing dots
case("trailing-dot", N, cd(b'filename="evil.exe."'))
# Windows drops trailing spaces
case("trailing-spaces", N, cd(b'filename="evil.exe   "'))
# Windows drops trailing dots and spaces together
case("trailing-dots-spaces", N, cd(b'filename="evil.exe. . ."'))
# Thunderbird: an unquoted value with spaces runs to the semicolon
case("unquoted-spaces", N, cd(b"filename=quarterly report.exe"))
# Python stdlib and Outlook: an unterminated quote runs to the end of the field
case("unterminated-quote", N, cd(b'filename="evil.exe'))
# RFC 5322 quoted-pairs (stdlib, Thunderbird) undone
case("quoted-pair", N, cd(b'filename="ev\\il.e\\xe"'))
# Outlook saves the last component of a Windows path
case("windows-path", N, cd(b'filename="..\\\\..\\\\Startup\\\\evil.exe"'))
# mutt and Apple Mail save the last component of a Unix path
case("unix-path", N, cd(b'filename="/tmp/x/evil.exe"'))
# C-string readers (MAPI) cut at NUL: evil.exe
case("nul-cut", N, cd(b'filename="evil.exe\x00.pdf"'))
# readers that delete NUL: evil.pdf.exe
case("nul-deleted", N, cd(b'filename="evil.pdf\x00.exe"'))
# NTFS saves evil.exe for an ::$DATA stream name
case("ntfs-data-stream", N, cd(b'filename="evil.exe::$DATA"'))
# NTFS: a named stream suffix leaves evil.exe
case("ntfs-named-stream", N, cd(b'filename="evil.exe:Zone.Identifier"'))
# Windows Explorer: right-to-left override shows "evilexe.pdf" for evil\u202efdp.exe
case("bidi-override", N, cd(b"filename*=utf-8''evil%E2%80%AEfdp.exe"))
# Windows: an override inside the extension is invisible and dropped
case("bidi-inside-extension", N, cd(b"filename*=utf-8''evil.e%E2%80%ADxe"))
# raw UTF-8 left-to-right mark between dot and extension (RFC 6532 clients)
case("raw-bidi-mark", N, cd('filename="evil.\u200eexe"'.encode()))
# Gmail and Outlook drop zero-width characters
case("zero-width", N, cd(b"filename*=utf-8''evil.e%E2%80%8Bxe"))
# macOS folds a full-width dot (NFKC)
case("full-width-dot", N, cd(b"filename*=utf-8''evil%EF%BC%8Eexe"))
# macOS/NFKC folds full-width letters
case("full-width-letters", N, cd(b"filename*=utf-8''evil.%EF%BD%85%EF%BD%98%EF%BD%85"))
# Windows refuses control characters: they are deleted
case("control-char", N, cd(b'filename="evil.e\x01xe"'))
# a tab inside the name is deleted by Windows
case("tab-in-name", N, cd(b'filename="evil.ex\te"'))
# RFC 822 comment after the value (stdlib drops it)
case("comment-after", N, cd(b"filename=evil.exe (holiday photos)"))
# RFC 822 comment before the value
case("comment-before", N, cd(b"filename=(photos)evil.exe"))
# lenient parsers: spaces around "="
case("spaces-around-equals", N, cd(b'filename = "evil.exe"'))
# parameter names are case-insensitive (RFC 2045 section 5.1)
case("upper-param-name", N, cd(b'FILENAME="evil.exe"'))
# a whitespace-only folded line inside the field
case("blank-fold", N, cd(b"\r\n \r\n filename=evil.exe"))
# the value folded in the middle of a quoted string
case("folded-value", N, cd(b'filename="evil\r\n .exe"'))

# -- RFC 2231 ----------------------------------------------------------------------------------
R = "rfc2231"
# Thunderbird, Apple Mail, Gmail: filename*
case("ext-value", R, cd(b"filename*=utf-8''evil.exe"))
# percent-encoded dot
case("ext-percent-dot", R, cd(b"filename*=UTF-8''evil%2Eexe"))
# lower-case %xx
case("ext-lower-hex", R, cd(b"filename*=utf-8''evil%2eexe"))
# a language tag
case("ext-language", R, cd(b"filename*=iso-8859-1'en-us'evil.exe"))
# UTF-7 ("." is +AC4-), decoded by Outlook
case("ext-utf7", R, cd(b"filename*=utf-7''evil+AC4-exe"))
# Thunderbird reads a quoted extended value
case("ext-quoted", R, cd(b"filename*=\"utf-8''evil.exe\""))
# continuations in order
case("continuation", R, cd(b'filename*0="evil"; filename*1=".exe"'))
# continuations out of order (RFC 2231 orders by number)
case("continuation-out-of-order", R, cd(b'filename*1=".exe"; filename*0="evil"'))
# leading zeros in section numbers (lenient parsers)
case("continuation-leading-zeros", R, cd(b'filename*00="evil"; filename*01=".exe"'))
# a gap in the sections: the stdlib joins what is there
case("continuation-gap", R, cd(b'filename*0="evil"; filename*2=".exe"'))
# only section 1
case("continuation-only-one", R, cd(b'filename*1="evil.exe"'))
# extended continuations
case("continuation-extended", R, cd(b"filename*0*=utf-8''evil; filename*1*=%2Eexe"))
# an unknown charset: clients fall back to UTF-8 or Latin-1
case("ext-unknown-charset", R, cd(b"filename*=x-no-such-charset''evil.exe"))
# the extension in section 70: the readings once joined only the first 64 sections
_MANY = b"".join(b";\r\n filename*%d=a" % i for i in range(1, 70))
case("continuation-past-64", R, cd(b"filename*0=evil" + _MANY + b';\r\n filename*70=".exe"'))
# the same, extended, written backwards, with the dot percent-encoded
_BACK = b"".join(b";\r\n filename*%d*=a" % i for i in range(69, 0, -1))
case(
    "continuation-past-64-backwards",
    R,
    cd(b"filename*70*=%2Eexe" + _BACK + b";\r\n filename*0*=utf-8''evil"),
)
# Thunderbird/Apple prefer filename* (harmless filename shown by Outlook)
case(
    "star-wins",
    R,
    cd(b"filename=\"report.pdf\"; filename*=utf-8''evil.exe"),
    ambiguous=("MG330",),
)
# Outlook reads plain filename (harmless filename* shown by Thunderbird)
case(
    "plain-wins",
    R,
    cd(b"filename*=utf-8''report.pdf; filename=\"evil.exe\""),
    ambiguous=("MG330",),
)
# an empty filename* makes readers fall back to filename
case("empty-star", R, cd(b'filename*=""; filename=evil.exe'))
# an RFC 2047 word inside an RFC 2231 continuation
case("rfc2047-in-2231", R, cd(b'filename*0="evil"; filename*1="=?utf-8?q?=2Eexe?="'))
# letters percent-encoded too
case("ext-encoded-letters", R, cd(b"filename*=utf-8''%65vil.%45XE"))

# -- RFC 2047 ----------------------------------------------------------------------------------
W = "rfc2047"
# Outlook, Gmail: a B word as the whole name
case("b-word", W, cd(b'filename="=?utf-8?B?ZXZpbC5leGU=?="'))
# a Q word
case("q-word", W, cd(b'filename="=?utf-8?Q?evil=2Eexe?="'))
# split over two words (space between words is dropped, RFC 2047 section 6.2)
case("split-words", W, cd(b'filename="=?utf-8?Q?evil?= =?utf-8?Q?.exe?="'))
# unquoted word
case("unquoted-word", W, cd(b"filename==?utf-8?B?ZXZpbC5leGU=?="))
# a word glued to plain text
case("glued-word", W, cd(b'filename="evil=?utf-8?Q?.exe?="'))
# an unknown charset (clients fall back)
case("unknown-charset-word", W, cd(b'filename="=?x-unknown?Q?evil.exe?="'))
# B without padding
case("b-unpadded", W, cd(b'filename="=?utf-8?B?ZXZpbC5leGU?="'))
# ISO-8859-1 Q word with an accented letter
case("latin1-word", W, cd(b'filename="=?iso-8859-1?Q?=E9vil.exe?="'))
# a word in the Content-Type name
case("word-in-name", W, ct(b'application/octet-stream; name="=?utf-8?B?ZXZpbC5leGU=?="'))
# a word with a language suffix (RFC 2231 section 5)
case("word-language", W, cd(b'filename="=?utf-8*en?Q?evil.exe?="'))

# -- where the name sits: other parameters, repeated parameters and fields ---------------------
P = "placement"
# Outlook: Content-Type name
case("ct-name", P, ct(b'application/octet-stream; name="evil.exe"'))
# Content-Type name*
case("ct-name-star", P, ct(b"application/octet-stream; name*=utf-8''evil.exe"))
# Lotus Notes: filename on Content-Type
case("ct-filename", P, ct(b'application/octet-stream; filename="evil.exe"'))
# webmail: name on Content-Disposition
case("cd-name", P, cd(b'name="evil.exe"'))
# first-wins parsers (stdlib get_param)
case("repeated-first", P, cd(b'filename="evil.exe"; filename="a.pdf"'), ambiguous=("MG330",))
# last-wins parsers
case("repeated-last", P, cd(b'filename="a.pdf"; filename="evil.exe"'), ambiguous=("MG330",))
# two Content-Disposition fields, the first names the file (first-wins)
case(
    "two-dispositions-first",
    P,
    lambda d: with_text(
        part(
            b"Content-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="evil.exe"\r\n'
            b'Content-Disposition: attachment; filename="a.pdf"',
            d,
        )
    ),
    ambiguous=("MG330",),
)
# two Content-Disposition fields, the last names the file (last-wins)
case(
    "two-dispositions-last",
    P,
    lambda d: with_text(
        part(
            b"Content-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="a.pdf"\r\n'
            b'Content-Disposition: attachment; filename="evil.exe"',
            d,
        )
    ),
    ambiguous=("MG330",),
)
# two Content-Type fields with different types and names
case(
    "two-content-types",
    P,
    lambda d: with_text(
        part(
            b'Content-Type: application/pdf; name="a.pdf"\r\n'
            b'Content-Type: application/x-msdownload; name="evil.exe"',
            d,
        )
    ),
    ambiguous=("MG330", "MG331"),
)
# Content-Type name harmless, Content-Disposition filename blocked
case(
    "name-vs-filename",
    P,
    lambda d: with_text(
        part(
            b'Content-Type: application/pdf; name="a.pdf"\r\n'
            b'Content-Disposition: attachment; filename="evil.exe"',
            d,
        )
    ),
    ambiguous=("MG330",),
)
# Outlook may prefer name: name blocked, filename harmless
case(
    "filename-vs-name",
    P,
    lambda d: with_text(
        part(
            b'Content-Type: application/pdf; name="evil.exe"\r\n'
            b'Content-Disposition: attachment; filename="a.pdf"',
            d,
        )
    ),
    ambiguous=("MG330",),
)
# naive regex readers find a filename inside another parameter's quoted value
case("inside-other-param", P, cd(b'x-note="; filename=evil.exe"; filename="a.pdf"'))
# RFC 6532 clients: raw UTF-8 in the name
case("raw-utf8", P, cd('filename="évil.exe"'.encode()))
# raw Latin-1 bytes in the name
case("raw-latin1", P, cd(b'filename="\xe9vil.exe"'))

# -- which leaves are attachments --------------------------------------------------------------
L = "leaf"
# Apple Mail sends every attachment inline, even text
case(
    "text-inline-filename",
    L,
    lambda d: with_text(
        part(
            b"Content-Type: text/plain\r\nContent-Disposition: inline; filename=run.bat",
            d,
            b"7bit",
        )
    ),
)
# Apple Mail: text/html inline with a name
case(
    "html-inline-filename",
    L,
    lambda d: with_text(
        part(b"Content-Type: text/html\r\nContent-Disposition: inline; filename=x.hta", d)
    ),
)
# every client: the blocked file as the first body part
case(
    "first-part",
    L,
    lambda d: message(mixed(part(b'Content-Type: text/plain; name="evil.js"', d), TEXT)),
)
# Outlook: an inline image in multipart/related with a blocked name
case(
    "related-image",
    L,
    lambda d: message(
        mixed(
            part(b"Content-Type: text/html\r\n", b"<img src='cid:x'>", b"7bit"),
            part(
                b"Content-Type: image/png\r\nContent-ID: <x>\r\n"
                b"Content-Disposition: inline; filename=evil.scr",
                d,
            ),
            subtype=b"related",
        )
    ),
)
# Gmail shows a named part inside multipart/alternative
case(
    "alternative",
    L,
    lambda d: message(
        mixed(TEXT, part(b'Content-Type: text/html; name="evil.hta"', d), subtype=b"alternative")
    ),
)
# Thunderbird shows attachments of a signed message
case(
    "signed",
    L,
    lambda d: message(
        mixed(
            mixed(TEXT, disposition(b'filename="evil.exe"', d), boundary=b"inner"),
            part(b"Content-Type: application/pkcs7-signature", b"SIG"),
            subtype=b'signed; protocol="application/pkcs7-signature"; micalg=sha-256',
        )
    ),
)
# the whole message is the file
case(
    "root-leaf",
    L,
    lambda d: message(part(b'Content-Type: application/octet-stream; name="evil.exe"', d)),
)
# Outlook: text/plain with a name and no disposition is an attachment
case("text-with-name", L, ct(b'text/plain; name="evil.js"'))
# inline disposition without a name, the name on Content-Type
case(
    "inline-ct-name",
    L,
    lambda d: with_text(
        part(b'Content-Type: text/plain; name="evil.vbs"\r\nContent-Disposition: inline', d)
    ),
)
# Apple Mail and Outlook name an unnamed part from its Content-Location
case(
    "content-location",
    L,
    lambda d: with_text(
        part(b"Content-Type: application/octet-stream\r\nContent-Location: http://x/a/evil.exe", d)
    ),
)
# the same, percent-encoded and with a query
case(
    "content-location-encoded",
    L,
    lambda d: with_text(
        part(b"Content-Type: image/gif\r\nContent-Location: <cid/evil%2Escr?x=1>", d)
    ),
)
# multipart/digest: a child without Content-Type is a message
case(
    "digest",
    L,
    lambda d: message(
        mixed(
            b"\r\n" + message(mixed(disposition(b"filename=evil.exe", d), boundary=b"in")),
            subtype=b"digest",
        )
    ),
)


# -- containers --------------------------------------------------------------------------------
C = "container"


def attached(inner: bytes, ctype: bytes = b"message/rfc822") -> bytes:
    return b"Content-Type: " + ctype + b"\r\n\r\n" + inner


def inner_message(d: bytes, boundary: bytes = b"in1") -> bytes:
    return message(mixed(TEXT, disposition(b'filename="evil.exe"', d), boundary=boundary))


# every client opens an attached message
case("rfc822", C, lambda d: with_text(attached(inner_message(d))))
# three levels deep
case(
    "rfc822-deep",
    C,
    lambda d: with_text(
        attached(
            message(
                mixed(
                    attached(message(mixed(attached(inner_message(d, b"l3")), boundary=b"l2"))),
                    boundary=b"l1",
                )
            )
        )
    ),
)
# Outlook and Gmail decode a base64 message/rfc822 (RFC 2046 forbids it)
case(
    "rfc822-base64",
    C,
    lambda d: with_text(
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(inner_message(d))
    ),
)
# message/global (RFC 6532)
case("global", C, lambda d: with_text(attached(inner_message(d), b"message/global")))
# message/news is read as a message
case("news", C, lambda d: with_text(attached(inner_message(d), b"message/news")))
# a complete message inside message/partial
case(
    "partial",
    C,
    lambda d: with_text(
        attached(inner_message(d), b'message/partial; id="p1@example.com"; number=1; total=1')
    ),
)
# Outlook Express: a uuencoded block inside a 7bit text body
case(
    "uu-in-text",
    C,
    lambda d: message(
        part(b"Content-Type: text/plain", b"Hi\r\n" + uuencode(b"evil.exe", d), b"7bit")
    ),
)
# the same inside a quoted-printable body
case(
    "uu-in-qp-text",
    C,
    lambda d: with_text(
        part(
            b"Content-Type: text/plain", b"See:\r\n" + uuencode(b"evil.exe", d), b"quoted-printable"
        )
    ),
)
# the same inside a base64 text body
case(
    "uu-in-base64-text",
    C,
    lambda d: with_text(
        part(b"Content-Type: text/plain; charset=utf-8", b"See:\r\n" + uuencode(b"evil.exe", d))
    ),
)
# an x-uuencode part named only in its begin line
case(
    "x-uuencode",
    C,
    lambda d: with_text(
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode"
        b"\r\n\r\n" + uuencode(b"evil.exe", d)
    ),
)
# a uuencoded block whose name is a path
case(
    "uu-path-name",
    C,
    lambda d: message(
        part(b"Content-Type: text/plain", uuencode(b"C:\\tmp\\evil.exe", d), b"7bit")
    ),
)
# Outlook unpacks TNEF: the title names the file
case(
    "tnef-title",
    C,
    lambda d: with_text(
        part(
            b'Content-Type: application/ms-tnef; name="winmail.dat"', tnef([("evil.exe", None, d)])
        )
    ),
)
# TNEF: an 8.3 title and a blocked long file name (PR_ATTACH_LONG_FILENAME)
case(
    "tnef-long-name",
    C,
    lambda d: with_text(
        part(
            b"Content-Type: application/vnd.ms-tnef", tnef([("REPORT~1.PDF", "report.pdf.exe", d)])
        )
    ),
)
# an unreadable TNEF stream is removed (fail closed)
case(
    "tnef-unreadable",
    C,
    lambda d: with_text(
        part(b"Content-Type: application/ms-tnef", tnef([("a.pdf", None, d)], break_checksum=True))
    ),
)
# winmail.dat labelled octet-stream still unpacks in Outlook
case(
    "tnef-octet-stream",
    C,
    lambda d: with_text(disposition(b'filename="winmail.dat"', tnef([("evil.exe", None, d)]))),
)

# -- MIME structure outside the delimiters ------------------------------------------------------
S = "structure"


def _entity(d: bytes) -> bytes:
    return part(b'Content-Type: application/x-msdownload; name="evil.exe"', d)


# webmail that parses the preamble as a part
case(
    "preamble-entity",
    S,
    lambda d: message(
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        + _entity(d)
        + b"\r\n--outer\r\n"
        + TEXT
        + b"\r\n--outer--\r\n"
    ),
    ambiguous=("MG333",),
)
# readers that go on after the close delimiter
case(
    "after-close",
    S,
    lambda d: message(
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n'
        + TEXT
        + b"\r\n--outer--\r\n--outer\r\n"
        + _entity(d)
        + b"\r\n--outer--\r\n"
    ),
    ambiguous=("MG334",),
)
# last-wins readers split at the second boundary
case(
    "second-boundary",
    S,
    lambda d: message(
        b'Content-Type: multipart/mixed; boundary="outer"; boundary="other"\r\n\r\n'
        b"--outer\r\n" + TEXT + b"\r\n--other\r\n" + _entity(d) + b"\r\n--other--\r\n"
        b"--outer--\r\n"
    ),
    ambiguous=("MG335",),
)
# nesting-aware readers see the inner multipart's parts, flat readers see an epilogue
case(
    "reused-boundary",
    S,
    lambda d: message(
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n'
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n'
        + TEXT
        + b"\r\n--outer--\r\n--outer\r\n"
        + _entity(d)
        + b"\r\n--outer--\r\n"
    ),
    ambiguous=("MG334",),
)
# a uuencoded file in the epilogue
case(
    "uu-in-epilogue",
    S,
    lambda d: message(
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n'
        + TEXT
        + b"\r\n--outer--\r\n"
        + uuencode(b"evil.exe", d)
    ),
    ambiguous=("MG334",),
)

# -- content: renamed executables (EXECUTABLES preset) -----------------------------------------
X = "content"
# a PE renamed to .pdf runs when renamed back (or opened by a handler)
case("pe-as-pdf", X, cd(b'filename="report.pdf"'), match=WITH_MAGIC)
# an ELF called data.txt
case(
    "elf-as-txt",
    X,
    lambda d: with_text(disposition(b'filename="data.txt"', b"\x7fELF" + d[2:])),
    match=WITH_MAGIC,
)
# a Mach-O universal binary called x.bin
case(
    "macho-fat",
    X,
    lambda d: with_text(disposition(b'filename="x.bin"', b"\xca\xfe\xba\xbe" + d[2:])),
    match=WITH_MAGIC,
)
# a shell script called notes.txt
case(
    "shebang",
    X,
    lambda d: with_text(disposition(b'filename="notes.txt"', b"#!/bin/sh\n" + d[2:])),
    match=WITH_MAGIC,
)
# a PE with no name at all
case("pe-unnamed", X, ct(b"application/octet-stream"), match=WITH_MAGIC)
# a 64-bit Mach-O as an image
case(
    "macho-64",
    X,
    lambda d: with_text(
        part(
            b"Content-Type: image/png\r\nContent-Disposition: inline; filename=a.png",
            b"\xcf\xfa\xed\xfe" + d[2:],
        )
    ),
    match=WITH_MAGIC,
)
# a PE inside TNEF under a harmless name
case(
    "tnef-pe",
    X,
    lambda d: with_text(part(b"Content-Type: application/ms-tnef", tnef([("a.pdf", None, d)]))),
    match=WITH_MAGIC,
)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_blocked_payload_never_leaves(c: Case) -> None:
    marker = f"EVIL-{c.id}-MARK"
    data = c.build(payload(marker))
    before = leaks(data, marker)
    assert before, "the case must hold its payload"
    for out in (strip(data, c.match), pipeline(data, c.match)):
        assert leaks(out, marker) == [], out[:3000]
        mimeguard.parse(out)  # the output is a message


@pytest.mark.parametrize("c", [c for c in CASES if c.ambiguous], ids=lambda c: c.id)
@pytest.mark.parametrize("profile", ["workmail", "ses"])
def test_ambiguity_is_an_error(c: Case, profile: str) -> None:
    data = c.build(payload(f"EVIL-{c.id}"))
    errors = {f.code for f in validate(data, profile=profile).findings if f.severity == "error"}
    assert c.ambiguous <= errors


def test_corpus_size_per_class() -> None:
    counts = Counter(c.kind for c in CASES)
    assert sum(counts.values()) >= 80
    assert set(counts) == {N, R, W, P, L, C, S, X}


# -- harmless look-alikes: kept whole --------------------------------------------------------


def _pdf(marker: str) -> bytes:
    return b"%PDF-1.7\r\n" + (b" " + marker.encode()) * 8 + b"\r\n"


HARMLESS: list[tuple[str, Build]] = [
    # "exe" inside a word
    ("executive-summary", cd(b'filename="executive-summary.pdf"')),
    # "exe" at the end of a word
    ("annexe", cd(b'filename="annexe.docx"')),
    # a .txt labelled octet-stream
    ("txt-octet-stream", cd(b'filename="readme.txt"')),
    # a .com domain inside a PDF's name
    ("com-domain", cd(b'filename="invoice-example.com.pdf"')),
    # a domain-like name that ends in .pdf
    ("statement-domain", cd(b'filename="statement.example.com.pdf"')),
    # an inner .tmp before the final extension
    ("tmp-docx", cd(b'filename="report.tmp.docx"')),
    # a blocked extension before a harmless final one
    ("exe-then-txt", cd(b'filename="setup.exe.txt"')),
    # a stem that is an extension
    ("exe-stem", cd(b'filename="exe.pdf"')),
    # RFC 2231 with a non-ASCII name
    ("euro-2231", cd(b"filename*=utf-8''%E2%82%AC-report.pdf")),
    # RFC 2047 with an umlaut
    ("umlaut-2047", cd(b'filename="=?utf-8?Q?=C3=9Cbersicht.pdf?="')),
    # an inline image in multipart/related
    (
        "related-image",
        lambda d: message(
            mixed(
                part(b"Content-Type: text/html", b"<img src='cid:logo'>", b"7bit"),
                part(
                    b"Content-Type: image/png\r\nContent-ID: <logo>\r\n"
                    b"Content-Disposition: inline; filename=logo.png",
                    d,
                ),
                subtype=b"related",
            )
        ),
    ),
    # a signed mail with a PDF
    (
        "signed-pdf",
        lambda d: message(
            mixed(
                mixed(TEXT, disposition(b'filename="contract.pdf"', d), boundary=b"inner"),
                part(b"Content-Type: application/pkcs7-signature", b"SIG"),
                subtype=b'signed; protocol="application/pkcs7-signature"; micalg=sha-256',
            )
        ),
    ),
    # an attached message holding a text file
    (
        "rfc822-text",
        lambda d: with_text(
            b"Content-Type: message/rfc822\r\n\r\n"
            + message(mixed(TEXT, disposition(b'filename="notes.txt"', d), boundary=b"in"))
        ),
    ),
    # a uuencoded text file in the body
    (
        "uu-text-file",
        lambda d: message(
            part(b"Content-Type: text/plain", b"Notes:\r\n" + uuencode(b"notes.txt", d), b"7bit")
        ),
    ),
    # TNEF holding a PDF
    (
        "tnef-pdf",
        lambda d: with_text(part(b"Content-Type: application/ms-tnef", tnef([("a.pdf", None, d)]))),
    ),
    # an HTML body with a Content-Location is shown, not saved
    (
        "html-location",
        lambda d: message(
            part(b"Content-Type: text/html\r\nContent-Location: http://x/page.asp", d, b"7bit")
        ),
    ),
    # the usual preamble
    (
        "usual-preamble",
        lambda d: message(
            b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
            b"This is a multi-part message in MIME format.\r\n--outer\r\n"
            + TEXT
            + b"\r\n--outer\r\n"
            + disposition(b'filename="a.pdf"', d)
            + b"\r\n--outer--\r\n"
        ),
    ),
    # a colon in a harmless name
    ("colon-name", cd(b'filename="Meeting: notes.pdf"')),
]


@pytest.mark.parametrize(("name", "build"), HARMLESS, ids=[h[0] for h in HARMLESS])
def test_harmless_look_alike_is_kept(name: str, build: Build) -> None:
    marker = f"KEEP-{name}-MARK"
    data = build(_pdf(marker))
    for out in (strip(data, WITH_MAGIC), pipeline(data, WITH_MAGIC)):
        assert leaks(out, marker), out[:3000]


def test_exe_mentioned_in_body_text_is_kept() -> None:
    data = message(part(b"Content-Type: text/plain", b"Run setup.exe, then evil.bat.\r\n", b"7bit"))
    assert mimeguard.strip_attachments(data, match=WITH_MAGIC) == data


def test_harmless_count() -> None:
    assert len(HARMLESS) + 1 >= 15


def test_changes_name_what_was_removed() -> None:
    data = with_text(
        part(b"Content-Type: text/plain", b"x\r\n" + uuencode(b"a.exe", b"MZ"), b"7bit")
    )
    result = mimeguard.Editor(data).strip_attachments(match=SES_BLOCKED).result()
    assert [c.kind for c in result.changes] == ["removed"]
    assert "uuencoded a.exe" in result.changes[0].detail


def test_refused_result_carries_the_stripped_message() -> None:
    # two different From fields: repair cannot choose, so the result is refused
    data = (
        b"From: a@example.com\r\nFrom: b@example.com\r\n"
        + HEAD_NO_FROM
        + mixed(TEXT, disposition(b"filename=evil.exe", payload("EVIL-refused")))
    )
    with pytest.raises(mimeguard.InvalidMessageError) as info:
        mimeguard.Editor(data, repair=True).strip_attachments(match=SES_BLOCKED).result()
    result = info.value.result
    assert result is not None
    assert [c for c in result.changes if c.kind == "removed"]
    assert leaks(result.data, "EVIL-refused") == []


HEAD_NO_FROM = (
    b"To: Bob Example <bob@example.org>\r\nSubject: Documents\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <2@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
)


def test_pdf_magic_is_not_an_executable() -> None:
    data = with_text(disposition(b'filename="a.pdf"', _pdf("PDF")))
    assert mimeguard.strip_attachments(data, match=[mimeguard.EXECUTABLES]) == data


def test_b64_helper_matches_message_encoding() -> None:
    assert base64.b64decode(b64(b"abc")) == b"abc"


# -- limits: padding, many readings, hostile sizes ---------------------------------------------


def test_name_after_long_padding_is_read() -> None:
    # a name pushed past any fixed read window by a long harmless parameter
    data = with_text(
        disposition(b'x-pad="' + b"A" * 20_000 + b'"; filename="evil.exe"', payload("EVIL-pad"))
    )
    assert leaks(strip(data), "EVIL-pad") == []


def test_too_many_readings_fail_closed() -> None:
    # 300 harmless names, then the blocked one a last-wins parser reads
    params = b"; ".join(b'filename="a%d.pdf"' % i for i in range(300)) + b'; filename="evil.exe"'
    data = with_text(disposition(params, payload("EVIL-many")))
    assert leaks(strip(data), "EVIL-many") == []
    # the same number of readings does not block a part under a type-only policy
    kept = with_text(disposition(params.replace(b"evil.exe", b"b.pdf"), payload("KEEP-many")))
    assert leaks(strip(kept, ("image/*",)), "KEEP-many")


def test_too_many_sections_fail_closed() -> None:
    # past MAX_SECTIONS distinct sections the readings stop joining: the name cannot be
    # judged, so a name policy removes the part (the ".exe" is in the last section)
    from mimeguard._filenames import MAX_SECTIONS

    many = b"".join(b";\r\n filename*%d=a" % i for i in range(1, MAX_SECTIONS + 5))
    params = b"filename*0=evil" + many + b';\r\n filename*%d=".exe"' % (MAX_SECTIONS + 5)
    data = with_text(disposition(params, payload("EVIL-sections")))
    assert leaks(strip(data), "EVIL-sections") == []
    result = mimeguard.Editor(data).strip_attachments(match=["*.exe"]).result()
    assert any("cannot be judged" in c.detail for c in result.changes)
    # a type-only policy does not judge names: the part stays
    kept = with_text(disposition(params.replace(b".exe", b".pdf"), payload("KEEP-sections")))
    assert leaks(strip(kept, ("image/*",)), "KEEP-sections")


@pytest.mark.parametrize(
    "value",
    [
        b"=?a?q?" * 40_000,
        b"=?utf-8?q?a?=" * 20_000,
        b"(" * 100_000,
        b'"' + b"\\a" * 100_000,
        b"filename*" + b"*1" * 50_000 + b"=x",
        b"; ".join(b"filename*%d*=%%41" % i for i in range(20_000)),
    ],
    ids=["open-words", "many-words", "comments", "quoted-pairs", "stars", "sections"],
)
def test_hostile_parameter_lists_finish(value: bytes) -> None:
    data = with_text(disposition(b"filename=" + value, payload("EVIL-hostile")))
    out = strip(data)
    mimeguard.parse(out)


def test_trailing_separator_is_dropped() -> None:
    # tools that drop a trailing path separator save "evil.exe/" as evil.exe
    data = with_text(disposition(b'filename="evil.exe/"', payload("EVIL-slash")))
    assert leaks(strip(data), "EVIL-slash") == []


def test_unnamed_uuencoded_block_is_judged_by_content() -> None:
    kept = message(part(b"Content-Type: text/plain", uuencode(b"", _pdf("KEEP-uu")), b"7bit"))
    assert leaks(strip(kept, WITH_MAGIC), "KEEP-uu")
    gone = message(part(b"Content-Type: text/plain", uuencode(b"", payload("EVIL-uu")), b"7bit"))
    assert leaks(strip(gone, WITH_MAGIC), "EVIL-uu") == []
