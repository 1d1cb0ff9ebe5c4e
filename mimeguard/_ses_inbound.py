"""Amazon SES inbound: the gateway's :class:`Settings` and the Lambda events it reads
(an SES receipt rule's action, S3 notifications, SNS) as :class:`InboundMessage` records.
``mimeguard.ses`` is their public face."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import unquote_plus

from ._messageflow import EventError
from ._transit import check_gateway_id, safe_envelope_from
from .errors import UnknownProfileError
from .profiles import get_profile
from .recipe import ConfigurationError, _env_bool, _env_text, _split_list

Transport = Literal["ses", "smtp"]
TRANSPORTS: tuple[Transport, ...] = get_args(Transport)


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """Where mail comes from and goes to.

    ``transport`` ``ses`` sends with SES v2 ``SendEmail`` (the From must be a
    verified identity: outbound mail); ``smtp`` relays to ``smtp_host`` with
    STARTTLS, keeping the original envelope sender (inbound mail for another
    mailbox host, or SES's SMTP interface).  ``gateway_id`` and ``secret`` make
    the loop mark; without a secret the mark only holds within one Lambda
    container.  ``inbound_bucket``/``inbound_prefix`` locate the message for a
    receipt rule's Lambda action (``prefix + messageId``, as the S3 action
    writes it).  ``forward_to`` replaces unknown envelope recipients (an S3
    notification carries none); ``recipients_from_headers`` instead reads
    To/Cc/Bcc.  ``quarantine_bucket`` defaults to the inbound message's bucket.
    ``notice_from`` (a verified address) sends bounce notices.
    ``processed_prefix`` (``None``: off) is where a small marker object per
    handled message goes, so a second delivery of the same event (S3
    notifications are at-least-once, Lambda retries) does not send it twice.
    """

    profile: str = "ses"
    transport: Transport = "ses"
    gateway_id: str = "mimeguard"
    secret: str | None = None
    configuration_set: str | None = None
    from_address: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    inbound_bucket: str | None = None
    inbound_prefix: str = ""
    forward_to: tuple[str, ...] = ()
    recipients_from_headers: bool = False
    quarantine_bucket: str | None = None
    quarantine_prefix: str = "quarantine/"
    processed_prefix: str | None = "processed/"
    notice_from: str | None = None

    def __post_init__(self) -> None:
        try:
            get_profile(self.profile)
        except UnknownProfileError as exc:
            raise ConfigurationError(str(exc)) from None
        if self.transport not in TRANSPORTS:
            raise ConfigurationError(f"transport must be 'ses' or 'smtp', not {self.transport!r}")
        if self.transport == "smtp" and not self.smtp_host:
            raise ConfigurationError("transport 'smtp' needs smtp_host (MIMEGUARD_SMTP_HOST)")
        try:
            check_gateway_id(self.gateway_id)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if not 0 < self.smtp_port < 65536:
            raise ConfigurationError(f"smtp_port {self.smtp_port} is not a TCP port")
        forward = self.forward_to
        object.__setattr__(
            self, "forward_to", _split_list(forward) if isinstance(forward, str) else tuple(forward)
        )
        for address in (*self.forward_to, self.notice_from, self.from_address):
            if address is not None and safe_envelope_from(address) != address:
                raise ConfigurationError(f"{address!r} is not a plain ASCII address")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``MIMEGUARD_PROFILE`` (default ``ses``), ``MIMEGUARD_SES_TRANSPORT``,
        ``MIMEGUARD_GATEWAY_ID``, ``MIMEGUARD_GATEWAY_SECRET``,
        ``MIMEGUARD_SES_CONFIGURATION_SET``, ``MIMEGUARD_SES_FROM``, ``MIMEGUARD_SMTP_HOST``,
        ``MIMEGUARD_SMTP_PORT``, ``MIMEGUARD_SMTP_STARTTLS``, ``MIMEGUARD_SMTP_USERNAME``,
        ``MIMEGUARD_SMTP_PASSWORD``, ``MIMEGUARD_INBOUND_BUCKET``, ``MIMEGUARD_INBOUND_PREFIX``,
        ``MIMEGUARD_FORWARD_TO``, ``MIMEGUARD_RECIPIENTS_FROM_HEADERS``,
        ``MIMEGUARD_QUARANTINE_BUCKET``, ``MIMEGUARD_QUARANTINE_PREFIX``,
        ``MIMEGUARD_PROCESSED_PREFIX`` (``none`` turns the duplicate check off) and
        ``MIMEGUARD_NOTICE_FROM``; keyword arguments that are not None win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, var in (
            ("profile", "MIMEGUARD_PROFILE"),
            ("transport", "MIMEGUARD_SES_TRANSPORT"),
            ("gateway_id", "MIMEGUARD_GATEWAY_ID"),
            ("secret", "MIMEGUARD_GATEWAY_SECRET"),
            ("configuration_set", "MIMEGUARD_SES_CONFIGURATION_SET"),
            ("from_address", "MIMEGUARD_SES_FROM"),
            ("smtp_host", "MIMEGUARD_SMTP_HOST"),
            ("smtp_username", "MIMEGUARD_SMTP_USERNAME"),
            ("smtp_password", "MIMEGUARD_SMTP_PASSWORD"),
            ("inbound_bucket", "MIMEGUARD_INBOUND_BUCKET"),
            ("inbound_prefix", "MIMEGUARD_INBOUND_PREFIX"),
            ("quarantine_bucket", "MIMEGUARD_QUARANTINE_BUCKET"),
            ("quarantine_prefix", "MIMEGUARD_QUARANTINE_PREFIX"),
            ("processed_prefix", "MIMEGUARD_PROCESSED_PREFIX"),
            ("notice_from", "MIMEGUARD_NOTICE_FROM"),
        ):
            value = _env_text(env, var)
            if value is not None:
                values[name] = value.strip().lower() if name in ("profile", "transport") else value
        port = _env_text(env, "MIMEGUARD_SMTP_PORT")
        if port is not None:
            try:
                values["smtp_port"] = int(port)
            except ValueError:
                raise ConfigurationError(f"MIMEGUARD_SMTP_PORT={port!r}: not a number") from None
        values["smtp_starttls"] = _env_bool(env, "MIMEGUARD_SMTP_STARTTLS", True)
        values["recipients_from_headers"] = _env_bool(
            env, "MIMEGUARD_RECIPIENTS_FROM_HEADERS", False
        )
        if str(values.get("processed_prefix", "")).strip().lower() == "none":
            values["processed_prefix"] = None
        forward = _env_text(env, "MIMEGUARD_FORWARD_TO")
        if forward is not None:
            values["forward_to"] = _split_list(forward)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


# -- the event ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One stored message an event names.

    ``mail_from`` and ``recipients`` are the SMTP envelope when the event
    carries it (``None``: unknown; ``""`` is the null sender of a bounce).
    """

    source: Literal["s3", "ses-receipt", "direct"]
    bucket: str
    key: str
    message_id: str
    mail_from: str | None = None
    recipients: tuple[str, ...] | None = None
    version_id: str | None = None


def _text(obj: Any, path: str) -> str | None:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) else None


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def read_event(event: Any, settings: Settings | None = None) -> tuple[InboundMessage, ...]:
    """The messages ``event`` names; :class:`EventError` when it names none."""
    settings = settings or Settings()
    if not isinstance(event, Mapping):
        raise EventError(f"the Lambda event is a {type(event).__name__}, not a JSON object")
    if "Records" not in event:
        return (_direct(event),)
    records = event["Records"]
    if not isinstance(records, list) or not records:
        raise EventError("Records should be a non-empty list")
    out: list[InboundMessage] = []
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise EventError(f"Records[{i}] is not an object")
        source = record.get("eventSource") or record.get("EventSource")
        if source == "aws:s3":
            out.append(_s3_record(record, i))
        elif source == "aws:ses":
            out.append(_ses_record(record.get("ses"), settings, f"Records[{i}].ses"))
        elif source == "aws:sns":
            message = _text(record, "Sns.Message")
            try:
                inner = json.loads(message) if message is not None else None
            except ValueError:
                raise EventError(f"Records[{i}].Sns.Message is not JSON") from None
            if isinstance(inner, Mapping) and "receipt" in inner:
                out.append(_ses_record(inner, settings, f"Records[{i}].Sns.Message"))
            elif isinstance(inner, Mapping) and "Records" in inner:
                out.extend(read_event(inner, settings))
            else:
                raise EventError(
                    f"Records[{i}].Sns.Message is neither an SES receipt notification "
                    "nor an S3 event"
                )
        else:
            raise EventError(
                f"Records[{i}].eventSource is {source!r}; expected aws:s3, aws:ses or aws:sns"
            )
    return tuple(out)


def _direct(event: Mapping[str, Any]) -> InboundMessage:
    bucket, key = event.get("bucket"), event.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
        raise EventError(
            "not an S3, SES or SNS event, and not a direct invocation "
            '{"bucket": "...", "key": "...", "mailFrom": "...", "recipients": ["..."]}'
        )
    mail_from = event.get("mailFrom")
    recipients = event.get("recipients")
    if mail_from is not None and not isinstance(mail_from, str):
        raise EventError("mailFrom should be a string")
    if recipients is not None and _str_list(recipients) is None:
        raise EventError("recipients should be a list of strings")
    return InboundMessage(
        "direct", bucket, key, key, mail_from, _str_list(recipients) if recipients else None
    )


def _s3_record(record: Mapping[str, Any], i: int) -> InboundMessage:
    bucket = _text(record, "s3.bucket.name")
    key = _text(record, "s3.object.key")
    if not bucket or not key:
        raise EventError(f"Records[{i}] has no s3.bucket.name or s3.object.key")
    key = unquote_plus(key)  # S3 notifications URL-encode the key (spaces as '+')
    return InboundMessage("s3", bucket, key, key, version_id=_text(record, "s3.object.versionId"))


def _ses_record(ses: Any, settings: Settings, where: str) -> InboundMessage:
    if not isinstance(ses, Mapping):
        raise EventError(f"{where} is not an object")
    message_id = _text(ses, "mail.messageId")
    if not message_id:
        raise EventError(f"{where}.mail.messageId is missing")
    action = (
        ses.get("receipt", {}).get("action") if isinstance(ses.get("receipt"), Mapping) else None
    )
    bucket = _text(action, "bucketName") if isinstance(action, Mapping) else None
    key = _text(action, "objectKey") if isinstance(action, Mapping) else None
    if not bucket or not key:
        if settings.inbound_bucket is None:
            raise ConfigurationError(
                f"{where}: a receipt rule's Lambda action does not say where the message is; "
                "put an S3 action before it and set MIMEGUARD_INBOUND_BUCKET (and "
                "MIMEGUARD_INBOUND_PREFIX, its object key prefix)"
            )
        bucket, key = settings.inbound_bucket, settings.inbound_prefix + message_id
    # receipt.recipients are the envelope RCPT TO addresses this rule matched;
    # mail.destination lists every envelope recipient of the SMTP transaction
    recipients = _str_list(_get(ses, "receipt.recipients")) or _str_list(
        _get(ses, "mail.destination")
    )
    return InboundMessage(
        "ses-receipt", bucket, key, message_id, _text(ses, "mail.source"), recipients
    )


def _get(obj: Any, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value
