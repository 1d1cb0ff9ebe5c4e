"""Incremental validation (mimeguard._incremental) equals a full validate, always.

The property: for generated messages (valid, and with injected defects) and generated
edit chains, ``revalidate(out, base=..., base_report=validate(base))`` returns the
report ``validate(out)`` returns, under every profile.  The targeted cases are the
ones a wrong reuse would get wrong: a changed boundary, shifted paths, equal bytes
under a parent whose subtype changes the default type, parts moved between buffers,
duplicate identical parts.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimeguard
import mimeguard._registry
import mimeguard._repair
from mimeguard import PROFILES, Editor, Message, parse, validate
from mimeguard._incremental import _match, revalidate
from mimeguard._registry import RULES, Context
from mimeguard._scan import Base64Body, base64_body
from mimeguard.limits import Limits
from mimeguard.strategies import malformed_messages, messages

from .conftest import CORPUS

Edit = Callable[[Editor], Editor]

EDITS: dict[str, Edit] = {
    "disclaimer-text": lambda e: e.add_disclaimer(text="External sender: take care."),
    "disclaimer-html": lambda e: e.add_disclaimer(
        text="Extern: Vorsicht – Grüße", html="<p>Extern: <b>Vorsicht</b></p>", position="top"
    ),
    "disclaimer-add": lambda e: e.add_disclaimer(text="Scanned.", on_no_text="add"),
    "subject": lambda e: e.rewrite_subject(prefix="[EXT] "),
    "subject-replace": lambda e: e.rewrite_subject(replace="Grüße aus Köln"),
    "strip-exe": lambda e: e.strip_attachments(match=["*.exe", "*.bin"]),
    "strip-all": lambda e: e.strip_attachments(match=["*/*"], notice=None),
    "strip-text": lambda e: e.strip_attachments(match=["text/*", "*.txt"]),
}


def _edit(data: bytes, names: list[str], repair: bool) -> bytes | None:
    editor = Editor(data, repair=repair)
    for name in names:
        editor = EDITS[name](editor)
    try:
        return editor.result().data
    except mimeguard.InvalidMessageError as exc:
        return None if exc.result is None else exc.result.data


def assert_same(out: Message, base: Message, *, original: bytes | None = None) -> None:
    """revalidate equals validate for ``out`` under every profile, reusing ``base``'s report.

    Each run gets a parse of its own, so that nothing one computed and kept in the
    parts' memos (``Context.base64_body``) serves the other; the base's memos are
    the ones its own validation filled, as in the Editor."""
    for name in PROFILES:
        want = validate(parse(out.buffer), profile=name, original=original)
        got = revalidate(
            parse(out.buffer),
            base=base,
            base_report=validate(base, profile=name),
            profile=name,
            original=original,
        )
        assert list(got.findings) == list(want.findings), name
        assert got == want
        assert str(got) == str(want) and got.to_dict() == want.to_dict()


edit_chains = st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=3)


@settings(max_examples=25)
@given(messages(), edit_chains, st.booleans())
def test_edit_chains_on_valid_messages(data: bytes, names: list[str], repair: bool) -> None:
    out = _edit(data, names, repair)
    if out is not None:
        assert_same(parse(out), parse(data), original=data)


@settings(max_examples=25)
@given(malformed_messages(max_defects=3), edit_chains, st.booleans())
def test_edit_chains_on_malformed_messages(
    case: tuple[bytes, frozenset[str]], names: list[str], repair: bool
) -> None:
    data = case[0]
    out = _edit(data, names, repair)
    if out is not None:
        assert_same(parse(out), parse(data))


@settings(max_examples=20)
@given(malformed_messages(max_defects=2), edit_chains)
def test_chained_reports(case: tuple[bytes, frozenset[str]], names: list[str]) -> None:
    """Each step reuses the report the step before computed incrementally."""
    data = case[0]
    base = parse(data)
    report = validate(base, profile="ses")
    for name in names:
        out_bytes = _edit(base.buffer, [name], repair=False)
        if out_bytes is None:
            return
        out = parse(out_bytes)
        report = revalidate(out, base=base, base_report=report, profile="ses")
        assert report == validate(out, profile="ses")
        base = out


@settings(max_examples=20)
@given(st.one_of(messages(), malformed_messages().map(lambda c: c[0])))
def test_part_rules_see_only_their_part(data: bytes) -> None:
    """A scope="part" rule reports on a part the same hits, whatever other parts it is
    shown: run on each part alone, the hits are those of the whole message's run."""
    msg = parse(data)
    for name in PROFILES:
        ctx = Context(msg, PROFILES[name], None)
        for r in RULES.values():
            if r.scope != "part" or r.severity_in(name) is None:
                continue
            alone = []
            for part in ctx.parts:
                hits = list(r.check(ctx.restricted([part])))
                assert all(h[0] is part for h in hits), (r.code, name, part.path)
                alone += [(id(h[0]), *h[1:]) for h in hits]
            assert alone == [(id(h[0]), *h[1:]) for h in r.check(ctx)], (r.code, name)


def test_part_scope_rules_are_known() -> None:
    """The rules declared part-scope (each read: it iterates the parts and reports on the
    part it looks at, from that part's bytes); a new one is added here on purpose."""
    part = {c for c, r in RULES.items() if r.scope == "part"}
    assert part == {
        *("MG116", "MG208", "MG211"),
        *("MG304", "MG306", "MG310", "MG311", "MG312", "MG323", "MG324"),
        *("MG313", "MG314", "MG315", "MG316", "MG317", "MG318", "MG319", "MG320"),
        *("MG321", "MG322", "MG325"),
        *("MG330", "MG331", "MG332", "MG333", "MG334", "MG335", "MG404"),
    }
    assert all(RULES[c].scope == "message" for c in RULES if c not in part)


# -- targeted cases -----------------------------------------------------------------------

HEAD = b"From: a@example.com\r\nTo: b@example.org\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
HEAD += b"Subject: s\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"

#: parts with part-rule findings of their own: unknown charset, bad base64, 8-bit in 7bit
KLINGON = b"Content-Type: text/plain; charset=x-klingon\r\n\r\nqapla'\r\n"
BAD_B64 = (
    b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="a.exe"\r\n\r\nTVq*AAA\r\n'
)
EIGHT = "Content-Type: text/plain\r\n\r\nGrüße\r\n".encode()


def multipart(*parts: bytes, boundary: bytes = b"b1", subtype: bytes = b"mixed") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return (
        HEAD
        + b"Content-Type: multipart/"
        + subtype
        + b'; boundary="'
        + boundary
        + b'"\r\n\r\n'
        + body
        + b"--"
        + boundary
        + b"--\r\n"
    )


def test_a_new_boundary_reuses_nothing_and_still_agrees() -> None:
    base = parse(multipart(KLINGON, BAD_B64, EIGHT))
    out = parse(multipart(KLINGON, BAD_B64, EIGHT, boundary=b"other-boundary"))
    assert _match(out, base) == []  # every part's context changed
    assert_same(out, base)


def test_a_part_inserted_first_shifts_every_path() -> None:
    base = parse(multipart(KLINGON, BAD_B64, EIGHT))
    out = parse(multipart(b"Content-Type: text/plain\r\n\r\nnotice\r\n", KLINGON, BAD_B64, EIGHT))
    matched = {p.path: b.path for p, b in _match(out, base)}
    assert matched == {"2": "1", "3": "2", "4": "3"}
    assert_same(out, base)
    report = validate(out)
    assert {f.part for f in report if f.code in ("MG321", "MG318", "MG316")} == {"2", "3", "4"}


def test_equal_bytes_under_a_digest_are_read_as_messages() -> None:
    """No Content-Type: text/plain under multipart/mixed, message/rfc822 under digest
    (RFC 2046 section 5.1.5): the same bytes are not the same part."""
    bare = "\r\nFrom: x@example.com\r\nSubject: Grüße\r\n\r\nGrüße\r\n".encode()
    base = parse(multipart(bare, KLINGON))
    out = parse(multipart(bare, KLINGON, subtype=b"digest"))
    assert validate(base).codes != validate(out).codes
    assert [p.path for p, _ in _match(out, base)] == ["2"]  # KLINGON has its own type
    assert_same(out, base)


def _attached(inner: bytes, encoding: bytes) -> bytes:
    body = base64.encodebytes(inner) if encoding == b"base64" else inner
    return (
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: "
        + encoding
        + b"\r\n\r\n"
        + body
    )


def test_parts_moved_between_buffers() -> None:
    """An attached message carried base64 lives in a buffer of its own (its findings point
    at the encoded body); the same message carried 7bit lives in the root buffer."""
    inner = multipart(KLINGON, BAD_B64, boundary=b"in1")
    encoded = parse(multipart(_attached(inner, b"base64"), EIGHT))
    plain = parse(multipart(_attached(inner, b"7bit"), EIGHT))
    assert_same(plain, encoded)
    assert_same(encoded, plain)
    both = parse(multipart(_attached(inner, b"7bit"), _attached(inner, b"base64"), EIGHT))
    assert_same(both, encoded)
    assert_same(both, plain)


def test_a_part_moved_into_an_attached_message() -> None:
    base = parse(multipart(KLINGON, BAD_B64))
    out = parse(multipart(_attached(multipart(BAD_B64, KLINGON, boundary=b"in1"), b"7bit")))
    assert_same(out, base)


def test_a_moved_base64_body_keeps_its_problem_at_its_new_offset() -> None:
    """The one pass over a copied base64 body is not made again: what it found moves."""
    regular = b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    regular += (b"QUFB" * 19 + b"\r\n") * 50
    base = parse(multipart(BAD_B64, regular))
    validate(base)
    data = multipart(b"Content-Type: text/plain\r\n\r\nnotice\r\n", BAD_B64, regular)
    report = validate(base)
    passes: list[int] = []

    def counted(buf: bytes, start: int, end: int) -> Base64Body:
        passes.append(start)
        return base64_body(buf, start, end)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mimeguard._registry, "base64_body", counted)
        got = revalidate(parse(data), base=base, base_report=report)
    assert passes == []
    assert got == validate(data)
    assert [(f.code, f.part) for f in got if f.code == "MG318"] == [("MG318", "2")]
    assert_same(parse(data), base)


def test_colliding_boundaries() -> None:
    """An inner multipart whose boundary extends the outer one (MG305), and a header line
    ``--b1`` that splits the part under the outer boundary b1 and not under b1x."""
    inner = (
        b'Content-Type: multipart/alternative; boundary="b1x"\r\n\r\n--b1x\r\n'
        + KLINGON
        + b"\r\n--b1x--\r\n"
    )
    tricky = b"X-A: 1\r\n--b1\r\nContent-Type: text/plain; charset=x-vulcan\r\n\r\nx\r\n"
    base = parse(multipart(inner, tricky, BAD_B64))
    for parts in ((EIGHT, inner, tricky, BAD_B64), (tricky, inner), (inner, inner, BAD_B64)):
        assert_same(parse(multipart(*parts)), base)
        assert_same(parse(multipart(*parts, boundary=b"b1x")), base)


def test_nesting_past_the_depth_limit() -> None:
    """Past Limits.max_depth a part's parse depends on its depth: nothing is reused."""
    shallow = Limits(max_depth=3)
    deep = KLINGON
    for i in range(4):
        deep = (
            b'Content-Type: multipart/mixed; boundary="d%d"\r\n\r\n--d%d\r\n' % (i, i)
            + deep
            + b"\r\n--d%d--\r\n" % i
        )
    base = parse(multipart(deep, BAD_B64), limits=shallow)
    out = parse(multipart(EIGHT, deep, BAD_B64), limits=shallow)
    assert "depth-limit" in out.problems()
    for name in ("rfc", "ses"):
        report = validate(base, profile=name, limits=shallow)
        got = revalidate(out, base=base, base_report=report, profile=name, limits=shallow)
        assert got == validate(out, profile=name, limits=shallow)


def test_duplicate_identical_parts() -> None:
    base = parse(multipart(BAD_B64, BAD_B64, KLINGON))
    for parts in ((BAD_B64,), (BAD_B64, BAD_B64, BAD_B64), (KLINGON, BAD_B64, EIGHT, BAD_B64)):
        out = parse(multipart(*parts))
        assert_same(out, base)


def test_many_look_alike_parts_agree() -> None:
    """Parts of one size that differ in their last byte: each is compared with a few only."""
    parts = [BAD_B64.replace(b"AAA", b"AA" + bytes([65 + i % 26])) for i in range(40)]
    base = parse(multipart(*parts))
    out = parse(multipart(*reversed(parts)))
    assert_same(out, base)


def test_nothing_changed_reuses_everything() -> None:
    data = multipart(KLINGON, BAD_B64, EIGHT)
    base = parse(data)
    out = parse(data)
    assert [(p.path, b.path) for p, b in _match(out, base)] == [("", "")]
    assert_same(out, base)


def test_findings_at_one_offset_keep_their_order() -> None:
    """Every finding inside an encoded attached message points at the encoded body: the
    order among them is the parts' order, as in a full validate."""
    inner = multipart(KLINGON, KLINGON.replace(b"klingon", b"vulcan"), boundary=b"in1")
    data = multipart(_attached(inner, b"base64"), KLINGON)
    base = parse(data)
    out = parse(data.replace(b"Subject: s", b"Subject: [EXT] s"))
    assert_same(out, base)
    assert [f.part for f in validate(out) if f.code == "MG321"] == ["1.1.1", "1.1.2", "2"]


def test_preconditions_fall_back_to_a_full_validate() -> None:
    base = parse(multipart(KLINGON, BAD_B64))
    out = parse(multipart(KLINGON, BAD_B64, EIGHT))
    want = validate(out, profile="ses")
    other = validate(base, profile="rfc")
    assert revalidate(out, base=base, base_report=other, profile="ses") == want
    assert revalidate(out, base=out, base_report=other, profile="ses") == want
    small = Limits(max_parts=3)
    limited = parse(out.buffer, limits=small)
    assert revalidate(
        limited,
        base=parse(base.buffer, limits=small),
        base_report=validate(base, profile="ses", limits=small),
        profile="ses",
        limits=small,
    ) == validate(limited, profile="ses", limits=small)


def test_bad_arguments() -> None:
    msg = parse(multipart(KLINGON))
    with pytest.raises(TypeError):
        revalidate(msg.buffer, base=msg, base_report=validate(msg))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        revalidate(msg, base=msg, base_report=[])  # type: ignore[arg-type]
    with pytest.raises(mimeguard.UnknownProfileError):
        revalidate(msg, base=msg, base_report=validate(msg), profile="nope")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")
def test_corpus() -> None:
    """Real mail: each message gets one of three edits, in turn."""
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md")
    edits = ["disclaimer-html", "subject", "strip-text"]
    for i, path in enumerate(paths):
        data = path.read_bytes()
        out = _edit(data, [edits[i % 3]], repair=False)
        if out is not None:
            assert_same(parse(out), parse(data))


# -- the Editor's final check -------------------------------------------------------------


def _checked(calls: list[list[str]]) -> Callable[..., mimeguard.Report]:
    """revalidate as the Editor calls it, held to a full validate of the same output."""

    def check(out: Message, **kw: object) -> mimeguard.Report:
        got = revalidate(out, **kw)  # type: ignore[arg-type]
        want = validate(out, profile=kw["profile"], original=kw.get("original"))  # type: ignore[arg-type]
        assert got == want
        base = kw["base"]
        assert isinstance(base, Message)
        calls.append([p.path for p, _ in _match(out, base)])
        return got

    return check


PDF = (
    b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="report.pdf"\r\n\r\nJVBERi0xLjQK\r\n'
)


def test_the_editor_reuses_what_repair_found() -> None:
    """Editor(repair=True) hands repair's report of the message the edits start from to
    the final check, which then looks again only at what the edits changed."""
    data = multipart(b"Content-Type: text/plain\r\n\r\nHello\r\n", PDF)
    calls: list[list[str]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mimeguard.edit, "revalidate", _checked(calls))
        Editor(data, repair=True).add_disclaimer(text="External.").rewrite_subject(
            prefix="[EXT] "
        ).strip_attachments(match=["*.exe"]).result()
        Editor(data).add_disclaimer(text="External.").result()  # no repair: no report
    assert calls == [["2"]]  # the attachment was copied, its findings reused


@settings(max_examples=20)
@given(st.one_of(messages(), malformed_messages().map(lambda c: c[0])), edit_chains)
def test_the_editor_with_repair(data: bytes, names: list[str]) -> None:
    calls: list[list[str]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mimeguard.edit, "revalidate", _checked(calls))
        _edit(data, names, repair=True)


@settings(max_examples=20)
@given(malformed_messages(max_defects=3))
def test_repair_rounds(case: tuple[bytes, frozenset[str]]) -> None:
    """Each repair round after the first checks its output against the round before."""
    calls: list[list[str]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mimeguard._repair, "revalidate", _checked(calls))
        with contextlib.suppress(mimeguard.InvalidMessageError):
            mimeguard.repair(case[0])


def test_a_repair_round_reuses_the_parts_it_copies() -> None:
    data = multipart(EIGHT, PDF, PDF.replace(b"report", b"annex"))
    calls: list[list[str]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mimeguard._repair, "revalidate", _checked(calls))
        mimeguard.repair(data)
    assert calls == [["2", "3"]]  # the 8-bit text was re-encoded, the PDFs copied
