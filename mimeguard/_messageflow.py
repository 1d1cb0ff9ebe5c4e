"""The WorkMail message-flow API: the Run Lambda event, the rule's answer, the clients
and the bucket policy WorkMail needs to read an updated message."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import MimeguardError
from .recipe import ACTIONS

#: WorkMail's patterns for an S3Reference (API reference, S3Reference) and a message id.
KEY_PATTERN = re.compile(r"[a-zA-Z0-9\-/]*")
BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9\-]{2,62}")
MESSAGE_ID_PATTERN = re.compile(r"[a-z0-9\-]{1,120}")
_KEY_MAX = 1024
_UUID_LEN = 36


class EventError(MimeguardError, ValueError):
    """The Lambda event is not a WorkMail message summary."""


# -- the event ---------------------------------------------------------------------------------

_EVENT_SHAPE = """{
  "summaryVersion": "2018-10-10",
  "envelope": {"mailFrom": {"address": "from@example.com"},
               "recipients": [{"address": "to@example.com"}]},
  "sender": {"address": "sender@example.com"},
  "subject": "...",
  "messageId": "00000000-0000-0000-0000-000000000000",
  "invocationId": "...",
  "flowDirection": "INBOUND",
  "truncated": false
}"""


@dataclass(frozen=True, slots=True)
class WorkMailEvent:
    """The message summary WorkMail passes to a Run Lambda rule (summary version 2018-10-10).

    ``mail_from`` is the envelope sender (``""`` for a bounce's null sender).
    """

    message_id: str
    mail_from: str
    recipients: tuple[str, ...]
    flow_direction: str
    invocation_id: str | None = None
    sender: str | None = None
    subject: str | None = None
    summary_version: str | None = None
    truncated: bool = False

    @classmethod
    def from_dict(cls, event: Any) -> WorkMailEvent:
        """Check and read ``event``; :class:`EventError` lists every missing or wrong field."""
        if not isinstance(event, Mapping):
            raise EventError(
                f"the Lambda event is a {type(event).__name__}, not a WorkMail message summary "
                f"(a JSON object like {_EVENT_SHAPE})"
            )
        problems: list[str] = []

        def text(obj: Any, path: str, *, required: bool = True) -> str | None:
            value: Any = obj
            for key in path.split("."):
                value = value.get(key) if isinstance(value, Mapping) else None
            if value is None:
                if required:
                    problems.append(f"{path} is missing")
                return None
            if not isinstance(value, str):
                problems.append(f"{path} should be a string, not {type(value).__name__}")
                return None
            return value

        message_id = text(event, "messageId")
        if message_id is not None and not MESSAGE_ID_PATTERN.fullmatch(message_id):
            problems.append(
                f"messageId {message_id[:130]!r} does not match [a-z0-9\\-]{{1,120}} "
                "(WorkMail's pattern)"
            )
        mail_from = text(event, "envelope.mailFrom.address")
        recipients: list[str] = []
        envelope = event.get("envelope")
        raw = envelope.get("recipients") if isinstance(envelope, Mapping) else None
        if raw is None:
            problems.append("envelope.recipients is missing")
        elif not isinstance(raw, list):
            problems.append("envelope.recipients should be a list")
        else:
            for i, r in enumerate(raw):
                address = r.get("address") if isinstance(r, Mapping) else None
                if not isinstance(address, str):
                    problems.append(f"envelope.recipients[{i}].address is missing")
                else:
                    recipients.append(address)
        direction = text(event, "flowDirection")
        if direction is not None and direction not in ("INBOUND", "OUTBOUND"):
            problems.append(f"flowDirection {direction!r} is neither INBOUND nor OUTBOUND")
        truncated = event.get("truncated", False)
        if problems:
            raise EventError(
                "not a WorkMail message summary: "
                + "; ".join(problems)
                + f". A synchronous Run Lambda rule sends {_EVENT_SHAPE}"
            )
        assert message_id is not None and mail_from is not None and direction is not None
        return cls(
            message_id=message_id,
            mail_from=mail_from,
            recipients=tuple(recipients),
            flow_direction=direction,
            invocation_id=text(event, "invocationId", required=False),
            sender=text(event, "sender.address", required=False),
            subject=text(event, "subject", required=False),
            summary_version=text(event, "summaryVersion", required=False),
            truncated=bool(truncated),
        )


# -- the answer --------------------------------------------------------------------------------


def rule_response(action: str = "DEFAULT", *, bounce_message: str | None = None) -> dict[str, Any]:
    """The synchronous rule's answer applying ``action`` to every recipient."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    act: dict[str, Any] = {"type": action}
    if action == "BOUNCE" and bounce_message:
        act["parameters"] = {"bounceMessage": bounce_message}
    return {"actions": [{"allRecipients": True, "action": act}]}


# -- bucket policy -----------------------------------------------------------------------------


def bucket_policy(
    bucket: str,
    *,
    region: str,
    account_id: str,
    organization_id: str | None = None,
) -> dict[str, Any]:
    """The bucket policy that lets WorkMail read the objects a Lambda puts there.

    As documented in "Updating message content with AWS Lambda": the regional
    WorkMail service principal may ``s3:GetObject`` and ``s3:GetObjectVersion``,
    only on behalf of ``account_id`` (and of ``organization_id``'s messages
    when given), only over TLS.
    """
    messages = f"arn:aws:workmailmessageflow:{region}:{account_id}:message"
    source_arn = f"{messages}/{organization_id}/*" if organization_id else f"{messages}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowWorkMailToReadUpdatedMessages",
                "Effect": "Allow",
                "Principal": {"Service": f"workmail.{region}.amazonaws.com"},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": source_arn},
                    "Bool": {"aws:SecureTransport": "true"},
                },
            }
        ],
    }


# -- clients -----------------------------------------------------------------------------------


class MessageFlowClient(Protocol):
    """The two ``workmailmessageflow`` calls used (a boto3 client fits)."""

    def get_raw_message_content(self, **kwargs: Any) -> Any: ...

    def put_raw_message_content(self, **kwargs: Any) -> Any: ...


class S3Client(Protocol):
    """The one S3 call used (a boto3 client fits)."""

    def put_object(self, **kwargs: Any) -> Any: ...
