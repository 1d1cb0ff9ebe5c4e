"""The WorkMail glue seals after editing and logs which DKIM signatures the edit broke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mimeguard import _aws
from mimeguard import recipe as recipe_module
from mimeguard._rules._fixture import build
from mimeguard.workmail import ConfigurationError, Recipe

from ._signing import PEM, dkim, dnsfunc, sign
from .test_workmail import REGION, Flow, boto3, last, objects, run

# the fixtures of the WorkMail tests (Stubber for WorkMail, moto for S3)
from .test_workmail import flow as flow
from .test_workmail import s3 as s3

Stubber = pytest.importorskip("botocore.stub").Stubber

ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:mimeguard/arc-AbCdEf"
SEAL: dict[str, Any] = {
    "seal_domain": "gw.example",
    "seal_selector": "arc",
    "seal_authserv_id": "gw.example",
}


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """arc_seal verifies the incoming message: answer its key lookups without DNS."""
    import mimeguard.arc as arc

    real = arc.arc_seal

    def offline(*args: Any, **kwargs: Any) -> bytes:
        kwargs.setdefault("dnsfunc", dnsfunc)
        return real(*args, **kwargs)

    monkeypatch.setattr(arc, "arc_seal", offline)


@pytest.fixture
def secrets() -> Iterator[tuple[Any, Any]]:
    client = boto3.client("secretsmanager", region_name=REGION)
    with Stubber(client) as stub:
        yield client, stub
    recipe_module._SEAL_KEYS.pop(ARN, None)


# -- the recipe --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"seal_domain": "gw.example", "seal_key_env": "K"}, "seal_selector, seal_authserv_id"),
        ({**SEAL}, "exactly one of"),
        ({**SEAL, "seal_key_env": "K", "seal_key_file": "/k.pem"}, "exactly one of"),
        ({**SEAL, "seal_key_env": " "}, "non-empty"),
        ({"seal_key_file": "/k.pem"}, "seal_domain"),
        ({**SEAL, "seal_key_env": "K", "seal_domain": "gw.example\r\nBcc: x"}, "domain"),
        ({**SEAL, "seal_key_env": "K", "seal_authserv_id": "a; dkim=pass"}, "authserv_id"),
    ],
)
def test_recipe_checks_seal_options_up_front(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Recipe(**options)


def test_recipe_seal_options_from_the_environment() -> None:
    env = {
        "MIMEGUARD_DISCLAIMER_TEXT": "External",
        "MIMEGUARD_SEAL_DOMAIN": "gw.example",
        "MIMEGUARD_SEAL_SELECTOR": "arc",
        "MIMEGUARD_SEAL_AUTHSERV_ID": "gw.example",
        "MIMEGUARD_SEAL_KEY_SECRET_ARN": ARN,
    }
    recipe = Recipe.from_env(env)
    assert recipe.seals and recipe.seal_key_secret_arn == ARN
    assert not Recipe.from_env({"MIMEGUARD_DISCLAIMER_TEXT": "x"}).seals
    with pytest.raises(ConfigurationError, match="seal_selector"):
        Recipe.from_env({"MIMEGUARD_SEAL_DOMAIN": "gw.example", "MIMEGUARD_SEAL_KEY_ENV": "K"})


def test_seal_key_from_a_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "arc.pem"
    path.write_bytes(PEM)
    assert Recipe(**SEAL, seal_key_file=str(path)).seal_key() == PEM
    recipe = Recipe(**SEAL, seal_key_env="ARC_KEY")
    assert recipe.seal_key(environ={"ARC_KEY": PEM.decode()}) == PEM
    with pytest.raises(ConfigurationError, match="ARC_KEY is not set"):
        recipe.seal_key(environ={})
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        Recipe(**SEAL, seal_key_file=str(tmp_path / "missing.pem")).seal_key()
    with pytest.raises(ConfigurationError, match="not a PEM private key"):
        recipe.seal_key(environ={"ARC_KEY": "hunter2"})


def test_seal_key_from_secrets_manager_is_read_once(secrets: tuple[Any, Any]) -> None:
    client, stub = secrets
    stub.add_response(
        "get_secret_value",
        {"ARN": ARN, "Name": "mimeguard/arc", "SecretString": PEM.decode()},
        {"SecretId": ARN},
    )
    recipe = Recipe(**SEAL, seal_key_secret_arn=ARN)
    assert recipe.seal_key(secrets=client) == PEM
    assert recipe.seal_key(secrets=client) == PEM  # cached: the stub had one answer
    stub.assert_no_pending_responses()


def test_seal_key_secret_denied_is_a_configuration_error(secrets: tuple[Any, Any]) -> None:
    client, stub = secrets
    stub.add_client_error("get_secret_value", service_error_code="AccessDeniedException")
    with pytest.raises(ConfigurationError, match="secretsmanager:GetSecretValue"):
        Recipe(**SEAL, seal_key_secret_arn=ARN).seal_key(secrets=client)


# -- a run ---------------------------------------------------------------------------------------


def test_run_seals_the_edit_and_logs_the_broken_signature(
    flow: Flow, s3: Any, secrets: tuple[Any, Any], no_dns: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stub = secrets
    stub.add_response("get_secret_value", {"SecretBinary": PEM}, {"SecretId": ARN})
    monkeypatch.setitem(_aws._CLIENTS, "secretsmanager", client)
    signed = sign(build())
    flow.get(signed)
    flow.put()
    records: list[dict[str, Any]] = []
    recipe = Recipe(disclaimer_text="External mail", **SEAL, seal_key_secret_arn=ARN)
    out = run(flow, s3, recipe, records=records)
    assert out.status == "updated", out.detail
    stored = objects(s3)[out.key or ""]
    assert stored.startswith(b"ARC-Seal: i=1; cv=none;")
    assert dkim.arc_verify(stored, dnsfunc=dnsfunc)[0] == b"pass"
    assert b"dkim=pass header.d=example.com" in stored
    record = last(records)
    assert record["brokenSignatures"] == ["example.com"]
    assert record["sealed"] is True and record["bytes"]["out"] == len(stored)
    assert "seal" in record["timingsMs"]


def test_run_without_signatures_logs_none_broken(flow: Flow, s3: Any) -> None:
    flow.get(build())
    flow.put()
    records: list[dict[str, Any]] = []
    out = run(flow, s3, Recipe(subject_prefix="[EXT] "), records=records)
    assert out.status == "updated"
    assert last(records)["brokenSignatures"] == []
    assert "sealed" not in last(records)


def test_a_failed_seal_still_puts_the_edit(
    flow: Flow, s3: Any, no_dns: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    monkeypatch.setenv("ARC_KEY", bad.decode())
    flow.get(sign(build()))
    flow.put()
    records: list[dict[str, Any]] = []
    recipe = Recipe(strip=("*.exe",), subject_prefix="[EXT] ", **SEAL, seal_key_env="ARC_KEY")
    out = run(flow, s3, recipe, records=records)
    assert out.status == "updated"
    stored = objects(s3)[out.key or ""]
    assert b"ARC-Seal" not in stored and b"Subject: [EXT] " in stored
    record = last(records)
    assert record["sealed"] is False and "could not seal" in record["sealNote"]
    assert record["brokenSignatures"] == ["example.com"]  # the signature signs Subject


def test_a_missing_key_fails_the_invocation(flow: Flow, s3: Any) -> None:
    flow.get(build())
    recipe = Recipe(subject_prefix="[EXT] ", **SEAL, seal_key_env="MIMEGUARD_TEST_NO_SUCH_KEY")
    with pytest.raises(ConfigurationError, match="is not set"):
        run(flow, s3, recipe)


def test_a_message_over_seal_max_bytes_is_put_unsealed(
    flow: Flow, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARC_KEY", PEM.decode())
    flow.get(sign(build()))
    flow.put()
    records: list[dict[str, Any]] = []
    recipe = Recipe(subject_prefix="[EXT] ", **SEAL, seal_key_env="ARC_KEY", seal_max_bytes=100)
    out = run(flow, s3, recipe, records=records)
    assert out.status == "updated"
    assert b"ARC-Seal" not in objects(s3)[out.key or ""]
    assert "over seal_max_bytes" in last(records)["sealNote"]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
def test_seal_max_bytes_is_checked(limit: Any) -> None:
    with pytest.raises(ValueError, match="seal_max_bytes"):
        Recipe(**SEAL, seal_key_env="K", seal_max_bytes=limit)


def test_seal_max_bytes_from_the_environment() -> None:
    env = {"MIMEGUARD_SEAL_MAX_BYTES": "2048"}
    assert Recipe.from_env(env).seal_max_bytes == 2048
    with pytest.raises(ConfigurationError, match="SEAL_MAX_BYTES"):
        Recipe.from_env({"MIMEGUARD_SEAL_MAX_BYTES": "10MB"})


# -- the gateways (SES, SMTP) share apply_recipe --------------------------------------------------


def test_gateway_recipe_seals_and_reports_broken_signatures(
    no_dns: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mimeguard._transit import apply_recipe

    monkeypatch.setenv("ARC_KEY", PEM.decode())
    signed = sign(build())
    recipe = Recipe(disclaimer_text="External mail", **SEAL, seal_key_env="ARC_KEY")
    applied = apply_recipe(signed, recipe, profile="ses")
    assert applied.result == "edited" and applied.sealed is True
    assert applied.broken_signatures == ("example.com",)
    assert dkim.arc_verify(applied.data, dnsfunc=dnsfunc)[0] == b"pass"
    plain = apply_recipe(signed, Recipe(subject_prefix="[EXT] "), profile="ses")
    assert plain.sealed is None and plain.broken_signatures == ("example.com",)


def test_gateway_with_a_missing_key_fails_the_message_not_the_process() -> None:
    from mimeguard._transit import apply_recipe

    recipe = Recipe(subject_prefix="[EXT] ", **SEAL, seal_key_env="MIMEGUARD_TEST_NO_SUCH_KEY")
    applied = apply_recipe(sign(build()), recipe, profile="ses")
    assert applied.result == "failed" and "is not set" in applied.detail
