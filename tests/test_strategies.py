"""mimeguard.strategies: valid messages are clean everywhere, malformed ones report what
was injected, the building blocks draw what they promise, and bad arguments fail early.

The last tests are the README's "testing someone else's code" examples: the standard
library's email package checked with the same strategies.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import subprocess
import sys
from email.message import Message as StdMessage

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import mimeguard
from mimeguard import strategies as ms
from mimeguard._abnf import BOUNDARY_OK
from mimeguard._address import parse_mailbox
from mimeguard._date import parse_date
from mimeguard._params import parse_content_type
from mimeguard._rfc2047 import decode_words
from mimeguard.message import decode_body
from mimeguard.strategies._blocks import _codec

from .conftest import ROOT

PROFILES = list(mimeguard.PROFILES)


def stdlib_defects(data: bytes) -> list[str]:
    """Every defect the stdlib records, on parts (compat32 and default) or on headers."""
    out: list[str] = []
    for policy in (email.policy.compat32, email.policy.default):
        msg = email.message_from_bytes(data, policy=policy)
        for part in msg.walk():
            out += [f"{part.get_content_type()}: {type(d).__name__}" for d in part.defects]
            if policy is email.policy.default:
                for name, value in part.items():
                    out += [f"{name}: {d}" for d in getattr(value, "defects", ())]
            if not part.is_multipart():
                part.get_payload(decode=True)
                out += [f"{part.get_content_type()}: {type(d).__name__}" for d in part.defects]
    return out


def findings(data: bytes, profile: str) -> list[str]:
    """Errors and warnings (infos are not problems)."""
    report = mimeguard.validate(data, profile=profile)
    return [str(f) for f in report.findings if f.severity != "info"]


#: what a profile refuses although RFC 5322 allows it, and messages() draws anyway
NARROWER = {"gmail": "MG420"}  # From with several authors (and a Sender)


def codes_in(data: bytes, profile: str) -> set[str]:
    """The codes reported under ``profile``, but for what it refuses and the RFC allows."""
    codes = {f.code for f in mimeguard.validate(data, profile=profile).findings}
    return codes - {NARROWER.get(profile, "-")}


def assert_valid(data: bytes) -> None:
    for profile in PROFILES:
        refused = NARROWER.get(profile, "-")
        assert [f for f in findings(data, profile) if f" {refused} " not in f] == [], profile
    assert stdlib_defects(data) == []


# -- valid messages -------------------------------------------------------------------------------


@given(ms.messages())
def test_messages_validate_clean_everywhere_and_the_stdlib_agrees(data: bytes) -> None:
    assert_valid(data)
    assert data.isascii()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


OPTIONS = {
    "signed": {"signed": True},
    "single-part": {"max_depth": 0},
    "deep": {"max_depth": 6, "max_parts": 20},
    "ascii-headers": {"encoded_words": False, "rfc2231": False},
    "text-only": {"attachments": False, "attached_messages": False},
    "utf-8-base64": {"charsets": ("utf-8",), "transfer_encodings": ("base64",)},
    "cjk-7bit": {"charsets": ("iso-2022-jp",), "transfer_encodings": ("7bit",)},
    "no-multipart": {"multipart_subtypes": ()},
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=list(OPTIONS))
@settings(max_examples=20)
@given(data=st.data())
def test_messages_with_options_are_valid(options: dict[str, object], data: st.DataObject) -> None:
    message = data.draw(ms.messages(**options))  # type: ignore[arg-type]
    assert_valid(message)


@settings(max_examples=30)
@given(ms.messages(transfer_encodings=("8bit",)))
def test_8bit_messages_only_draw_the_8bit_warning(data: bytes) -> None:
    for profile in PROFILES:
        codes = codes_in(data, profile)
        assert codes <= {"MG325"}, profile
    assert stdlib_defects(data) == []


@settings(max_examples=30)
@given(ms.messages(transfer_encodings=("binary",)))
def test_binary_messages_only_draw_the_binary_finding(data: bytes) -> None:
    for profile in PROFILES:
        codes = codes_in(data, profile)
        assert codes <= {"MG317"}, profile


@settings(max_examples=30)
@given(ms.messages(line_endings=("\n",)))
def test_lf_messages_are_reported_as_bare_lf_only(data: bytes) -> None:
    assert b"\r" not in data
    for profile in PROFILES:
        assert codes_in(data, profile) == {"MG111"}


def test_max_parts_and_max_depth_hold() -> None:
    @settings(max_examples=50)
    @given(ms.messages(max_depth=2, max_parts=4))
    def check(data: bytes) -> None:
        parts = mimeguard.parse(data).parts
        assert len(parts) <= 4
        assert max(p.depth for p in parts) <= 2

    check()


def test_the_simplest_message_is_readable() -> None:
    first = settings(database=None, max_examples=1, phases=[Phase.generate])
    assert find(ms.messages(), lambda _: True, settings=first) == (
        b"From: a@example.com\r\n"
        b"To: a@example.com\r\n"
        b"Date: Sat, 01 Jan 2000 00:00:00 +0000\r\n"
        b"Message-ID: <0@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"\r\n"
    )


def test_shrinks_to_a_readable_minimal_message() -> None:
    found = find(
        ms.messages(max_depth=1, max_parts=2, attached_messages=False),
        lambda m: b"multipart/mixed" in m,
        settings=settings(database=None, max_examples=1000),
    )
    # From, To, Date, Message-ID, MIME-Version, a multipart/mixed with one empty part
    assert found.startswith(b"From: a@example.com\r\n")
    assert b"Content-Type: multipart/mixed; boundary=0\r\n\r\n--0\r\n" in found
    assert found.endswith(b"\r\n--0--\r\n")
    assert len(found) < 250, found


# -- malformed messages ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
@given(data=st.data())
def test_malformed_messages_report_what_was_injected(profile: str, data: st.DataObject) -> None:
    message, expected = data.draw(ms.malformed_messages(profile=profile))
    assert expected
    reported = mimeguard.validate(message, profile=profile).codes
    assert expected <= reported, f"missing {sorted(expected - reported)}"


@pytest.mark.parametrize("code", list(ms.DEFECTS))
@settings(max_examples=4, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_defect_alone(code: str, data: st.DataObject) -> None:
    rule = mimeguard.RULES[code]
    profile = next(p for p in ("workmail", "ses", "rfc", *PROFILES) if rule.severity[p])
    message, expected = data.draw(
        ms.malformed_messages(codes=[code], max_defects=1, profile=profile)
    )
    assert expected == {code}
    assert code in mimeguard.validate(message, profile=profile).codes


def test_docs_list_every_defect() -> None:
    doc = (ROOT / "docs" / "fuzzing.md").read_text(encoding="utf-8")
    for code in ms.DEFECTS:
        assert f"| {code} | `{mimeguard.RULES[code].name}` |" in doc, code


def test_every_rule_has_an_injector_or_a_reason() -> None:
    for code, rule in mimeguard.RULES.items():
        if rule.no_injector is None:
            assert code in ms.DEFECTS, f"{code} has neither an injector nor a reason"
        else:
            assert code not in ms.DEFECTS, f"{code} has an injector and a reason"
            assert rule.no_injector.strip()
    assert list(ms.DEFECTS) == sorted(ms.DEFECTS)


def test_injector_registry_refuses_bad_codes() -> None:
    from mimeguard.strategies._injectors import injector

    with pytest.raises(ValueError, match="no such rule"):
        injector("MG999", "nothing", phase=0)
    with pytest.raises(ValueError, match="says it has none"):
        injector("MG501", "an original", phase=0)
    with pytest.raises(RuntimeError, match="two injectors"):
        injector("MG101", "again", phase=3)(lambda inj: None)


# -- building blocks ------------------------------------------------------------------------------


@given(ms.addresses())
def test_addresses_parse_as_one_mailbox(address: str) -> None:
    assert not parse_mailbox(address).problems
    _name, addr = email.utils.parseaddr(address)
    assert "@" in addr
    header = email.policy.default.header_factory("To", address)
    assert not header.defects
    assert len(header.addresses) == 1


@given(ms.header_fields())
def test_header_fields_are_folded_ascii_with_good_encoded_words(line: bytes) -> None:
    assert line.isascii() and line.endswith(b"\r\n")
    text = line.decode("ascii")
    name, _, value = text.partition(":")
    unfolded = value.replace("\r\n", "").strip()
    assert decode_words(unfolded)[1] == []
    for physical in text.split("\r\n")[:-1]:
        assert len(physical) <= 998
    msg = email.message_from_bytes(line + b"\r\n", policy=email.policy.default)
    assert not msg[name].defects


@given(ms.content_types())
def test_content_types_parse_without_problems(value: str) -> None:
    ct = parse_content_type(value)
    assert ct.mime_type and not ct.problems
    header = email.policy.default.header_factory("Content-Type", value)
    assert not header.defects


@given(ms.boundaries())
def test_boundaries_are_valid(boundary: str) -> None:
    assert BOUNDARY_OK.fullmatch(boundary)


@given(ms.dates())
def test_dates_parse(value: str) -> None:
    assert parse_date(value)[1] == []
    assert email.utils.parsedate_to_datetime(value).tzinfo is not None


@pytest.mark.parametrize("encoding", ms.TRANSFER_ENCODINGS)
@settings(max_examples=30)
@given(data=st.data())
def test_bodies_decode_to_what_they_stand_for(encoding: str, data: st.DataObject) -> None:
    charset = data.draw(st.sampled_from(ms.DEFAULT_CHARSETS))
    body = data.draw(ms.bodies(encoding=encoding, charset=charset))
    assert decode_body(body.encoded, encoding) == body.decoded
    body.decoded.decode(_codec(charset))
    if encoding in ("base64", "quoted-printable"):
        raw = data.draw(ms.bodies(encoding=encoding, charset=None))
        assert decode_body(raw.encoded, encoding) == raw.decoded
        assert raw.encoded.isascii()


# -- arguments and imports ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "kwargs"),
    [
        (ms.messages, {"max_depth": -1}),
        (ms.messages, {"max_parts": 0}),
        (ms.messages, {"max_parts": 2.5}),
        (ms.messages, {"charsets": ()}),
        (ms.messages, {"charsets": ("x-klingon",)}),
        (ms.messages, {"charsets": ("utf-16",)}),
        (ms.messages, {"charsets": "utf-8"}),
        (ms.messages, {"transfer_encodings": ("uuencode",)}),
        (ms.messages, {"transfer_encodings": ()}),
        (ms.messages, {"line_endings": ("\r",)}),
        (ms.messages, {"multipart_subtypes": ("report",)}),
        (ms.messages, {"signed": "yes"}),
        (ms.malformed_messages, {"codes": ["MG999"]}),
        (ms.malformed_messages, {"codes": ["MG501"]}),
        (ms.malformed_messages, {"codes": ["MG204"], "profile": "workmail"}),
        (ms.malformed_messages, {"codes": []}),
        (ms.malformed_messages, {"max_defects": 0}),
        (ms.malformed_messages, {"profile": "hotmail"}),
        (ms.bodies, {"encoding": "7bit", "charset": None}),
        (ms.bodies, {"encoding": "x-token"}),
        (ms.header_fields, {"names": ("Bad Name",)}),
        (ms.content_types, {"types": ("text",)}),
        (ms.addresses, {"charsets": ()}),
    ],
)
def test_impossible_arguments_raise_at_once(factory: object, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        factory(**kwargs)  # type: ignore[operator]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def test_importing_mimeguard_does_not_import_hypothesis() -> None:
    done = _python("import sys, mimeguard; print('hypothesis' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_a_clear_import_error_without_hypothesis() -> None:
    done = _python(
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import mimeguard.strategies\n"
        "except ImportError as e:\n    print(e)\n"
    )
    assert "pip install hypothesis" in done.stdout, done.stderr


# -- testing someone else's code: the stdlib (the README's examples) ------------------------------


@given(ms.messages())
def test_stdlib_decodes_every_text_part_like_mimeguard(data: bytes) -> None:
    std = email.message_from_bytes(data, policy=email.policy.default)
    theirs = [p.get_content() for p in std.walk() if p.get_content_maintype() == "text"]
    ours = [p.text() for p in mimeguard.parse(data).walk() if p.maintype == "text"]
    assert theirs == ours


@given(ms.messages(max_parts=4))
def test_stdlib_writes_back_what_it_reads(data: bytes) -> None:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    types = [p.get_content_type() for p in msg.walk()]
    if any(len(t) > 60 for t in types):
        return  # CPython mangles these when it refolds: see the next test
    again = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in again.walk()] == types


@pytest.mark.xfail(
    strict=False,
    reason="CPython (3.11 at least): as_bytes() refolds a long media type into RFC 2047 "
    "encoded-words, 'application/=?utf-8?q?vnd=2Eopenxml...?=' (found by the test above)",
)
def test_stdlib_keeps_a_long_media_type_when_it_refolds() -> None:
    long_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    data = (
        f"From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: {long_type};\r\n"
        " name*=utf-8''%C2%B2.docx\r\n\r\nx\r\n"
    ).encode()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    again = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert again.get_content_type() == long_type


#: what the stdlib records for each defect malformed_messages() can inject
STDLIB_DEFECT = {
    "MG101": "MissingHeaderBodySeparatorDefect",
    "MG106": "FirstHeaderLineIsContinuationDefect",
    "MG301": "CloseBoundaryNotFoundDefect",
    "MG302": "StartBoundaryNotFoundDefect",
    "MG303": "NoBoundaryInMultipartDefect",
    "MG314": "InvalidMultipartContentTransferEncodingDefect",
}


@given(ms.malformed_messages(codes=STDLIB_DEFECT, max_defects=1))
def test_stdlib_notices_broken_structure(case: tuple[bytes, frozenset[str]]) -> None:
    data, expected = case
    msg: StdMessage = email.message_from_bytes(data, policy=email.policy.compat32)
    noticed = {type(d).__name__ for part in msg.walk() for d in part.defects}
    for code in expected:
        assert STDLIB_DEFECT[code] in noticed
