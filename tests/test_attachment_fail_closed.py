"""A WorkMail recipe that strips attachments never delivers the original because an
edit failed, timed out, was refused or could not be put: it bounces or drops."""

from __future__ import annotations

from typing import Any

import pytest

from mimeguard import workmail
from mimeguard.workmail import Recipe, Settings, process

from .attachment_cases import TEXT, disposition, mixed, payload, with_text

MID = "d1234567-8e90-1f23-4567-abcd7e8f9a0b"
EVENT: dict[str, Any] = {
    "summaryVersion": "2018-10-10",
    "envelope": {
        "mailFrom": {"address": "alice@example.com"},
        "recipients": [{"address": "bob@example.org"}],
    },
    "sender": {"address": "alice@example.com"},
    "subject": "Documents",
    "messageId": MID,
    "invocationId": "0123456789abcdef0123456789abcdef",
    "flowDirection": "INBOUND",
    "truncated": False,
}
SETTINGS = Settings(bucket="mimeguard-test-messages")
BLOCKED = with_text(disposition(b'filename="evil.exe"', payload("EVIL-wm")))
# two different From fields: repair cannot pick one, so the result is refused
UNFIXABLE = (
    b"From: a@example.com\r\nFrom: b@example.com\r\nTo: bob@example.org\r\n"
    b"Subject: x\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <3@example.com>\r\nMIME-Version: 1.0\r\n"
    + mixed(TEXT, disposition(b'filename="evil.exe"', payload("EVIL-wm")))
)


class Flow:
    def __init__(self, data: bytes, put_error: str | None = None) -> None:
        self.data = data
        self.put_error = put_error
        self.puts = 0

    def get_raw_message_content(self, **_: Any) -> dict[str, Any]:
        return {"messageContent": self.data}

    def put_raw_message_content(self, **_: Any) -> dict[str, Any]:
        self.puts += 1
        if self.put_error:
            error = RuntimeError(self.put_error)
            error.response = {"Error": {"Code": self.put_error, "Message": "no"}}  # type: ignore[attr-defined]
            raise error
        return {}


class S3:
    def put_object(self, **_: Any) -> dict[str, Any]:
        return {}


def run(data: bytes, recipe: Recipe, **kw: Any) -> tuple[workmail.Outcome, list[dict[str, Any]]]:
    logs: list[dict[str, Any]] = []
    out = process(
        EVENT,
        recipe,
        settings=SETTINGS,
        messageflow=Flow(data, kw.pop("put_error", None)),
        s3=S3(),
        log=logs.append,
        **kw,
    )
    return out, logs


def _action(outcome: workmail.Outcome) -> str:
    return str(outcome.response["actions"][0]["action"]["type"])


def test_default_policy_bounces_a_stripping_recipe() -> None:
    recipe = Recipe(strip=("ses-blocked",))
    assert recipe.failure_policy == "bounce"
    outcome, logs = run(UNFIXABLE, recipe)
    assert outcome.status == "invalid"
    assert _action(outcome) == "BOUNCE"
    assert "bounced" in outcome.detail and "delivered unchanged" not in outcome.detail
    # stripped but refused: the removal is reported
    assert any(c.kind == "removed" for c in outcome.changes)
    assert any(r["event"] == "fail-closed" and r["action"] == "BOUNCE" for r in logs)
    processed = next(r for r in logs if r["event"] == "processed")
    assert processed["failClosed"] == {"policy": "bounce", "action": "BOUNCE"}


@pytest.mark.parametrize(
    ("policy", "action"), [("drop", "DROP"), ("quarantine", "BOUNCE"), ("bounce", "BOUNCE")]
)
def test_policy_chooses_the_answer(policy: str, action: str) -> None:
    outcome, _ = run(UNFIXABLE, Recipe(strip=("ses-blocked",), on_failure=policy))  # type: ignore[arg-type]
    assert _action(outcome) == action


def test_disclaimer_only_recipe_still_delivers() -> None:
    outcome, logs = run(UNFIXABLE, Recipe(disclaimer_text="External."))
    assert outcome.status == "invalid"
    assert _action(outcome) == "DEFAULT"
    assert not any(r["event"] == "fail-closed" for r in logs)


def test_deliver_policy_keeps_the_old_behaviour() -> None:
    outcome, _ = run(UNFIXABLE, Recipe(strip=("ses-blocked",), on_failure="deliver"))
    assert _action(outcome) == "DEFAULT"


def test_rejected_put_bounces() -> None:
    outcome, _ = run(BLOCKED, Recipe(strip=("ses-blocked",)), put_error="MessageRejected")
    assert outcome.status == "rejected"
    assert _action(outcome) == "BOUNCE"


def test_frozen_message_bounces() -> None:
    outcome, _ = run(BLOCKED, Recipe(strip=("ses-blocked",)), put_error="MessageFrozen")
    assert outcome.status == "frozen"
    assert _action(outcome) == "BOUNCE"


def test_deadline_bounces() -> None:
    class Late:
        def get_remaining_time_in_millis(self) -> int:
            return 0

    outcome, _ = run(BLOCKED, Recipe(strip=("ses-blocked",)), context=Late())
    assert outcome.status == "deadline"
    assert _action(outcome) == "BOUNCE"


def test_edit_that_raises_bounces(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(Recipe, "editor", boom)
    outcome, _ = run(BLOCKED, Recipe(strip=("ses-blocked",)))
    assert outcome.status == "failed"
    assert _action(outcome) == "BOUNCE"


def test_successful_strip_is_delivered_edited() -> None:
    flow = Flow(BLOCKED)
    outcome = process(
        EVENT,
        Recipe(strip=("ses-blocked",)),
        settings=SETTINGS,
        messageflow=flow,
        s3=S3(),
        log=lambda r: None,
    )
    assert outcome.status == "updated"
    assert _action(outcome) == "DEFAULT"
    assert flow.puts == 1


def test_a_recipe_strips_renamed_executables_with_the_executables_preset() -> None:
    import base64

    from mimeguard.recipe import Recipe

    exe = base64.b64encode(b"MZ\x90\x00RENAMED-EXE-PAYLOAD").decode()
    data = (
        "From: a@example.com\r\nTo: b@example.org\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nHi\r\n--b1\r\n"
        'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="q3.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{exe}\r\n--b1--\r\n"
    ).encode()
    kept = Recipe(strip=("ses-blocked",), repair=False).editor(data).result()
    assert exe.encode() in kept.data  # by name it is a PDF
    out = Recipe(strip=("executables",), repair=False).editor(data).result()
    assert exe.encode() not in out.data and [c.kind for c in out.changes] == ["removed"]
