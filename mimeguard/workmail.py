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
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TextIO, cast, get_args

from ._dkim import broken_signatures
from ._parser import parse
from .edit import DEFAULT_NOTICE, SES_BLOCKED, Change, Editor
from .errors import InvalidMessageError, MimeguardError, SignedMessageError, UnknownProfileError
from .findings import Report
from .profiles import get_profile
from .validation import validate

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

Action = Literal["DEFAULT", "BOUNCE", "DROP", "BYPASS_SPAM_CHECK", "MOVE_TO_JUNK"]
#: what happens to a message whose edit failed, timed out or could not be made compliant
OnFailure = Literal["deliver", "bounce", "drop", "quarantine"]
ON_FAILURE: tuple[OnFailure, ...] = get_args(OnFailure)
#: Every action a synchronous Run Lambda rule may answer with.
ACTIONS: tuple[Action, ...] = get_args(Action)
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
Position = Literal["top", "bottom"]
OnSigned = Literal["skip", "wrap", "error"]
Transform = Callable[[bytes], bytes]
LogSink = Callable[[dict[str, Any]], None]

#: WorkMail's patterns for an S3Reference (API reference, S3Reference) and a message id.
KEY_PATTERN = re.compile(r"[a-zA-Z0-9\-/]*")
BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9\-]{2,62}")
MESSAGE_ID_PATTERN = re.compile(r"[a-z0-9\-]{1,120}")
_KEY_MAX = 1024
_UUID_LEN = 36

#: The rule must answer within 15 s (WorkMail admin guide, synchronous Run Lambda).
RULE_DEADLINE = 15.0
_CHUNK = 1 << 20
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 2.0
_MAX_ATTEMPTS = 8

# botocore's own lists (retries/standard.py), so a throttled call is recognised
# whichever service answers.
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


# -- errors ------------------------------------------------------------------------------------


class ConfigurationError(MimeguardError, RuntimeError):
    """The deployment is wrong (bucket, permissions, environment), not the message.

    Raised so that the invocation fails and shows up in the function's error
    metrics; WorkMail then retries and finally applies the rule's fallback action.
    """


class EventError(MimeguardError, ValueError):
    """The Lambda event is not a WorkMail message summary."""


# -- the recipe --------------------------------------------------------------------------------


def _env_text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value else None  # CloudFormation passes "" for an unset parameter


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _env_text(env, name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={value!r}: expected true or false")


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _env_text(env, name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: expected a number of seconds") from None


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(s for s in re.split(r"[\s,]+", value) if s)


_SEAL_FIELDS = (
    "seal_domain",
    "seal_selector",
    "seal_authserv_id",
    "seal_key_file",
    "seal_key_secret_arn",
    "seal_key_env",
)
#: sealing keys read from Secrets Manager, by ARN, for the life of the container
_SEAL_KEYS: dict[str, bytes] = {}


@dataclass(frozen=True, slots=True)
class Recipe:
    """What to do to each message: the edits (an :class:`~mimeguard.Editor` chain) and
    the rule's answer.

    ``strip`` takes filename patterns (``*.exe``), MIME types (``application/zip``)
    or ``"ses-blocked"`` for every extension Amazon SES refuses.  ``action`` is
    the answer to WorkMail; a message that is bounced or dropped is not edited.
    ``repair`` fixes what it can before editing, with the envelope sender
    filling a missing From.
    """

    disclaimer_text: str | None = None
    disclaimer_html: str | None = None
    position: Position = "bottom"
    on_signed: OnSigned = "skip"
    subject_prefix: str = ""
    subject_suffix: str = ""
    strip: tuple[str, ...] = ()
    strip_notice: str | None = DEFAULT_NOTICE
    repair: bool = True
    action: Action = "DEFAULT"
    bounce_message: str | None = None
    #: when the edit fails, times out or cannot be made compliant: ``None`` chooses
    #: ``"bounce"`` for a recipe that strips attachments (a security control fails
    #: closed) and ``"deliver"`` (unchanged) for one that only adds text
    on_failure: OnFailure | None = None

    # -- ARC sealing (RFC 8617), after editing; see mimeguard.arc_seal ------------------------
    #: signing domain (d=), selector (s=) and authserv-id of the ARC set; setting
    #: ``seal_domain`` turns sealing on and needs exactly one key source below
    seal_domain: str | None = None
    seal_selector: str | None = None
    seal_authserv_id: str | None = None
    #: the PEM private key: a file path, a Secrets Manager secret (ARN or name), or
    #: the name of an environment variable holding it
    seal_key_file: str | None = None
    seal_key_secret_arn: str | None = None
    seal_key_env: str | None = None
    #: larger edited messages are put unsealed: dkimpy canonicalizes with regexes over
    #: the whole body, 0.1 to 0.3 s per MB (docs/dkim.md), inside the Lambda's budget
    seal_max_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        self._check_seal()
        if isinstance(self.strip, str):
            object.__setattr__(self, "strip", _split_list(self.strip))
        else:
            object.__setattr__(self, "strip", tuple(self.strip))
        if self.position not in ("top", "bottom"):
            raise ValueError(f"position must be 'top' or 'bottom', not {self.position!r}")
        if self.on_signed not in ("skip", "wrap", "error"):
            raise ValueError(f"on_signed must be 'skip', 'wrap' or 'error', not {self.on_signed!r}")
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        if self.on_failure is not None and self.on_failure not in ON_FAILURE:
            raise ValueError(
                f"on_failure must be one of {', '.join(ON_FAILURE)}, not {self.on_failure!r}"
            )
        if self.bounce_message is not None and self.action != "BOUNCE":
            raise ValueError("bounce_message only goes with action='BOUNCE'")
        if self.disclaimer_text is not None and not self.disclaimer_text.strip():
            raise ValueError("disclaimer_text is empty")
        if self.disclaimer_html is not None and self.disclaimer_text is None:
            raise ValueError("disclaimer_html needs disclaimer_text (used for text/plain parts)")
        for name in ("subject_prefix", "subject_suffix"):
            if any(c in getattr(self, name) for c in "\r\n"):
                raise ValueError(f"{name} must not contain CR or LF")
        if self.strip_notice is not None:
            try:
                self.strip_notice.format(filename="", content_type="", size="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"strip_notice {self.strip_notice!r} is not a valid template "
                    f"(placeholders: {{filename}}, {{content_type}}, {{size}}): {exc!r}"
                ) from None

    @property
    def failure_policy(self) -> OnFailure:
        """What happens when the edit fails: :attr:`on_failure`, or its default."""
        if self.on_failure is not None:
            return self.on_failure
        return "bounce" if self.strip else "deliver"

    @property
    def has_edits(self) -> bool:
        """True when the recipe changes content (disclaimer, subject or attachments)."""
        return bool(
            self.disclaimer_text or self.subject_prefix or self.subject_suffix or self.strip
        )

    # -- ARC sealing ---------------------------------------------------------------------------

    @property
    def seals(self) -> bool:
        """True when the edited message gets an ARC set (:attr:`seal_domain` is set)."""
        return self.seal_domain is not None

    def _check_seal(self) -> None:
        names = ("seal_domain", "seal_selector", "seal_authserv_id")
        sources = ("seal_key_file", "seal_key_secret_arn", "seal_key_env")
        for name in (*names, *sources):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name} must be a non-empty str")
        limit = self.seal_max_bytes
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"seal_max_bytes must be a positive int, not {limit!r}")
        given = [n for n in (*names, *sources) if getattr(self, n) is not None]
        if not given:
            return
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ValueError(f"ARC sealing needs {', '.join(missing)} as well as {given[0]}")
        keys = [n for n in sources if getattr(self, n) is not None]
        if len(keys) != 1:
            raise ValueError(f"ARC sealing needs exactly one of {', '.join(sources)}")
        from .arc import check_names

        check_names(
            domain=self.seal_domain, selector=self.seal_selector, authserv_id=self.seal_authserv_id
        )

    def seal_key(self, *, secrets: Any = None, environ: Mapping[str, str] | None = None) -> bytes:
        """The sealing key's PEM, from its one source; a Secrets Manager secret is read
        once per Lambda container (``secrets`` is a boto3 client, made when needed).
        A key that is missing or not PEM is a :class:`ConfigurationError`."""
        key = self._seal_key(secrets, environ)
        if b"PRIVATE KEY-----" not in key:
            where = self.seal_key_file or self.seal_key_secret_arn or f"${self.seal_key_env}"
            raise ConfigurationError(f"the seal key from {where} is not a PEM private key")
        return key

    def _seal_key(self, secrets: Any, environ: Mapping[str, str] | None) -> bytes:
        if self.seal_key_file is not None:
            try:
                with open(self.seal_key_file, "rb") as fh:
                    return fh.read()
            except OSError as exc:
                raise ConfigurationError(f"seal_key_file {self.seal_key_file!r}: {exc}") from None
        if self.seal_key_env is not None:
            env = os.environ if environ is None else environ
            value = _env_text(env, self.seal_key_env)
            if value is None:
                raise ConfigurationError(f"seal_key_env: ${self.seal_key_env} is not set")
            return value.encode("ascii", "replace")
        arn = self.seal_key_secret_arn
        if arn is None:
            raise ConfigurationError("the recipe does not seal: no seal key source")
        cached = _SEAL_KEYS.get(arn)
        if cached is None:
            client = secrets if secrets is not None else _default_client("secretsmanager")
            try:
                got = client.get_secret_value(SecretId=arn)
            except Exception as exc:
                code = _error_code(exc) or type(exc).__name__
                raise ConfigurationError(
                    f"seal_key_secret_arn {arn}: {code}; the function's role needs "
                    "secretsmanager:GetSecretValue on it"
                ) from exc
            value = got.get("SecretString")
            cached = value.encode("ascii", "replace") if value else bytes(got["SecretBinary"])
            _SEAL_KEYS[arn] = cached
        return cached

    def seal(self, data: bytes, original: bytes, *, key: bytes) -> bytes:
        """``data`` (the edited message) with an ARC set vouching for what ``original``
        (the message as received) verified as (:func:`mimeguard.arc_seal`)."""
        from .arc import arc_seal

        assert self.seal_domain and self.seal_selector and self.seal_authserv_id
        try:
            import dkim  # noqa: F401  (the extra is part of the deployment)
        except ImportError:
            raise ConfigurationError("sealing needs pip install 'mimeguard[dkim]'") from None
        return arc_seal(
            data,
            original=original,
            domain=self.seal_domain,
            selector=self.seal_selector,
            private_key=key,
            authserv_id=self.seal_authserv_id,
        )

    def seal_edited(self, out: bytes, original: bytes, *, profile: str) -> tuple[bytes, str]:
        """``out`` sealed and validated under ``profile``, or ``out`` itself with the
        reason it was not: a seal that fails leaves the edit unsealed (the edit is the
        control, the seal a courtesy to receivers).  A missing or bad key, or no
        dkimpy, is a :class:`ConfigurationError`."""
        key = self.seal_key()
        if len(out) > self.seal_max_bytes:
            return (
                out,
                f"not sealed: {len(out):,} bytes, over seal_max_bytes ({self.seal_max_bytes:,})",
            )
        try:
            sealed = self.seal(out, original, key=key)
        except ConfigurationError:
            raise
        except MimeguardError as exc:
            return out, f"not sealed: {exc}"
        if not validate(sealed, profile=profile).ok:
            return out, "not sealed: the sealed message would not validate"
        return sealed, ""

    def editor(
        self, data: bytes, *, profile: str = "workmail", envelope_from: str | None = None
    ) -> Editor:
        """The :class:`~mimeguard.Editor` chain this recipe stands for."""
        ed = Editor(data, profile=profile, repair=self.repair, envelope_from=envelope_from)
        if self.strip:
            patterns: list[str] = []
            for p in self.strip:
                patterns.extend(SES_BLOCKED if p.lower() == "ses-blocked" else (p,))
            ed = ed.strip_attachments(match=patterns, notice=self.strip_notice)
        if self.disclaimer_text:
            ed = ed.add_disclaimer(
                text=self.disclaimer_text,
                html=self.disclaimer_html,
                position=self.position,
                on_signed=self.on_signed,
            )
        if self.subject_prefix or self.subject_suffix:
            ed = ed.rewrite_subject(prefix=self.subject_prefix, suffix=self.subject_suffix)
        return ed

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Recipe:
        """A recipe from ``MIMEGUARD_*`` variables (unset or empty ones keep the default).

        ``MIMEGUARD_DISCLAIMER_TEXT``, ``MIMEGUARD_DISCLAIMER_HTML``,
        ``MIMEGUARD_DISCLAIMER_POSITION`` (top/bottom), ``MIMEGUARD_ON_SIGNED``
        (skip/wrap/error), ``MIMEGUARD_SUBJECT_PREFIX``, ``MIMEGUARD_SUBJECT_SUFFIX``,
        ``MIMEGUARD_STRIP`` (comma-separated patterns), ``MIMEGUARD_STRIP_NOTICE``
        (``none`` for no notice), ``MIMEGUARD_REPAIR`` (true/false),
        ``MIMEGUARD_ACTION``, ``MIMEGUARD_BOUNCE_MESSAGE``, ``MIMEGUARD_ON_FAILURE``
        (deliver/bounce/drop/quarantine).  Keyword arguments
        that are not None win over the environment.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, var in (
            ("disclaimer_text", "MIMEGUARD_DISCLAIMER_TEXT"),
            ("disclaimer_html", "MIMEGUARD_DISCLAIMER_HTML"),
            ("position", "MIMEGUARD_DISCLAIMER_POSITION"),
            ("on_signed", "MIMEGUARD_ON_SIGNED"),
            ("subject_prefix", "MIMEGUARD_SUBJECT_PREFIX"),
            ("subject_suffix", "MIMEGUARD_SUBJECT_SUFFIX"),
            ("action", "MIMEGUARD_ACTION"),
            ("bounce_message", "MIMEGUARD_BOUNCE_MESSAGE"),
            ("on_failure", "MIMEGUARD_ON_FAILURE"),
        ):
            value = _env_text(env, var)
            if value is not None:
                lowered = name in ("position", "on_signed", "on_failure")
                values[name] = value.strip().lower() if lowered else value
        if "action" in values:
            values["action"] = values["action"].strip().upper()
        strip = _env_text(env, "MIMEGUARD_STRIP")
        if strip is not None:
            values["strip"] = _split_list(strip)
        notice = _env_text(env, "MIMEGUARD_STRIP_NOTICE")
        if notice is not None:
            values["strip_notice"] = None if notice.strip().lower() == "none" else notice
        values["repair"] = _env_bool(env, "MIMEGUARD_REPAIR", True)
        for name in _SEAL_FIELDS:  # MIMEGUARD_SEAL_DOMAIN, …_SEAL_KEY_SECRET_ARN, …
            value = _env_text(env, f"MIMEGUARD_{name.upper()}")
            if value is not None:
                values[name] = value.strip()
        limit = _env_text(env, "MIMEGUARD_SEAL_MAX_BYTES")
        if limit is not None:
            if not limit.strip().isdigit():
                raise ConfigurationError(f"MIMEGUARD_SEAL_MAX_BYTES={limit!r}: expected bytes")
            values["seal_max_bytes"] = int(limit)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValueError as exc:
            raise ConfigurationError(f"MIMEGUARD_* recipe variables: {exc}") from None


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


# -- logging -----------------------------------------------------------------------------------


class JsonLines:
    """The default log sink: one JSON object per line on ``stream`` (stdout by default).

    In Lambda each line becomes one CloudWatch log event, which CloudWatch Logs
    Insights reads as JSON without a parse step.  ``level`` (default from
    ``MIMEGUARD_LOG_LEVEL``, else INFO) drops quieter records.
    """

    def __init__(self, stream: TextIO | None = None, *, level: str | None = None) -> None:
        self.stream = stream
        name = (level or os.environ.get("MIMEGUARD_LOG_LEVEL") or "INFO").upper()
        if name not in _LEVELS:
            raise ConfigurationError(f"log level {name!r}: expected one of {', '.join(_LEVELS)}")
        self.level = _LEVELS[name]

    def __call__(self, record: dict[str, Any]) -> None:
        if _LEVELS.get(str(record.get("level", "INFO")), 20) < self.level:
            return
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        stream.flush()


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


_CLIENTS: dict[str, Any] = {}


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ImportError(
            "mimeguard.workmail needs boto3, which mimeguard does not install by default: "
            "pip install 'mimeguard[aws]'"
        ) from exc
    return boto3


def _default_client(service: str) -> Any:
    """A boto3 client cached per Lambda container, with botocore's retries off
    (:func:`process` retries within its own time budget) and short timeouts."""
    client = _CLIENTS.get(service)
    if client is None:
        boto3 = _boto3()
        from botocore.config import Config

        config = Config(
            connect_timeout=2,
            read_timeout=10,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        client = _CLIENTS[service] = boto3.client(service, config=config)
    return client


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Code"):
            return str(error["Code"])
    return None


def _error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Message"):
            return str(error["Message"])
    return str(exc)


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        meta = response.get("ResponseMetadata")
        if isinstance(meta, Mapping) and isinstance(meta.get("HTTPStatusCode"), int):
            return int(meta["HTTPStatusCode"])
    return None


def _transient_exceptions() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - botocore comes with boto3
        return (ConnectionError, TimeoutError)
    return (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError)


def _retryable(exc: BaseException) -> bool:
    code = _error_code(exc)
    if code is not None:
        return code in _THROTTLING_CODES or _http_status(exc) in _RETRY_STATUS
    return isinstance(exc, _transient_exceptions())


# -- the final check ---------------------------------------------------------------------------

#: Fields a repair may add when the message has none (mimeguard.edit's repair adds
#: them; WorkMail requires them).
_ADDABLE = frozenset({"from", "date"})


def final_report(out: bytes, original: bytes, profile: str = "workmail") -> Report:
    """Validate ``out`` under ``profile`` with ``original=`` the fetched message.

    The one exception to "immutable headers unchanged": a From or Date the
    original did not have at all (added by repair, because WorkMail also
    requires them) is reported as an info, not an error.
    """
    report = validate(out, profile=profile, original=original)
    hits = [f for f in report.findings if f.code == "MG501" and f.severity == "error"]
    if not hits:
        return report
    new, old = parse(out), parse(original)
    added = {
        hf.start for hf in new.headers if hf.lname in _ADDABLE and old.header(hf.lname) is None
    }
    findings = [
        replace(f, severity="info", message=f"{f.message}; allowed: the original had none")
        if f in hits and f.offset in added
        else f
        for f in report.findings
    ]
    return Report(findings, report.profile, report.size)


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


def _change_dict(c: Any) -> dict[str, str]:
    detail = str(getattr(c, "detail", ""))
    if len(detail) > 300:
        detail = detail[:300] + "…"
    return {
        "kind": str(getattr(c, "kind", "")),
        "part": str(getattr(c, "part", "")),
        "detail": detail,
    }


def _report_dict(report: Report, limit: int = 50) -> dict[str, Any]:
    out = report.to_dict()
    ordered = sorted(report.findings, key=lambda f: {"error": 0, "warning": 1}.get(f.severity, 2))
    out["findings"] = [f.to_dict() for f in ordered[:limit]]
    if len(report.findings) > limit:
        out["findingsLeftOut"] = len(report.findings) - limit
    return out


def _summary(report: Report | None) -> dict[str, Any] | None:
    if report is None:
        return None
    codes: dict[str, int] = {}
    for f in report.findings:
        codes[f.code] = codes.get(f.code, 0) + 1
    return {
        "ok": report.ok,
        "profile": report.profile,
        "errors": report.count("error"),
        "warnings": report.count("warning"),
        "infos": report.count("info"),
        "codes": codes,
    }


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
                result = recipe.editor(
                    data, profile=self.settings.profile, envelope_from=envelope_from
                ).result()
                out, self.changes = result.data, result.changes
                self.broken = result.broken_signatures
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
            started = self.clock()
            self.report = final_report(out, data, self.settings.profile)
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
