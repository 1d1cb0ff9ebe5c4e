"""mimeguard against Apache mime4j's own expected results (skipped without the corpus).

For every message of ../shared/corpus/mime4j that ../shared/corpus-expected/mime4j
describes, mimeguard's tree (kind of each entity, number of parts), header fields
(raw, in order) and decoded leaf bodies are compared with mime4j's.  Every place
where they differ on purpose is listed in DIFFERENCES with the RFC section that
justifies mimeguard's reading; docs/conformance.md says the same for readers.  A
new difference, or a listed one that went away, fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.mime4j import Entity, expectations
from mimeguard import parse
from mimeguard.message import Part

CASES = expectations()
pytestmark = pytest.mark.skipif(not CASES, reason="needs ../shared/corpus-expected/mime4j")

_BLANK_LINE_WITH_SPACE = (
    "a line of only whitespace is a continuation line (RFC 5322 section 4.2, obs-FWS) and the "
    "first line that is neither a field nor a continuation starts the body (MG101), as the "
    "stdlib reads it; mime4j keeps reading header lines up to a truly empty line"
)
_NO_HEADER = (
    "a first line without a colon is not a header field (RFC 5322 section 2.2, field-name "
    "':'): the message has an empty header and that line starts the body (MG101), as the "
    "stdlib reads it; mime4j drops it as a broken header"
)
_TRUNCATED_BASE64 = (
    "a base64 body cut short keeps the bytes of its last partial group (RFC 2045 section 6.8 "
    "leaves a truncated quantum to the decoder; the stdlib keeps them too); mime4j drops them"
)

#: (message, part path, aspect) -> why mimeguard reads it differently from mime4j
DIFFERENCES: dict[tuple[str, str, str], str] = {
    ("testmsgs/basic-plain-with-bad-header-separator", "", "body"): _BLANK_LINE_WITH_SPACE,
    ("mimetools/hdr-fakeout", "", "body"): _BLANK_LINE_WITH_SPACE,
    ("testmsgs/malformedHeader-noheader", "", "body"): _NO_HEADER,
    ("testmsgs/malformedHeaderStartsBody-noheader", "", "body"): _NO_HEADER,
    ("testmsgs/malformedHeaderStartsBody-nocrlfcrlf", "", "fields"): (
        "a colon-less line followed by more header lines is a broken header line (MG102): "
        "the header block ends only at an empty line (RFC 5322 section 2.1), so the field "
        "after it is kept as a field"
    ),
    ("testmsgs/malformedHeaderStartsBody-nocrlfcrlf", "", "body"): (
        "the body starts after the empty line (RFC 5322 section 2.1); the broken header line "
        "before it is reported (MG102), not shown as text"
    ),
    ("testmsgs/obsolete", "", "fields"): (
        "a field whose name has a character outside ftext (RFC 5322 section 3.6.8) is kept, "
        "so no byte is lost, and reported (MG104; repair removes it); mime4j drops it"
    ),
    ("mimetools/frag", "2.1.2.1.2.1.2", "body"): _TRUNCATED_BASE64,
    ("mimetools/multi-frag", "3.2", "body"): _TRUNCATED_BASE64,
    ("testmsgs/ending-boundaries", "", "tree"): (
        "a delimiter line is the boundary followed only by transport padding (RFC 2046 "
        "section 5.1.1 BNF: delimiter := CRLF dash-boundary transport-padding CRLF), as the "
        "stdlib reads it; mime4j takes '--boundary' with any text after it, which would let a "
        "line of an inner multipart whose boundary extends this one ('--b' and '--b-1') split "
        "the outer one (RFC 2046 section 5.1.2)"
    ),
}


def _text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    text = re.sub(r"\r\n|\r", "\n", text)
    return text[:-1] if text.endswith("\n") else text


def _kind(part: Part) -> str:
    if part.attached is not None:
        return "message"
    if part.is_multipart:
        return "multipart"
    return "leaf"


def _compare(part: Part | None, ent: Entity) -> Iterator[str]:
    """The aspects in which ``part`` differs from mime4j's ``ent``."""
    if part is None:
        yield "tree"
        return
    fields = [_text(f.raw) for f in part.headers if f.valid]
    if fields != ent.fields:
        yield "fields"
    if _kind(part) != ent.kind or len(part.children) != len(ent.children):
        yield "tree"
        return
    if ent.kind == "leaf" and ent.body is not None:
        ours = part.decoded()
        theirs = ent.body
        if ent.text:  # mime4j writes text bodies with LF line breaks
            ours, theirs = _eol(ours), _eol(theirs)
        if ours != theirs:
            yield "body"


def _eol(data: bytes) -> bytes:
    return re.sub(rb"\r\n|\r", b"\n", data).rstrip(b"\n")


def _differences(name: str) -> set[tuple[str, str, str]]:
    path, tree = CASES[name]
    msg = parse(path.read_bytes())
    found = set()
    for ent in tree.walk():
        for aspect in _compare(msg.find(ent.path), ent):
            found.add((name, ent.path, aspect))
            if aspect == "tree":
                break
    # below a part whose tree differs, nothing more is compared
    shallow = {p for _, p, a in found if a == "tree"}
    return {d for d in found if not any(_below(d[1], p) for p in shallow)}


def _below(path: str, top: str) -> bool:
    return path.startswith(top + ".") if top else path != ""


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mime4j_or_differs_on_purpose(name: str) -> None:
    found = _differences(name)
    listed = {k for k in DIFFERENCES if k[0] == name}
    assert found == listed


def test_every_difference_is_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "conformance.md").read_text()
    for name, path, aspect in DIFFERENCES:
        assert f"| `{name}` | `{path or 'root'}` | {aspect} |" in doc, (name, path, aspect)


def test_agreement_table_with_the_peers() -> None:
    """What a client shows (subject, From, file names, text and HTML bodies), read by
    mimeguard, the stdlib (policy.default) and flanker, against mime4j's expectations."""
    pytest.importorskip("flanker")
    from benchmarks.mime4j import ASPECTS, agreement, table

    rows = agreement()
    print("\nmime4j agreement (messages agreeing / messages with a value):\n" + table())
    for aspect in ASPECTS:
        ours, total = rows["mimeguard"][aspect]
        assert total > 0
        for peer in ("stdlib default", "flanker"):
            assert ours >= rows[peer][aspect][0], (aspect, peer)
