"""mimeguard.ses: S3 in, recipe, SES out — against moto (S3, SESv2) and botocore's Stubber."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from botocore.stub import ANY, Stubber  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.ses.models import ses_backends  # noqa: E402

from mimeguard import _transit, ses  # noqa: E402
from mimeguard._parser import parse  # noqa: E402
from mimeguard.ses import (  # noqa: E402
    InboundMessage,
    Settings,
    explain_rejection,
    process,
    read_event,
)
from mimeguard.workmail import ConfigurationError, EventError, Recipe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
BUCKET = "inbound-mail"
DISCLAIMER = "CAUTION: this message came from outside the organization."
PLAIN = (ROOT / "examples" / "clean-plain.eml").read_bytes()
ATTACHMENT = (ROOT / "examples" / "clean-attachment.eml").read_bytes()
EXE = ATTACHMENT.replace(b"report-q3.pdf", b"invoice.pdf.exe")
TWO_FROMS = b"From: Mallory <m@example.net>\r\n" + PLAIN  # repair cannot choose one
WITH_RETURN_PATH = b"Return-Path: <bounce@example.net>\r\n" + PLAIN


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("MIMEGUARD_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setattr(ses, "_CLIENTS", {})


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        v2 = boto3.client("sesv2", region_name=REGION)
        v2.create_email_identity(EmailIdentity="example.com")
        v2.create_email_identity(EmailIdentity="gateway@example.org")
        yield s3, v2


def sent() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def s3_event(key: str, bucket: str = BUCKET) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
            }
        ]
    }


def receipt(
    key: str, recipients: list[str], source: str = "alice@example.com", action: str = "S3"
) -> dict[str, Any]:
    act: dict[str, Any] = {"type": action}
    if action == "S3":
        act.update(bucketName=BUCKET, objectKeyPrefix="in/", objectKey=key)
    return {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-12-01T10:00:00.000Z",
            "source": source,
            "messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1",
            "destination": [*recipients, "header-only@example.org"],
        },
        "receipt": {"recipients": recipients, "action": act},
    }


class Log(list[dict[str, Any]]):
    def __call__(self, record: dict[str, Any]) -> None:
        json.dumps(record)  # every record is one JSON line
        self.append(record)


def run(event: Any, recipe: Recipe, s3: Any, v2: Any, **settings: Any) -> tuple[Any, Log]:
    log = Log()
    outcomes = process(event, recipe, settings=Settings(**settings), s3=s3, sesv2=v2, log=log)
    assert len(log) == len(outcomes)
    return outcomes, log


# -- the happy paths ---------------------------------------------------------------------------


def test_s3_notification_edits_marks_and_sends(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="mail/a b+c", Body=WITH_RETURN_PATH)
    (outcome,), log = run(
        s3_event("mail/a+b%2Bc"),
        Recipe(disclaimer_text=DISCLAIMER),
        s3,
        v2,
        forward_to=("bob@example.org",),
    )
    assert outcome.status == "sent" and outcome.recipients == ("bob@example.org",)
    (message,) = sent()
    out = message.raw_data.encode() if isinstance(message.raw_data, str) else message.raw_data
    msg = parse(out)
    assert msg.headers[0].name == "X-Mimeguard-Gateway"
    assert msg.header("return-path") is None  # RFC 5321 section 4.4: not relayed
    assert msg.get("message-id") == "<20261123100000.1@example.com>"  # never changed
    assert DISCLAIMER.encode() in out
    assert log[0]["status"] == "sent" and log[0]["recipientsFrom"] == "forward_to"
    assert log[0]["headerMessageId"] == "<20261123100000.1@example.com>"
    assert log[0]["sentIds"] == list(outcome.sent_ids) and outcome.sent_ids


def test_receipt_rule_event_uses_envelope_recipients_in_batches_of_50(
    aws: tuple[Any, Any],
) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="in/x1", Body=PLAIN)
    recipients = [f"user{i}@example.org" for i in range(120)]
    event = {"Records": [{"eventSource": "aws:ses", "ses": receipt("in/x1", recipients)}]}
    stub = Stubber(v2)
    for size in (50, 50, 20):
        stub.add_response(
            "send_email",
            {"MessageId": f"id-{size}"},
            {"Destination": {"ToAddresses": ANY}, "Content": ANY},
        )
    with stub:
        (outcome,), log = run(event, Recipe(subject_prefix="[ext] "), s3, v2)
    stub.assert_no_pending_responses()
    assert outcome.status == "sent" and outcome.recipients == tuple(recipients)
    assert "header-only@example.org" not in outcome.recipients  # mail.destination is not used
    assert log[0]["mailFrom"] == "alice@example.com" and len(outcome.sent_ids) == 3


def test_sns_wrapped_receipt_and_s3_events(aws: tuple[Any, Any]) -> None:
    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="in/x2", Body=PLAIN)
    wrapped = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {"Message": json.dumps(receipt("in/x2", ["b@x.org"]))},
            },
            {"EventSource": "aws:sns", "Sns": {"Message": json.dumps(s3_event("in/x2"))}},
        ]
    }
    found = read_event(wrapped, Settings())
    assert [m.source for m in found] == ["ses-receipt", "s3"]
    assert found[0].recipients == ("b@x.org",) and found[1].recipients is None


def test_lambda_action_needs_the_inbound_bucket(aws: tuple[Any, Any]) -> None:
    event = {
        "Records": [{"eventSource": "aws:ses", "ses": receipt("", ["b@x.org"], action="Lambda")}]
    }
    with pytest.raises(ConfigurationError, match="MIMEGUARD_INBOUND_BUCKET"):
        read_event(event, Settings())
    (found,) = read_event(event, Settings(inbound_bucket=BUCKET, inbound_prefix="in/"))
    assert found.key == "in/o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1"


def test_direct_invocation_shape() -> None:
    (found,) = read_event(
        {"bucket": BUCKET, "key": "k", "mailFrom": "", "recipients": ["b@example.org"]}
    )
    assert found == InboundMessage("direct", BUCKET, "k", "k", "", ("b@example.org",))


@pytest.mark.parametrize(
    ("event", "match"),
    [
        ([], "not a JSON object"),
        ({"Records": []}, "non-empty"),
        ({"Records": [{"eventSource": "aws:sqs"}]}, "aws:sqs"),
        ({"Records": [{"eventSource": "aws:s3", "s3": {}}]}, "s3.bucket.name"),
        ({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{"}}]}, "not JSON"),
        ({"bucket": "b"}, "direct invocation"),
        ({"bucket": "b", "key": "k", "recipients": "b@x.org"}, "list of strings"),
    ],
)
def test_bad_events_raise_event_error(event: Any, match: str) -> None:
    with pytest.raises(EventError, match=match):
        read_event(event)


def test_unknown_recipients_are_a_configuration_error(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="k", Body=PLAIN)
    with pytest.raises(ConfigurationError, match="MIMEGUARD_FORWARD_TO"):
        run(s3_event("k"), Recipe(disclaimer_text=DISCLAIMER), s3, v2)
    (outcome,), log = run(
        s3_event("k"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, recipients_from_headers=True
    )
    assert outcome.recipients == ("bob@example.org",) and log[0]["recipientsFrom"] == "headers"


def test_missing_object_is_logged_not_raised(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    (outcome,), log = run(s3_event("gone"), Recipe(), s3, v2, forward_to=("b@example.org",))
    assert outcome.status == "not-found" and log[0]["level"] == "WARNING"


def test_a_second_delivery_of_the_event_is_not_sent_again(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="once", Body=PLAIN)
    recipe = Recipe(disclaimer_text=DISCLAIMER)
    (first,), _ = run(s3_event("once"), recipe, s3, v2, forward_to=("b@example.org",))
    (second,), log = run(s3_event("once"), recipe, s3, v2, forward_to=("b@example.org",))
    assert (first.status, second.status) == ("sent", "duplicate") and len(sent()) == 1
    marker = log[0]["detail"].split("s3://" + BUCKET + "/")[1].rstrip(")")
    assert marker.startswith("processed/")
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=marker)["Body"].read())["status"] == "sent"
    (third,), _ = run(
        s3_event("once"), recipe, s3, v2, forward_to=("b@example.org",), processed_prefix=None
    )
    assert third.status == "sent" and len(sent()) == 2  # the check can be switched off


def test_a_denied_marker_check_names_the_permission(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    stub = Stubber(s3)
    stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
    with stub, pytest.raises(ConfigurationError, match="s3:ListBucket"):
        run(s3_event("k"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, forward_to=("b@x.org",))


# -- loops -------------------------------------------------------------------------------------


def test_own_output_is_not_processed_again(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="k1", Body=PLAIN)
    settings = {"forward_to": ("bob@example.org",), "secret": "s3cret"}
    run(s3_event("k1"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, **settings)
    first = sent()[0].raw_data
    s3.put_object(Bucket=BUCKET, Key="k2", Body=first)
    (outcome,), _ = run(s3_event("k2"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, **settings)
    assert outcome.status == "loop" and len(sent()) == 1


def test_a_copied_mark_does_not_bypass_the_filter(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    key = _transit.mark_key("s3cret")
    genuine = _transit.mark(PLAIN, gateway_id="mimeguard", key=key)
    mark_line = genuine.split(b"\r\n", 1)[0] + b"\r\n"
    forged = [
        mark_line + EXE,  # the mark of another message
        mark_line + PLAIN.replace(b"noon", b"midnight"),  # body changed after marking
        _transit.mark(EXE, gateway_id="mimeguard", key=_transit.mark_key("guess")),
        _transit.mark(EXE, gateway_id="other", key=key),
        mark_line.replace(b"mac=", b"mac= ") + EXE,
    ]
    recipe = Recipe(strip=("*.exe",))
    for i, data in enumerate(forged):
        s3.put_object(Bucket=BUCKET, Key=f"f{i}", Body=data)
        (outcome,), _ = run(
            s3_event(f"f{i}"), recipe, s3, v2, forward_to=("b@example.org",), secret="s3cret"
        )
        assert outcome.status == "sent", i
    for message in sent():
        assert (
            b'invoice.pdf.exe"\r\nContent-Transfer-Encoding: base64'
            not in message.raw_data.encode()
        )
        assert message.raw_data.count("X-Mimeguard-Gateway:") == 1  # old marks are replaced


def test_mark_survives_a_refolded_mime_field() -> None:
    key = _transit.mark_key("k")
    marked = _transit.mark(ATTACHMENT, gateway_id="gw", key=key)
    refolded = marked.replace(b'; boundary="mix-91c2"', b';\r\n boundary="mix-91c2"')
    assert _transit.is_marked(refolded, gateway_id="gw", key=key)
    changed = marked.replace(b'boundary="mix-91c2"', b'boundary="mix-91c3"')
    assert not _transit.is_marked(changed, gateway_id="gw", key=key)


# -- the failure policy ------------------------------------------------------------------------


def test_unfixable_message_is_bounced_quarantined_and_the_sender_told(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="in/bad", Body=TWO_FROMS)
    event = {"Records": [{"eventSource": "aws:ses", "ses": receipt("in/bad", ["bob@example.org"])}]}
    (outcome,), log = run(
        event, Recipe(strip=("ses-blocked",)), s3, v2, notice_from="gateway@example.org"
    )
    assert outcome.status == "bounced" and "notice sent to alice@example.com" in outcome.detail
    assert outcome.quarantine is not None
    bucket, key = outcome.quarantine.removeprefix("s3://").split("/", 1)
    stored = s3.get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == TWO_FROMS  # the message exactly as received
    assert stored["Metadata"]["mimeguard-reason"]
    (notice,) = sent()
    assert (
        notice.destinations == ["alice@example.com"] or "alice@example.com" in notice.destinations
    )
    assert "Auto-Submitted: auto-replied" in notice.raw_data
    assert log[0]["policy"] == "bounce" and log[0]["report"]["findings"]


@pytest.mark.parametrize(
    ("source", "extra", "why"),
    [
        ("", b"", "null or unknown envelope sender"),
        ("alice@example.com", b"Auto-Submitted: auto-generated\r\n", "auto-submitted"),
    ],
)
def test_no_notice_to_a_null_sender_or_an_auto_reply(
    aws: tuple[Any, Any], source: str, extra: bytes, why: str
) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="in/bad", Body=extra + TWO_FROMS)
    event = {"Records": [{"eventSource": "aws:ses", "ses": receipt("in/bad", ["b@x.org"], source)}]}
    (outcome,), _ = run(
        event, Recipe(strip=("ses-blocked",)), s3, v2, notice_from="gateway@example.org"
    )
    assert outcome.status == "bounced" and why in outcome.detail and not sent()


def test_quarantine_and_drop_policies(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.create_bucket(Bucket="quarantine-box")
    s3.put_object(Bucket=BUCKET, Key="bad", Body=TWO_FROMS)
    s3.put_object(Bucket=BUCKET, Key="bad2", Body=TWO_FROMS)
    (q,), _ = run(
        s3_event("bad"),
        Recipe(disclaimer_text=DISCLAIMER, on_failure="quarantine"),
        s3,
        v2,
        forward_to=("b@example.org",),
        quarantine_bucket="quarantine-box",
        quarantine_prefix="held/",
    )
    assert q.status == "quarantined" and q.quarantine.startswith("s3://quarantine-box/held/")
    (d,), log = run(
        s3_event("bad2"),
        Recipe(disclaimer_text=DISCLAIMER, on_failure="drop"),
        s3,
        v2,
        forward_to=("b@example.org",),
    )
    assert d.status == "dropped" and log[0]["level"] == "WARNING" and not sent()


def test_recipe_drop_action_is_logged(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="k", Body=PLAIN)
    (outcome,), _ = run(s3_event("k"), Recipe(action="DROP"), s3, v2, forward_to=("b@x.org",))
    assert outcome.status == "dropped" and not sent()


def stubbed_rejection(v2: Any, text: str, times: int = 1) -> Stubber:
    stub = Stubber(v2)
    for _ in range(times):
        stub.add_client_error(
            "send_email", service_error_code="MessageRejected", service_message=text
        )
    return stub


def test_ses_rejection_is_mapped_to_rules_and_quarantined(aws: tuple[Any, Any]) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="k", Body=PLAIN)
    with stubbed_rejection(v2, "Duplicate header 'Message-ID'."):
        (outcome,), log = run(
            s3_event("k"),
            Recipe(disclaimer_text=DISCLAIMER, on_failure="quarantine"),
            s3,
            v2,
            forward_to=("b@example.org",),
        )
    assert outcome.status == "quarantined"
    rejection = log[0]["sesRejection"]
    assert rejection["rules"] == ["MG203", "MG204", "MG211"] and rejection["found"] == []


def test_deliver_policy_sends_unchanged_then_quarantines_when_refused_again(
    aws: tuple[Any, Any],
) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="k", Body=PLAIN)
    with stubbed_rejection(v2, "Illegal header 'x'.", times=2) as stub:
        (outcome,), log = run(
            s3_event("k"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, forward_to=("b@x.org",)
        )
        stub.assert_no_pending_responses()
    assert outcome.status == "quarantined" and "refused too" in outcome.detail
    assert log[0]["sesRejection"]["rules"][:2] == ["MG101", "MG102"]


def test_deliver_policy_sends_the_original_when_the_edit_cannot_be_made(
    aws: tuple[Any, Any],
) -> None:
    s3, v2 = aws
    # an .exe attachment: MG404 is an error under the ses profile, the recipe only adds text
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"Return-Path: <x@y.z>\r\n" + EXE)
    (outcome,), _ = run(
        s3_event("k"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, forward_to=("b@x.org",)
    )
    assert outcome.status == "delivered-unchanged", outcome.detail
    (message,) = sent()
    assert message.raw_data.encode().endswith(EXE) and "Return-Path" not in message.raw_data


@pytest.mark.parametrize(
    "code", ["AccountSuspendedException", "SendingPausedException", "NotFoundException"]
)
def test_account_problems_raise_configuration_error(aws: tuple[Any, Any], code: str) -> None:
    s3, v2 = aws
    s3.put_object(Bucket=BUCKET, Key="k", Body=PLAIN)
    stub = Stubber(v2)
    stub.add_client_error("send_email", service_error_code=code, service_message="no")
    with stub, pytest.raises(ConfigurationError, match=code):
        run(s3_event("k"), Recipe(disclaimer_text=DISCLAIMER), s3, v2, forward_to=("b@x.org",))


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Illegal header '<!DOCTYPE html PUBLIC'.", {"MG101"}),
        ("Empty header names are illegal.", {"MG103"}),
        ("Duplicate header 'MIME-Version'.", {"MG204", "MG211"}),
        ("Missing final '@domain'", {"MG205", "MG206"}),
        ("Domain contains illegal character", {"MG206"}),
        ("Header section too long.", {"MG413"}),
        ("Message length is more than 10485760 bytes long: '12078147'.", {"MG401"}),
        ("Unsupported encoding cp-850.", {"MG321"}),
        ("Missing required header 'From'.", {"MG201"}),
        ("Expected disposition, got =", {"MG311"}),
    ],
)
def test_every_known_rejection_text_names_its_rules(text: str, codes: set[str]) -> None:
    assert codes <= set(explain_rejection(text)["rules"])


def test_unverified_sender_hint() -> None:
    hint = explain_rejection("Email address is not verified. The following identities failed")
    assert hint["rules"] == [] and "MIMEGUARD_SES_TRANSPORT=smtp" in hint["hints"][0]


# -- settings ----------------------------------------------------------------------------------


def test_settings_from_env() -> None:
    s = Settings.from_env(
        {
            "MIMEGUARD_SES_TRANSPORT": "SMTP",
            "MIMEGUARD_SMTP_HOST": "relay.example.org",
            "MIMEGUARD_SMTP_PORT": "2525",
            "MIMEGUARD_SMTP_STARTTLS": "no",
            "MIMEGUARD_FORWARD_TO": "a@x.org, b@x.org",
            "MIMEGUARD_GATEWAY_ID": "gw-1",
            "MIMEGUARD_PROFILE": "",
        }
    )
    assert (s.transport, s.smtp_host, s.smtp_port, s.smtp_starttls) == (
        "smtp",
        "relay.example.org",
        2525,
        False,
    )
    assert s.forward_to == ("a@x.org", "b@x.org") and s.profile == "ses"


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"MIMEGUARD_SES_TRANSPORT": "pigeon"}, "transport"),
        ({"MIMEGUARD_SES_TRANSPORT": "smtp"}, "smtp_host"),
        ({"MIMEGUARD_SMTP_PORT": "x"}, "MIMEGUARD_SMTP_PORT"),
        ({"MIMEGUARD_GATEWAY_ID": "a b"}, "gateway id"),
        ({"MIMEGUARD_PROFILE": "nope"}, "unknown profile"),
        ({"MIMEGUARD_FORWARD_TO": "x@y.z\r\nBcc: e@vil"}, "plain ASCII"),
    ],
)
def test_bad_settings(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Settings.from_env(env)


def test_recipe_must_be_a_recipe() -> None:
    with pytest.raises(TypeError):
        process({"bucket": "b", "key": "k"}, lambda b: b, settings=Settings())  # type: ignore[arg-type]


# -- SMTP relay --------------------------------------------------------------------------------


class FakeSMTP:
    def __init__(self, answer: Exception | None = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, list[str], bytes]] = []
        self.tls = False

    def __call__(self, host: str, port: int, timeout: float) -> FakeSMTP:
        assert (host, port) == ("relay.example.org", 2525)
        return self

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self, **kwargs: Any) -> None:
        self.tls = True

    def sendmail(self, sender: str, recipients: list[str], data: bytes) -> dict[str, Any]:
        if self.answer is not None:
            raise self.answer
        self.calls.append((sender, recipients, data))
        return {}


def test_smtp_relay_keeps_the_envelope_sender(aws: tuple[Any, Any]) -> None:
    import smtplib

    s3, _ = aws
    s3.put_object(Bucket=BUCKET, Key="k", Body=PLAIN)
    fake = FakeSMTP()
    event = {
        "bucket": BUCKET,
        "key": "k",
        "mailFrom": "alice@example.com",
        "recipients": ["b@x.org"],
    }
    settings = Settings(
        transport="smtp", smtp_host="relay.example.org", smtp_port=2525, processed_prefix=None
    )
    (outcome,) = process(
        event, Recipe(disclaimer_text=DISCLAIMER), settings=settings, s3=s3, smtp=fake, log=Log()
    )  # type: ignore[arg-type]
    assert outcome.status == "sent" and fake.tls
    ((sender, recipients, data),) = fake.calls
    assert (
        sender == "alice@example.com" and recipients == ["b@x.org"] and DISCLAIMER.encode() in data
    )
    refused = FakeSMTP(smtplib.SMTPDataError(554, b"5.6.0 Illegal header"))
    log = Log()
    (outcome,) = process(
        event,
        Recipe(disclaimer_text=DISCLAIMER, on_failure="quarantine"),
        settings=settings,
        s3=s3,
        smtp=refused,
        log=log,
    )  # type: ignore[arg-type]
    assert outcome.status == "quarantined" and "MG101" in log[0]["sesRejection"]["rules"]
    later = FakeSMTP(smtplib.SMTPDataError(451, b"try later"))
    with pytest.raises(smtplib.SMTPDataError):  # 4xx: the invocation fails and is retried
        process(
            event,
            Recipe(disclaimer_text=DISCLAIMER),
            settings=settings,
            s3=s3,
            smtp=later,
            log=Log(),
        )  # type: ignore[arg-type]


# -- the deployable example --------------------------------------------------------------------

EXAMPLE = ROOT / "examples" / "ses-gateway"


def test_example_handler(aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    s3, v2 = aws
    monkeypatch.setenv("MIMEGUARD_DISCLAIMER_TEXT", DISCLAIMER)
    monkeypatch.setenv("MIMEGUARD_FORWARD_TO", "bob@example.org")
    monkeypatch.setattr(ses, "_CLIENTS", {"s3": s3, "sesv2": v2})
    event = json.loads((EXAMPLE / "event.json").read_text())
    record = event["Records"][0]["s3"]
    record["bucket"]["name"] = BUCKET
    s3.put_object(Bucket=BUCKET, Key=record["object"]["key"], Body=PLAIN)
    spec = importlib.util.spec_from_file_location("ses_example_handler", EXAMPLE / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answer = module.lambda_handler(event, None)
    assert [r["status"] for r in answer["results"]] == ["sent"]
    assert DISCLAIMER in sent()[0].raw_data


def test_example_template_sets_only_variables_mimeguard_reads() -> None:
    import re

    text = (EXAMPLE / "template.yaml").read_text()
    used = set(re.findall(r"\b(MIMEGUARD_[A-Z_]+):", text))
    modules = ("ses.py", "_ses_inbound.py", "workmail.py", "recipe.py", "_specs.py", "_jsonlog.py")
    source = "".join((ROOT / "mimeguard" / f).read_text() for f in modules)
    assert used and all(f'"{name}"' in source for name in used), used
    for ref in set(re.findall(r"!Ref ([\w:]+)", text)) - {"AWS::NoValue", "AWS::AccountId"}:
        assert f"\n  {ref}:\n" in text, ref  # every !Ref names a parameter or resource


def test_quarantine_metadata_stays_ascii_for_hostile_keys_and_reasons(
    aws: tuple[Any, Any],
) -> None:
    s3, v2 = aws
    key = "inbound/Grüße\tfrom\x7fhere"
    s3.put_object(Bucket=BUCKET, Key=key, Body=TWO_FROMS)
    event = s3_event("inbound/Gr%C3%BC%C3%9Fe%09from%7Fhere")
    (outcome,), _ = run(
        event,
        Recipe(action="BOUNCE", bounce_message="Nein.\r\nX-Injected: yes ✓"),
        s3,
        v2,
        forward_to=("b@example.org",),
    )
    assert outcome.status == "bounced"
    bucket, stored = outcome.quarantine.removeprefix("s3://").split("/", 1)
    meta = s3.head_object(Bucket=bucket, Key=stored)["Metadata"]
    assert all(v.isascii() and "\r" not in v and "\n" not in v for v in meta.values())
    assert meta["mimeguard-source"] == "inbound/Gr__e_from_here"


def test_forward_to_as_one_string() -> None:
    assert Settings(forward_to="a@x.org, b@x.org").forward_to == ("a@x.org", "b@x.org")  # type: ignore[arg-type]
