"""The SES gateway: a message stored in S3 by SES, edited by a :class:`Recipe`, sent on.

The pattern WorkMail users move to (docs/ses.md)::

    from mimeguard.ses import handle
    from mimeguard.workmail import Recipe

    RECIPE = Recipe(disclaimer_text="This message came from outside the organization.")

    def lambda_handler(event, context):
        return handle(event, RECIPE, context=context)

1. the event names the stored message: an S3 notification (SES Mail Manager's
   WriteToS3 action, or any S3 put), a classic SES receipt rule event (its S3
   action's ``bucketName``/``objectKey``, or a Lambda action after an S3 action
   with ``MIMEGUARD_INBOUND_BUCKET``), either one wrapped in SNS, or a direct
   ``{"bucket", "key", "mailFrom", "recipients"}`` invocation;
2. an event handled before (its marker under ``processed/`` exists) stops
   here; ``GetObject``; a message carrying this gateway's own loop mark is not
   processed again (status ``loop``);
3. the inbound ``Return-Path`` is dropped (RFC 5321 section 4.4: it is written at
   final delivery, not relayed), then the recipe runs (repair first, the
   envelope sender filling a missing From) and the result is validated under
   ``ses`` against the fetched message;
4. the loop mark is prepended and the message goes to the envelope recipients,
   50 per call, with SES v2 ``SendEmail`` (``Content.Raw``) or over SMTP.

A message that cannot be made acceptable, or that SES refuses, follows the
recipe's :attr:`~mimeguard.workmail.Recipe.failure_policy`: ``deliver`` sends
it unchanged, ``quarantine`` writes it under the quarantine prefix, ``bounce``
quarantines it and sends the envelope sender a notice, ``drop`` only logs (the
inbound object stays where SES wrote it).  Nothing vanishes without a JSON log
line, and when SES refuses, the line names the mimeguard rules that match
SES's error text.  The Message-ID field is never changed; the log shows it
next to the MessageId SES returns.

boto3 is imported only when a client has to be created.
"""

from __future__ import annotations

import hashlib
import json
import re
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any, Literal, Protocol, cast

from ._aws import _error_code, _error_message
from ._jsonlog import JsonLines, _change_dict, _report_dict, _summary
from ._parser import parse
from ._ses_inbound import TRANSPORTS, InboundMessage, Settings, Transport, read_event  # noqa: F401
from ._transit import (
    Applied,
    apply_recipe,
    drop_fields,
    is_marked,
    mark,
    mark_key,
    safe_envelope_from,
)
from .edit import Change
from .findings import Report
from .recipe import ConfigurationError, Recipe

__all__ = [
    "MAX_DESTINATIONS",
    "SES_REJECTIONS",
    "InboundMessage",
    "Outcome",
    "Settings",
    "explain_rejection",
    "handle",
    "lambda_handler",
    "process",
    "read_event",
]

Status = Literal[
    "sent",  # the edited (or already acceptable) message was sent
    "delivered-unchanged",  # failure policy deliver: the message as received was sent
    "bounced",  # failure policy bounce: quarantined, and the sender told (when possible)
    "quarantined",  # written under the quarantine prefix, not sent
    "dropped",  # failure policy drop (or the recipe's DROP action): logged only
    "loop",  # this gateway sent it: not processed again
    "duplicate",  # this event was handled before (its processed marker exists)
    "not-found",  # the object named by the event is gone
]

#: SES v2 SendEmail takes at most 50 recipients per call (ses/latest/dg/quotas.html).
MAX_DESTINATIONS = 50

#: SES's rejection texts (as users report them; REFERENCE.md section 7) and the
#: mimeguard rules that catch the same problem before sending.
SES_REJECTIONS: tuple[tuple[re.Pattern[str], tuple[str, ...], str], ...] = (
    (
        re.compile(r"Illegal header", re.I),
        ("MG101", "MG102", "MG104", "MG106"),
        "a line in the header block is not a field (often no blank line before the body)",
    ),
    (
        re.compile(r"Empty header names are illegal", re.I),
        ("MG103",),
        "a header line starts with ':'",
    ),
    (
        re.compile(r"Duplicate header '([^']*)'", re.I),
        ("MG203", "MG204", "MG211"),
        "a field SES allows once occurs twice",
    ),
    (
        re.compile(r"Missing final '@domain'|Domain contains illegal character", re.I),
        ("MG205", "MG206"),
        "an address field does not parse",
    ),
    (re.compile(r"Header section too long", re.I), ("MG413",), "the header block is too large"),
    (
        re.compile(r"Message length is more than", re.I),
        ("MG401",),
        "the message is larger than SES takes",
    ),
    (
        re.compile(r"Unsupported encoding", re.I),
        ("MG313", "MG321", "MG116"),
        "a transfer encoding or charset SES does not know",
    ),
    (re.compile(r"Missing required header 'From'", re.I), ("MG201",), "there is no From field"),
    (
        re.compile(r"Expected disposition", re.I),
        ("MG311",),
        "Content-Disposition does not parse",
    ),
    (
        re.compile(r"not verified", re.I),
        (),
        "SES sends only from verified identities: relay mail from other domains over SMTP "
        "(MIMEGUARD_SES_TRANSPORT=smtp)",
    ),
)

_LEVEL_OF: dict[str, str] = {
    "sent": "INFO",
    "loop": "INFO",
    "duplicate": "INFO",
    "delivered-unchanged": "WARNING",
    "bounced": "WARNING",
    "quarantined": "WARNING",
    "dropped": "WARNING",
    "not-found": "WARNING",
}
_CONFIG_CODES = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
        "AccessDeniedException",
        "AccessDenied",
        "NoSuchBucket",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)
_REJECTED_CODES = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})


def explain_rejection(text: str, report: Report | None = None) -> dict[str, Any]:
    """What SES's error ``text`` means: the rules that catch it and, with ``report``,
    which of them fired on the message."""
    rules: list[str] = []
    hints: list[str] = []
    for pattern, codes, hint in SES_REJECTIONS:
        if pattern.search(text):
            rules.extend(c for c in codes if c not in rules)
            hints.append(hint)
    out: dict[str, Any] = {"text": text[:500], "rules": rules, "hints": hints}
    if report is not None:
        out["found"] = sorted({f.code for f in report.findings if f.code in rules})
    return out


# -- clients -----------------------------------------------------------------------------------


class S3Client(Protocol):
    def get_object(self, **kwargs: Any) -> Any: ...

    def head_object(self, **kwargs: Any) -> Any: ...

    def put_object(self, **kwargs: Any) -> Any: ...


class SesV2Client(Protocol):
    def send_email(self, **kwargs: Any) -> Any: ...


SmtpFactory = Callable[[str, int, float], smtplib.SMTP]

_CLIENTS: dict[str, Any] = {}


def _client(service: str) -> Any:
    """A boto3 client cached per container, with botocore's standard retries (5 attempts)."""
    client = _CLIENTS.get(service)
    if client is None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise ImportError("mimeguard.ses needs boto3: pip install 'mimeguard[aws]'") from exc
        config = Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"total_max_attempts": 5, "mode": "standard"},
        )
        client = _CLIENTS[service] = boto3.client(service, config=config)
    return client


# -- the outcome -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one message."""

    status: Status
    message_id: str
    recipients: tuple[str, ...] = ()
    sent_ids: tuple[str, ...] = ()
    report: Report | None = None
    changes: tuple[Change, ...] = ()
    bytes_in: int | None = None
    bytes_out: int | None = None
    quarantine: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "messageId": self.message_id,
            "recipients": len(self.recipients),
            "sentIds": list(self.sent_ids),
            "quarantine": self.quarantine,
            "detail": self.detail,
        }


class _RejectedError(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# -- the run -----------------------------------------------------------------------------------


class _Run:
    def __init__(
        self,
        inbound: InboundMessage,
        recipe: Recipe,
        settings: Settings,
        *,
        s3: S3Client | None,
        sesv2: SesV2Client | None,
        smtp: SmtpFactory | None,
        log: Callable[[dict[str, Any]], None],
        context: Any,
        clock: Callable[[], float],
    ) -> None:
        self.inbound = inbound
        self.recipe = recipe
        self.settings = settings
        self._s3 = s3
        self._sesv2 = sesv2
        self.smtp = smtp or (lambda host, port, timeout: smtplib.SMTP(host, port, timeout=timeout))
        self.log = log
        self.context = context
        self.clock = clock
        self.started = clock()
        self.key = mark_key(settings.secret)
        self.recipients: tuple[str, ...] = ()
        self.sent_ids: list[str] = []
        self.applied: Applied | None = None
        self.fields: dict[str, Any] = {}
        self.bytes_in: int | None = None
        self.bytes_out: int | None = None
        self.header_message_id: str | None = None

    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = cast(S3Client, _client("s3"))
        return self._s3

    @property
    def sesv2(self) -> SesV2Client:
        if self._sesv2 is None:
            self._sesv2 = cast(SesV2Client, _client("sesv2"))
        return self._sesv2

    # -- logging

    def finish(self, status: Status, detail: str = "", quarantine: str | None = None) -> Outcome:
        applied = self.applied
        report = applied.report if applied else None
        changes = applied.changes if applied else ()
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": _LEVEL_OF[status],
            "logger": "mimeguard.ses",
            "event": "processed",
            "status": status,
            "detail": detail,
            "source": self.inbound.source,
            "s3": {"bucket": self.inbound.bucket, "key": self.inbound.key},
            "messageId": self.inbound.message_id,
            "headerMessageId": self.header_message_id,
            "sentIds": self.sent_ids,
            "transport": self.settings.transport,
            "mailFrom": self.inbound.mail_from,
            "recipients": len(self.recipients),
            "bytes": {"in": self.bytes_in, "out": self.bytes_out},
            "recipe": applied.result if applied else None,
            "findings": _summary(report),
            "edits": [_change_dict(c) for c in changes],
            "brokenSignatures": list(applied.broken_signatures) if applied else [],
            "quarantine": quarantine,
            "policy": self.recipe.failure_policy,
            "timingsMs": {"total": round((self.clock() - self.started) * 1000.0, 1)},
        }
        if applied and applied.sealed is not None:
            record.update(sealed=applied.sealed, sealNote=applied.seal_note)
        request_id = getattr(self.context, "aws_request_id", None)
        if isinstance(request_id, str):
            record["requestId"] = request_id
        record.update(self.fields)
        self.log(record)
        return Outcome(
            status=status,
            message_id=self.inbound.message_id,
            recipients=self.recipients,
            sent_ids=tuple(self.sent_ids),
            report=report,
            changes=changes,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            quarantine=quarantine,
            detail=detail,
        )

    # -- the steps

    def run(self) -> Outcome:
        marker = self.marker_key()
        if marker is not None and self.handled_before(marker):
            return self.finish(
                "duplicate", f"already handled (s3://{self.inbound.bucket}/{marker})"
            )
        data = self.fetch()
        if data is None:
            return self.finish("not-found", "the object named by the event does not exist")
        outcome = self.steps(data)
        if marker is not None and outcome.status != "loop":
            self.remember(marker, outcome)
        return outcome

    def marker_key(self) -> str | None:
        prefix = self.settings.processed_prefix
        if prefix is None:
            return None
        name = f"{self.inbound.bucket}/{self.inbound.key}/{self.inbound.version_id or ''}"
        return prefix + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:40]

    def handled_before(self, marker: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.inbound.bucket, Key=marker)
        except Exception as exc:
            code = _error_code(exc)
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            if code in ("403", "AccessDenied"):
                raise ConfigurationError(
                    f"HeadObject s3://{self.inbound.bucket}/{marker} was denied: the function's "
                    "role needs s3:GetObject on the processed/ prefix and s3:ListBucket on the "
                    "bucket (without ListBucket S3 answers 403 for a missing key); or set "
                    "MIMEGUARD_PROCESSED_PREFIX=none"
                ) from exc
            raise
        return True

    def remember(self, marker: str, outcome: Outcome) -> None:
        try:
            self.s3.put_object(
                Bucket=self.inbound.bucket,
                Key=marker,
                Body=json.dumps(outcome.to_dict()).encode(),
                ContentType="application/json",
                ServerSideEncryption="AES256",
            )
        except Exception as exc:  # the message is handled; only a duplicate is at stake
            self.log(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "level": "WARNING",
                    "logger": "mimeguard.ses",
                    "event": "marker-not-written",
                    "messageId": self.inbound.message_id,
                    "error": f"{_error_code(exc) or type(exc).__name__}: {exc}",
                }
            )

    def steps(self, data: bytes) -> Outcome:
        self.bytes_in = len(data)
        self.header_message_id = parse(data).get("message-id")
        if is_marked(data, gateway_id=self.settings.gateway_id, key=self.key):
            return self.finish("loop", f"{self.settings.gateway_id} sent this message: not re-sent")
        self.recipients = self.envelope_recipients(data)
        prepared = drop_fields(data, ("Return-Path",))
        action = self.recipe.action
        if action in ("BOUNCE", "DROP"):
            why = self.recipe.bounce_message or f"the recipe's action is {action}"
            return self.failed(data, "bounce" if action == "BOUNCE" else "drop", why)
        self.applied = apply_recipe(
            prepared,
            self.recipe,
            profile=self.settings.profile,
            envelope_from=self.inbound.mail_from,
        )
        if self.applied.traceback:
            self.fields["traceback"] = self.applied.traceback
        if not self.applied.acceptable:
            if self.applied.report is not None:
                self.fields["report"] = _report_dict(self.applied.report)
            return self.failed(data, self.recipe.failure_policy, self.applied.detail)
        out = mark(self.applied.data, gateway_id=self.settings.gateway_id, key=self.key)
        try:
            self.send(out, self.recipients)
        except _RejectedError as exc:
            self.fields["sesRejection"] = explain_rejection(exc.text, self.applied.report)
            return self.failed(data, self.recipe.failure_policy, f"refused: {exc.text}")
        self.bytes_out = len(out)
        return self.finish("sent", self.applied.detail)

    def fetch(self) -> bytes | None:
        request: dict[str, Any] = {"Bucket": self.inbound.bucket, "Key": self.inbound.key}
        if self.inbound.version_id:
            request["VersionId"] = self.inbound.version_id
        try:
            got = self.s3.get_object(**request)
        except Exception as exc:
            code = _error_code(exc)
            if code in ("NoSuchKey", "NoSuchVersion"):
                return None
            if code in _CONFIG_CODES:
                raise ConfigurationError(
                    f"GetObject s3://{self.inbound.bucket}/{self.inbound.key} failed with {code}: "
                    f"{_error_message(exc)} (the function's role needs s3:GetObject, and "
                    "kms:Decrypt when the bucket uses SSE-KMS)"
                ) from exc
            raise
        body = got["Body"]
        try:
            return bytes(body.read()) if hasattr(body, "read") else bytes(body)
        finally:
            close = getattr(body, "close", None)
            if callable(close):
                close()

    def envelope_recipients(self, data: bytes) -> tuple[str, ...]:
        if self.inbound.recipients:
            return self.inbound.recipients
        if self.settings.forward_to:
            self.fields["recipientsFrom"] = "forward_to"
            return self.settings.forward_to
        if self.settings.recipients_from_headers:
            msg = parse(data)
            values = [hf.value for hf in msg.headers if hf.lname in ("to", "cc", "bcc")]
            found = tuple(dict.fromkeys(a for _, a in getaddresses(values) if "@" in a))
            if found:
                self.fields["recipientsFrom"] = "headers"
                return found
        raise ConfigurationError(
            f"the event for {self.inbound.key!r} carries no envelope recipients (an S3 "
            "notification never does): set MIMEGUARD_FORWARD_TO, or "
            "MIMEGUARD_RECIPIENTS_FROM_HEADERS=true to read To/Cc/Bcc"
        )

    # -- sending

    def send(self, data: bytes, recipients: Sequence[str]) -> None:
        if self.settings.transport == "smtp":
            self.send_smtp(data, recipients)
            return
        for i in range(0, len(recipients), MAX_DESTINATIONS):
            batch = list(recipients[i : i + MAX_DESTINATIONS])
            request: dict[str, Any] = {
                "Destination": {"ToAddresses": batch},
                "Content": {"Raw": {"Data": data}},
            }
            if self.settings.from_address:
                request["FromEmailAddress"] = self.settings.from_address
            if self.settings.configuration_set:
                request["ConfigurationSetName"] = self.settings.configuration_set
            try:
                answer = self.sesv2.send_email(**request)
            except Exception as exc:
                code = _error_code(exc)
                if code in _REJECTED_CODES:
                    raise _RejectedError(_error_message(exc)) from exc
                if code in _CONFIG_CODES:
                    raise ConfigurationError(
                        f"SendEmail failed with {code}: {_error_message(exc)}"
                    ) from exc
                raise
            sent = answer.get("MessageId") if isinstance(answer, Mapping) else None
            if isinstance(sent, str):
                self.sent_ids.append(sent)

    def send_smtp(self, data: bytes, recipients: Sequence[str]) -> None:
        s = self.settings
        assert s.smtp_host is not None
        sender = s.from_address or (self.inbound.mail_from or "")
        try:
            with self.smtp(s.smtp_host, s.smtp_port, 30.0) as conn:
                if s.smtp_starttls:
                    conn.starttls(context=ssl.create_default_context())
                if s.smtp_username and s.smtp_password:
                    conn.login(s.smtp_username, s.smtp_password)
                refused = conn.sendmail(sender, list(recipients), data)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _RejectedError(_smtp_text(exc.recipients)) from exc
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600:
                error = exc.smtp_error
                text = error.decode(errors="replace") if isinstance(error, bytes) else error
                raise _RejectedError(f"{exc.smtp_code} {text}") from exc
            raise  # 4xx: the invocation fails and is retried
        if refused:
            # some recipients took it: a retry would duplicate it for them
            self.fields["refusedRecipients"] = _smtp_text(refused)
        self.sent_ids.append(f"smtp:{s.smtp_host}")

    # -- the failure policy

    def failed(self, data: bytes, policy: str, why: str) -> Outcome:
        if policy == "deliver":
            unchanged = mark(
                drop_fields(data, ("Return-Path",)),
                gateway_id=self.settings.gateway_id,
                key=self.key,
            )
            try:
                self.send(unchanged, self.recipients)
            except _RejectedError as exc:
                self.fields.setdefault("sesRejection", explain_rejection(exc.text, self._report()))
                where = self.quarantine(data, f"{why}; sent unchanged and refused: {exc.text}")
                return self.finish(
                    "quarantined", f"{why}; the unchanged message was refused too", where
                )
            self.bytes_out = len(unchanged)
            return self.finish("delivered-unchanged", why)
        if policy == "drop":
            return self.finish("dropped", f"{why}; dropped (the inbound object is kept)")
        where = self.quarantine(data, why)
        if policy == "quarantine":
            return self.finish("quarantined", why, where)
        noticed = self.notify(data, why)
        return self.finish("bounced", f"{why}; {noticed}", where)

    def _report(self) -> Report | None:
        return self.applied.report if self.applied else None

    def quarantine(self, data: bytes, why: str) -> str:
        bucket = self.settings.quarantine_bucket or self.inbound.bucket
        key = f"{self.settings.quarantine_prefix}{uuid.uuid4()}"
        reason = why.encode("ascii", "replace").decode("ascii")
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType="message/rfc822",
            ServerSideEncryption="AES256",
            Metadata={
                "mimeguard-reason": re.sub(r"[\r\n]+", " ", reason)[:1024],
                "mimeguard-source": re.sub(r"[^\x21-\x7e]", "_", self.inbound.key)[:1024],
            },
        )
        return f"s3://{bucket}/{key}"

    def notify(self, data: bytes, why: str) -> str:
        sender = safe_envelope_from(self.inbound.mail_from)
        if not self.settings.notice_from:
            return "no notice sent (MIMEGUARD_NOTICE_FROM is not set)"
        if sender is None:
            return "no notice sent (null or unknown envelope sender)"
        msg = parse(data)
        if (msg.get("auto-submitted") or "no").strip().lower() != "no":
            return "no notice sent (the message was auto-submitted: RFC 3834 section 2)"
        notice = _notice(self.settings.notice_from, sender, msg.get("subject") or "", why)
        notice = mark(notice, gateway_id=self.settings.gateway_id, key=self.key)
        try:
            self.send(notice, [sender])
        except _RejectedError as exc:
            return f"the notice to {sender} was refused: {exc.text}"
        return f"notice sent to {sender}"


def _smtp_text(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in refused.items())


def _notice(notice_from: str, to: str, subject: str, why: str) -> bytes:
    """A short RFC 3834 auto-reply saying the message was not delivered."""
    subject = re.sub(r"[^\x20-\x7e]", "?", subject)[:200]
    reason = re.sub(r"[^\x20-\x7e]", "?", why)[:900]
    lines = [
        f"From: {notice_from}",
        f"To: {to}",
        f"Subject: Undelivered: {subject}",
        f"Date: {datetime.now(UTC).strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"Message-ID: <{uuid.uuid4()}@mimeguard.invalid>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
        "",
        "Your message was not delivered. The mail gateway gave this reason:",
        "",
        *(reason[i : i + 76] for i in range(0, len(reason), 76)),
        "",
        "A copy was kept for the administrator.",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


# -- entry points ------------------------------------------------------------------------------


def process(
    event: Mapping[str, Any],
    recipe: Recipe | None = None,
    *,
    context: Any = None,
    settings: Settings | None = None,
    s3: S3Client | None = None,
    sesv2: SesV2Client | None = None,
    smtp: SmtpFactory | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    **overrides: Any,
) -> tuple[Outcome, ...]:
    """Handle every message ``event`` names; one :class:`Outcome` each.

    ``recipe`` defaults to :meth:`Recipe.from_env` (the WorkMail glue's
    ``MIMEGUARD_*`` variables), ``settings`` to :meth:`Settings.from_env`;
    keyword ``overrides`` replace settings fields.  ``s3`` and ``sesv2`` are
    boto3 clients (created on first use), ``smtp`` a factory
    ``(host, port, timeout) -> smtplib.SMTP``.  Raises :class:`EventError` for
    an event that names no message and :class:`ConfigurationError` for a
    deployment that cannot work (the invocation fails and is retried; the
    message stays in S3).
    """
    if settings is None:
        settings = Settings.from_env(None, **overrides)
    elif overrides:
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if recipe is None:
        recipe = Recipe.from_env()
    elif not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a mimeguard.workmail.Recipe, not {recipe!r}")
    sink = log if log is not None else JsonLines()
    outcomes = []
    for inbound in read_event(event, settings):
        run = _Run(
            inbound,
            recipe,
            settings,
            s3=s3,
            sesv2=sesv2,
            smtp=smtp,
            log=sink,
            context=context,
            clock=clock,
        )
        outcomes.append(run.run())
        s3, sesv2 = run._s3, run._sesv2
    return tuple(outcomes)


def handle(
    event: Mapping[str, Any], recipe: Recipe | None = None, *, context: Any = None, **options: Any
) -> dict[str, Any]:
    """Handle one event; return ``{"results": [...]}`` (takes :func:`process`'s options)."""
    outcomes = process(event, recipe, context=context, **options)
    return {"results": [o.to_dict() for o in outcomes]}


def lambda_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """A Lambda entry point configured entirely by ``MIMEGUARD_*`` variables."""
    return handle(event, context=context)
