"""Profiles are data: each documented number holds (one message just under, one just over),
inheritance and overrides resolve, and rules read profile fields, never profile names."""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any

import pytest

import mimeguard
from mimeguard import PROFILES, RULES, Profile, get_profile, validate
from mimeguard._defects import Defect
from mimeguard._registry import (
    Rule,
    fixable_names,
    parser_rule_names,
    rule,
    severities,
)
from mimeguard._rules._fixture import CLEAN, TEXT_PART, build, multipart
from mimeguard.cli import main
from mimeguard.rules import render_markdown

from .conftest import ROOT

MiB = 1024 * 1024


def codes(data: bytes, profile: str | Profile, *select: str) -> set[str]:
    return validate(data, profile=profile, select=list(select) or None).codes


# -- message size -----------------------------------------------------------------------------


def sized(n: int) -> bytes:
    """A clean text message of exactly ``n`` bytes, lines of at most 998 octets."""
    head = build(body=b"")
    rem = n - len(head)
    assert rem >= 2
    full, r = divmod(rem, 1000)
    if r == 1:
        full, tail = full - 1, b"A" * 997 + b"\r\n" + b"\r\n"
    elif r == 0:
        tail = b""
    else:
        tail = b"A" * (r - 2) + b"\r\n"
    data = head + (b"A" * 998 + b"\r\n") * full + tail
    assert len(data) == n
    return data


def raw_limit(p: Profile) -> int:
    """The largest MIME size the profile takes."""
    assert p.max_message_bytes is not None
    if p.size_measure == "base64":
        return p.max_message_bytes // 4 * 3
    return p.max_message_bytes


SIZES = {
    "workmail": (40 * MiB, "mime"),
    "ses": (40 * MiB, "base64"),
    "ses-v1": (10 * MiB, "base64"),
    "mailmanager": (40 * MiB, "mime"),
    "gmail": (36_700_160, "mime"),
    "graph": (4 * MiB, "base64"),
}


def test_documented_sizes() -> None:
    for name, (limit, measure) in SIZES.items():
        p = PROFILES[name]
        assert (p.max_message_bytes, p.size_measure) == (limit, measure), name
    # graph: the 4 MiB request carries base64, so 3 MiB of MIME; SES v2 likewise 30 MiB
    assert raw_limit(PROFILES["graph"]) == 3 * MiB
    assert raw_limit(PROFILES["ses"]) == 30 * MiB
    assert [p for p in PROFILES.values() if p.max_message_bytes] == [PROFILES[n] for n in SIZES]


@pytest.mark.parametrize("name", list(SIZES))
def test_message_size_just_under_and_just_over(name: str) -> None:
    p = PROFILES[name]
    limit = raw_limit(p)
    under = sized(limit)
    assert p.measured_size(len(under)) == p.max_message_bytes
    assert "MG401" not in codes(under, name, "MG401")
    over = sized(limit + 1)
    report = validate(over, profile=name, select=["MG401"])
    [finding] = report.findings
    assert finding.code == "MG401" and finding.severity == "error"
    assert f"{p.max_message_bytes:,}" in finding.message
    if p.size_measure == "base64":
        assert "after base64" in finding.message
        assert f"{4 * -(-(limit + 1) // 3):,}" in finding.message


def test_size_is_not_checked_without_a_quota() -> None:
    big = sized(raw_limit(PROFILES["graph"]) + 1)
    for name in ("rfc", "imap"):
        assert RULES["MG401"].severity[name] is None
        assert "MG401" not in codes(big, name)
    assert "MG401" not in codes(big, "gmail", "MG401")  # 3 MiB is fine for Gmail


# -- recipients, attachments, parts, header block ---------------------------------------------


def with_recipients(n: int) -> bytes:
    """``n`` recipients spread over To, Cc and Bcc (and a Reply-To that does not count)."""
    addrs = [b"r%d@example.org" % i for i in range(n)]
    third = n // 3
    fields = [
        b"To: " + b", ".join(addrs[:third] or [b"bob@example.org"]),
        b"Cc: " + b", ".join(addrs[third : 2 * third] or [b"c@example.org"]),
        b"Bcc: " + b", ".join(addrs[2 * third :]),
        b"Reply-To: " + b", ".join(b"x%d@example.org" % i for i in range(600)),
    ]
    if n < 3:  # the placeholders above would count
        fields = [b"Bcc: " + b", ".join(addrs)]
    return build(*fields, drop=(b"To",))


RECIPIENTS = {"workmail": 500, "ses": 50, "ses-v1": 50, "mailmanager": 100, "graph": 500}


def test_documented_recipient_quotas() -> None:
    got = {n: p.max_recipients for n, p in PROFILES.items() if p.max_recipients}
    assert got == RECIPIENTS
    for n in RECIPIENTS:
        assert PROFILES[n].recipient_fields == ("to", "cc", "bcc")


@pytest.mark.parametrize("name", list(RECIPIENTS))
def test_recipients_just_under_and_just_over(name: str) -> None:
    limit = RECIPIENTS[name]
    assert "MG403" not in codes(with_recipients(limit), name, "MG403")
    assert "MG403" in codes(with_recipients(limit + 1), name, "MG403")


def test_recipient_fields_are_profile_data() -> None:
    only_to = PROFILES["ses"].derive("ses-to", "To only", recipient_fields=("To",))
    data = with_recipients(51)  # 17 in To
    assert "MG403" in codes(data, "ses", "MG403")
    assert "MG403" not in codes(data, only_to, "MG403")


def with_attachments(n: int) -> bytes:
    att = (
        b"Content-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename=a.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg=="
    )
    return multipart(TEXT_PART, *([att] * n))


ATTACHMENTS = {"workmail": 500, "graph": 250}


@pytest.mark.parametrize("name", list(ATTACHMENTS))
def test_attachments_just_under_and_just_over(name: str) -> None:
    limit = ATTACHMENTS[name]
    assert PROFILES[name].max_attachments == limit
    assert "MG402" not in codes(with_attachments(limit), name, "MG402")
    assert "MG402" in codes(with_attachments(limit + 1), name, "MG402")


@pytest.mark.parametrize("name", ["ses", "ses-v1"])
def test_mime_parts_just_under_and_just_over(name: str) -> None:
    assert PROFILES[name].max_parts == 500
    under = multipart(*([TEXT_PART] * 499))  # the root and 499 parts
    assert len(mimeguard.parse(under).parts) == 500
    assert "MG405" not in codes(under, name, "MG405")
    over = multipart(*([TEXT_PART] * 500))
    assert "MG405" in codes(over, name, "MG405")
    assert RULES["MG405"].severity["workmail"] is None


def header_sized(n: int) -> bytes:
    """A message whose root header block (its final empty line excluded) is ``n`` bytes."""

    def make(last: int) -> bytes:
        pads = [b"X-Pad: " + b"x" * 900] * (n // 910) + [b"X-Last: " + b"y" * last]
        return build(*pads)

    def size(data: bytes) -> int:
        msg = mimeguard.parse(data)
        return msg.header_end - msg.start

    first = make(10)
    data = make(10 + n - size(first))
    assert size(data) == n
    return data


def test_header_block_just_under_and_just_over() -> None:
    p = PROFILES["imap"]
    assert p.max_header_bytes == 512 * 1024
    assert "MG406" not in codes(header_sized(512 * 1024), "imap", "MG406")
    assert "MG406" in codes(header_sized(512 * 1024 + 1), "imap", "MG406")
    assert "MG406" not in codes(header_sized(512 * 1024 + 1), "rfc")


# -- what a service refuses -------------------------------------------------------------------


def test_gmail_takes_exactly_one_from_mailbox() -> None:
    one = build(b"From: alice@example.com", drop=(b"From",))
    two = build(
        b"From: alice@example.com, carol@example.com",
        b"Sender: alice@example.com",
        drop=(b"From",),
    )
    group = build(b"From: Authors: alice@example.com, carol@example.com;", drop=(b"From",))
    assert "MG420" not in codes(one, "gmail")
    assert "MG420" in codes(two, "gmail")
    assert "MG420" not in codes(two, "rfc") and "MG420" not in codes(two, "workmail")
    assert codes(two, "rfc") == set()  # RFC 5322 allows several authors with a Sender
    assert codes(group, "gmail") & {"MG205", "MG420"}
    for missing_or_twice in (build(drop=(b"From",)), build(b"From: carol@example.com")):
        assert codes(missing_or_twice, "gmail") & {"MG201", "MG203"}


def test_gmail_wants_a_parsable_to() -> None:
    bad = build(b"To: bob@@example.org", drop=(b"To",))
    report = validate(bad, profile="gmail")
    assert any(f.code == "MG206" and f.severity == "error" for f in report.findings)


def attachment(disposition: bytes) -> bytes:
    return multipart(
        TEXT_PART,
        b"Content-Type: application/octet-stream\r\nContent-Disposition: "
        + disposition
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"MZ")
        + b"\r\n",
    )


def test_gmail_blocked_list_is_gmails() -> None:
    gmail = PROFILES["gmail"].blocked_extensions
    assert len(gmail) == 54
    assert {"apk", "jar", "dll", "iso", "msix", "xll", "ex_"} <= gmail
    assert "zip" not in gmail and "pdf" not in gmail
    assert PROFILES["ses"].blocked_extensions != gmail


@pytest.mark.parametrize("ext", sorted(mimeguard.PROFILES["gmail"].blocked_extensions))
def test_every_gmail_blocked_extension(ext: str) -> None:
    data = attachment(b'attachment; filename="report.pdf.' + ext.encode() + b'"')
    report = validate(data, profile="gmail", select=["MG404"])
    assert [f.severity for f in report.findings] == ["error"], ext


@pytest.mark.parametrize(
    "disposition",
    [
        b"attachment; filename*=utf-8''setup.JAR",
        b"attachment; filename*0=set; filename*1=up.apk",
        b'attachment; filename="=?utf-8?B?' + base64.b64encode(b"tool.dll") + b'?="',
        b'attachment; filename="installer.msi. "',
        b'attachment; filename="C:\\\\temp\\\\x.jar"',
    ],
)
def test_gmail_blocked_names_in_every_encoding(disposition: bytes) -> None:
    assert "MG404" in codes(attachment(disposition), "gmail", "MG404")


def test_gmail_allows_what_it_does_not_list() -> None:
    for name in (b"report.pdf", b"photo.jpg", b"archive.zip", b"notes.cabinet"):
        data = attachment(b'attachment; filename="' + name + b'"')
        assert "MG404" not in codes(data, "gmail", "MG404"), name


def test_ses_once_only_and_7bit_headers() -> None:
    twice = build(b"List-Id: <a.example.com>", b"List-Id: <b.example.com>")
    for name in ("ses", "ses-v1"):
        assert "MG204" in codes(twice, name)
    for name in ("rfc", "workmail", "gmail", "graph", "imap", "mailmanager"):
        assert "MG204" not in codes(twice, name)
    eight = build("X-Greeting: Grüße".encode())
    sev = {n: RULES["MG115"].severity_in(n) for n in PROFILES}
    assert sev["ses"] == sev["imap"] == sev["workmail"] == "error"
    assert sev["rfc"] == "warning"
    report = validate(eight, profile="ses")
    assert any(f.code == "MG115" and f.severity == "error" for f in report.findings)


IMAP_REFUSES = {
    "MG114": build(body=b"before\x00after\r\n"),
    "MG111": CLEAN.replace(b"\r\n", b"\n"),
    "MG112": build(body=b"one\rtwo\r\n"),
    "MG113": CLEAN.replace(b"Hello Bob,\r\n", b"Hello Bob,\n"),
    "MG115": build("Subject: Grüße".encode(), drop=(b"Subject",)),
    "MG104": build(b"X-\x01Bad: 1"),
    "MG317": build(
        mime=(b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: binary")
    ),
}


@pytest.mark.parametrize("code", list(IMAP_REFUSES))
def test_imap_refuses(code: str) -> None:
    report = validate(IMAP_REFUSES[code], profile="imap")
    assert any(f.code == code and f.severity == "error" for f in report.findings), report.codes


def test_header_name_bytes_up_to_space_are_refused_everywhere() -> None:
    for byte in (0x01, 0x1F, 0x7F, 0xC3):
        data = build(b"X-" + bytes([byte]) + b"Bad: 1")
        assert "MG104" in codes(data, "imap"), byte


def test_mailmanager_needs_rfc_5321_transfer_encodings() -> None:
    data = IMAP_REFUSES["MG317"]
    assert RULES["MG317"].severity_in("mailmanager") == "error"
    assert "MG317" in codes(data, "mailmanager")


# -- the model --------------------------------------------------------------------------------


#: (rfc, workmail, ses) severities of every rule before profiles became data
BEFORE: dict[str, tuple[str | None, str | None, str | None]] = {
    "MG101": ("error", "error", "error"),
    "MG102": ("error", "error", "error"),
    "MG103": ("error", "error", "error"),
    "MG104": ("error", "error", "error"),
    "MG105": ("warning", "warning", "warning"),
    "MG106": ("error", "error", "error"),
    "MG107": ("error", "error", "error"),
    "MG110": ("error", "error", "error"),
    "MG111": ("error", "error", "error"),
    "MG112": ("error", "error", "error"),
    "MG113": ("error", "error", "error"),
    "MG114": ("error", "error", "error"),
    "MG115": ("warning", "error", "error"),
    "MG116": ("warning", "warning", "warning"),
    "MG201": ("error", "error", "error"),
    "MG202": ("error", "error", "error"),
    "MG203": ("error", "error", "error"),
    "MG204": (None, None, "error"),
    "MG205": ("error", "error", "error"),
    "MG206": ("error", "warning", "error"),
    "MG207": ("error", "warning", "error"),
    "MG208": ("warning", "warning", "warning"),
    "MG209": ("warning", "error", "error"),
    "MG210": ("error", "warning", "error"),
    "MG211": ("error", "error", "error"),
    "MG301": ("error", "error", "error"),
    "MG302": ("error", "error", "error"),
    "MG303": ("error", "error", "error"),
    "MG304": ("error", "error", "error"),
    "MG305": ("error", "error", "error"),
    "MG306": ("error", "error", "error"),
    "MG310": ("error", "error", "error"),
    "MG311": ("warning", "warning", "warning"),
    "MG312": ("warning", "warning", "warning"),
    "MG313": ("error", "error", "error"),
    "MG314": ("error", "error", "error"),
    "MG315": ("error", "error", "error"),
    "MG316": ("error", "error", "error"),
    "MG317": ("warning", "error", "error"),
    "MG318": ("error", "error", "error"),
    "MG319": ("warning", "warning", "warning"),
    "MG320": ("warning", "warning", "warning"),
    "MG321": ("warning", "warning", "warning"),
    "MG322": ("warning", "warning", "warning"),
    "MG323": ("error", "error", "error"),
    "MG324": ("error", "error", "error"),
    "MG325": ("info", "warning", "warning"),
    "MG401": (None, "error", "error"),
    "MG402": (None, "error", None),
    "MG403": (None, "error", "error"),
    "MG404": (None, "warning", "error"),
    "MG405": (None, None, "error"),
    "MG406": (None, None, None),
    "MG410": ("error", "error", "error"),
    "MG411": ("error", "error", "error"),
    "MG412": ("error", "error", "error"),
    "MG413": ("error", "error", "error"),
    "MG414": ("error", "error", "error"),
    "MG420": (None, None, None),
    "MG501": ("error", "error", "error"),
}
#: what changed under ses, now that it builds on rfc and SES's documented limits
SES_CHANGES = {
    "MG206": "error",  # SES rejects "Missing final '@domain'"
    "MG207": "error",
    "MG210": "error",
    "MG402": None,  # SES documents no attachment count; its 500 MIME parts are MG405
}


def test_rfc_and_workmail_severities_are_unchanged() -> None:
    for code, (rfc, workmail, ses) in BEFORE.items():
        r = RULES[code]
        assert (r.severity["rfc"], r.severity["workmail"]) == (rfc, workmail), code
        assert r.severity["ses"] == SES_CHANGES.get(code, ses), code
    for code in ("MG405", "MG406", "MG420"):  # new quotas neither rfc nor workmail sets
        assert RULES[code].severity["rfc"] is RULES[code].severity["workmail"] is None


def test_workmail_quotas_are_unchanged() -> None:
    w = PROFILES["workmail"]
    assert (w.max_message_bytes, w.max_recipients, w.max_attachments) == (40 * MiB, 500, 500)
    assert w.size_measure == "mime" and w.base == "rfc"
    assert mimeguard.profiles.DEFAULT_PROFILE == "workmail"


def chain(p: Profile) -> list[str]:
    names = [p.name]
    while p.base is not None:
        p = PROFILES[p.base]
        names.append(p.name)
    return names


def test_every_profile_derives_from_rfc() -> None:
    assert list(PROFILES)[:3] == ["rfc", "workmail", "ses"]
    for p in PROFILES.values():
        assert chain(p)[-1] == "rfc", p.name
        assert get_profile(p.name) is p
    assert PROFILES["ses"].base == "rfc"  # SES builds on the RFCs, not on WorkMail
    assert PROFILES["ses-v1"].base == "ses"


def test_every_number_and_list_has_a_source() -> None:
    quotas = ("max_message_bytes", "max_recipients", "max_attachments", "max_parts")
    for p in PROFILES.values():
        for field in (*quotas, "max_header_bytes", "once_only", "blocked_extensions"):
            if getattr(p, field):
                assert p.sources.get(field), (p.name, field)
        assert p.sources.get("max_line_octets")
        base = PROFILES.get(p.base) if p.base else None
        if base is not None and dict(p.overrides) != dict(base.overrides):
            assert p.sources.get("overrides") != base.sources.get("overrides"), p.name


def test_docs_rules_md_gives_each_profile_and_source() -> None:
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert doc == render_markdown()
    profiles = doc.split("\n# Profiles\n", 1)[1]
    for p in PROFILES.values():
        section = profiles.split(f"## `{p.name}`\n", 1)[1].split("\n## ", 1)[0]
        assert p.description in section
        for source in p.sources.values():
            assert source in section, (p.name, source)
        if p.max_message_bytes:
            assert f"{p.max_message_bytes:,} bytes" in section


def test_overrides_name_registered_rules() -> None:
    for p in PROFILES.values():
        assert set(p.overrides) <= set(RULES), p.name


def test_no_rule_tests_a_profile_name() -> None:
    pattern = re.compile(r"""profile\.name\s*(==|!=|in)|== *["'](rfc|workmail|ses|gmail)["']""")
    for path in (ROOT / "mimeguard" / "_rules").glob("*.py"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path.name


def test_derive_merges_overrides_and_replaces_the_rest() -> None:
    base = PROFILES["workmail"]
    child = base.derive(
        "corp", "workmail, stricter", max_recipients=10, overrides={"MG208": "error"}
    )
    assert child.base == "workmail" and child.max_recipients == 10
    assert child.max_attachments == 500
    assert child.overrides["MG208"] == "error" and child.overrides["MG206"] == "warning"
    assert base.overrides.get("MG208") is None  # the base is untouched
    assert RULES["MG208"].severity_in(child) == "error"
    off = base.derive("quiet", "no MG208", overrides={"MG208": None})
    assert RULES["MG208"].severity_in(off) is None
    report = validate(build(b"Message-ID: x", drop=(b"Message-ID",)), profile=off)
    assert "MG208" not in report.codes


def test_a_callers_profile_is_used_as_given() -> None:
    # same name as a built-in, other quota: validation must not reuse the built-in's rules
    tight = PROFILES["rfc"].derive("workmail", "a workmail of one recipient", max_recipients=1)
    data = with_recipients(2)
    assert "MG403" in validate(data, profile=tight).codes
    assert "MG403" not in validate(data, profile="workmail").codes
    assert "MG403" in validate(data, profile=tight).codes


def test_profiles_are_frozen_and_hashable() -> None:
    p = PROFILES["gmail"]
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.overrides["MG101"] = None  # type: ignore[index]
    assert hash(p) == hash(dataclasses.replace(p)) and p == dataclasses.replace(p)
    with pytest.raises(TypeError, match="base"):
        p.derive("x", "y", base="workmail")
    assert {p: 1}[p] == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "Not Kebab"}, ValueError),
        ({"name": ""}, ValueError),
        ({"name": 3}, TypeError),
        ({"max_message_bytes": 0}, ValueError),
        ({"max_recipients": -1}, ValueError),
        ({"max_attachments": True}, ValueError),
        ({"max_parts": 2.5}, ValueError),
        ({"max_line_octets": 997}, ValueError),
        ({"size_measure": "base32"}, ValueError),
        ({"recipient_fields": ()}, ValueError),
        ({"recipient_fields": ("to", "reply-to")}, ValueError),
        ({"overrides": {"MG1": "error"}}, ValueError),
        ({"overrides": {"MG101": "fatal"}}, ValueError),
        ({"sources": {"max_colour": "x"}}, ValueError),
    ],
)
def test_impossible_profiles_raise_at_once(kwargs: dict[str, Any], error: type) -> None:
    args: dict[str, Any] = {"name": "x", "description": "d", **kwargs}
    with pytest.raises(error):
        Profile(**args)


def test_line_length_is_profile_data() -> None:
    long = build(body=b"x" * 1200 + b"\r\n")
    assert "MG110" in codes(long, "rfc")
    lenient = PROFILES["rfc"].derive("lenient", "longer lines", max_line_octets=1500)
    assert "MG110" not in codes(long, lenient)
    assert "MG110" in codes(build(body=b"x" * 1501 + b"\r\n"), lenient)


def test_unknown_profile_names() -> None:
    for bad in ("hotmail", "", "SES", "workmail "):
        with pytest.raises(mimeguard.UnknownProfileError):
            get_profile(bad)
    with pytest.raises(mimeguard.UnknownProfileError):
        get_profile([])  # type: ignore[arg-type]


# -- the rule registry ------------------------------------------------------------------------


def test_severity_is_computed_from_profiles() -> None:
    for r in RULES.values():
        assert dict(r.severity) == {n: r.severity_in(p) for n, p in PROFILES.items()}
        assert r.profiles == tuple(n for n in PROFILES if r.severity[n] is not None)
        assert r.severity_in("no-such-profile") is None
        if r.needs is not None:
            for p in PROFILES.values():
                if not getattr(p, r.needs):
                    assert r.severity_in(p) is None, (r.code, p.name)


def test_fixable_is_declared_and_every_fixable_rule_has_a_repair_note() -> None:
    for r in RULES.values():
        reported_only = r.fix.lower().startswith(("not fixable", "reported only"))
        assert r.fixable is not reported_only, r.code
        if r.fixable:
            assert len(r.fix) > 20 and r.fix.endswith("."), r.code
    assert fixable_names() == {r.name for r in RULES.values() if r.fixable}
    assert "missing-closing-boundary" in fixable_names()
    assert "invalid-from" not in fixable_names()


@pytest.mark.parametrize(
    "r", [r for r in RULES.values() if r.fixable], ids=lambda r: f"{r.code}-{r.name}"
)
def test_every_fixable_rule_is_repaired_under_every_profile_it_runs_in(r: Rule) -> None:
    for name in r.profiles:
        if r.code not in validate(r.fixture, profile=name).codes:
            continue  # e.g. a quota the fixture does not exceed there
        res = mimeguard.repair_result(r.fixture, profile=name, envelope_from="env@example.com")
        assert r.code not in validate(res.data, profile=name).codes, (r.code, name)
        assert res.changes, (r.code, name)


def test_every_parser_defect_is_a_registered_rule() -> None:
    names = {str(d) for d in Defect}
    assert names == parser_rule_names()
    for d in Defect:
        assert mimeguard.get_rule(d.value).name == d.value
    # the parser names its defects with the enum, never with a string literal
    parser = (ROOT / "mimeguard" / "_parser.py").read_text(encoding="utf-8")
    for d in Defect:
        assert f'"{d.value}"' not in parser, d.value


def test_the_old_severity_form_still_registers() -> None:
    # rules written against the old decorator (other branches) keep their meaning
    legacy = severities("error", rfc="warning")
    assert legacy == {"rfc": "warning", "workmail": "error", "ses": "error"}
    with pytest.raises(ValueError, match="unknown profile"):
        severities("error", hotmail="warning")

    def check(ctx: object) -> list[Any]:
        return []

    try:
        rule(
            "MG998",
            "legacy-form-test",
            summary="A rule in the old form.",
            severity=legacy,
            source="test",
            fixture=CLEAN,
            fix="Reported only.",
        )(check)
        r: Rule = RULES["MG998"]
        assert r.default == "warning" and r.fixable is False
        assert r.severity_in("rfc") == "warning"
        assert r.severity_in("workmail") == "error" and r.severity_in("ses") == "error"
        assert r.severity_in("ses-v1") == "error"  # derived from ses
        assert r.severity_in("gmail") == "warning"  # a new profile: the rfc reading
    finally:
        RULES.pop("MG998", None)
        from mimeguard import _registry

        _registry._BY_NAME.pop("legacy-form-test", None)
    with pytest.raises(ValueError, match="needs"):
        rule("MG997", "x", summary="x.", severity="error", source="x", fixture=CLEAN,
             fix="x", needs="max_colour")  # fmt: skip


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROFILES))
def test_check_takes_every_profile(
    name: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = tmp_path / "clean.eml"
    clean.write_bytes(CLEAN)
    assert main(["check", "--profile", name, str(clean)]) == 0
    two = tmp_path / "two-from.eml"
    two.write_bytes(
        build(b"From: a@example.com, b@example.com", b"Sender: a@example.com", drop=(b"From",))
    )
    status = main(["check", "--profile", name, "--format", "json", str(two)])
    out = capsys.readouterr().out
    assert (status != 0) is (name == "gmail"), out
    assert ("MG420" in out) is (name == "gmail")


# -- repair runs from findings ----------------------------------------------------------------


def test_every_fixable_rule_has_a_registered_repair_and_only_those() -> None:
    from mimeguard._repair import REPAIRS

    assert set(REPAIRS) == {r.code for r in RULES.values() if r.fixable}
    assert all(REPAIRS[code] for code in REPAIRS)


def test_a_repair_can_only_be_registered_for_a_fixable_rule() -> None:
    from mimeguard._repair import repairs

    for code in ("MG205", "MG999"):  # invalid-from is reported only; MG999 is no rule
        with pytest.raises(ValueError, match="not a fixable rule"):
            repairs(code)(lambda job, part, node, names: None)


_TWO_BAD_PARTS = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"
    b"\r\ncaf\xc3\xa9\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
    b"\r\nAAAA*AAA=\r\n"
    b"--b--\r\n"
)


def test_repair_changes_only_what_the_profile_reports() -> None:
    # MG316 (8-bit under 7bit) in part 1, MG318 (invalid base64) in part 2: a profile
    # that does not report MG318 gets part 1 fixed and part 2 copied byte for byte
    lenient = get_profile("rfc").derive(
        "rfc-lenient", "rfc without MG318", overrides={"MG318": None}
    )
    strict = mimeguard.repair_result(_TWO_BAD_PARTS, profile="rfc")
    assert {c.part for c in strict.changes} == {"1", "2"}
    kept = mimeguard.repair_result(_TWO_BAD_PARTS, profile=lenient)
    assert {c.part for c in kept.changes} == {"1"}
    assert b"\r\nAAAA*AAA=\r\n--b--\r\n" in kept.data
    assert "MG318" not in validate(kept.data, profile=lenient).codes
    assert "MG316" not in validate(kept.data, profile=lenient).codes
