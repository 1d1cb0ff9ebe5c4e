"""JSON-lines logging for the gateways: the sink and the summaries of reports and changes."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from .findings import Report
from .recipe import ConfigurationError

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}

# -- logging -----------------------------------------------------------------------------------


class JsonLines:
    """The default log sink: one JSON object per line on ``stream`` (stdout by default).

    In Lambda each line becomes one CloudWatch log event, which CloudWatch Logs
    Insights reads as JSON without a parse step.  ``level`` (default from
    ``MIMEGUARD_LOG_LEVEL``, else INFO) drops quieter records.
    """

    def __init__(self, stream: TextIO | None = None, *, level: str | None = None) -> None:
        self.stream = stream
        name = (level or os.environ.get("MIMEGUARD_LOG_LEVEL") or "INFO").upper()
        if name not in _LEVELS:
            raise ConfigurationError(f"log level {name!r}: expected one of {', '.join(_LEVELS)}")
        self.level = _LEVELS[name]

    def __call__(self, record: dict[str, Any]) -> None:
        if _LEVELS.get(str(record.get("level", "INFO")), 20) < self.level:
            return
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        stream.flush()


def _change_dict(c: Any) -> dict[str, str]:
    detail = str(getattr(c, "detail", ""))
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return {
        "kind": str(getattr(c, "kind", "")),
        "part": str(getattr(c, "part", "")),
        "detail": detail,
    }


def _report_dict(report: Report, limit: int = 50) -> dict[str, Any]:
    out = report.to_dict()
    ordered = sorted(report.findings, key=lambda f: {"error": 0, "warning": 1}.get(f.severity, 2))
    out["findings"] = [f.to_dict() for f in ordered[:limit]]
    if len(report.findings) > limit:
        out["findingsLeftOut"] = len(report.findings) - limit
    return out


def _summary(report: Report | None) -> dict[str, Any] | None:
    if report is None:
        return None
    codes: dict[str, int] = {}
    for f in report.findings:
        codes[f.code] = codes.get(f.code, 0) + 1
    return {
        "ok": report.ok,
        "profile": report.profile,
        "errors": report.count("error"),
        "warnings": report.count("warning"),
        "infos": report.count("info"),
        "codes": codes,
    }
