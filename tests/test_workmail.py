"""mimeguard.workmail: the WorkMail Lambda glue, against botocore's Stubber and moto.

``workmailmessageflow`` is stubbed with botocore's Stubber, which checks every
request against the real service model (required members, types, lengths); a
hook added here also checks the model's ``pattern`` constraints, which botocore
itself does not.  S3 is moto's in-process backend, so what was uploaded is read
back and compared.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from botocore.response import StreamingBody  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402

import mimeguard  # noqa: E402
from mimeguard import _aws, workmail  # noqa: E402
from mimeguard.edit import Editor  # noqa: E402
from mimeguard.workmail import (  # noqa: E402
    ConfigurationError,
    EventError,
    JsonLines,
    Outcome,
    Recipe,
    Settings,
    WorkMailEvent,
    bucket_policy,
    final_report,
    handle,
    process,
    rule_response,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workmail-lambda"
REGION = "us-east-1"
ACCOUNT = "111122223333"
BUCKET = "mimeguard-test-messages"
MID = "d1234567-8e90-1f23-4567-abcd7e8f9a0b"
DISCLAIMER = "CAUTION: this message came from outside the organization."
DEFAULT = {"actions": [{"allRecipients": True, "action": {"type": "DEFAULT"}}]}

PLAIN = (ROOT / "examples" / "clean-plain.eml").read_bytes()

SIGNED = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: bob@example.org\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"Subject: signed\r\n"
    b"Message-ID: <signed.1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/signed; protocol="application/pgp-signature";\r\n'
    b' micalg=pgp-sha256; boundary="sig-1"\r\n'
    b"\r\n"
    b"--sig-1\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Signed text.\r\n"
    b"--sig-1\r\n"
    b'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
    b"\r\n"
    b"-----BEGIN PGP SIGNATURE-----\r\n"
    b"iQEzBAEBCAAdFiEEexample\r\n"
    b"-----END PGP SIGNATURE-----\r\n"
    b"--sig-1--\r\n"
)

NO_FROM = (
    b"To: bob@example.org\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"Subject: no from\r\n"
    b"Message-ID: <nofrom.1@example.com>\r\n"
    b"\r\n"
    b"Hello.\r\n"
)


def big_message(size: int = 30 * 1024 * 1024) -> bytes:
    """A ~``size``-byte message: a text part and one base64 attachment."""
    raw = (bytes(range(256)) * (size * 3 // 4 // 256 + 1))[: size * 3 // 4]
    import base64

    b64 = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return (
        b"From: Alice Example <alice@example.com>\r\n"
        b"To: bob@example.org\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Subject: big\r\n"
        b"Message-ID: <big.1@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b-1"\r\n'
        b"\r\n"
        b"--b-1\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n"
        b"\r\n"
        b"The archive is attached.\r\n"
        b"--b-1\r\n"
        b'Content-Type: application/octet-stream; name="archive.bin"\r\n'
        b'Content-Disposition: attachment; filename="archive.bin"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n" + b64 + b"--b-1--\r\n"
    )


def make_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "summaryVersion": "2018-10-10",
        "envelope": {
            "mailFrom": {"address": "alice@example.com"},
            "recipients": [{"address": "bob@example.org"}, {"address": "carol@example.org"}],
        },
        "sender": {"address": "alice@example.com"},
        "subject": "Lunch",
        "messageId": MID,
        "invocationId": "0123456789abcdef0123456789abcdef",
        "flowDirection": "INBOUND",
        "truncated": False,
    }
    event.update(changes)
    return event


class Context:
    """The parts of a Lambda context that mimeguard.workmail reads."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mimeguard-disclaimer"

    def __init__(self, remaining_ms: int = 15_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class FakeClock:
    """A monotonic clock that only moves when slept on (or pushed)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith(("MIMEGUARD_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setattr(_aws, "_CLIENTS", {})


@pytest.fixture
def s3() -> Iterator[Any]:
    with moto.mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def _pattern_problems(shape: Any, value: Any, path: str, out: list[str]) -> None:
    """Every string in ``value`` that breaks its model ``pattern`` or ``max``."""
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _pattern_problems(member, value[name], f"{path}.{name}", out)
    elif shape.type_name == "string" and isinstance(value, str):
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            out.append(f"{path}={value!r} does not match {pattern}")
        if len(value) > shape.metadata.get("max", len(value)):
            out.append(f"{path} is longer than {shape.metadata['max']}")


class Flow:
    """A stubbed workmailmessageflow client."""

    def __init__(self, client: Any, stub: Stubber) -> None:
        self.client = client
        self.stub = stub
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []

    def get(self, data: bytes) -> None:
        body = StreamingBody(io.BytesIO(data), len(data))
        self.stub.add_response(
            "get_raw_message_content", {"messageContent": body}, {"messageId": MID}
        )

    def get_error(self, code: str, status: int = 400, message: str = "") -> None:
        self.stub.add_client_error(
            "get_raw_message_content",
            service_error_code=code,
            service_message=message or code,
            http_status_code=status,
            expected_params={"messageId": MID},
        )

    def put(self) -> None:
        self.stub.add_response("put_raw_message_content", {}, self._put_params())

    def put_error(self, code: str, status: int = 400, message: str = "") -> None:
        self.stub.add_client_error(
            "put_raw_message_content",
            service_error_code=code,
            service_message=message or code,
            http_status_code=status,
            expected_params=self._put_params(),
        )

    @staticmethod
    def _put_params() -> dict[str, Any]:
        return {"messageId": MID, "content": {"s3Reference": {"bucket": BUCKET, "key": ANY}}}

    def put_references(self) -> list[dict[str, Any]]:
        return [p["content"]["s3Reference"] for op, p in self.calls if op == "PutRawMessageContent"]


@pytest.fixture
def flow() -> Iterator[Flow]:
    client = boto3.client("workmailmessageflow", region_name=REGION)
    with Stubber(client) as stub:
        f = Flow(client, stub)

        def check(params: dict[str, Any], model: Any, **_: Any) -> None:
            f.calls.append((model.name, params))
            _pattern_problems(model.input_shape, params, model.name, f.problems)
            assert not f.problems, f.problems

        client.meta.events.register("before-parameter-build.workmailmessageflow.*", check)
        yield f
    assert not f.problems, f.problems


def run(
    flow: Flow,
    s3: Any,
    recipe: Any,
    *,
    event: dict[str, Any] | None = None,
    records: list[dict[str, Any]] | None = None,
    **options: Any,
) -> Outcome:
    options.setdefault("context", Context())
    options.setdefault("bucket", BUCKET)
    options.setdefault("sleep", lambda s: None)
    return process(
        event if event is not None else make_event(),
        recipe,
        messageflow=flow.client,
        s3=s3,
        log=(records if records is not None else []).append,
        **options,
    )


def objects(s3: Any) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listing}


def last(records: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in records if r["event"] == "processed"]
    assert len(done) == 1, records
    return done[0]


RECIPE = Recipe(disclaimer_text=DISCLAIMER, subject_prefix="[External] ")


# -- the round trip ----------------------------------------------------------------------------


def test_plain_message_edited_and_put(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    flow.put()
    records: list[dict[str, Any]] = []
    out = run(flow, s3, RECIPE, records=records)
    flow.stub.assert_no_pending_responses()

    assert out.status == "updated" and out.updated
    assert out.response == DEFAULT
    stored = objects(s3)
    assert list(stored) == [out.key] and out.key is not None
    # what was put is exactly what the Editor makes of the message
    expected = (
        Editor(PLAIN, repair=True, envelope_from="alice@example.com")
        .add_disclaimer(text=DISCLAIMER)
        .rewrite_subject(prefix="[External] ")
        .to_bytes()
    )
    assert stored[out.key] == expected
    assert DISCLAIMER.encode() in expected and b"Subject: [External] " in expected
    assert mimeguard.validate(expected, original=PLAIN).ok
    # the S3 reference handed to WorkMail points at that object
    (ref,) = flow.put_references()
    assert ref == {"bucket": BUCKET, "key": out.key}
    assert out.key is not None and out.key.startswith("mimeguard/")
    assert re.fullmatch(
        r"mimeguard/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", out.key
    )
    head = s3.head_object(Bucket=BUCKET, Key=out.key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "message/rfc822"
    assert out.bytes_in == len(PLAIN) and out.bytes_out == len(expected)
    assert {c.kind for c in out.changes} == {"disclaimer", "subject"}
    log = last(records)
    assert log["status"] == "updated" and log["messageId"] == MID and log["level"] == "INFO"
    assert log["bytes"] == {"in": len(PLAIN), "out": len(expected)}
    assert {e["kind"] for e in log["edits"]} == {"disclaimer", "subject"}
    assert log["findings"]["errors"] == 0 and log["findings"]["profile"] == "workmail"
    assert set(log["timingsMs"]) >= {"fetch", "edit", "validate", "upload", "put", "total"}
    assert log["s3"] == {"bucket": BUCKET, "key": out.key, "version": None}
    assert log["requestId"] == Context.aws_request_id


def test_callable_recipe_is_put(flow: Flow, s3: Any) -> None:
    def add_header(data: bytes) -> bytes:
        return b"X-Scanned-By: example\r\n" + data

    flow.get(PLAIN)
    flow.put()
    out = run(flow, s3, add_header)
    flow.stub.assert_no_pending_responses()
    assert out.status == "updated"
    assert objects(s3)[out.key or ""] == b"X-Scanned-By: example\r\n" + PLAIN


def test_key_prefix_and_versioned_bucket(flow: Flow, s3: Any) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    flow.get(PLAIN)
    flow.stub.add_response(
        "put_raw_message_content",
        {},
        {
            "messageId": MID,
            "content": {"s3Reference": {"bucket": BUCKET, "key": ANY, "objectVersion": ANY}},
        },
    )
    out = run(flow, s3, RECIPE, key_prefix="workmail/in-transit/")
    assert out.status == "updated"
    assert out.key is not None and out.key.startswith("workmail/in-transit/")
    (ref,) = flow.put_references()
    assert ref["objectVersion"] == out.object_version
    got = s3.get_object(Bucket=BUCKET, Key=out.key, VersionId=out.object_version)
    assert DISCLAIMER.encode() in got["Body"].read()


def test_signed_message_is_skipped(flow: Flow, s3: Any) -> None:
    flow.get(SIGNED)
    records: list[dict[str, Any]] = []
    out = run(flow, s3, Recipe(disclaimer_text=DISCLAIMER), records=records)
    flow.stub.assert_no_pending_responses()  # no PutRawMessageContent
    assert out.status == "skipped"
    assert out.response == DEFAULT
    assert objects(s3) == {}
    assert any(c.kind == "skipped" and "signed" in c.detail for c in out.changes)
    assert any(e["kind"] == "skipped" for e in last(records)["edits"])


def test_signed_message_keeps_its_signed_part_when_the_subject_is_tagged(
    flow: Flow, s3: Any
) -> None:
    # the subject is outside what PGP/MIME and S/MIME sign, so it is still tagged
    flow.get(SIGNED)
    flow.put()
    out = run(flow, s3, RECIPE)
    assert out.status == "updated"
    stored = objects(s3)[out.key or ""]
    assert b"Subject: [External] signed\r\n" in stored
    body = SIGNED[SIGNED.index(b"\r\n\r\n") :]
    assert stored.endswith(body)  # the signed body, byte for byte
    assert {c.kind for c in out.changes} == {"skipped", "subject"}


def test_signed_message_with_on_signed_error_is_delivered_unchanged(flow: Flow, s3: Any) -> None:
    flow.get(SIGNED)
    out = run(flow, s3, Recipe(disclaimer_text=DISCLAIMER, on_signed="error"))
    assert out.status == "skipped" and "signature" in out.detail
    assert objects(s3) == {}


def test_message_that_cannot_be_made_compliant_is_not_put(flow: Flow, s3: Any) -> None:
    # no From, and a null envelope sender to fill it from: repair cannot invent one
    flow.get(NO_FROM)
    records: list[dict[str, Any]] = []
    event = make_event(envelope={"mailFrom": {"address": ""}, "recipients": []})
    out = run(flow, s3, RECIPE, event=event, records=records)
    flow.stub.assert_no_pending_responses()
    assert out.status == "invalid"
    assert out.response == DEFAULT  # delivered unchanged
    assert objects(s3) == {}
    assert out.report is not None and "MG201" in out.report.codes
    log = last(records)
    assert log["level"] == "WARNING"
    assert any(f["code"] == "MG201" for f in log["report"]["findings"])


def test_callable_changing_an_immutable_header_is_not_put(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    out = run(flow, s3, lambda d: d.replace(b"From: Alice Example", b"From: Mallory"))
    assert out.status == "invalid"
    assert out.report is not None and "MG501" in out.report.codes
    assert objects(s3) == {}


def test_repair_fills_a_missing_from_with_the_envelope_sender(flow: Flow, s3: Any) -> None:
    flow.get(NO_FROM)
    flow.put()
    out = run(flow, s3, RECIPE)
    assert out.status == "updated", out.detail
    stored = objects(s3)[out.key or ""]
    assert b"From: <alice@example.com>\r\n" in stored
    assert any(c.kind == "repaired" for c in out.changes)
    # validated against the fetched bytes: the added From is allowed, nothing else changed
    assert out.report is not None and out.report.ok
    assert any(f.code == "MG501" and f.severity == "info" for f in out.report.findings)


@pytest.mark.parametrize("sender", ["évil@exämple.com", "a@example.com\r\nBcc: x@example.org"])
def test_an_envelope_sender_that_cannot_be_a_header_is_not_used(
    flow: Flow, s3: Any, sender: str
) -> None:
    flow.get(NO_FROM)
    event = make_event(envelope={"mailFrom": {"address": sender}, "recipients": []})
    out = run(flow, s3, RECIPE, event=event)
    assert out.status == "invalid"  # no From to add, so not compliant; nothing injected
    assert out.report is not None and "MG201" in out.report.codes
    assert objects(s3) == {}


def test_final_report_allows_only_added_required_fields() -> None:
    added = NO_FROM.replace(b"Subject:", b"From: <a@example.com>\r\nSubject:")
    assert final_report(added, NO_FROM).ok
    changed = PLAIN.replace(b"Date: ", b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nX-Old-Date: ")
    assert not final_report(changed, PLAIN).ok


def test_unchanged_result_is_not_put(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    out = run(flow, s3, lambda d: d)
    flow.stub.assert_no_pending_responses()
    assert out.status == "unchanged" and objects(s3) == {}


def test_recipe_with_no_edit_and_no_repair_does_not_fetch(flow: Flow, s3: Any) -> None:
    out = run(flow, s3, Recipe(repair=False))
    assert out.status == "not-edited" and out.response == DEFAULT
    assert flow.calls == []


def test_edit_that_raises_fails_open(flow: Flow, s3: Any) -> None:
    def broken(data: bytes) -> bytes:
        raise RuntimeError("bug in the transform")

    flow.get(PLAIN)
    records: list[dict[str, Any]] = []
    out = run(flow, s3, broken, records=records)
    assert out.status == "failed" and out.response == DEFAULT
    log = last(records)
    assert log["level"] == "ERROR" and "bug in the transform" in log["traceback"]
    assert objects(s3) == {}


def test_callable_returning_str_fails_open(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    out = run(flow, s3, lambda d: d.decode())
    assert out.status == "failed" and "not bytes" in out.detail


# -- actions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["BOUNCE", "DROP"])
def test_bounce_and_drop_answer_without_fetching(flow: Flow, s3: Any, action: str) -> None:
    recipe = Recipe(disclaimer_text=DISCLAIMER, action=action)  # type: ignore[arg-type]
    out = run(flow, s3, recipe)
    assert out.status == "not-edited"
    assert out.response == {"actions": [{"allRecipients": True, "action": {"type": action}}]}
    assert flow.calls == []


def test_bounce_message_is_a_parameter(flow: Flow, s3: Any) -> None:
    out = run(flow, s3, Recipe(action="BOUNCE", bounce_message="Not accepted here."))
    assert out.response == {
        "actions": [
            {
                "allRecipients": True,
                "action": {"type": "BOUNCE", "parameters": {"bounceMessage": "Not accepted here."}},
            }
        ]
    }


def test_move_to_junk_edits_inbound_and_falls_back_outbound(flow: Flow, s3: Any) -> None:
    recipe = Recipe(disclaimer_text=DISCLAIMER, action="MOVE_TO_JUNK")
    flow.get(PLAIN)
    flow.put()
    out = run(flow, s3, recipe)
    assert out.status == "updated"
    assert out.response["actions"][0]["action"] == {"type": "MOVE_TO_JUNK"}
    flow.get(PLAIN)
    flow.put()
    records: list[dict[str, Any]] = []
    out = run(flow, s3, recipe, event=make_event(flowDirection="OUTBOUND"), records=records)
    assert out.response == DEFAULT
    assert "inbound" in last(records)["actionNote"]


def test_rule_response() -> None:
    assert rule_response() == DEFAULT
    with pytest.raises(ValueError, match="action must be one of"):
        rule_response("REJECT")


# -- WorkMail's errors -------------------------------------------------------------------------


def test_message_frozen_is_logged_and_delivered(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    flow.put_error("MessageFrozen", message="The message is not eligible for update")
    records: list[dict[str, Any]] = []
    out = run(flow, s3, RECIPE, records=records)
    flow.stub.assert_no_pending_responses()
    assert out.status == "frozen" and out.response == DEFAULT
    assert "not eligible" in last(records)["detail"]


def test_resource_not_found_on_get(flow: Flow, s3: Any) -> None:
    flow.get_error("ResourceNotFoundException", 404, "Message not found")
    out = run(flow, s3, RECIPE)
    assert out.status == "not-found" and out.response == DEFAULT
    assert objects(s3) == {}


def test_resource_not_found_on_put(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    flow.put_error("ResourceNotFoundException", 404)
    out = run(flow, s3, RECIPE)
    flow.stub.assert_no_pending_responses()
    assert out.status == "not-found" and out.response == DEFAULT


def test_message_rejected_logs_both_reports_and_is_not_retried(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    flow.put_error("MessageRejected", message="Invalid MIME content: header X is not allowed")
    records: list[dict[str, Any]] = []
    out = run(flow, s3, RECIPE, records=records)
    flow.stub.assert_no_pending_responses()  # exactly one PutRawMessageContent
    assert len(flow.put_references()) == 1 and out.retries == 0
    assert out.status == "rejected" and out.response == DEFAULT
    log = last(records)
    assert log["level"] == "ERROR"
    assert log["serviceMessage"] == "Invalid MIME content: header X is not allowed"
    assert log["report"]["ok"] is True and log["report"]["profile"] == "workmail"
    assert "findings" in log["report"]


def test_invalid_content_location_is_a_configuration_error(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    flow.put_error("InvalidContentLocation", message="WorkMail could not access the content")
    records: list[dict[str, Any]] = []
    with pytest.raises(ConfigurationError) as info:
        run(flow, s3, RECIPE, records=records)
    error = info.value
    assert isinstance(error, mimeguard.MimeguardError) and isinstance(error, RuntimeError)
    text = str(error)
    for cause in ("1. region", "2. bucket owner", "3. bucket policy"):
        assert cause in text
    policy = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert policy == bucket_policy(BUCKET, region=REGION, account_id=ACCOUNT)
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": f"workmail.{REGION}.amazonaws.com"}
    assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statement["Resource"] == f"arn:aws:s3:::{BUCKET}/*"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert records[-1]["event"] == "configuration-error"


def test_invalid_content_location_names_the_organization_when_known(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    flow.put_error("InvalidContentLocation")
    settings = Settings(
        bucket=BUCKET, organization_id="m-0123456789abcdef0123456789abcdef", kms_key_id=None
    )
    with pytest.raises(ConfigurationError) as info:
        run(flow, s3, RECIPE, settings=settings)
    org = "m-0123456789abcdef0123456789abcdef"
    arn = f"arn:aws:workmailmessageflow:{REGION}:{ACCOUNT}:message/{org}/*"
    assert json.dumps(arn) in str(info.value)


def test_missing_bucket_is_a_configuration_error(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    with pytest.raises(ConfigurationError, match="does not exist"):
        run(flow, s3, RECIPE, bucket="no-such-bucket-here")


def test_no_bucket_configured(flow: Flow, s3: Any) -> None:
    records: list[dict[str, Any]] = []
    with pytest.raises(ConfigurationError, match="MIMEGUARD_BUCKET"):
        process(make_event(), RECIPE, messageflow=flow.client, s3=s3, log=records.append)


def test_access_denied_is_a_configuration_error(flow: Flow, s3: Any) -> None:
    flow.get_error("AccessDeniedException", 403)
    with pytest.raises(ConfigurationError, match="GetRawMessageContent"):
        run(flow, s3, RECIPE)


def test_unknown_service_error_is_raised(flow: Flow, s3: Any) -> None:
    flow.get_error("ValidationException", 400)
    with pytest.raises(Exception, match="ValidationException"):
        run(flow, s3, RECIPE)


# -- throttling and the time budget ------------------------------------------------------------


def test_throttling_is_retried_with_backoff(flow: Flow, s3: Any) -> None:
    flow.get_error("ThrottlingException", 400)
    flow.get_error("TooManyRequestsException", 429)
    flow.get(PLAIN)
    flow.put_error("ServiceUnavailable", 503)
    flow.put()
    clock = FakeClock()
    records: list[dict[str, Any]] = []
    out = run(flow, s3, RECIPE, clock=clock, sleep=clock.sleep, records=records)
    flow.stub.assert_no_pending_responses()
    assert out.status == "updated" and out.retries == 3
    # exponential backoff with jitter: attempt n waits between base*2^(n-1)/2 and base*2^(n-1)
    first, second, third = clock.sleeps
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2 and 0.05 <= third <= 0.1
    retries = [r for r in records if r["event"] == "retry"]
    assert [r["error"] for r in retries] == [
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailable",
    ]
    assert len(objects(s3)) == 1  # the upload is not repeated when only the put is retried


def test_throttling_gives_up_within_the_budget(flow: Flow, s3: Any) -> None:
    flow.get(PLAIN)
    for _ in range(30):
        flow.put_error("ThrottlingException", 400)
    clock = FakeClock()
    start = clock.now
    out = run(flow, s3, RECIPE, clock=clock, sleep=clock.sleep)
    assert out.status == "deadline" and out.response == DEFAULT
    assert "ThrottlingException" in out.detail
    assert clock.now - start < 15.0 - 2.0
    assert out.retries >= 1


def test_deadline_before_upload_leaves_the_message_unchanged(flow: Flow, s3: Any) -> None:
    clock = FakeClock()

    def slow(data: bytes) -> bytes:
        clock.now += 14.0
        return b"X-Slow: yes\r\n" + data

    flow.get(PLAIN)
    records: list[dict[str, Any]] = []
    out = run(flow, s3, slow, clock=clock, records=records)
    flow.stub.assert_no_pending_responses()  # no PutRawMessageContent
    assert out.status == "deadline" and out.response == DEFAULT
    assert objects(s3) == {}
    assert last(records)["budgetMs"] == 13000.0


def test_lambda_remaining_time_is_respected(flow: Flow, s3: Any) -> None:
    out = run(flow, s3, RECIPE, context=Context(remaining_ms=1500))
    assert out.status == "deadline" and out.response == DEFAULT
    assert flow.calls == []  # not even fetched


def test_large_message_within_the_budget(flow: Flow, s3: Any) -> None:
    data = big_message()
    assert len(data) > 30 * 1024 * 1024
    flow.get(data)
    flow.put()
    started = time.monotonic()
    out = run(flow, s3, RECIPE)
    elapsed = time.monotonic() - started
    assert out.status == "updated", out.detail
    assert elapsed < 10.0, out.timings
    assert out.timings["total"] < 13_000
    stored = objects(s3)[out.key or ""]
    assert stored.startswith(b"From: Alice Example") and DISCLAIMER.encode() in stored
    assert len(stored) > len(data)
    assert stored.endswith(data[-200:])  # the attachment is copied byte for byte


# -- the event ---------------------------------------------------------------------------------


def test_event_with_missing_fields_is_a_clear_error() -> None:
    with pytest.raises(EventError) as info:
        WorkMailEvent.from_dict({"summaryVersion": "2018-10-10", "envelope": {}})
    text = str(info.value)
    for name in ("messageId", "envelope.mailFrom.address", "envelope.recipients", "flowDirection"):
        assert f"{name} is missing" in text
    assert '"summaryVersion": "2018-10-10"' in text  # shows the expected shape
    assert isinstance(info.value, ValueError) and isinstance(info.value, mimeguard.MimeguardError)


def test_event_errors_reach_the_caller(flow: Flow, s3: Any) -> None:
    with pytest.raises(EventError, match="messageId is missing"):
        run(flow, s3, RECIPE, event={k: v for k, v in make_event().items() if k != "messageId"})
    with pytest.raises(EventError, match="does not match"):
        run(flow, s3, RECIPE, event=make_event(messageId="Not_A_Message.Id"))
    with pytest.raises(EventError, match="not a WorkMail message summary"):
        run(flow, s3, RECIPE, event="hello")  # type: ignore[arg-type]
    with pytest.raises(EventError, match="should be a string"):
        run(flow, s3, RECIPE, event=make_event(messageId=7))
    assert flow.calls == []


def test_event_is_read() -> None:
    ev = WorkMailEvent.from_dict(make_event())
    assert ev.message_id == MID and ev.mail_from == "alice@example.com"
    assert ev.recipients == ("bob@example.org", "carol@example.org")
    assert ev.flow_direction == "INBOUND" and ev.subject == "Lunch" and not ev.truncated


def test_example_event_matches_workmails_shape() -> None:
    event = json.loads((EXAMPLE / "event.json").read_text())
    ev = WorkMailEvent.from_dict(event)
    assert ev.summary_version == "2018-10-10" and ev.flow_direction == "INBOUND"


# -- configuration -----------------------------------------------------------------------------


def test_settings_and_recipe_from_environment() -> None:
    env = {
        "MIMEGUARD_BUCKET": BUCKET,
        "MIMEGUARD_KEY_PREFIX": "in-transit/",
        "MIMEGUARD_PROFILE": "SES",
        "MIMEGUARD_TIME_BUDGET": "12",
        "MIMEGUARD_SAFETY_MARGIN": "1.5",
        "MIMEGUARD_KMS_KEY_ID": "",
        "MIMEGUARD_DISCLAIMER_TEXT": DISCLAIMER,
        "MIMEGUARD_DISCLAIMER_POSITION": "Top",
        "MIMEGUARD_SUBJECT_PREFIX": "[EXT] ",
        "MIMEGUARD_STRIP": "ses-blocked, *.zip",
        "MIMEGUARD_STRIP_NOTICE": "none",
        "MIMEGUARD_REPAIR": "false",
        "MIMEGUARD_ACTION": "move_to_junk",
    }
    settings = Settings.from_env(env)
    assert settings == Settings(
        bucket=BUCKET, key_prefix="in-transit/", profile="ses", time_budget=12.0, safety_margin=1.5
    )
    assert Settings.from_env(env, bucket="other-bucket").bucket == "other-bucket"
    recipe = Recipe.from_env(env)
    assert recipe == Recipe(
        disclaimer_text=DISCLAIMER,
        position="top",
        subject_prefix="[EXT] ",
        strip=("ses-blocked", "*.zip"),
        strip_notice=None,
        repair=False,
        action="MOVE_TO_JUNK",
    )
    assert Recipe.from_env({}) == Recipe()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MIMEGUARD_BUCKET": "my.bucket.with.dots"}, "no dots"),
        ({"MIMEGUARD_KEY_PREFIX": "mail_in/"}, "no dots or underscores"),
        ({"MIMEGUARD_PROFILE": "exchange"}, "exchange"),
        ({"MIMEGUARD_TIME_BUDGET": "soon"}, "MIMEGUARD_TIME_BUDGET"),
        ({"MIMEGUARD_SAFETY_MARGIN": "20"}, "smaller than time_budget"),
    ],
)
def test_bad_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MIMEGUARD_REPAIR": "maybe"}, "MIMEGUARD_REPAIR"),
        ({"MIMEGUARD_DISCLAIMER_POSITION": "middle"}, "position"),
        ({"MIMEGUARD_ACTION": "REJECT"}, "action must be one of"),
        ({"MIMEGUARD_BOUNCE_MESSAGE": "no"}, "bounce_message"),
        ({"MIMEGUARD_SUBJECT_PREFIX": "a\r\nBcc: x"}, "CR or LF"),
    ],
)
def test_bad_recipe_environment(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Recipe.from_env(env)


def test_recipe_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="disclaimer_html needs disclaimer_text"):
        Recipe(disclaimer_html="<p>x</p>")
    with pytest.raises(ValueError, match="on_signed"):
        Recipe(on_signed="ignore")  # type: ignore[arg-type]
    assert Recipe(strip="*.exe, *.js").strip == ("*.exe", "*.js")  # type: ignore[arg-type]


def test_strip_notice_template_is_checked_early() -> None:
    with pytest.raises(ValueError, match="not a valid template"):
        Recipe(strip=("*.exe",), strip_notice="{name} was removed")
    with pytest.raises(ConfigurationError, match="not a valid template"):
        Recipe.from_env({"MIMEGUARD_STRIP": "*.exe", "MIMEGUARD_STRIP_NOTICE": "{"})


def test_lambda_handler_reads_everything_from_the_environment(
    flow: Flow, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIMEGUARD_BUCKET", BUCKET)
    monkeypatch.setenv("MIMEGUARD_ACTION", "BOUNCE")
    monkeypatch.setenv("MIMEGUARD_BOUNCE_MESSAGE", "Closed for the holidays.")
    monkeypatch.setattr(_aws, "_CLIENTS", {"workmailmessageflow": flow.client, "s3": s3})
    response = workmail.lambda_handler(make_event(), Context())
    action = response["actions"][0]["action"]
    assert action == {"type": "BOUNCE", "parameters": {"bounceMessage": "Closed for the holidays."}}
    assert flow.calls == []


def test_handler_configured_by_environment(
    flow: Flow, s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIMEGUARD_BUCKET", BUCKET)
    monkeypatch.setenv("MIMEGUARD_KEY_PREFIX", "env/")
    monkeypatch.setenv("MIMEGUARD_DISCLAIMER_TEXT", DISCLAIMER)
    monkeypatch.setenv("MIMEGUARD_STRIP", "*.pdf")
    flow.get((ROOT / "examples" / "clean-attachment.eml").read_bytes())
    flow.put()
    response = handle(make_event(), context=Context(), messageflow=flow.client, s3=s3)
    assert response == DEFAULT
    ((key, stored),) = objects(s3).items()
    assert key.startswith("env/")
    assert DISCLAIMER.encode() in stored and b"report-q3.pdf" in stored  # named in the notice
    assert b"JVBERi0xLjQK" not in stored  # the PDF itself is gone
    # the default log sink: one JSON object per line on stdout
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (done,) = [r for r in lines if r["event"] == "processed"]
    assert done["status"] == "updated" and done["messageId"] == MID
    assert {e["kind"] for e in done["edits"]} >= {"disclaimer", "removed"}


def test_kms_encryption(flow: Flow, s3: Any) -> None:
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    flow.get(PLAIN)
    flow.put()
    settings = Settings(bucket=BUCKET, kms_key_id=key_id)
    out = run(flow, s3, RECIPE, settings=settings)
    head = s3.head_object(Bucket=BUCKET, Key=out.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(key_id)


# -- logging -----------------------------------------------------------------------------------


def test_json_lines_levels() -> None:
    stream = io.StringIO()
    sink = JsonLines(stream, level="warning")
    sink({"level": "INFO", "event": "processed"})
    sink({"level": "ERROR", "event": "processed", "text": "é"})
    assert [json.loads(line) for line in stream.getvalue().splitlines()] == [
        {"level": "ERROR", "event": "processed", "text": "é"}
    ]
    with pytest.raises(ConfigurationError):
        JsonLines(level="chatty")


# -- packaging ---------------------------------------------------------------------------------


def test_import_mimeguard_does_not_import_boto3() -> None:
    code = (
        "import sys, mimeguard, mimeguard.workmail\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_boto3_the_error_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    monkeypatch.setenv("MIMEGUARD_BUCKET", BUCKET)
    with pytest.raises(ImportError, match=re.escape("pip install 'mimeguard[aws]'")):
        handle(make_event(), RECIPE, s3=s3)


def test_default_clients_leave_retries_to_the_budget(flow: Flow, s3: Any) -> None:
    client = _aws._default_client("s3")
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert _aws._default_client("s3") is client  # cached per container


def test_pattern_check_catches_a_bad_key(flow: Flow) -> None:
    flow.stub.add_response("put_raw_message_content", {}, None)
    with pytest.raises(AssertionError, match="does not match"):
        flow.client.put_raw_message_content(
            messageId=MID, content={"s3Reference": {"bucket": BUCKET, "key": "mail_1.eml"}}
        )
    assert flow.problems == [
        "PutRawMessageContent.content.s3Reference.key='mail_1.eml' does not match [a-zA-Z0-9\\-/]*"
    ]
    flow.problems.clear()


# -- the deployable example --------------------------------------------------------------------


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location(
        "workmail_example_handler", EXAMPLE / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_handler(
    flow: Flow, s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIMEGUARD_BUCKET", BUCKET)
    monkeypatch.setenv("MIMEGUARD_DISCLAIMER_TEXT", DISCLAIMER)
    monkeypatch.setattr(_aws, "_CLIENTS", {"workmailmessageflow": flow.client, "s3": s3})
    example = _load_example()
    flow.get(PLAIN)
    flow.put()
    event = json.loads((EXAMPLE / "event.json").read_text())
    event["messageId"] = MID
    assert example.lambda_handler(event, Context()) == DEFAULT
    (stored,) = objects(s3).values()
    assert DISCLAIMER.encode() in stored
    assert len((EXAMPLE / "handler.py").read_text().strip().splitlines()) < 15


def _load_template() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):  # type: ignore[name-defined,misc]  # no PyYAML stubs
        pass

    def tag(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {suffix: value}

    Loader.add_multi_constructor("!", tag)
    return dict(yaml.load((EXAMPLE / "template.yaml").read_text(), Loader=Loader))


ENV_VARIABLES = {
    "MIMEGUARD_BUCKET",
    "MIMEGUARD_KEY_PREFIX",
    "MIMEGUARD_PROFILE",
    "MIMEGUARD_KMS_KEY_ID",
    "MIMEGUARD_TIME_BUDGET",
    "MIMEGUARD_SAFETY_MARGIN",
    "MIMEGUARD_ORGANIZATION_ID",
    "MIMEGUARD_LOG_LEVEL",
    "MIMEGUARD_DISCLAIMER_TEXT",
    "MIMEGUARD_DISCLAIMER_HTML",
    "MIMEGUARD_DISCLAIMER_POSITION",
    "MIMEGUARD_ON_SIGNED",
    "MIMEGUARD_SUBJECT_PREFIX",
    "MIMEGUARD_SUBJECT_SUFFIX",
    "MIMEGUARD_STRIP",
    "MIMEGUARD_STRIP_NOTICE",
    "MIMEGUARD_REPAIR",
    "MIMEGUARD_ACTION",
    "MIMEGUARD_BOUNCE_MESSAGE",
}


def test_example_template_declares_what_workmail_needs() -> None:
    template = _load_template()
    resources = template["Resources"]
    types = {r["Type"] for r in resources.values()}
    assert types == {
        "AWS::Serverless::Function",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::Lambda::Permission",
    }
    bucket = resources["MessageBucket"]["Properties"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 1 and rule["Status"] == "Enabled"
    (sse,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (statement,) = resources["MessageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": {"Sub": "workmail.${AWS::Region}.amazonaws.com"}}
    assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    function = resources["DisclaimerFunction"]["Properties"]
    module, name = function["Handler"].split(".")
    assert hasattr(_load_example(), name) and module == "handler"
    assert function["Timeout"] <= 15
    variables = set(function["Environment"]["Variables"])
    assert "MIMEGUARD_BUCKET" in variables and variables <= ENV_VARIABLES
    permission = resources["WorkMailInvokePermission"]["Properties"]
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == {"Sub": "workmail.${AWS::Region}.amazonaws.com"}
    actions = {a for st in function["Policies"][0]["Statement"] for a in _list(st["Action"])}
    assert actions == {
        "workmailmessageflow:GetRawMessageContent",
        "workmailmessageflow:PutRawMessageContent",
        "s3:PutObject",
    }
    # every variable the docs promise is read by the code
    modules = ("workmail.py", "recipe.py", "_jsonlog.py")
    source = "".join((ROOT / "mimeguard" / f).read_text() for f in modules)
    assert all(v in source for v in ENV_VARIABLES)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
