"""Fuzz targets: each takes the fuzzer's bytes and checks mimeguard's invariants.

The invariant everywhere: whatever bytes arrive, mimeguard returns a result or
raises one of its own documented exceptions -- never anything else, never hangs,
never uses time or memory superlinear in the input.  Each target adds what its
API promises on top (exact round trip, clean output or a report, idempotent
repair, agreement with the stdlib).  A target raises :class:`InvariantError`
when a promise is broken; any other exception escaping a target is a bug too.

The targets are plain functions so that ``fuzz/run.py`` can hand them to
atheris, ``--reproduce`` can replay a crash without atheris, and the regression
tests in ``tests/test_fuzz_regressions.py`` can call them on saved inputs.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import functools
import gc
import re
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import mimeguard

__all__ = ["TARGETS", "InvariantError", "Target", "stdlib_differences"]

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DISCLAIMER = "This message came from outside the organisation."
DISCLAIMER_HTML = "<p><b>External sender.</b> Be careful with links &amp; attachments.</p>"


class InvariantError(AssertionError):
    """A promise of mimeguard's API does not hold for this input."""


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise InvariantError(what)


# -- parse -------------------------------------------------------------------------------------


def fuzz_parse(data: bytes) -> None:
    """parse never raises, ``to_bytes`` is exact, spans nest, every accessor works."""
    msg = mimeguard.parse(data)
    _check(msg.to_bytes() == data, "parse(data).to_bytes() != data")
    _check(mimeguard.parse(bytearray(data)).to_bytes() == data, "bytearray round trip differs")
    for part in msg.walk():
        buf = part.buffer
        _check(
            0 <= part.start <= part.header_end <= part.body_start <= part.body_end <= part.end
            and part.end <= len(buf),
            f"part {part.path or 'root'}: spans out of order",
        )
        last = part.start
        for f in part.headers:
            _check(part.start <= f.start <= f.end <= part.header_end, "field outside its block")
            _check(f.start >= last, "fields overlap")
            last = f.end
            _ = f.value, f.decoded, f.raw_value, f.is_folded
        for child in part.children:
            if child.buffer is buf:
                _check(
                    part.body_start <= child.start <= child.end <= part.body_end,
                    f"part {part.path or 'root'}: child {child.path} spans "
                    f"{child.start}-{child.end} outside the body {part.body_start}-{part.body_end}",
                )
        spans = [("preamble", part.preamble), ("epilogue", part.epilogue)]
        for what, span in spans:
            if span is not None:
                _check(
                    part.body_start <= span[0] <= span[1] <= part.body_end,
                    f"part {part.path or 'root'}: {what} {span[0]}-{span[1]} outside the body "
                    f"{part.body_start}-{part.body_end}",
                )
        for start, end in part.delimiters:
            _check(
                part.body_start <= start <= end <= part.body_end,
                f"part {part.path or 'root'}: delimiter {start}-{end} outside the body "
                f"{part.body_start}-{part.body_end}",
            )
        _ = (part.mime_type, part.params, part.charset, part.filename, part.disposition)
        _ = (part.is_attachment, part.is_body_text, part.boundary, part.attached)
        part.decoded()
        part.text()
        _check(
            msg.find(part.path) is part or part.buffer is not msg.buffer or not part.path,
            f"find({part.path!r}) does not return the part",
        )


# -- validate ----------------------------------------------------------------------------------

_TIGHT = mimeguard.Limits(
    max_depth=3, max_parts=8, max_header_fields=16, max_header_bytes=512, max_message_bytes=4096
)


def fuzz_validate(data: bytes) -> None:
    """validate never raises under any profile; findings point inside the message."""
    msg = mimeguard.parse(data)
    for profile in mimeguard.PROFILES:
        # an identical original must not make MG501 fire (checked in one of the runs)
        original = msg if profile == "workmail" else None
        report = mimeguard.validate(msg, profile=profile, original=original)
        if original is not None:
            _check("MG501" not in report.codes, "MG501 reported against an identical original")
        for f in report.findings:
            _check(0 <= f.offset <= len(data), f"{f.code}: offset {f.offset} outside the message")
            _check(f.line >= 1 and f.column >= 1, f"{f.code}: bad line/column")
            rule = mimeguard.RULES.get(f.code)
            _check(rule is not None and rule.severity[profile] == f.severity, f"{f.code} sev")
        report.to_json()
        str(report)
    if data[:1] in (b"\x00", b"F"):  # a cheap way to exercise the limits on some inputs
        mimeguard.validate(mimeguard.parse(data, limits=_TIGHT), profile="rfc")


# -- edits -------------------------------------------------------------------------------------


def _clean(out: bytes, what: str, original: bytes) -> None:
    """``out`` validates as the edit's own report says it does: header fields left as they
    are in ``original`` (the message the edit started from: the input, or for a repairing
    edit the repaired input) are judged as such (MG117), and MG501 is left to the edit's
    report (repair may add a missing Date or From, which a check against the input would
    call added). Comparing a repairing edit with the raw input instead finds fields that
    repair rewrote but left 8-bit (a missing final line break added, whitespace before a
    colon removed): tracked in docs/fuzzing.md, not yet an invariant."""
    report = mimeguard.validate(out, original=original, ignore=["MG501"])
    _check(report.ok, f"{what} returned a message that does not validate: {sorted(report.codes)}")


def _refused(exc: mimeguard.InvalidMessageError, what: str) -> None:
    _check(not exc.report.ok, f"{what} raised InvalidMessageError with a report without errors")
    str(exc)


def fuzz_edit(data: bytes) -> None:
    """Each edit and the Editor pipeline: clean output or a documented refusal.

    The first byte picks the edit and its options; the message is all of ``data``
    (so the choice byte is also the message's first byte: mutations keep both).
    """
    choice = data[0] if data else 0
    op = choice % 6
    what = ("add_disclaimer", "rewrite_subject", "strip_attachments", "editor", "editor", "chain")[
        op
    ]
    try:
        if op == 0:
            disclaimer = functools.partial(
                mimeguard.add_disclaimer,
                text=DISCLAIMER,
                html=DISCLAIMER_HTML if choice & 8 else None,
                position="top" if choice & 16 else "bottom",
                on_signed="wrap" if choice & 32 else "skip",
            )
            out = disclaimer(data)
            _clean(out, what, data)
            again = disclaimer(out)
            _clean(again, what + " twice", data)
        elif op == 1:
            kwargs: dict[str, str] = (
                {"prefix": "[EXT] "},
                {"suffix": " (external)"},
                {"replace": "Grüße – ✓"},
                {"prefix": "[Ext] ", "suffix": " !"},
            )[(choice >> 3) % 4]
            out = mimeguard.rewrite_subject(data, **kwargs)  # type: ignore[arg-type]
            _clean(out, what, data)
            again = mimeguard.rewrite_subject(out, **kwargs)  # type: ignore[arg-type]
            if "replace" in kwargs or "suffix" not in kwargs:
                _check(again == out, f"rewrite_subject({kwargs}) twice differs from once")
        elif op == 2:
            match: object = (
                mimeguard.SES_BLOCKED,
                ["*.pdf", "image/*"],
                [mimeguard.larger_than(64)],
                ["*"],
            )[(choice >> 3) % 4]
            out = mimeguard.strip_attachments(
                data,
                match=match,  # type: ignore[arg-type]
                notice=None if choice & 32 else mimeguard.DEFAULT_NOTICE,
            )
            _clean(out, what, data)
        else:
            repairing = op != 3 or bool(choice & 8)
            editor = mimeguard.Editor(
                data,
                repair=repairing,
                envelope_from="bounce@example.net" if choice & 16 else None,
                now=NOW,
            )
            if op == 5:
                editor = editor.rewrite_subject(prefix="[EXT] ")
            editor = (
                editor.add_disclaimer(text=DISCLAIMER, html=DISCLAIMER_HTML)
                .rewrite_subject(prefix="[EXT] ")
                .strip_attachments(match=mimeguard.SES_BLOCKED)
            )
            result = editor.result()
            _check(result.report.ok, "Editor.result() returned a report with errors")
            # a repairing edit is judged against the repaired message it started from, as
            # the Editor does; that message is not returned, so the output stands for it
            _clean(result.data, what, result.data if repairing else data)
    except mimeguard.InvalidMessageError as exc:
        _refused(exc, what)
    except mimeguard.SignedMessageError:
        raise InvariantError(f"{what}: SignedMessageError without on_signed='error'") from None


def fuzz_repair(data: bytes) -> None:
    """repair: clean output, or InvalidMessageError listing what remains; idempotent."""
    envelope = "bounce@example.net" if len(data) & 1 else None
    try:
        out = mimeguard.repair(data, envelope_from=envelope, now=NOW)
    except mimeguard.InvalidMessageError as exc:
        _refused(exc, "repair")
        return
    _clean(out, "repair", out)  # repair's baseline is its own output (see _clean)
    try:
        twice = mimeguard.repair(out, envelope_from=envelope, now=NOW)
    except mimeguard.InvalidMessageError as exc:
        raise InvariantError(f"repair(repair(x)) raised: {exc}") from exc
    _check(twice == out, "repair(repair(x)) != repair(x)")


# -- differential: the stdlib ------------------------------------------------------------------

#: message/* types whose body both parsers read as a message
_ENCAPSULATED = frozenset({"message/rfc822", "message/global", "message/external-body"})
#: mimeguard findings that mean "read differently from the stdlib on purpose"
_DELIBERATE = (
    # A header line starting "From " is an mbox envelope line to the stdlib: the first
    # one is stored apart, the last one starts the body, others are defects.  mimeguard
    # reads "From :" as a From field in obsolete syntax (MG105, RFC 5322 section 4.5),
    # reports "From x" as MG107 or, at the end of the block, as the start of the body
    # (MG101, which the stdlib does not flag then)
    "MG101",
    "MG105",
    "MG107",
    "MG112",  # a bare CR: the stdlib ends a line there everywhere, so a delimiter line
    # after one counts; mimeguard ends header lines there but looks for delimiters
    # after LF only (the validator reports the CR as an error either way)
    "MG310",  # malformed Content-Type: mimeguard reads text/plain, the stdlib guesses
    "MG312",  # malformed parameters: quoting and RFC 2231 edge cases are read differently
    "MG315",  # encoded message/rfc822: mimeguard decodes it, the stdlib parses the base64
)


_SPACES = re.compile(r"\s+")


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"?')


def _comments(msg: mimeguard.Message) -> bool:
    """A comment in a Content-Type: mimeguard skips it (RFC 2045 section 5.1 allows
    RFC 822 comments), compat32 takes it as part of the type."""
    return any("(" in _QUOTED.sub("", p.get("content-type") or "") for p in msg.walk())


def _boundary_read_differently(part: mimeguard.Part) -> bool:
    """A boundary ending in what Python's ``str.rstrip`` takes for white space (the
    controls \\x1c-\\x1f among them): the stdlib's ``get_boundary`` strips it, mimeguard
    keeps the parameter as written (and reports MG304 when it is no valid boundary)."""
    boundary = part.boundary
    return boundary is not None and boundary.rstrip() != boundary


def _close_after_empty_part(part: mimeguard.Part) -> bool:
    """A close delimiter right after a delimiter line: mimeguard ends the multipart there
    with an empty last part (RFC 2046 section 5.1.1); the stdlib drops the empty part and
    reads on past the close delimiter."""
    return (
        bool(part.children) and part.epilogue is not None and _dropped_by_stdlib(part.children[-1])
    )


def _std_defects(msg: email.message.Message) -> list[str]:
    return [type(d).__name__ for part in msg.walk() for d in part.defects]


Tree = list[tuple[int, str, bytes | None]]


def _std_tree(msg: email.message.Message, depth: int, out: Tree) -> None:
    # mimeguard reads "type / subtype" with whitespace around the slash (RFC 2045
    # tokens with RFC 822 lexical rules); compat32 keeps the spaces
    ctype = _SPACES.sub("", msg.get_content_type())
    payload = msg._payload  # the raw payload, not a decoded view
    if isinstance(payload, list):
        if ctype == "message/delivery-status" or (
            ctype.startswith("message/") and ctype not in _ENCAPSULATED
        ):
            out.append((depth, ctype, None))  # the stdlib splits these into header blocks
            return
        out.append((depth, ctype, None))
        for child in payload:
            _std_tree(child, depth + 1, out)
        return
    body = payload.encode("ascii", "surrogateescape") if isinstance(payload, str) else None
    out.append((depth, ctype, None if ctype.startswith("message/") else body))


def _dropped_by_stdlib(child: mimeguard.Part) -> bool:
    """A delimiter line right after another, without even a line break between them:
    the stdlib makes no part of it (mimeguard keeps an empty one, losslessly)."""
    buf = child.buffer
    return child.start == child.end and buf[child.end : child.end + 1] not in (b"\r", b"\n")


def _mg_tree(part: mimeguard.Part, depth: int, out: Tree) -> None:
    if part.children:
        out.append((depth, part.mime_type, None))
        for child in part.children:
            if part.is_multipart and _dropped_by_stdlib(child):
                continue
            _mg_tree(child, depth + 1, out)
        return
    if part.is_multipart:
        out.append((depth, part.mime_type, None))
        return
    # message/* types mimeguard does not parse as a message, the stdlib does (and splits
    # delivery-status into header blocks): compared by type only
    body = None if part.maintype == "message" else part.raw_body
    out.append((depth, part.mime_type, body))


def stdlib_differences(data: bytes) -> list[str] | None:
    """How mimeguard's tree differs from the stdlib's (compat32), or ``None`` when the
    stdlib reports defects (or mimeguard reads the input differently on purpose) and
    the two are not comparable.  Compared: every part's type and depth in document
    order, and each leaf's raw body."""
    try:
        std = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:  # CPython's parser raising is its bug, not a comparison
        return None
    if _std_defects(std):
        return None
    msg = mimeguard.parse(data)
    if _comments(msg) or mimeguard.validate(msg, profile="rfc", select=_DELIBERATE).findings:
        return None
    if any(_boundary_read_differently(p) or _close_after_empty_part(p) for p in msg.walk()):
        return None
    a: list[tuple[int, str, bytes | None]] = []
    b: list[tuple[int, str, bytes | None]] = []
    _std_tree(std, 0, a)
    _mg_tree(msg, 0, b)
    if a == b:
        return []
    out = []
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            out.append(f"part #{i}: stdlib {_show(x)} vs mimeguard {_show(y)}")
            break
    if len(a) != len(b):
        out.append(f"stdlib has {len(a)} parts, mimeguard {len(b)}")
    return out


def _show(item: tuple[int, str, bytes | None]) -> str:
    depth, ctype, body = item
    text = "" if body is None else f" body {body[:60]!r}{'…' if len(body) > 60 else ''}"
    return f"depth {depth} {ctype}{text}"


def fuzz_differential(data: bytes) -> None:
    """Where the stdlib parses without defects, both parsers see the same tree."""
    diff = stdlib_differences(data)
    if diff:
        raise InvariantError("structure differs from the stdlib: " + "; ".join(diff))


# -- scaling: no superlinear time or memory ----------------------------------------------------

#: the small and the large input the scaling target builds (bytes)
SMALL = 4 * 1024
GROWTH = 16
#: allowed slack over linear growth: large <= GROWTH * small * FACTOR + SLACK
FACTOR = 4.0
TIME_SLACK = 0.05  # seconds
MEMORY_SLACK = 1 << 20  # bytes


def amplify(data: bytes, size: int) -> bytes:
    """``prefix + middle * k + suffix`` of about ``size`` bytes.

    The first two bytes choose where the middle starts and ends (as fractions of the
    rest), so the fuzzer decides what is repeated: a header line, a delimiter, an
    encoded-word, a run of ``(``...
    """
    if len(data) < 3:
        return data
    body = data[2:]
    a = data[0] * len(body) // 256
    b = a + 1 + data[1] * (len(body) - a) // 256
    prefix, middle, suffix = body[:a], body[a:b], body[b:]
    if not middle:
        return body
    k = max(1, (size - len(prefix) - len(suffix)) // len(middle))
    return prefix + middle * k + suffix


def _work(data: bytes) -> None:
    msg = mimeguard.parse(data)
    mimeguard.validate(msg)
    for part in msg.walk():
        part.decoded()
        _ = part.filename


def _seconds(data: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        _work(data)
        best = min(best, time.perf_counter() - t)
    return best


def _peak(data: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        _work(data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def fuzz_scaling(data: bytes) -> None:
    """parse + validate of the input grown 16 times costs at most ~16 times as much.

    Time is measured as the best of a few runs and re-measured before failing, so a
    busy machine does not fail the target; a quadratic path is far over the bound.
    Memory is the tracemalloc peak, checked the same way on every 8th input.
    """
    small = amplify(data, SMALL)
    if len(small) < SMALL // 2:
        _work(small)
        return
    large = amplify(data, SMALL * GROWTH)
    ratio = len(large) / len(small)
    for attempt in range(3):
        t_small = _seconds(small, 3)
        t_large = _seconds(large, 1)
        if t_large <= t_small * ratio * FACTOR + TIME_SLACK:
            break
        if attempt == 2:
            raise InvariantError(
                f"time grows superlinearly: {len(small):,} bytes in {t_small * 1e3:.1f} ms, "
                f"{len(large):,} bytes in {t_large * 1e3:.1f} ms"
            )
    if data[0] % 8 == 0:
        m_small, m_large = _peak(small), _peak(large)
        if m_large > m_small * ratio * FACTOR + MEMORY_SLACK:
            raise InvariantError(
                f"memory grows superlinearly: {len(small):,} bytes peak {m_small:,}, "
                f"{len(large):,} bytes peak {m_large:,}"
            )


# -- properties ---------------------------------------------------------------------------------


def fuzz_properties(data: bytes) -> None:
    """The hypothesis property tests on the example the fuzzer's bytes choose."""
    from . import properties  # imported late: it imports the tests, which import this module

    properties.fuzz_one_input(data)


# -- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    doc: str
    #: mimeguard attributes the target needs (the runner skips it when one is missing)
    needs: tuple[str, ...] = ()
    #: modules the target imports besides mimeguard (the runner skips it without them)
    modules: tuple[str, ...] = ()
    #: libFuzzer options for this target
    max_len: int = 8192
    timeout: int = 10
    #: relative share of the time budget
    weight: float = 1.0
    #: more libFuzzer flags
    flags: tuple[str, ...] = ()


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("parse", fuzz_parse, "parse + to_bytes round trip, spans, accessors", max_len=8192),
        Target(
            "validate",
            fuzz_validate,
            "validate under every profile, with an original",
            max_len=4096,
        ),
        Target(
            "edit",
            fuzz_edit,
            "each edit and the Editor pipeline: clean output or InvalidMessageError",
            needs=("add_disclaimer", "rewrite_subject", "strip_attachments", "Editor"),
            max_len=4096,
        ),
        Target(
            "repair",
            fuzz_repair,
            "repair: clean or InvalidMessageError with the findings; idempotent",
            needs=("repair",),
            max_len=4096,
        ),
        Target(
            "differential",
            fuzz_differential,
            "same tree as the stdlib where it parses without defects",
            max_len=8192,
        ),
        Target(
            "properties",
            fuzz_properties,
            "the hypothesis property tests, driven by atheris through fuzz_one_input",
            modules=("hypothesis", "pytest"),
            timeout=30,
        ),
        Target(
            "scaling",
            fuzz_scaling,
            "input grown 16x costs at most ~16x the time and memory",
            max_len=4096,
            timeout=60,
            weight=0.5,
            # not instrumented, so no coverage to grow input lengths by: full length now
            flags=("-len_control=0",),
        ),
    )
}
