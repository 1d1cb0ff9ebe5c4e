"""Apache mime4j's expected results as an oracle, and how mimeguard, the stdlib and
flanker agree with them.

    PYTHONPATH=. python -m benchmarks.mime4j

``../shared/corpus-expected/mime4j/`` holds, for each mime4j message of
``../shared/corpus/mime4j/``, mime4j's parse tree (``NAME_decoded.xml``: header
fields as raw text, multiparts with preamble and epilogue, attached messages) and
each leaf's decoded body (``NAME_decoded_1_2.txt``/``.bin`` for the part at 1.2).
:func:`expectations` reads them into :class:`Entity` trees; :func:`table` compares
five readings a mail client shows with each library's.

Expected values for fields come from mime4j's raw field text, decoded the same way
for every library: RFC 2047 words by ``email.header.decode_header`` (each word's
bytes in its charset, through mimeguard's charset table), addresses by
``email.utils.getaddresses``, file names by the compat32 ``get_filename``.  Those
are the stdlib's legacy helpers, not the ``policy.default`` parser being measured,
but the reference leans towards the stdlib's reading where the two differ.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.policy
import email.utils
import logging
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mimeguard
from mimeguard._rfc2047 import lookup_charset

__all__ = ["Entity", "expectations", "table"]

HERE = Path(__file__).resolve().parent
EXPECTED = HERE.parent.parent / "shared" / "corpus-expected" / "mime4j"
CORPUS = HERE.parent.parent / "shared" / "corpus" / "mime4j"
#: expectation folder -> message folder
FOLDERS = {"testmsgs": CORPUS, "mimetools": CORPUS / "mimetools"}


@dataclass
class Entity:
    """One entity of mime4j's tree: ``kind`` is ``multipart``, ``message`` (its body is
    an attached message) or ``leaf``; ``path`` is mimeguard's dotted path."""

    path: str
    fields: list[str]
    kind: str
    children: list[Entity] = field(default_factory=list)
    preamble: str | None = None
    epilogue: str | None = None
    #: the decoded body of a leaf, and whether mime4j read it as text
    body: bytes | None = None
    text: bool = False

    def walk(self) -> Iterator[Entity]:
        yield self
        for c in self.children:
            yield from c.walk()

    def field(self, name: str) -> str | None:
        for f in self.fields:
            n, _, v = f.partition(":")
            if n.strip().lower() == name:
                return v
        return None


def _xml(path: Path) -> ET.Element:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return ET.fromstring(text)


def _field_text(text: str | None) -> str:
    """A field as mime4j recorded it: its raw lines, line breaks as LF, last one dropped."""
    text = (text or "").replace("\r\n", "\n")
    return text[1:] if text.startswith("\n") else text


def _entity(node: ET.Element, path: str, folder: Path) -> Entity:
    header = node.find("header")
    fields = [_field_text(f.text) for f in (header.findall("field") if header is not None else [])]
    multipart = node.find("multipart")
    inner = node.find("message")
    if multipart is not None:
        ent = Entity(path, fields, "multipart")
        pre, epi = multipart.find("preamble"), multipart.find("epilogue")
        ent.preamble = None if pre is None else _field_text(pre.text)
        ent.epilogue = None if epi is None else _field_text(epi.text)
        for i, child in enumerate(multipart.findall("body-part"), 1):
            ent.children.append(_entity(child, f"{path}.{i}" if path else str(i), folder))
        return ent
    if inner is not None:
        ent = Entity(path, fields, "message")
        ent.children.append(_entity(inner, f"{path}.1" if path else "1", folder))
        return ent
    ent = Entity(path, fields, "leaf")
    for tag, is_text in (("text-body", True), ("binary-body", False)):
        body = node.find(tag)
        if body is not None:
            ent.body = (folder / body.attrib["name"]).read_bytes()
            ent.text = is_text
    return ent


def expectations() -> dict[str, tuple[Path, Entity]]:
    """``folder/NAME`` -> (the message file, mime4j's tree); empty without the corpus."""
    out: dict[str, tuple[Path, Entity]] = {}
    for sub, messages in FOLDERS.items():
        folder = EXPECTED / sub
        if not folder.is_dir():
            continue
        for xml in sorted(folder.glob("*_decoded.xml")):
            name = xml.name[: -len("_decoded.xml")]
            msg = messages / f"{name}.msg"
            if msg.is_file():
                out[f"{sub}/{name}"] = (msg, _entity(_xml(xml), "", folder))
    return out


# -- the reference readings ----------------------------------------------------------------


def _squash(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


def _decode_2047(value: str) -> str:
    out = []
    for chunk, charset in email.header.decode_header(value):
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            codec = lookup_charset(charset) if charset else None
            out.append(chunk.decode(codec or "latin-1", "replace"))
    return "".join(out)


def expected_subject(ent: Entity) -> str | None:
    raw = ent.field("subject")
    return None if raw is None else _squash(_decode_2047(raw))


def expected_from(ent: Entity) -> tuple[str, ...] | None:
    raw = ent.field("from")
    if raw is None:
        return None
    return tuple(a.lower() for _, a in email.utils.getaddresses([raw]) if a)


def expected_filename(ent: Entity) -> str | None:
    name = _headers(ent).get_filename()
    return None if name is None else _squash(_decode_2047(name))


def _headers(ent: Entity) -> email.message.Message:
    msg = email.message.Message()
    for f in ent.fields:
        name, _, value = f.partition(":")
        msg[name.strip()] = value.replace("\n", "").strip()
    return msg


def _is_shown(ent: Entity, subtype: str) -> bool:
    ctype = _headers(ent).get_content_type()  # RFC 2045 section 5.2 defaults included
    disposition = (ent.field("content-disposition") or "").split(";")[0].strip().lower()
    return ctype == f"text/{subtype}" and disposition != "attachment" and ent.text


def _body_text(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip()


def _charset(ent: Entity) -> str | None:
    """The codec of the charset mime4j's Content-Type field declares, if any."""
    label = _headers(ent).get_content_charset()
    return lookup_charset(label) if label else None


def expected_text(ent: Entity) -> str:
    """mime4j's decoded bytes (its ``.txt`` files are not converted from the charset)
    read in the declared charset; without one, 8-bit bytes are unknowable and every
    library's reading of them is taken (see :func:`_unknowable`)."""
    data = ent.body or b""
    codec = _charset(ent)
    if codec is None or codec == "ascii":
        return _body_text(data.decode("ascii", "replace"))
    return _body_text(data.decode(codec, "replace"))


def _unknowable(text: str) -> str:
    return "".join(c if c.isascii() else "\ufffd" for c in text)


# -- each library's readings ---------------------------------------------------------------


class Reading:
    """What one library shows for a message: a function per aspect and part path."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def subject(self) -> str | None:
        raise NotImplementedError

    def from_(self) -> tuple[str, ...] | None:
        raise NotImplementedError

    def filenames(self) -> list[str | None]:
        """File names of the leaves in document order."""
        raise NotImplementedError

    def bodies(self, subtype: str) -> list[str]:
        """Decoded text of the leaves of text/``subtype`` that are not attachments."""
        raise NotImplementedError


class MimeguardReading(Reading):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.msg = mimeguard.parse(data)

    def subject(self) -> str | None:
        f = self.msg.header("subject")
        return None if f is None else _squash(f.decoded)

    def from_(self) -> tuple[str, ...] | None:
        f = self.msg.header("from")
        if f is None:
            return None
        from mimeguard._address import parse_address_list

        return tuple(a.addr_spec.lower() for a in parse_address_list(f.value).mailboxes)

    def leaves(self) -> list[mimeguard.Part]:
        return [p for p in self.msg.walk() if not p.children and not p.is_multipart]

    def filenames(self) -> list[str | None]:
        return [_squash(p.filename) for p in self.leaves()]

    def bodies(self, subtype: str) -> list[str]:
        return [
            _body_text(p.text())
            for p in self.leaves()
            if p.mime_type == f"text/{subtype}" and p.disposition != "attachment"
        ]


class StdlibReading(Reading):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.msg: Any = email.message_from_bytes(data, policy=email.policy.default)

    def subject(self) -> str | None:
        value = self.msg["subject"]
        return None if value is None else _squash(str(value))

    def from_(self) -> tuple[str, ...] | None:
        value = self.msg["from"]
        if value is None:
            return None
        return tuple(a.addr_spec.lower() for a in value.addresses if a.addr_spec)

    def leaves(self) -> list[Any]:
        return [p for p in self.msg.walk() if not p.is_multipart()]

    def filenames(self) -> list[str | None]:
        return [_squash(p.get_filename()) for p in self.leaves()]

    def bodies(self, subtype: str) -> list[str]:
        out = []
        for p in self.leaves():
            if p.get_content_type() == f"text/{subtype}" and p.get_content_disposition() != (
                "attachment"
            ):
                out.append(_body_text(p.get_content()))
        return out


logging.getLogger("flanker").setLevel(logging.CRITICAL + 1)


class FlankerReading(Reading):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        from flanker import mime

        self.msg: Any = mime.from_string(data)

    def subject(self) -> str | None:
        value = self.msg.headers.get("Subject")
        return None if value is None else _squash(str(value))

    def from_(self) -> tuple[str, ...] | None:
        from flanker.addresslib import address

        value = self.msg.headers.get("From")
        if value is None:
            return None
        parsed = address.parse_list(value)
        return tuple(str(a.address).lower() for a in parsed)

    def leaves(self) -> list[Any]:
        return [p for p in self.msg.walk(with_self=True) if not p.content_type.is_multipart()]

    def filenames(self) -> list[str | None]:
        return [_squash(p.detected_file_name or None) for p in self.leaves()]

    def bodies(self, subtype: str) -> list[str]:
        out = []
        for p in self.leaves():
            disposition = p.content_disposition[0] if p.content_disposition else None
            if p.content_type.value == f"text/{subtype}" and disposition != "attachment":
                body = p.body
                out.append(_body_text(body if isinstance(body, str) else body.decode("latin-1")))
        return out


LIBRARIES: dict[str, Callable[[bytes], Reading]] = {
    "mimeguard": MimeguardReading,
    "stdlib default": StdlibReading,
    "flanker": FlankerReading,
}
ASPECTS = ("subject", "From", "file name", "text body", "HTML body")


def _expected(tree: Entity) -> dict[str, object]:
    leaves = [e for e in tree.walk() if e.kind == "leaf"]
    return {
        "subject": expected_subject(tree),
        "From": expected_from(tree),
        "file name": [expected_filename(e) for e in leaves],
        "text body": [expected_text(e) for e in leaves if _is_shown(e, "plain")],
        "HTML body": [expected_text(e) for e in leaves if _is_shown(e, "html")],
    }


def _read(reading: Reading) -> dict[str, object]:
    return {
        "subject": reading.subject(),
        "From": reading.from_(),
        "file name": reading.filenames(),
        "text body": reading.bodies("plain"),
        "HTML body": reading.bodies("html"),
    }


def _same(aspect: str, want: object, got: object) -> bool:
    if want == got:
        return True
    if aspect in ("text body", "HTML body") and isinstance(want, list) and isinstance(got, list):
        # where mime4j's bytes had no declared charset, any reading of 8-bit is accepted
        return len(want) == len(got) and all(
            w == g or ("\ufffd" in w and _unknowable(g) == _unknowable(w))
            for w, g in zip(want, got, strict=True)
        )
    return False


def agreement() -> dict[str, dict[str, tuple[int, int]]]:
    """library -> aspect -> (messages agreeing, messages where mime4j has a value)."""
    out = {lib: dict.fromkeys(ASPECTS, (0, 0)) for lib in LIBRARIES}
    for _name, (path, tree) in expectations().items():
        data = path.read_bytes()
        want = _expected(tree)
        for lib, make in LIBRARIES.items():
            try:
                got = _read(make(data))
            except Exception:  # a peer that raises agrees with nothing
                got = {}
            for aspect in ASPECTS:
                expected = want[aspect]
                if expected is None or expected == []:
                    continue
                if aspect == "file name" and isinstance(expected, list) and not any(expected):
                    continue
                ok, total = out[lib][aspect]
                out[lib][aspect] = (ok + _same(aspect, expected, got.get(aspect)), total + 1)
    return out


def table() -> str:
    rows = agreement()
    head = "| aspect | " + " | ".join(LIBRARIES) + " |"
    lines = [head, "|" + "---|" * (len(LIBRARIES) + 1)]
    for aspect in ASPECTS:
        cells = []
        for lib in LIBRARIES:
            ok, total = rows[lib][aspect]
            cells.append(f"{ok}/{total}")
        lines.append(f"| {aspect} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _differences(lib: str) -> Iterator[tuple[str, str, object, object]]:
    for name, (path, tree) in expectations().items():
        want = _expected(tree)
        got = _read(LIBRARIES[lib](path.read_bytes()))
        for aspect in ASPECTS:
            if want[aspect] not in (None, []) and not _same(aspect, want[aspect], got[aspect]):
                yield name, aspect, want[aspect], got[aspect]


if __name__ == "__main__":
    if "--diff" in sys.argv:
        lib = sys.argv[sys.argv.index("--diff") + 1]
        for name, aspect, want, got in _differences(lib):
            print(f"{name} {aspect}:\n  mime4j {str(want)[:300]!s}\n  {lib} {str(got)[:300]!s}")
    else:
        print(table())
