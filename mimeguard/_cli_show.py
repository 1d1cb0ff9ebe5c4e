"""``mimeguard explain``, ``mimeguard rules`` and ``mimeguard tree``: read-only views."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable, Iterator
from typing import Any

from ._cli_output import SEVERITY_STYLE, Style, color_enabled
from ._parser import parse
from ._registry import RULES, Rule
from ._rules._fixture import CLEAN
from .cli import Selection, Streams, read_stdin
from .errors import UnknownRuleError
from .findings import Finding, Report
from .limits import DEFAULT_LIMITS
from .message import Message, Part
from .profiles import PROFILES
from .rules import get_rule
from .validation import validate

__all__ = ["cmd_explain", "cmd_rules", "cmd_tree", "render_bytes"]

_MAX_LINES = 24
_MAX_WIDTH = 96
#: fixtures larger than this are not repaired to make the good example
_REPAIR_LIMIT = 1 << 20


def render_bytes(data: bytes, *, max_lines: int = _MAX_LINES, width: int = _MAX_WIDTH) -> list[str]:
    """The first lines of a message, made visible.

    CRLF endings are implied; a bare LF or CR is shown as ``[LF]``/``[CR]``,
    tabs as ``\\t``, other control and 8-bit bytes as ``\\xNN``, long lines cut.
    """
    out: list[str] = []
    pos, n = 0, len(data)
    while pos < n and len(out) < max_lines:
        nl = data.find(b"\n", pos)
        cr = data.find(b"\r", pos)
        if cr != -1 and (nl == -1 or cr < nl):
            end = cr
            ending = b"\r\n" if data.startswith(b"\r\n", cr) else b"\r"
        elif nl != -1:
            end, ending = nl, b"\n"
        else:
            end, ending = n, b""
        body = data[pos:end]
        text = _visible(body[:width])
        if len(body) > width:
            text += f"… (+{len(body) - width:,} bytes)"
        marker = {b"\r\n": "", b"\n": " [LF]", b"\r": " [CR]", b"": " [no line ending]"}[ending]
        out.append(text + marker)
        pos = end + len(ending)
    if pos < n:
        rest = data.count(b"\n", pos) + (0 if data.endswith(b"\n") else 1)
        out.append(f"… {rest:,} more lines ({n:,} bytes in all)")
    return out


def _visible(body: bytes) -> str:
    chars = []
    for b in body:
        if b == 0x09:
            chars.append("\\t")
        elif 0x20 <= b < 0x7F:
            chars.append(chr(b))
        else:
            chars.append(f"\\x{b:02x}")
    return "".join(chars)


# -- explain --------------------------------------------------------------------------------------


def _profile_for(rule: Rule) -> str:
    return next(p for p in ("workmail", "ses", "rfc", *PROFILES) if rule.severity.get(p))


def _fixture_report(rule: Rule, data: bytes, profile: str) -> Report:
    return validate(
        data,
        profile=profile,
        original=rule.fixture_original,
        limits=rule.fixture_limits or DEFAULT_LIMITS,
    )


def _good_example(rule: Rule, bad: bytes, profile: str) -> tuple[str, bytes]:
    """The bad example after ``mimeguard fix`` when that clears the rule, else a clean message."""
    if rule.fixture_original is not None:
        return "the message as received, unchanged", rule.fixture_original
    if rule.fixable and len(bad) <= _REPAIR_LIMIT and rule.fixture_original is None:
        try:
            from .edit import repair_result
            from .errors import InvalidMessageError
        except ImportError:  # pragma: no cover - the edit API is not installed
            return "a clean message", CLEAN
        try:
            fixed = repair_result(bad, profile=profile).data
        except (InvalidMessageError, ValueError):
            return "a clean message", CLEAN
        if rule.code not in validate(fixed, profile=profile).codes:
            return "the bad example after `mimeguard fix`", fixed
    return "a clean message", CLEAN


def _finding_line(f: Finding) -> str:
    where = f" (part {f.part})" if f.part else ""
    return f"{f.line}:{f.column}: {f.code} [{f.severity}] {f.message}{where}"


def explained_rules(spec: str) -> list[Rule]:
    """The rules ``explain SPEC`` shows: one code or name, or every code with a prefix (``MG4``)."""
    code = spec.strip().upper()
    if code in RULES or not code.startswith("MG") or len(code) >= len("MG301"):
        return [get_rule(spec)]  # a whole code or a name: "unknown rule" when there is none
    found = [r for c, r in RULES.items() if c.startswith(code)]
    if not found:
        raise UnknownRuleError(f"no rule code starts with {spec!r}; see `mimeguard rules`")
    return found


def cmd_explain(args: argparse.Namespace, streams: Streams) -> int:
    rules = explained_rules(args.rule)
    if args.format == "json":
        docs = [_explain_dict(r) for r in rules]
        # a code or a name: its object; a prefix: a list, however many rules it matches
        code = args.rule.strip().upper()
        doc: Any = docs if code.startswith("MG") and len(code) < len("MG301") else docs[0]
        streams.out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    s = Style(color_enabled(streams.out, args.color))
    for i, rule in enumerate(rules):
        if i:
            streams.out.write("\n" + s("─" * 72, "dim") + "\n\n")
        _explain_text(rule, s, streams.out.write)
    return 0


def _explain_dict(rule: Rule) -> dict[str, Any]:
    profile = _profile_for(rule)
    bad = rule.fixture
    hits = [f for f in _fixture_report(rule, bad, profile).findings if f.code == rule.code]
    good_label, good = _good_example(rule, bad, profile)
    doc: dict[str, Any] = {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "severity": {p: rule.severity.get(p) for p in PROFILES},
        "source": rule.source,
        "fix": rule.fix,
        "fixable": rule.fixable,
        "example_profile": profile,
        "bad_example": render_bytes(bad),
        "bad_example_findings": [f.to_dict() for f in hits],
        "good_example_is": good_label,
        "good_example": render_bytes(good),
    }
    if rule.fixture_original is not None:
        doc["original"] = render_bytes(rule.fixture_original)
    return doc


def _explain_text(rule: Rule, s: Style, w: Callable[[str], object]) -> None:
    profile = _profile_for(rule)
    bad = rule.fixture
    hits = [f for f in _fixture_report(rule, bad, profile).findings if f.code == rule.code]
    good_label, good = _good_example(rule, bad, profile)
    w(f"{s(rule.code, 'bold')}  {s(rule.name, 'bold', 'cyan')}\n\n{rule.summary}\n\n")
    sev = "   ".join(
        f"{p}: {s.severity(v) if (v := rule.severity.get(p)) else s('not checked', 'dim')}"
        for p in PROFILES
    )
    w(f"  {s('severity', 'bold')}  {sev}\n")
    w(f"  {s('source', 'bold')}    {rule.source}\n")
    how = (
        "`mimeguard fix` repairs it"
        if rule.fixable
        else "`mimeguard fix` reports it, cannot repair it"
    )
    w(f"  {s('fix', 'bold')}       {rule.fix}\n            ({how})\n\n")
    if rule.fixture_original is not None:
        w(s("The message as received:", "bold") + "\n")
        for line in render_bytes(rule.fixture_original):
            w(f"  {s('│', 'dim')} {line}\n")
        w("\n")
    w(s(f"Bad example ({profile} profile):", "bold", "red") + "\n")
    for line in render_bytes(bad):
        w(f"  {s('│', 'dim')} {line}\n")
    for f in hits[:5]:
        w(f"  {s('→', 'red')} {_finding_line(f)}\n")
    w("\n" + s(f"Good example ({good_label}):", "bold", "green") + "\n")
    for line in render_bytes(good):
        w(f"  {s('│', 'dim')} {line}\n")
    w(f"  {s('→', 'green')} no {rule.code} finding\n")
    w("\nLine endings are CRLF unless marked [LF] or [CR]; 8-bit bytes are shown as \\xNN.\n")


# -- rules ----------------------------------------------------------------------------------------


def rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "severity": {p: rule.severity.get(p) for p in PROFILES},
        "source": rule.source,
        "fix": rule.fix,
        "fixable": rule.fixable,
    }


def cmd_rules(args: argparse.Namespace, streams: Streams) -> int:
    if args.format == "json":
        streams.out.write(
            json.dumps([rule_dict(r) for r in RULES.values()], indent=2, ensure_ascii=False) + "\n"
        )
        return 0
    s = Style(color_enabled(streams.out, args.color))
    names = list(PROFILES)
    name_w = max(len(r.name) for r in RULES.values())
    sev_w = {p: max(len(p), 7) for p in names}
    head = (
        f"{'code':<6} {'name':<{name_w}} "
        + " ".join(f"{p:<{sev_w[p]}}" for p in names)
        + f" {'fix':<3} summary"
    )
    tty = streams.out.isatty() if hasattr(streams.out, "isatty") else False
    width = shutil.get_terminal_size().columns if tty else 0
    streams.out.write(s(head, "bold") + "\n")
    for r in RULES.values():
        cells = []
        for p in names:
            v = r.severity.get(p) or "-"
            cells.append(s(f"{v:<{sev_w[p]}}", *SEVERITY_STYLE.get(v, ("dim",))))
        prefix_len = 6 + 1 + name_w + 1 + sum(sev_w.values()) + len(names) + 4
        summary = r.summary
        if width and prefix_len + len(summary) > width:
            summary = summary[: max(10, width - prefix_len - 1)] + "…"
        streams.out.write(
            f"{s(r.code, 'bold'):<6} {r.name:<{name_w}} {' '.join(cells)} "
            f"{'yes' if r.fixable else 'no ':<3} {summary}\n"
        )
    streams.out.write(
        f"\n{len(RULES)} rules.  `mimeguard explain CODE` shows one with examples; "
        "'-': not checked under that profile.\n"
    )
    return 0


# -- tree -----------------------------------------------------------------------------------------


def _rows(msg: Message) -> Iterator[tuple[Part, str]]:
    """Every part with the tree-drawing prefix for its type column."""

    def visit(part: Part, lead: str, last: bool, root: bool) -> Iterator[tuple[Part, str]]:
        yield part, "" if root else lead + ("└─ " if last else "├─ ")
        kids = part.children
        child_lead = "" if root else lead + ("   " if last else "│  ")
        for i, child in enumerate(kids):
            yield from visit(child, child_lead, i == len(kids) - 1, False)

    yield from visit(msg, "", True, True)


def cmd_tree(args: argparse.Namespace, streams: Streams) -> int:
    sel = Selection(args)
    try:
        data = read_stdin() if args.file == "-" else _read(args.file)
    except OSError as exc:
        streams.error(f"{args.file}: {exc.strerror or exc}")
        return 2
    msg = parse(data)
    ignore = sel.ignore
    if args.file != "-":
        ignore += sel.config.ignored_for(sel.config.relative(args.file))
    report = validate(msg, profile=sel.profile, select=sel.select, ignore=ignore)
    by_part: dict[str, list[Finding]] = {}
    paths = {p.path for p in msg.walk()}
    for f in report.findings:
        by_part.setdefault(f.part if f.part in paths else "", []).append(f)
    rows = list(_rows(msg))
    if args.format == "json":
        doc = {
            "path": args.file,
            "size": len(data),
            "profile": sel.profile,
            "ok": report.ok,
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "parts": [
                {
                    "path": p.path,
                    "depth": p.depth,
                    "content_type": p.mime_type,
                    "charset": p.charset,
                    "transfer_encoding": p.transfer_encoding,
                    "size": p.size,
                    "filename": p.filename,
                    "disposition": p.disposition,
                    "findings": [f.to_dict() for f in by_part.get(p.path, [])],
                }
                for p, _ in rows
            ],
        }
        streams.out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return 0
    s = Style(color_enabled(streams.out, args.color))
    table = [
        (
            p.path or "root",
            lead + p.mime_type,
            p.charset or "-",
            p.transfer_encoding,
            f"{p.size:,}",
            _visible(p.filename.encode("utf-8", "backslashreplace")) if p.filename else "-",
        )
        for p, lead in rows
    ]
    head = ("path", "content type", "charset", "encoding", "size", "filename")
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(head)]

    def fmt(cells: tuple[str, ...]) -> str:
        parts = []
        for i, (cell, wd) in enumerate(zip(cells, widths, strict=True)):
            parts.append(cell.rjust(wd) if i == 4 else cell.ljust(wd))
        return "  ".join(parts).rstrip()

    status = "ok" if report.ok else "not ok"
    streams.out.write(
        s(args.file, "bold") + f": {len(data):,} bytes, {_plural(len(rows), 'part')}, "
        f"{sel.profile} profile: {s(status, 'bold', 'green' if report.ok else 'red')} "
        f"({_plural(report.count('error'), 'error')}, "
        f"{_plural(report.count('warning'), 'warning')})\n"
    )
    streams.out.write(s(fmt(head), "bold") + "\n")
    indent = " " * (widths[0] + 2)
    for (p, _), cells in zip(rows, table, strict=True):
        streams.out.write(fmt(cells) + "\n")
        for f in by_part.get(p.path, []):
            streams.out.write(
                f"{indent}{s('↳', 'dim')} {f.line}:{f.column}: "
                f"{s(f.code, *SEVERITY_STYLE[f.severity])} [{s.severity(f.severity)}] {f.message}\n"
            )
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()
