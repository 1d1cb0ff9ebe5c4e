"""Output of ``mimeguard check``: text, JSON, SARIF 2.1.0 and GitHub annotations.

Every reporter writes as results arrive (``file`` per checked file) and closes
its document in ``finish``; none keeps the findings of more than one file.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._cli_check import FileResult, Located
from ._registry import RULES
from .profiles import PROFILES

__all__ = [
    "FORMATS",
    "Progress",
    "Reporter",
    "Style",
    "Summary",
    "color_enabled",
    "is_fixable",
    "make_reporter",
]

FORMATS = ("text", "concise", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}

# -- colour ---------------------------------------------------------------------------------------

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}
SEVERITY_STYLE = {"error": ("bold", "red"), "warning": ("bold", "yellow"), "info": ("cyan",)}


def color_enabled(stream: TextIO, mode: str = "auto") -> bool:
    """``always``/``never``, or (``auto``) a terminal without ``NO_COLOR`` set."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Style:
    """Wraps text in ANSI colour codes when enabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def severity(self, severity: str, text: str | None = None) -> str:
        return self(severity if text is None else text, *SEVERITY_STYLE.get(severity, ()))


# -- progress -------------------------------------------------------------------------------------


class Progress:
    """``checked 1,234/10,000 files`` on one terminal line, redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO, total: int, *, enabled: bool) -> None:
        self.stream = stream
        self.total = total
        self.enabled = enabled and total > 1
        self.done = 0
        self._shown = False
        self._last = 0.0

    def advance(self, *, force: bool = False) -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if force or now - self._last >= 0.1 or self.done == self.total:
            self._last = now
            pct = 100 * self.done // self.total
            self.stream.write(f"\r\x1b[Kchecked {self.done:,}/{self.total:,} files ({pct}%)")
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


# -- the summary ----------------------------------------------------------------------------------


FIX_HINT = "fixable with `mimeguard fix`"


def is_fixable(code: str) -> bool:
    """Whether ``mimeguard fix`` repairs findings of ``code`` (the registry says)."""
    rule = RULES.get(code)
    return rule is not None and rule.fixable


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass
class Summary:
    """What ``check`` counted while streaming (no findings are kept)."""

    files: int = 0
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    #: errors and warnings that ``mimeguard fix`` repairs
    fixable_errors: int = 0
    fixable_warnings: int = 0
    #: files a folder search passed over: name not matching include / matching exclude
    skipped_include: int = 0
    skipped_exclude: int = 0
    #: files that could not be checked: (path, why)
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: findings per code, and the severity each code was reported with
    counts: Counter[str] = field(default_factory=Counter)
    severities: dict[str, str] = field(default_factory=dict)
    exit_code: int = 0

    def add(self, result: FileResult) -> None:
        if result.error is not None:
            self.failures.append((result.display, result.error))
            return
        self.files += 1
        for hit in result.hits:
            fixable = is_fixable(hit.code)
            if hit.severity == "error":
                self.errors += 1
                self.fixable_errors += fixable
            elif hit.severity == "warning":
                self.warnings += 1
                self.fixable_warnings += fixable
            else:
                self.infos += 1
            self.counts[hit.code] += 1
            self.severities.setdefault(hit.code, hit.severity)

    def files_line(self) -> str:
        """``164 files checked, 337 skipped (not matching --include), 2 excluded``."""
        bits = [_plural(self.files, "file") + " checked"]
        if self.skipped_include:
            bits.append(f"{self.skipped_include:,} skipped (not matching --include)")
        if self.skipped_exclude:
            bits.append(f"{self.skipped_exclude:,} excluded")
        if self.failures:
            bits.append(f"{len(self.failures):,} could not be checked")
        return ", ".join(bits)

    def findings_line(self) -> str:
        """``7 errors (5 fixable with `mimeguard fix`)``, then warnings when there are any."""
        line = _plural(self.errors, "error")
        hint = FIX_HINT
        if self.fixable_errors:
            line += f" ({self.fixable_errors:,} {hint})"
            hint = "fixable"
        if self.warnings:
            line += ", " + _plural(self.warnings, "warning")
            if self.fixable_warnings:
                line += f" ({self.fixable_warnings:,} {hint})"
        return line

    def line(self) -> str:
        return self.files_line() + "\n" + self.findings_line()

    def statistics(self) -> list[dict[str, Any]]:
        out = []
        for code, count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(
                {
                    "code": code,
                    "name": RULES[code].name if code in RULES else "",
                    "severity": self.severities[code],
                    "count": count,
                    "fixable": is_fixable(code),
                }
            )
        return out


def where(hit: Located) -> str:
    """`` (part 1.2)``, `` (message 3, part 1.2)`` or nothing."""
    bits = []
    if hit.msgno:
        bits.append(f"message {hit.msgno}")
    if hit.part:
        bits.append(f"part {hit.part}")
    return f" ({', '.join(bits)})" if bits else ""


# -- reporters ------------------------------------------------------------------------------------


class Reporter:
    """Writes one format; ``file`` is called per result, ``finish`` once at the end."""

    def __init__(
        self,
        out: TextIO,
        *,
        style: Style,
        profile: str,
        statistics: bool = False,
        quiet: bool = False,
        version: str = "",
    ) -> None:
        self.out = out
        self.style = style
        self.profile = profile
        self.statistics = statistics
        self.quiet = quiet
        self.version = version

    def start(self) -> None:
        """Write what comes before the first file."""

    def file(self, result: FileResult) -> bool:
        """Write one file's findings; return whether anything was written."""
        raise NotImplementedError

    def finish(self, summary: Summary) -> None:
        raise NotImplementedError


def statistics_row(row: dict[str, Any], style: Style) -> str:
    """``     3  MG111  [*]  [error]    bare-lf``: count, code, fixable, severity, name."""
    mark = style("[*]", "cyan") if row["fixable"] else "   "
    severity = style.severity(row["severity"], f"[{row['severity']}]")
    pad = " " * (9 - len(row["severity"]) - 2)
    return (
        f"{row['count']:>6}  {style(row['code'], 'bold')}  {mark}  {severity}{pad}  {row['name']}"
    )


#: what the source lines and carets under a finding are indented by
_INDENT = "    "


class TextReporter(Reporter):
    """``path:line:col: CODE [severity] message``, the source line, ``^~~`` under the span."""

    #: whether the source lines and carets are drawn under each finding
    source = True

    def file(self, result: FileResult) -> bool:
        if result.error is not None or self.statistics or not result.hits:
            return False
        s = self.style
        path = s(result.display, "bold")
        for hit in result.hits:
            mark = f" {s('[*]', 'cyan')}" if is_fixable(hit.code) else ""
            self.out.write(
                f"{path}:{hit.line}:{hit.column}: {s(hit.code, *SEVERITY_STYLE[hit.severity])}"
                f"{mark} [{s.severity(hit.severity)}] {hit.message}{s(where(hit), 'dim')}\n"
            )
            for source, carets in hit.excerpt if self.source else ():
                self.out.write(f"{_INDENT}{source}\n" if source else "\n")
                if carets:
                    self.out.write(f"{_INDENT}{s.severity(hit.severity, carets)}\n")
        return True

    def finish(self, summary: Summary) -> None:
        if self.statistics:
            for row in summary.statistics():
                self.out.write(statistics_row(row, self.style) + "\n")
        if not self.quiet:
            color = "red" if summary.errors or summary.failures else "green"
            self.out.write(summary.files_line() + "\n")
            self.out.write(self.style(summary.findings_line(), "bold", color) + "\n")


class ConciseReporter(TextReporter):
    """One line per finding, no source lines: for grep and scripts."""

    source = False


class JsonReporter(Reporter):
    """One JSON document, written file by file: ``{"files": [...], "summary": {...}}``."""

    def start(self) -> None:
        head = {"tool": "mimeguard", "version": self.version, "profile": self.profile}
        self.out.write(json.dumps(head)[:-1] + ', "files": [\n')
        self._first = True

    def file(self, result: FileResult) -> bool:
        entry: dict[str, Any] = {"path": result.display}
        if result.error is not None:
            entry["error"] = result.error
        else:
            counts = Counter(h.severity for h in result.hits)
            entry.update(
                ok=counts["error"] == 0,
                size=result.size,
                messages=result.messages,
                errors=counts["error"],
                warnings=counts["warning"],
                infos=counts["info"],
                findings=[_located_dict(h) for h in result.hits],
            )
        self.out.write(("" if self._first else ",\n") + json.dumps(entry, ensure_ascii=False))
        self._first = False
        return True

    def finish(self, summary: Summary) -> None:
        tail: dict[str, Any] = {
            "files": summary.files,
            "skipped": {
                "not_included": summary.skipped_include,
                "excluded": summary.skipped_exclude,
            },
            "errors": summary.errors,
            "warnings": summary.warnings,
            "infos": summary.infos,
            "fixable": summary.fixable_errors + summary.fixable_warnings,
            "failures": [{"path": p, "error": e} for p, e in summary.failures],
            "exit_code": summary.exit_code,
        }
        if self.statistics:
            tail["statistics"] = summary.statistics()
        self.out.write(("\n" if not self._first else "") + '], "summary": ')
        self.out.write(json.dumps(tail, ensure_ascii=False) + "}\n")


def _located_dict(hit: Located) -> dict[str, Any]:
    d: dict[str, Any] = {
        "code": hit.code,
        "name": hit.name,
        "severity": hit.severity,
        "message": hit.message,
        "part": hit.part,
        "offset": hit.offset,
        "end": max(hit.offset, hit.end),
        "line": hit.line,
        "column": hit.column,
        "end_line": hit.end_line or hit.line,
        "end_column": hit.end_column or hit.column,
        "fixable": is_fixable(hit.code),
    }
    if hit.msgno:
        d["message_index"] = hit.msgno
    return d


def artifact_uri(display: str) -> tuple[str, bool]:
    """A SARIF artifact URI for a printed path, and whether it is relative to the source root."""
    if os.path.isabs(display):
        return Path(display).as_uri(), False
    return urllib.parse.quote(display.replace(os.sep, "/")), True


class SarifReporter(Reporter):
    """A SARIF 2.1.0 log with one run, as GitHub code scanning takes it.

    Every rule of the catalog is listed in ``tool.driver.rules`` (with its level
    under the chosen profile); results point at the file, line and column.
    """

    def start(self) -> None:
        self._index = {code: i for i, code in enumerate(RULES)}
        rules = [_sarif_rule(r.code, self.profile) for r in RULES.values()]
        cwd = Path.cwd().as_uri().rstrip("/") + "/"
        head = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "mimeguard",
                            "version": self.version,
                            "semanticVersion": self.version,
                            "rules": rules,
                        }
                    },
                    "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd}},
                    "properties": {"profile": self.profile},
                }
            ],
        }
        text = json.dumps(head, indent=2, ensure_ascii=False)
        # Leave the run open: results stream in, invocations close it.
        assert text.endswith("\n    }\n  ]\n}")
        self.out.write(text[: -len("\n    }\n  ]\n}")] + ',\n      "results": [')
        self._first = True

    def file(self, result: FileResult) -> bool:
        if result.error is not None or not result.hits:
            return False
        uri, relative = artifact_uri(result.display)
        location: dict[str, Any] = {"uri": uri}
        if relative:
            location["uriBaseId"] = "%SRCROOT%"
        for hit in result.hits:
            entry = {
                "ruleId": hit.code,
                "ruleIndex": self._index.get(hit.code, -1),
                "level": _SARIF_LEVEL[hit.severity],
                "message": {"text": hit.message + where(hit)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": _sarif_region(hit),
                        }
                    }
                ],
                "properties": {"part": hit.part, "name": hit.name}
                | ({"message": hit.msgno} if hit.msgno else {}),
            }
            sep = "\n        " if self._first else ",\n        "
            self.out.write(sep + json.dumps(entry, ensure_ascii=False))
            self._first = False
        return True

    def finish(self, summary: Summary) -> None:
        notes = [
            {
                "level": "error",
                "message": {"text": f"{path}: {why}"},
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(path)[0]}}}
                ],
            }
            for path, why in summary.failures
        ]
        invocation: dict[str, Any] = {
            "executionSuccessful": not summary.failures,
            "exitCode": summary.exit_code,
        }
        if notes:
            invocation["toolExecutionNotifications"] = notes
        if self.statistics:
            invocation["properties"] = {"statistics": summary.statistics()}
        body = json.dumps([invocation], indent=2, ensure_ascii=False).replace("\n", "\n      ")
        self.out.write(("\n      ]" if not self._first else "]") + ',\n      "invocations": ')
        self.out.write(body + "\n    }\n  ]\n}\n")


def _sarif_region(hit: Located) -> dict[str, int]:
    """The hit's span as a SARIF region: line/column (columns count bytes) and byte range."""
    end = max(hit.offset, hit.end)
    return {
        "startLine": hit.line,
        "startColumn": hit.column,
        "endLine": hit.end_line or hit.line,
        "endColumn": hit.end_column or hit.column,
        "byteOffset": hit.offset,
        "byteLength": end - hit.offset,
    }


def _sarif_rule(code: str, profile: str) -> dict[str, Any]:
    r = RULES[code]
    severity = r.severity.get(profile)
    levels = ", ".join(f"{p}: {r.severity.get(p) or 'not checked'}" for p in PROFILES)
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": f"{r.summary} Source: {r.source}."},
        "help": {
            "text": f"{r.summary}\nSource: {r.source}\nSeverity: {levels}\nRepair: {r.fix}",
            "markdown": (
                f"{r.summary}\n\n- Source: {r.source}\n- Severity: {levels}\n- Repair: {r.fix}\n\n"
                f"`mimeguard explain {r.code}` shows an example."
            ),
        },
        "defaultConfiguration": {
            "enabled": severity is not None,
            "level": _SARIF_LEVEL[severity] if severity is not None else "none",
        },
        "properties": {"tags": ["email", "mime", profile], "fixable": r.fixable},
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""

    def file(self, result: FileResult) -> bool:
        if result.error is not None:
            self.out.write(
                f"::error title=mimeguard::{_escape_data(result.display + ': ' + result.error)}\n"
            )
            return True
        for hit in result.hits:
            fields = [("file", result.display), ("line", str(hit.line)), ("col", str(hit.column))]
            if hit.end > hit.offset and hit.end_line:  # a span, not a point
                fields += [("endLine", str(hit.end_line)), ("endColumn", str(hit.end_column))]
            fields.append(("title", f"{hit.code} {hit.name}"))
            props = ",".join(f"{k}={_escape_property(v)}" for k, v in fields)
            text = _escape_data(f"{hit.message}{where(hit)}")
            self.out.write(f"::{_GITHUB_LEVEL[hit.severity]} {props}::{text}\n")
        return bool(result.hits)

    def finish(self, summary: Summary) -> None:
        if self.statistics:
            for row in summary.statistics():
                self.out.write(statistics_row(row, Style(False)) + "\n")
        if not self.quiet:
            self.out.write(summary.line() + "\n")


_REPORTERS: dict[str, Callable[..., Reporter]] = {
    "text": TextReporter,
    "concise": ConciseReporter,
    "json": JsonReporter,
    "sarif": SarifReporter,
    "github": GithubReporter,
}


def make_reporter(fmt: str, out: TextIO, **kwargs: Any) -> Reporter:
    return _REPORTERS[fmt](out, **kwargs)
