"""Amazon WorkMail Lambda glue: fetch, edit, validate, upload and put, inside 15 seconds.

A synchronous *Run Lambda* rule hands a function the summary of a message in
transit; the function may rewrite the message with ``PutRawMessageContent``
and must answer within 15 seconds.  :func:`handle` does the whole round trip::

    from mimeguard.workmail import Recipe, handle

    RECIPE = Recipe(disclaimer_text="This message came from outside the organization.")

    def lambda_handler(event, context):
        return handle(event, RECIPE, context=context)

1. ``GetRawMessageContent`` (the body is streamed, the time budget checked per chunk);
2. the edits of the :class:`Recipe` (repairing first, with the envelope sender
   filling a missing From) or of a callable ``(bytes) -> bytes``;
3. :func:`mimeguard.validate` under the configured profile with ``original=``
   the fetched bytes, so immutable headers must be unchanged;
4. ``PutObject`` to S3 under ``<key prefix><uuid4>`` with server-side encryption;
5. ``PutRawMessageContent``;
6. the rule's answer, ``{"actions": [{"allRecipients": true, "action": {"type": "DEFAULT"}}]}``
   unless the recipe asks for another action.

Whatever goes wrong with the *message* (it cannot be made compliant, it is
signed, WorkMail rejects or freezes it, time runs out) the message is delivered
unchanged and a JSON line says why.  Wrong *configuration* (WorkMail cannot read
the bucket, the bucket does not exist) raises :class:`ConfigurationError`, so
the invocation fails loudly.

boto3 is needed (``pip install 'mimeguard[aws]'``) but imported only when a
client has to be created: ``import mimeguard`` never imports it, and tests can
pass their own clients.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

from ._aws import (  # noqa: F401  (re-exported: tests reach them through workmail)
    _CLIENTS,
    _boto3,
    _default_client,
    _error_code,
    _error_message,
    _http_status,
    _retryable,
)
from ._dkim import broken_signatures
from ._jsonlog import JsonLines, _change_dict, _report_dict, _summary
from ._messageflow import (  # noqa: F401  (re-exported: workmail is their public face)
    _KEY_MAX,
    _UUID_LEN,
    BUCKET_PATTERN,
    KEY_PATTERN,
    MESSAGE_ID_PATTERN,
    EventError,
    MessageFlowClient,
    S3Client,
    WorkMailEvent,
    bucket_policy,
    rule_response,
)
from .edit import Change
from .errors import InvalidMessageError, SignedMessageError, UnknownProfileError
from .findings import Report
from .profiles import get_profile
from .recipe import (  # noqa: F401  (re-exported: the ses and gateway faces read them here)
    _SEAL_KEYS,
    ACTIONS,
    ON_FAILURE,
    Action,
    ConfigurationError,
    OnFailure,
    OnSigned,
    Position,
    Recipe,
    _env_bool,
    _env_float,
    _env_text,
    _split_list,
    final_report,
)
from .validation import Input

__all__ = [
    "ACTIONS",
    "ConfigurationError",
    "EventError",
    "JsonLines",
    "Outcome",
    "Recipe",
    "Settings",
    "WorkMailEvent",
    "bucket_policy",
    "final_report",
    "handle",
    "lambda_handler",
    "process",
    "rule_response",
]

_INBOUND_ONLY = frozenset({"BYPASS_SPAM_CHECK", "MOVE_TO_JUNK"})
_NOT_DELIVERED = frozenset({"BOUNCE", "DROP"})
#: the bounce text when a recipe that strips attachments fails closed
_FAIL_CLOSED_BOUNCE = (
    "This message could not be checked for blocked attachments and was not delivered."
)

Status = Literal[
    "updated",  # PutRawMessageContent succeeded
    "unchanged",  # the edits changed nothing: nothing to put
    "skipped",  # a part was deliberately left alone (signed mail): nothing to put
    "not-edited",  # the recipe has no edit, or the message is bounced or dropped
    "invalid",  # the result would not validate: not put, delivered unchanged
    "rejected",  # MessageRejected: delivered unchanged
    "frozen",  # MessageFrozen: delivered unchanged
    "not-found",  # ResourceNotFoundException: nothing to do
    "deadline",  # the time budget ran out (throttling included): delivered unchanged
    "failed",  # the edit raised: delivered unchanged
]
Transform = Callable[[bytes], bytes]
LogSink = Callable[[dict[str, Any]], None]


#: The rule must answer within 15 s (WorkMail admin guide, synchronous Run Lambda).
RULE_DEADLINE = 15.0
_CHUNK = 1 << 20
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 2.0
_MAX_ATTEMPTS = 8


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the edited message goes and how long there is.

    ``bucket`` must be in the WorkMail organization's region, owned by the same
    account, and let WorkMail read it (see :func:`bucket_policy`); WorkMail also
    wants its name to match ``^[a-z0-9][a-z0-9\\-]*`` (so no dots).  Objects
    are written as ``key_prefix + uuid4``; ``key_prefix`` may only hold letters,
    digits, ``-`` and ``/``.  With ``kms_key_id`` the object is encrypted with
    SSE-KMS, otherwise with SSE-S3 (AES256).  ``time_budget`` is the rule's
    deadline, ``safety_margin`` what is kept back from it (and from the Lambda
    timeout when a context is passed).  ``organization_id`` only narrows the
    bucket policy printed on InvalidContentLocation.
    """

    bucket: str | None = None
    key_prefix: str = "mimeguard/"
    profile: str = "workmail"
    kms_key_id: str | None = None
    time_budget: float = RULE_DEADLINE
    safety_margin: float = 2.0
    organization_id: str | None = None

    def __post_init__(self) -> None:
        if self.bucket is not None and not BUCKET_PATTERN.fullmatch(self.bucket):
            raise ConfigurationError(
                f"bucket {self.bucket!r} cannot be used with PutRawMessageContent: WorkMail "
                "wants 3-63 characters matching ^[a-z0-9][a-z0-9\\-]* (lower-case letters, "
                "digits and '-'; no dots)"
            )
        if not KEY_PATTERN.fullmatch(self.key_prefix):
            raise ConfigurationError(
                f"key prefix {self.key_prefix!r}: WorkMail only accepts S3 keys matching "
                "[a-zA-Z0-9\\-/]* (letters, digits, '-' and '/'; no dots or underscores)"
            )
        if len(self.key_prefix) + _UUID_LEN > _KEY_MAX:
            raise ConfigurationError(f"key prefix longer than {_KEY_MAX - _UUID_LEN} characters")
        try:
            get_profile(self.profile)
        except UnknownProfileError as exc:
            raise ConfigurationError(str(exc)) from None
        if not self.time_budget > 0 or not self.safety_margin >= 0:
            raise ConfigurationError("time_budget must be positive and safety_margin >= 0")
        if self.safety_margin >= self.time_budget:
            raise ConfigurationError("safety_margin must be smaller than time_budget")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``MIMEGUARD_BUCKET``, ``MIMEGUARD_KEY_PREFIX``, ``MIMEGUARD_PROFILE``,
        ``MIMEGUARD_KMS_KEY_ID``, ``MIMEGUARD_TIME_BUDGET``, ``MIMEGUARD_SAFETY_MARGIN`` and
        ``MIMEGUARD_ORGANIZATION_ID``; keyword arguments that are not None win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "bucket": _env_text(env, "MIMEGUARD_BUCKET"),
            "kms_key_id": _env_text(env, "MIMEGUARD_KMS_KEY_ID"),
            "organization_id": _env_text(env, "MIMEGUARD_ORGANIZATION_ID"),
            "time_budget": _env_float(env, "MIMEGUARD_TIME_BUDGET", RULE_DEADLINE),
            "safety_margin": _env_float(env, "MIMEGUARD_SAFETY_MARGIN", 2.0),
        }
        prefix = env.get("MIMEGUARD_KEY_PREFIX")
        if prefix is not None:  # "" is a legitimate prefix here
            values["key_prefix"] = prefix
        profile = _env_text(env, "MIMEGUARD_PROFILE")
        if profile is not None:
            values["profile"] = profile.strip().lower()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What :func:`process` did with one message; ``response`` goes back to WorkMail."""

    status: Status
    message_id: str
    response: dict[str, Any]
    report: Report | None = None
    changes: tuple[Change, ...] = ()
    bytes_in: int | None = None
    bytes_out: int | None = None
    bucket: str | None = None
    key: str | None = None
    object_version: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    retries: int = 0
    detail: str = ""

    @property
    def updated(self) -> bool:
        return self.status == "updated"


# -- the run -----------------------------------------------------------------------------------


class _OutOfTimeError(Exception):
    def __init__(self, step: str, cause: BaseException | None = None) -> None:
        super().__init__(step)
        self.step = step
        self.cause = cause


class _Budget:
    def __init__(self, clock: Callable[[], float], settings: Settings, context: Any) -> None:
        self.clock = clock
        self.start = clock()
        limit = settings.time_budget - settings.safety_margin
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            limit = min(limit, float(remaining()) / 1000.0 - settings.safety_margin)
        self.deadline = self.start + limit

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def check(self, step: str) -> None:
        if self.remaining() <= 0:
            raise _OutOfTimeError(step)

    def elapsed_ms(self) -> float:
        return round((self.clock() - self.start) * 1000.0, 1)


def _account_id(context: Any) -> str | None:
    arn = getattr(context, "invoked_function_arn", None)
    if isinstance(arn, str) and arn.count(":") >= 5:
        return arn.split(":")[4] or None
    return None


def _region(client: Any) -> str | None:
    region = getattr(getattr(client, "meta", None), "region_name", None)
    return region if isinstance(region, str) else None


_LEVEL_OF: dict[str, str] = {
    "updated": "INFO",
    "unchanged": "INFO",
    "skipped": "INFO",
    "not-edited": "INFO",
    "not-found": "WARNING",
    "frozen": "WARNING",
    "invalid": "WARNING",
    "deadline": "WARNING",
    "rejected": "ERROR",
    "failed": "ERROR",
}


class _Run:
    def __init__(
        self,
        event: WorkMailEvent,
        recipe: Recipe | Transform,
        settings: Settings,
        *,
        context: Any,
        messageflow: MessageFlowClient | None,
        s3: S3Client | None,
        log: LogSink,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.event = event
        self.recipe = recipe
        self.settings = settings
        self.context = context
        self._messageflow = messageflow
        self._s3 = s3
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.budget = _Budget(clock, settings, context)
        self.timings: dict[str, float] = {}
        self.retries = 0
        self.report: Report | None = None
        self.changes: tuple[Change, ...] = ()
        #: d= domains of the DKIM signatures the edit broke (EditResult.broken_signatures)
        self.broken: tuple[str, ...] = ()
        self.bytes_in: int | None = None
        self.bytes_out: int | None = None
        self.key: str | None = None
        self.version: str | None = None
        self.extra: dict[str, Any] = {}
        action: str = recipe.action if isinstance(recipe, Recipe) else "DEFAULT"
        bounce = recipe.bounce_message if isinstance(recipe, Recipe) else None
        if action in _INBOUND_ONLY and event.flow_direction != "INBOUND":
            self.extra["actionNote"] = f"{action} only applies to inbound mail; DEFAULT used"
            action = "DEFAULT"
        self.action = action
        self.response = rule_response(action, bounce_message=bounce)

    # clients are created only when needed, so that a bounce never imports boto3
    @property
    def messageflow(self) -> MessageFlowClient:
        if self._messageflow is None:
            self._messageflow = cast(MessageFlowClient, _default_client("workmailmessageflow"))
        return self._messageflow

    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = cast(S3Client, _default_client("s3"))
        return self._s3

    # -- logging

    def emit(self, level: str, what: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "logger": "mimeguard.workmail",
            "event": what,
            "messageId": self.event.message_id,
            "invocationId": self.event.invocation_id,
        }
        request_id = getattr(self.context, "aws_request_id", None)
        if isinstance(request_id, str):
            record["requestId"] = request_id
        record.update(fields)
        self.log(record)

    def finish(self, status: Status, detail: str = "", **fields: Any) -> Outcome:
        self.timings["total"] = self.budget.elapsed_ms()
        outcome = Outcome(
            status=status,
            message_id=self.event.message_id,
            response=self.response,
            report=self.report,
            changes=self.changes,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            bucket=self.settings.bucket if self.key else None,
            key=self.key,
            object_version=self.version,
            timings=dict(self.timings),
            retries=self.retries,
            detail=detail,
        )
        record: dict[str, Any] = {
            "status": status,
            "detail": detail,
            "flowDirection": self.event.flow_direction,
            "action": self.action,
            "recipients": len(self.event.recipients),
            "bytes": {"in": self.bytes_in, "out": self.bytes_out},
            "findings": _summary(self.report),
            "edits": [_change_dict(c) for c in self.changes],
            "brokenSignatures": list(self.broken),
            "s3": {"bucket": outcome.bucket, "key": self.key, "version": self.version}
            if self.key
            else None,
            "timingsMs": outcome.timings,
            "retries": self.retries,
        }
        record.update(self.extra)
        record.update(fields)
        self.emit(_LEVEL_OF[status], "processed", **record)
        return outcome

    def fail(self, status: Status, detail: str, **fields: Any) -> Outcome:
        """Finish a message whose edit failed: delivered unchanged, or, under the
        recipe's failure policy (a stripping recipe fails closed), bounced or dropped
        through the synchronous answer.  WorkMail has no quarantine a rule can ask
        for (MOVE_TO_JUNK still delivers), so ``quarantine`` bounces."""
        policy = self.recipe.failure_policy if isinstance(self.recipe, Recipe) else "deliver"
        if policy == "deliver" or self.action in _NOT_DELIVERED:
            return self.finish(status, detail, **fields)
        action = "DROP" if policy == "drop" else "BOUNCE"
        self.action = action
        self.response = rule_response(
            action, bounce_message=_FAIL_CLOSED_BOUNCE if action == "BOUNCE" else None
        )
        done = f"{'dropped' if action == 'DROP' else 'bounced'} (on_failure={policy!r})"
        if "delivered unchanged" in detail:
            detail = detail.replace("delivered unchanged", done)
        else:
            detail = f"{detail}; {done}"
        self.emit("WARNING", "fail-closed", status=status, policy=policy, action=action)
        return self.finish(
            status, detail, failClosed={"policy": policy, "action": action}, **fields
        )

    # -- calls

    def timed(self, step: str, started: float) -> None:
        self.timings[step] = round((self.clock() - started) * 1000.0, 1)

    def call(self, operation: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        attempt = 0
        while True:
            self.budget.check(operation)
            try:
                return fn(**kwargs)
            except Exception as exc:
                if not _retryable(exc):
                    raise
                attempt += 1
                ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1))
                delay = random.uniform(ceiling / 2, ceiling)  # "equal jitter"
                if attempt >= _MAX_ATTEMPTS or delay >= self.budget.remaining():
                    raise _OutOfTimeError(operation, exc) from exc
                self.retries += 1
                self.emit(
                    "WARNING",
                    "retry",
                    operation=operation,
                    attempt=attempt,
                    error=_error_code(exc) or type(exc).__name__,
                    delayMs=round(delay * 1000.0, 1),
                )
                self.sleep(delay)

    def read(self, body: Any) -> bytes:
        if isinstance(body, (bytes, bytearray, memoryview)):
            return bytes(body)
        try:
            chunks = getattr(body, "iter_chunks", None)
            if callable(chunks):
                buf = bytearray()
                for chunk in chunks(_CHUNK):
                    buf += chunk
                    self.budget.check("GetRawMessageContent (reading the body)")
                return bytes(buf)
            return bytes(body.read())
        finally:
            close = getattr(body, "close", None)
            if callable(close):
                close()

    # -- the steps

    def run(self) -> Outcome:
        recipe = self.recipe
        if isinstance(recipe, Recipe) and (
            self.action in _NOT_DELIVERED or not (recipe.has_edits or recipe.repair)
        ):
            why = (
                f"the message is not delivered ({self.action})"
                if self.action in _NOT_DELIVERED
                else "the recipe has no edit"
            )
            return self.finish("not-edited", why)
        if self.settings.bucket is None:
            raise ConfigurationError(
                "no S3 bucket for the edited messages: set MIMEGUARD_BUCKET or pass bucket="
            )
        try:
            return self.steps()
        except _OutOfTimeError as exc:
            cause = exc.cause
            detail = f"time budget spent before {exc.step}; message delivered unchanged"
            if cause is not None:
                detail = (
                    f"{exc.step} still failing ({_error_code(cause) or type(cause).__name__}) "
                    "when the time budget ran out; message delivered unchanged"
                )
            return self.fail("deadline", detail, budgetMs=self._budget_ms())

    def _budget_ms(self) -> float:
        return round((self.budget.deadline - self.budget.start) * 1000.0, 1)

    def steps(self) -> Outcome:
        mid = self.event.message_id
        # 1. fetch
        started = self.clock()
        try:
            got = self.call(
                "GetRawMessageContent", self.messageflow.get_raw_message_content, messageId=mid
            )
        except _OutOfTimeError:
            raise
        except Exception as exc:
            code = _error_code(exc)
            if code == "ResourceNotFoundException":
                return self.finish("not-found", _error_message(exc), operation="Get")
            if code == "AccessDeniedException":
                permission = "workmailmessageflow:GetRawMessageContent"
                raise self.config_error_access(exc, permission) from exc
            raise
        data = self.read(got["messageContent"])
        self.bytes_in = len(data)
        self.timed("fetch", started)
        self.budget.check("editing")

        # 2. edit (3. validate)
        out = self.edit(data)
        if isinstance(out, Outcome):
            return out
        self.bytes_out = len(out)
        if out == data:
            if any(c.kind == "skipped" for c in self.changes):
                return self.finish("skipped", "parts were left untouched; nothing to put")
            return self.finish("unchanged", "the edits changed nothing; nothing to put")
        assert self.report is not None
        if not self.report.ok:
            return self.fail(
                "invalid",
                "the edited message would not be accepted; not put, delivered unchanged",
                report=_report_dict(self.report),
            )

        if isinstance(self.recipe, Recipe) and self.recipe.seals:
            out = self.seal(out, data)

        # 4. upload
        self.budget.check("PutObject")
        started = self.clock()
        self.key = f"{self.settings.key_prefix}{uuid.uuid4()}"
        put: dict[str, Any] = {
            "Bucket": self.settings.bucket,
            "Key": self.key,
            "Body": out,
            "ContentType": "message/rfc822",
        }
        if self.settings.kms_key_id:
            put["ServerSideEncryption"] = "aws:kms"
            put["SSEKMSKeyId"] = self.settings.kms_key_id
        else:
            put["ServerSideEncryption"] = "AES256"
        try:
            stored = self.call("PutObject", self.s3.put_object, **put)
        except _OutOfTimeError:
            raise
        except Exception as exc:
            code = _error_code(exc)
            if code in ("NoSuchBucket", "AccessDenied", "KMS.NotFoundException"):
                raise self.config_error_s3(exc) from exc
            raise
        version = stored.get("VersionId") if isinstance(stored, Mapping) else None
        self.version = version if isinstance(version, str) and version != "null" else None
        self.timed("upload", started)

        # 5. put
        self.budget.check("PutRawMessageContent")
        started = self.clock()
        ref: dict[str, str] = {"bucket": cast(str, self.settings.bucket), "key": self.key}
        if self.version:
            ref["objectVersion"] = self.version
        try:
            self.call(
                "PutRawMessageContent",
                self.messageflow.put_raw_message_content,
                messageId=mid,
                content={"s3Reference": ref},
            )
        except _OutOfTimeError:
            raise
        except Exception as exc:
            self.timed("put", started)
            code = _error_code(exc)
            message = _error_message(exc)
            if code == "MessageFrozen":
                return self.fail("frozen", message, operation="Put")
            if code == "ResourceNotFoundException":
                return self.finish("not-found", message, operation="Put")
            if code == "MessageRejected":
                return self.fail(
                    "rejected",
                    "WorkMail rejected the edited message; delivered unchanged, not retried",
                    serviceMessage=message,
                    report=_report_dict(self.report),
                )
            if code == "InvalidContentLocation":
                raise self.config_error_location(exc) from exc
            if code == "AccessDeniedException":
                raise self.config_error_access(
                    exc, "workmailmessageflow:PutRawMessageContent"
                ) from exc
            raise
        self.timed("put", started)
        return self.finish("updated")

    def seal(self, out: bytes, data: bytes) -> bytes:
        """ARC-seal the edited message (:meth:`Recipe.seal_edited`), said in the log line."""
        assert isinstance(self.recipe, Recipe)
        started = self.clock()
        self.budget.check("ARC sealing")
        sealed, note = self.recipe.seal_edited(out, data, profile=self.settings.profile)
        self.timed("seal", started)
        self.extra["sealed"] = sealed is not out
        if note:
            self.extra["sealNote"] = note
        self.bytes_out = len(sealed)
        return sealed

    def edit(self, data: bytes) -> bytes | Outcome:
        started = self.clock()
        recipe = self.recipe
        envelope_from = self.event.mail_from.strip() or None
        if envelope_from is not None and not (
            envelope_from.isascii() and envelope_from.isprintable() and "@" in envelope_from
        ):
            envelope_from = None  # an address repair cannot write into a 7-bit header
        try:
            if isinstance(recipe, Recipe):
                editor = recipe.editor(
                    data, profile=self.settings.profile, envelope_from=envelope_from
                )
                result = editor.result()
                out, self.changes = result.data, result.changes
                self.broken = result.broken_signatures
                # the final check reads the edit's parses of both messages
                before, after = editor._parses()
                checked: tuple[Input, Input] = (after, before)
                self.timed("edit", started)
            else:
                produced: Any = recipe(data)
                if not isinstance(produced, (bytes, bytearray, memoryview)):
                    raise TypeError(
                        f"the edit callable returned {type(produced).__name__}, not bytes"
                    )
                out = bytes(produced)
                self.timed("edit", started)
                self.broken = broken_signatures(data, out)
                checked = (out, data)
            started = self.clock()
            self.report = final_report(*checked, self.settings.profile)
            self.timed("validate", started)
        except InvalidMessageError as exc:
            self.timed("edit", started)
            self.report = exc.report
            if exc.result is not None:  # stripped (or edited) but refused: say what it did
                self.changes = exc.result.changes
                self.bytes_out = len(exc.result.data)
            return self.fail(
                "invalid",
                f"{exc.args[0] if exc.args else exc}; not put, delivered unchanged",
                report=_report_dict(exc.report),
            )
        except SignedMessageError as exc:
            self.timed("edit", started)
            return self.fail("skipped", f"{exc}; delivered unchanged")
        except Exception as exc:
            self.timed("edit", started)
            return self.fail(
                "failed",
                f"the edit raised {type(exc).__name__}: {exc}; delivered unchanged",
                traceback="".join(traceback.format_exception(exc))[-4000:],
            )
        return out

    # -- configuration errors

    def config_error_location(self, exc: BaseException) -> ConfigurationError:
        region = _region(self._messageflow) or os.environ.get("AWS_REGION") or "<region>"
        s3_region = _region(self._s3)
        account = _account_id(self.context) or "<account-id>"
        bucket = cast(str, self.settings.bucket)
        policy = bucket_policy(
            bucket,
            region=region,
            account_id=account,
            organization_id=self.settings.organization_id,
        )
        region_note = f"WorkMail is called in {region}"
        if s3_region and s3_region != region:
            region_note += f" but the S3 client writes to {s3_region}"
        lines = [
            f"InvalidContentLocation: WorkMail could not read s3://{bucket}/{self.key} "
            f"({_error_message(exc)}). AWS documents three causes:",
            f"  1. region: the bucket must be in the WorkMail organization's region "
            f"({region_note});",
            "  2. bucket owner: the bucket must belong to the AWS account that calls "
            f"PutRawMessageContent ({account});",
            f"  3. bucket policy: it must let workmail.{region}.amazonaws.com read the objects. "
            "This bucket policy fixes it:",
            json.dumps(policy, indent=2),
        ]
        if self.settings.kms_key_id:
            lines.append(
                f"The objects are encrypted with KMS key {self.settings.kms_key_id}: its key "
                f"policy must also let workmail.{region}.amazonaws.com use kms:Decrypt."
            )
        error = ConfigurationError("\n".join(lines))
        self.emit("ERROR", "configuration-error", error=str(error), operation="Put")
        return error

    def config_error_s3(self, exc: BaseException) -> ConfigurationError:
        code = _error_code(exc)
        bucket = self.settings.bucket
        if code == "NoSuchBucket":
            hint = f"bucket {bucket!r} does not exist (set MIMEGUARD_BUCKET to the right name)"
        elif code == "AccessDenied":
            hint = f"the function's role may not s3:PutObject into {bucket!r}"
            if self.settings.kms_key_id:
                hint += f" or use KMS key {self.settings.kms_key_id} (kms:GenerateDataKey)"
        else:
            hint = f"KMS key {self.settings.kms_key_id!r} was not found"
        error = ConfigurationError(f"PutObject failed with {code}: {hint}: {_error_message(exc)}")
        self.emit("ERROR", "configuration-error", error=str(error), operation="PutObject")
        return error

    def config_error_access(self, exc: BaseException, permission: str) -> ConfigurationError:
        error = ConfigurationError(
            f"AccessDeniedException: the function's role needs {permission} on "
            f"arn:aws:workmailmessageflow:<region>:<account>:message/*: {_error_message(exc)}"
        )
        self.emit("ERROR", "configuration-error", error=str(error))
        return error


# -- entry points ------------------------------------------------------------------------------


def process(
    event: Mapping[str, Any],
    recipe: Recipe | Transform | None = None,
    *,
    context: Any = None,
    settings: Settings | None = None,
    bucket: str | None = None,
    key_prefix: str | None = None,
    profile: str | None = None,
    messageflow: MessageFlowClient | None = None,
    s3: S3Client | None = None,
    log: LogSink | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Handle one WorkMail event and say what happened (:func:`handle` returns just
    ``Outcome.response``).

    ``recipe`` is a :class:`Recipe` or a callable ``(bytes) -> bytes``; None reads
    :meth:`Recipe.from_env`.  ``settings`` default to :meth:`Settings.from_env`;
    ``bucket``, ``key_prefix`` and ``profile`` override them.  ``messageflow``
    and ``s3`` are boto3 clients (created on first use when not given), ``log``
    receives one dict per log record (default: :class:`JsonLines` on stdout),
    ``clock`` and ``sleep`` drive the time budget and the backoff.

    Raises :class:`EventError` for an event that is not a WorkMail message summary
    and :class:`ConfigurationError` for a deployment that cannot work.
    """
    overrides: dict[str, Any] = {"bucket": bucket, "key_prefix": key_prefix, "profile": profile}
    if settings is None:
        settings = Settings.from_env(None, **overrides)
    else:
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if recipe is None:
        recipe = Recipe.from_env()
    elif not isinstance(recipe, Recipe) and not callable(recipe):
        raise TypeError(f"recipe must be a Recipe or a callable (bytes) -> bytes, not {recipe!r}")
    parsed = WorkMailEvent.from_dict(event)
    run = _Run(
        parsed,
        recipe,
        settings,
        context=context,
        messageflow=messageflow,
        s3=s3,
        log=log if log is not None else JsonLines(),
        clock=clock,
        sleep=sleep,
    )
    return run.run()


def handle(
    event: Mapping[str, Any],
    recipe: Recipe | Transform | None = None,
    *,
    context: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """Handle one WorkMail event; return the synchronous rule's answer.

    Takes the options of :func:`process`.
    """
    return process(event, recipe, context=context, **options).response


def lambda_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """A Lambda entry point configured entirely by ``MIMEGUARD_*`` variables."""
    return handle(event, context=context)
