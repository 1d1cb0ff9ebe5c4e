"""Unit tests of the readers behind the attachment policy: names, TNEF, uuencode, magic."""

from __future__ import annotations

import struct

import pytest

import mimeguard
from mimeguard._attachments import Policy
from mimeguard._filenames import final_extension, saved_names
from mimeguard._magic import executable_kind
from mimeguard._tnef import TnefError, read_tnef
from mimeguard._uu import uu_blocks, uu_head

from .attachment_cases import _attribute, tnef, uuencode


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Invoice.PDF.exe", {"invoice.pdf.exe"}),
        ("evil.exe. . ", {"evil.exe"}),
        ("C:\\Users\\x\\evil.exe", {"evil.exe"}),
        ("a/b/evil.exe", {"evil.exe"}),
        ("evil.exe\x00.pdf", {"evil.exe", "evil.exe.pdf"}),
        ("evil.exe::$DATA", {"evil.exe", "$data"}),
        ("ev\u202eil.exe", {"evil.exe"}),
        ("evil\uff0eexe", {"evil.exe"}),
        ("\uff45\uff56\uff49\uff4c.exe", {"\uff45\uff56\uff49\uff4c.exe", "evil.exe"}),
        ("   ", set()),
    ],
)
def test_saved_names(name: str, expected: set[str]) -> None:
    assert saved_names(name) == expected


@pytest.mark.parametrize(
    ("saved", "ext"),
    [("a.pdf.exe", "exe"), ("statement.example.com.pdf", "pdf"), ("exe", ""), (".exe", "exe")],
)
def test_final_extension(saved: str, ext: str) -> None:
    assert final_extension(saved) == ext


def test_tnef_reads_titles_long_names_and_heads() -> None:
    files = read_tnef(tnef([("A~1.PDF", "a report.pdf", b"%PDF-1"), ("b.exe", None, b"MZ")]))
    assert [f.names for f in files] == [("A~1.PDF", "a report.pdf"), ("b.exe",)]
    assert [f.head[:2] for f in files] == [b"%P", b"MZ"]


def test_tnef_embedded_message_is_read() -> None:
    inner = tnef([("deep.exe", None, b"MZ")])
    iid = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
    obj = iid + inner
    prop = struct.pack("<HHII", 0x000D, 0x3701, 1, len(obj)) + obj + b"\x00" * (-len(obj) % 4)
    stream = (
        b"\x78\x9f\x3e\x22\x01\x00"
        + _attribute(2, 0x00069002, b"\x00" * 14)
        + _attribute(2, 0x00069005, struct.pack("<I", 1) + prop)
    )
    names = [n for f in read_tnef(stream) for n in f.names]
    assert "deep.exe" in names


def test_tnef_named_and_multivalued_properties_are_skipped() -> None:
    guid = b"\x01" * 16
    named = struct.pack("<HH", 0x0003, 0x8001) + guid + struct.pack("<II", 0, 7) + b"\x00" * 4
    multi = struct.pack("<HHI", 0x1003, 0x0E00, 2) + b"\x00" * 8
    name = "x.exe".encode("utf-16-le") + b"\x00\x00"
    long_name = struct.pack("<HHII", 0x001F, 0x3707, 1, len(name)) + name
    props = struct.pack("<I", 3) + named + multi + long_name + b"\x00" * (-len(name) % 4)
    stream = b"\x78\x9f\x3e\x22\x01\x00" + _attribute(2, 0x00069005, props)
    assert read_tnef(stream)[0].names == ("x.exe",)


@pytest.mark.parametrize(
    "stream",
    [
        b"",
        b"not tnef at all",
        b"\x78\x9f\x3e\x22\x01\x00\x02",  # truncated attribute
        b"\x78\x9f\x3e\x22\x01\x00" + b"\x09" + b"\x00" * 10,  # bad level
        tnef([("a.pdf", None, b"x")], break_checksum=True),
        b"\x78\x9f\x3e\x22\x01\x00" + _attribute(2, 0x00069005, struct.pack("<IHH", 1, 0x7777, 1)),
    ],
)
def test_unreadable_tnef_raises_our_error(stream: bytes) -> None:
    with pytest.raises(TnefError):
        read_tnef(stream)


def test_uu_blocks_and_head() -> None:
    data = b"text\r\n" + uuencode(b"a b.exe", b"MZ" * 40) + b"more\r\n"
    ((start, end, name),) = uu_blocks(data)
    assert name == b"a b.exe"
    assert data[end:] == b"more\r\n"
    assert uu_head(data, start, end) == b"MZ" * 40


def test_uu_block_without_end_runs_to_the_end() -> None:
    data = b"begin 644 x.exe\r\nM" + b"A" * 60
    assert uu_blocks(data) == [(0, len(data), b"x.exe")]


@pytest.mark.parametrize(
    ("start", "kind"),
    [
        (b"MZ\x90\x00", "PE"),
        (b"\x7fELF\x02", "ELF"),
        (b"\xcf\xfa\xed\xfe", "Mach-O"),
        (b"\xca\xfe\xba\xbe", "universal"),
        (b"\xef\xbb\xbf#!/bin/sh", "#!"),
        (b"%PDF-1.7", None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None),  # OLE: not judged from the first bytes
    ],
)
def test_executable_kind(start: bytes, kind: str | None) -> None:
    found = executable_kind(start)
    assert (found is None) if kind is None else (found is not None and kind in found)


def test_policy_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Policy([])
    with pytest.raises(ValueError, match="empty pattern"):
        Policy(["  "])
    with pytest.raises(TypeError):
        Policy([3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        mimeguard.strip_attachments(b"", match=[None])  # type: ignore[list-item]


def test_executables_is_a_public_matcher() -> None:
    assert "EXECUTABLES" in mimeguard.__all__
    assert repr(mimeguard.EXECUTABLES) == "EXECUTABLES"
