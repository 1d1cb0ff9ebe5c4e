"""Every rule: its fixture triggers it, a clean message does not; catalog hygiene."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mimeguard
from mimeguard import RULES, Rule, get_rule, validate
from mimeguard._rules._fixture import CLEAN
from mimeguard.limits import DEFAULT_LIMITS
from mimeguard.rules import render_markdown

from .conftest import ROOT, example_files


def _profile(rule: Rule) -> str:
    return next(p for p in ("workmail", "ses", "rfc", *mimeguard.PROFILES) if rule.severity.get(p))


@pytest.mark.parametrize("rule", list(RULES.values()), ids=lambda r: f"{r.code}-{r.name}")
def test_fixture_triggers_rule(rule: Rule) -> None:
    report = validate(
        rule.fixture,
        profile=_profile(rule),
        original=rule.fixture_original,
        limits=rule.fixture_limits or DEFAULT_LIMITS,
    )
    hits = [f for f in report.findings if f.code == rule.code]
    assert hits, f"{rule.code} not reported; got {sorted(report.codes)}"
    for f in hits:
        assert f.name == rule.name
        assert f.severity == rule.severity[_profile(rule)]
        assert f.message
        assert f.line >= 1 and f.column >= 1


@pytest.mark.parametrize("profile", list(mimeguard.PROFILES))
def test_clean_message_has_no_findings(profile: str) -> None:
    report = validate(CLEAN, profile=profile, original=CLEAN)
    assert report.ok
    assert report.findings == []


def test_codes_and_names_are_well_formed_and_unique() -> None:
    names = [r.name for r in RULES.values()]
    assert len(set(names)) == len(names)
    for code, r in RULES.items():
        assert code == r.code
        assert re.fullmatch(r"MG\d{3}", code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name)
        assert r.summary.endswith(".")
        assert r.source and r.fix
        assert set(r.severity) == set(mimeguard.PROFILES)


def test_every_profile_includes_every_rfc_rule() -> None:
    # every profile derives from rfc; none switches an RFC rule off
    for r in RULES.values():
        if r.severity["rfc"] is not None:
            assert all(r.severity[p] is not None for p in mimeguard.PROFILES), r.code


def test_get_rule_by_code_and_name() -> None:
    assert get_rule("mg301").name == "missing-closing-boundary"
    assert get_rule("missing-closing-boundary").code == "MG301"
    with pytest.raises(mimeguard.UnknownRuleError, match="MG999"):
        get_rule("MG999")


def test_select_and_ignore() -> None:
    data = RULES["MG111"].fixture  # bare LF
    assert "MG111" in validate(data).codes
    assert "MG111" not in validate(data, ignore=["MG111"]).codes
    assert "MG111" not in validate(data, ignore=["MG1"]).codes
    assert validate(data, select=["bare-lf"]).codes == {"MG111"}
    with pytest.raises(mimeguard.UnknownRuleError):
        validate(data, select=["no-such-rule"])


def test_unknown_profile() -> None:
    with pytest.raises(mimeguard.UnknownProfileError, match="workmail"):
        validate(CLEAN, profile="hotmail")


def test_immutable_header_needs_original() -> None:
    rule = RULES["MG501"]
    assert "MG501" not in validate(rule.fixture).codes


def test_report_serialises() -> None:
    report = validate(RULES["MG301"].fixture)
    d = report.to_dict()
    assert d["ok"] is False and d["errors"] == len(report.errors)
    assert '"MG301"' in report.to_json()
    f = report.findings[0]
    assert set(f.to_dict()) == {
        "code",
        "name",
        "severity",
        "message",
        "part",
        "offset",
        "end",
        "line",
        "column",
    }


def test_finding_positions() -> None:
    data = CLEAN.replace(b"Subject: Quarterly report", "Subject: Grüße".encode())
    report = validate(data)
    f = next(f for f in report.findings if f.name == "header-8bit")
    assert f.line == 3
    assert data[f.offset : f.offset + 1] == "ü".encode()[:1]
    assert f.column == len(b"Subject: Gr") + 1


def test_findings_are_frozen() -> None:
    f = validate(RULES["MG301"].fixture).findings[0]
    with pytest.raises(AttributeError):
        f.code = "MG000"  # type: ignore[misc]


def test_docs_rules_md_is_generated() -> None:
    doc = ROOT / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == render_markdown(), (
        "docs/rules.md is stale: run `python -m mimeguard.rules > docs/rules.md`"
    )


EXPECTED = {
    "broken-lf-line-endings.eml": {"MG111"},
    "broken-missing-closing-boundary.eml": {"MG301"},
    "broken-8bit-header.eml": {"MG115", "MG316"},
    "broken-long-line.eml": {"MG110"},
    "broken-missing-date.eml": {"MG202"},
    "broken-no-separator.eml": {"MG101"},
}


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_examples(path: Path) -> None:
    report = validate(path.read_bytes())
    if path.name.startswith("clean-"):
        assert report.findings == [], [str(f) for f in report.findings]
    else:
        assert {f.code for f in report.errors} == EXPECTED[path.name]
