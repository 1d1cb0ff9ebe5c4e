"""The :class:`Recipe`: what a gateway (WorkMail, SES, SMTP) does to each message.

The edits (an :class:`~mimeguard.Editor` chain), the answer, the failure policy and
ARC sealing (RFC 8617), each option checked when the recipe is made; and
:func:`final_report`, the check every gateway runs on what it is about to send.
``from mimeguard.workmail import Recipe`` keeps working.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

from ._aws import _default_client, _error_code
from ._disclaimer import OnSigned as OnSigned
from ._disclaimer import Position as Position
from ._parser import parse
from ._specs import (
    DEFAULT_NOTICE,
    Disclaimer,
    EnvKind,
    Repair,
    Spec,
    StripAttachments,
    SubjectRewrite,
    build,
    expand_presets,
    options,
)
from .edit import Editor, EditResult
from .errors import MimeguardError
from .findings import Report
from .message import Message
from .validation import Input, validate

__all__ = ["ACTIONS", "ConfigurationError", "Recipe", "final_report"]


Action = Literal["DEFAULT", "BOUNCE", "DROP", "BYPASS_SPAM_CHECK", "MOVE_TO_JUNK"]
#: what happens to a message whose edit failed, timed out or could not be made compliant
OnFailure = Literal["deliver", "bounce", "drop", "quarantine"]
ON_FAILURE: tuple[OnFailure, ...] = get_args(OnFailure)
#: Every action a synchronous Run Lambda rule may answer with.
ACTIONS: tuple[Action, ...] = get_args(Action)

#: the edits a recipe makes, in the order it makes them (repair runs first in any case)
_EDITS: tuple[type[Spec], ...] = (Repair, StripAttachments, Disclaimer, SubjectRewrite)

# -- errors ------------------------------------------------------------------------------------


class ConfigurationError(MimeguardError, RuntimeError):
    """The deployment is wrong (bucket, permissions, environment), not the message.

    Raised so that the invocation fails and shows up in the function's error
    metrics; WorkMail then retries and finally applies the rule's fallback action.
    """


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


#: how a ``MIMEGUARD_*`` variable of an edit option is read (``Option.env_kind``)
_ENV_READERS: dict[EnvKind, Callable[[str], object]] = {
    "text": lambda value: value,
    "lower": lambda value: value.strip().lower(),
    "list": _split_list,
    "optional": lambda value: None if value.strip().lower() == "none" else value,
}


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
    or ``"ses-blocked"`` for every extension Amazon SES refuses and ``"executables"``
    for executables recognised by their content (:data:`~mimeguard.EXECUTABLES`).  ``action`` is
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
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        if self.on_failure is not None and self.on_failure not in ON_FAILURE:
            raise ValueError(
                f"on_failure must be one of {', '.join(ON_FAILURE)}, not {self.on_failure!r}"
            )
        if self.bounce_message is not None and self.action != "BOUNCE":
            raise ValueError("bounce_message only goes with action='BOUNCE'")
        self._edit_specs()  # the edit options are checked by their specs

    def _given(self, spec: type[Spec]) -> dict[str, object]:
        """The options of ``spec`` this recipe sets: its fields off their default."""
        given: dict[str, object] = {}
        for name, option in options(spec):
            if option.recipe is None:
                continue
            value = getattr(self, option.recipe)
            if option.role != "switch" and value == _DEFAULTS[option.recipe]:
                continue
            given[name] = expand_presets(value) if option.presets else value
        return given

    def _edit_specs(self, envelope_from: str | None = None) -> list[Spec]:
        """The edits this recipe stands for, built from its fields in one place."""
        try:
            specs = _recipe_specs(self)
        except TypeError:  # a field of a type no option takes: unhashable, so not cached
            specs = _build_specs(self)
        if envelope_from is None:
            return list(specs)
        return [
            replace(s, envelope_from=envelope_from) if isinstance(s, Repair) else s for s in specs
        ]

    @property
    def failure_policy(self) -> OnFailure:
        """What happens when the edit fails: :attr:`on_failure`, or its default."""
        if self.on_failure is not None:
            return self.on_failure
        return "bounce" if self.strip else "deliver"

    @property
    def has_edits(self) -> bool:
        """True when the recipe changes content (disclaimer, subject or attachments)."""
        return any(not isinstance(spec, Repair) for spec in self._edit_specs())

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
        editor = Editor(data, profile=profile, envelope_from=envelope_from)
        return editor._append(*self._edit_specs(envelope_from))

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
        for spec in _EDITS:
            for _, option in options(spec):
                if option.env is None or option.recipe is None:
                    continue
                if option.env_kind == "bool":
                    default = _DEFAULTS[option.recipe]
                    assert isinstance(default, bool)
                    values[option.recipe] = _env_bool(env, option.env, default)
                elif (value := _env_text(env, option.env)) is not None:
                    values[option.recipe] = _ENV_READERS[option.env_kind](value)
        for name, var in (
            ("action", "MIMEGUARD_ACTION"),
            ("bounce_message", "MIMEGUARD_BOUNCE_MESSAGE"),
            ("on_failure", "MIMEGUARD_ON_FAILURE"),
        ):
            value = _env_text(env, var)
            if value is not None:
                values[name] = value
        if "action" in values:
            values["action"] = values["action"].strip().upper()
        if "on_failure" in values:
            values["on_failure"] = values["on_failure"].strip().lower()
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


@functools.lru_cache(maxsize=64)
def _recipe_specs(recipe: Recipe) -> tuple[Spec, ...]:
    """The specs of ``recipe``, built once per recipe (a gateway applies one recipe to
    every message, and a strip policy of SES's list compiles hundreds of patterns)."""
    return _build_specs(recipe)


def _build_specs(recipe: Recipe) -> tuple[Spec, ...]:
    specs: list[Spec] = []
    for spec in _EDITS:
        made = build(spec, recipe._given(spec), _LABELS[spec])
        if made is not None:
            specs.append(made)
    return tuple(specs)


#: each Recipe field's default, to tell the options a recipe sets
_DEFAULTS: dict[str, object] = {f.name: f.default for f in fields(Recipe)}


def _labeller(spec: type[Spec]) -> Callable[[str], str]:
    names = {name: option.recipe or name for name, option in options(spec)}
    return lambda name: names[name]


#: an edit option by its Recipe field name, so an error names the field given
_LABELS = {spec: _labeller(spec) for spec in _EDITS}


# -- the final check ---------------------------------------------------------------------------


def _edit_and_check(
    recipe: Recipe, data: bytes, *, profile: str, envelope_from: str | None
) -> tuple[EditResult, Report]:
    """Apply ``recipe`` to ``data`` and run :func:`final_report` on the result, the check
    sharing the edit's parses of both messages; raises as :meth:`Editor.result` does."""
    editor = recipe.editor(data, profile=profile, envelope_from=envelope_from)
    result = editor.result()
    before, after = editor._parses()
    return result, final_report(after, before, profile)


#: Fields a repair may add when the message has none (mimeguard.edit's repair adds
#: them; WorkMail requires them).
_ADDABLE = frozenset({"from", "date"})


def final_report(out: Input, original: Input, profile: str = "workmail") -> Report:
    """Validate ``out`` under ``profile`` with ``original=`` the fetched message (bytes,
    or the parses an :class:`~mimeguard.Editor` already made, so neither is parsed again).

    The one exception to "immutable headers unchanged": a From or Date the
    original did not have at all (added by repair, because WorkMail also
    requires them) is reported as an info, not an error.
    """
    new = out if isinstance(out, Message) else parse(out)
    old = original if isinstance(original, Message) else parse(original)
    report = validate(new, profile=profile, original=old)
    hits = [f for f in report.findings if f.code == "MG501" and f.severity == "error"]
    if not hits:
        return report
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
