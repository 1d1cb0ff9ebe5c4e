"""The MTA gateway: an SMTP content filter that applies a :class:`Recipe` to mail in transit.

Postfix (or any MTA) hands each message to ``mimeguard gateway`` on a loopback
port (Postfix's ``content_filter``, an after-queue filter); the gateway edits
it and re-injects it into the MTA's second listener, then answers.  The
answer to the MTA is only ``250`` once the next hop has taken the message, so
nothing is lost (docs/gateway.md):

* the recipe's result passes the final check → relayed, ``250``;
* the message must be blocked (the failure policy is ``bounce``, or the
  recipe's action is ``BOUNCE``) → ``554 5.7.1`` with the reason, and the MTA
  bounces it to the sender;
* an internal error, a timeout, the next hop unreachable → ``451 4.3.0``, and
  the MTA keeps the message queued and retries;
* larger than ``max_message_bytes`` → ``552`` (aiosmtpd stops storing the data
  as soon as the limit is passed); more than ``max_connections`` at once →
  ``421``.

Every decision is one JSON line.  The recipe, the loop mark and the final
check are the ones the Lambdas use (``mimeguard.workmail.Recipe``,
``mimeguard._transit``).  ``decide`` is sans-IO, for tests and other MTAs.

aiosmtpd is needed (``pip install 'mimeguard[gateway]'``) and imported only by
:class:`Gateway`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import signal
import smtplib
import socket
import time
import tomllib
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ._config import find_config
from ._jsonlog import JsonLines, _change_dict, _summary
from ._parser import parse
from ._transit import Applied, apply_recipe, check_gateway_id, is_marked, mark, mark_key
from .errors import UnknownProfileError
from .profiles import get_profile
from .recipe import ConfigurationError, Recipe, _env_text

__all__ = [
    "Decision",
    "Gateway",
    "GatewayConfig",
    "decide",
    "load_config",
]

Action = Literal["relay", "reject", "discard", "quarantine", "tempfail"]
LogSink = Callable[[dict[str, Any]], None]

_ADDRESS = re.compile(r"^\[?([^\]]+?)\]?:(\d{1,5})$")
_REPLY_TEXT = re.compile(r"[^\x20-\x7e]+")
_LEVEL = {"relay": "INFO", "discard": "WARNING", "quarantine": "WARNING", "reject": "WARNING"}


def _hostport(value: str, what: str) -> tuple[str, int]:
    m = _ADDRESS.match(value.strip())
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ConfigurationError(f"{what} {value!r}: expected HOST:PORT, e.g. 127.0.0.1:10025")
    return m.group(1), int(m.group(2))


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """How the gateway listens, where it re-injects, and its limits.

    ``workers`` edit and relay at once (threads; the rest wait, each within
    ``timeout``).  ``max_message_bytes`` bounds what one connection holds;
    ``max_connections`` bounds the connections.  ``quarantine_dir`` is needed
    when the recipe's failure policy is ``quarantine``.  ``secret`` keys the
    loop mark (``MIMEGUARD_GATEWAY_SECRET``); without it the mark holds within
    one process only.
    """

    listen: tuple[str, int] = ("127.0.0.1", 10025)
    next_hop: tuple[str, int] = ("127.0.0.1", 10026)
    profile: str = "rfc"
    max_message_bytes: int = 50 * 1024 * 1024
    max_connections: int = 20
    workers: int = 4
    timeout: float = 120.0
    idle_timeout: float = 300.0
    gateway_id: str = "mimeguard"
    secret: str | None = field(default=None, repr=False)
    quarantine_dir: Path | None = None
    hostname: str | None = None
    #: the gateway has no TLS and no AUTH, and its next hop trusts it: listening beyond
    #: loopback would make an open relay, so it takes an explicit opt-in
    allow_remote: bool = False

    def __post_init__(self) -> None:
        for name in ("listen", "next_hop"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = _hostport(value, name.replace("_", "-"))
            if not (
                isinstance(value, (tuple, list))
                and len(value) == 2
                and isinstance(value[0], str)
                and isinstance(value[1], int)
                and 0 <= value[1] < 65536
            ):
                raise ConfigurationError(
                    f"{name} must be (host, port) or 'HOST:PORT', not {value!r}"
                )
            object.__setattr__(self, name, (value[0], value[1]))
        try:
            get_profile(self.profile)
        except UnknownProfileError as exc:
            raise ConfigurationError(str(exc)) from None
        try:
            check_gateway_id(self.gateway_id)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        for name in ("max_message_bytes", "max_connections", "workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, not {value!r}")
        for name in ("timeout", "idle_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        if not self.allow_remote and not _loopback(self.listen[0]):
            raise ConfigurationError(
                f"listen address {self.listen[0]!r} is not a loopback address: the gateway has "
                "no TLS or AUTH and its next hop relays for it (an open relay); set "
                "allow-remote = true only behind a firewall that admits just the MTA"
            )
        if self.listen == self.next_hop:
            raise ConfigurationError("listen and next_hop are the same address: a mail loop")
        if self.quarantine_dir is not None:
            object.__setattr__(self, "quarantine_dir", Path(self.quarantine_dir))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- configuration -----------------------------------------------------------------------------

_GATEWAY_KEYS = {
    "listen": "listen",
    "next-hop": "next_hop",
    "profile": "profile",
    "max-message-size": "max_message_bytes",
    "max-connections": "max_connections",
    "workers": "workers",
    "timeout": "timeout",
    "idle-timeout": "idle_timeout",
    "gateway-id": "gateway_id",
    "secret": "secret",
    "quarantine-dir": "quarantine_dir",
    "hostname": "hostname",
    "allow-remote": "allow_remote",
}
_RECIPE_KEYS = {f.name.replace("_", "-"): f.name for f in fields(Recipe)}


def load_config(
    path: str | Path | None = None,
    *,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> tuple[GatewayConfig, Recipe]:
    """The gateway's settings and recipe.

    From ``path`` (a TOML file with a ``[gateway]`` table, or a pyproject.toml
    with ``[tool.mimeguard.gateway]``), else from the nearest pyproject.toml's
    ``[tool.mimeguard.gateway]``; the recipe from its ``recipe`` sub-table over
    the ``MIMEGUARD_*`` variables of :meth:`Recipe.from_env`.  Keyword
    ``overrides`` (command-line flags) win over the file.
    """
    env = os.environ if environ is None else environ
    table: dict[str, Any] = {}
    where = "[tool.mimeguard.gateway]"
    if path is None:
        found = find_config((start or Path.cwd()).resolve())
        if found is not None:
            table, where = _table(found)
    else:
        table, where = _table(Path(path))
    recipe_table = table.pop("recipe", {})
    if not isinstance(recipe_table, dict):
        raise ConfigurationError(f"{where}: recipe must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = _GATEWAY_KEYS.get(key.replace("_", "-"))
        if name is None:
            raise ConfigurationError(
                f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(_GATEWAY_KEYS))}"
            )
        values[name] = value
    secret = _env_text(env, "MIMEGUARD_GATEWAY_SECRET")
    if secret is not None and "secret" not in values:
        values["secret"] = secret
    values.update({k: v for k, v in overrides.items() if v is not None})
    for name, what in (("listen", "listen"), ("next_hop", "next-hop")):
        if isinstance(values.get(name), str):
            values[name] = _hostport(values[name], what)
    recipe_values: dict[str, Any] = {}
    for key, value in recipe_table.items():
        name = _RECIPE_KEYS.get(key.replace("_", "-"))
        if name is None:
            raise ConfigurationError(
                f"{where}.recipe: unknown key {key!r}; "
                f"known keys: {', '.join(sorted(_RECIPE_KEYS))}"
            )
        recipe_values[name] = tuple(value) if isinstance(value, list) else value
    recipe = Recipe.from_env(env, **recipe_values)
    try:
        config = GatewayConfig(**values)
    except TypeError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None
    if recipe.failure_policy == "quarantine" and config.quarantine_dir is None:
        raise ConfigurationError(
            f"{where}: the recipe's failure policy is quarantine: set quarantine-dir"
        )
    return config, recipe


def _table(path: Path) -> tuple[dict[str, Any], str]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: invalid TOML: {exc}") from None
    tool = data.get("tool", {})
    if isinstance(tool, dict) and isinstance(tool.get("mimeguard"), dict):
        table = tool["mimeguard"].get("gateway", {})
        where = f"{path}: [tool.mimeguard.gateway]"
    else:
        table = data.get("gateway", {})
        where = f"{path}: [gateway]"
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where} must be a table")
    return dict(table), where


# -- the decision ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one message and what to answer the MTA.

    ``action`` ``relay`` sends ``data`` to the next hop (then ``code``/``reply``);
    ``reject`` answers a permanent failure; ``discard`` and ``quarantine``
    accept without relaying; ``tempfail`` answers ``451`` so the MTA retries.
    """

    action: Action
    code: int
    reply: str
    status: str
    data: bytes | None = None
    applied: Applied | None = None
    detail: str = ""


def _reply_text(text: str, limit: int = 200) -> str:
    """One line of printable ASCII: the reason goes into an SMTP reply (RFC 5321 4.2)."""
    text = _REPLY_TEXT.sub(" ", text).strip()
    return text[:limit] or "rejected"


def decide(
    data: bytes,
    recipe: Recipe,
    *,
    profile: str = "rfc",
    mail_from: str | None = None,
    gateway_id: str = "mimeguard",
    key: bytes | None = None,
    quarantine: bool = False,
) -> Decision:
    """The gateway's decision for ``data`` (sans-IO: no socket, no file).

    ``quarantine`` says whether a quarantine is configured; without one a
    quarantine policy answers ``451`` (the message waits in the MTA's queue).
    """
    key = key if key is not None else mark_key(None)
    if is_marked(data, gateway_id=gateway_id, key=key):
        return Decision("relay", 250, "2.0.0 Ok: already filtered", "loop", data)
    if recipe.action == "BOUNCE":
        text = _reply_text(recipe.bounce_message or "message refused by policy")
        return Decision("reject", 554, f"5.7.1 {text}", "blocked", detail="recipe action BOUNCE")
    if recipe.action == "DROP":
        return Decision(
            "discard", 250, "2.0.0 Ok: discarded", "dropped", detail="recipe action DROP"
        )
    applied = apply_recipe(data, recipe, profile=profile, envelope_from=mail_from)
    if applied.acceptable:
        out = mark(applied.data, gateway_id=gateway_id, key=key)
        return Decision("relay", 250, f"2.0.0 Ok: {applied.result}", applied.result, out, applied)
    if applied.result == "failed":
        return Decision(
            "tempfail",
            451,
            "4.3.0 Internal error; try again later",
            "failed",
            None,
            applied,
            applied.detail,
        )
    policy = recipe.failure_policy
    reason = applied.detail
    if applied.report is not None:
        codes = sorted({f.code for f in applied.report.findings if f.severity == "error"})
        if codes:
            reason = f"{reason} ({', '.join(codes[:8])})"
    if policy == "deliver":
        out = mark(data, gateway_id=gateway_id, key=key)
        return Decision(
            "relay", 250, "2.0.0 Ok: delivered unchanged", "unchanged-invalid", out, applied, reason
        )
    if policy == "drop":
        return Decision("discard", 250, "2.0.0 Ok: discarded", "dropped", None, applied, reason)
    if policy == "quarantine":
        if not quarantine:
            return Decision(
                "tempfail", 451, "4.3.0 Quarantine unavailable", "failed", None, applied, reason
            )
        return Decision(
            "quarantine", 250, "2.0.0 Ok: quarantined", "quarantined", data, applied, reason
        )
    return Decision(
        "reject", 554, f"5.7.1 {_reply_text(reason)}", "rejected", None, applied, reason
    )


# -- the server --------------------------------------------------------------------------------


class _RelayRejectedError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


def relay(
    data: bytes,
    mail_from: str,
    recipients: Sequence[str],
    next_hop: tuple[str, int],
    *,
    options: Sequence[str] = (),
    timeout: float = 60.0,
) -> None:
    """Send ``data`` to the next hop; raise :class:`_RelayRejectedError` on a 5xx.

    A recipient the next hop refuses while others are taken raises a 4xx-style
    error: the MTA then retries all of them (a duplicate beats a lost message).
    """
    with smtplib.SMTP(next_hop[0], next_hop[1], timeout=timeout) as conn:
        conn.ehlo()
        wanted = [o for o in options if o.split("=")[0].upper() in ("SMTPUTF8", "BODY")]
        mail_options = [
            o
            for o in wanted
            if conn.has_extn("smtputf8" if o.upper() == "SMTPUTF8" else "8bitmime")
        ]
        try:
            refused = conn.sendmail(mail_from, list(recipients), data, mail_options=mail_options)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            if all(500 <= c < 600 for c in codes):
                first = next(iter(exc.recipients.values()))
                raise _RelayRejectedError(first[0], first[1].decode(errors="replace")) from exc
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600:
                error = exc.smtp_error
                text = error.decode(errors="replace") if isinstance(error, bytes) else error
                raise _RelayRejectedError(exc.smtp_code, text) from exc
            raise
        if refused:
            raise smtplib.SMTPResponseException(451, b"some recipients refused by the next hop")


class Gateway:
    """The SMTP content filter (aiosmtpd), serving until :meth:`close`."""

    def __init__(
        self, config: GatewayConfig, recipe: Recipe, *, log: LogSink | None = None
    ) -> None:
        if not isinstance(recipe, Recipe):
            raise TypeError(f"recipe must be a mimeguard.workmail.Recipe, not {recipe!r}")
        self.config = config
        self.recipe = recipe
        self.log = log if log is not None else JsonLines()
        self.key = mark_key(config.secret)
        self.active = 0
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="mimeguard")
        self.server: asyncio.AbstractServer | None = None
        self.hostname = config.hostname or socket.getfqdn()

    # -- lifecycle

    async def start(self) -> tuple[str, int]:
        """Listen; return the bound address (port 0 picks a free one)."""
        from aiosmtpd.smtp import SMTP

        gateway = self

        class _SMTP(SMTP):
            # Postfix breaks lines at 998 anyway; a longer line from another MTA is
            # repaired by the recipe, not refused by the listener
            line_length_limit = 1 << 20

            def connection_lost(self, error: Exception | None) -> None:
                gateway.active -= 1
                super().connection_lost(error)

        class _Busy(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                assert isinstance(transport, asyncio.WriteTransport)
                transport.write(b"421 4.7.0 Too many connections; try again later\r\n")
                transport.close()

        loop = asyncio.get_running_loop()

        def factory() -> asyncio.BaseProtocol:
            if gateway.active >= gateway.config.max_connections:
                gateway.emit("WARNING", "busy", {"active": gateway.active})
                return _Busy()
            gateway.active += 1
            return _SMTP(
                _Handler(gateway),
                data_size_limit=gateway.config.max_message_bytes,
                enable_SMTPUTF8=True,
                decode_data=False,
                hostname=gateway.hostname,
                ident="mimeguard gateway",
                timeout=gateway.config.idle_timeout,
                loop=loop,
            )

        host, port = self.config.listen
        self.server = await loop.create_server(factory, host=host, port=port, reuse_address=True)
        bound = self.server.sockets[0].getsockname()
        self.emit(
            "INFO",
            "listening",
            {"listen": f"{bound[0]}:{bound[1]}", "nextHop": "{}:{}".format(*self.config.next_hop)},
        )
        return bound[0], bound[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def serve(self, *, stop: asyncio.Event | None = None) -> None:
        """Serve until SIGTERM/SIGINT (or ``stop`` is set)."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        if self.server is None:
            await self.start()
        try:
            await stop.wait()
        finally:
            await self.close()

    # -- logging

    def emit(self, level: str, what: str, fields: dict[str, Any]) -> None:
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "logger": "mimeguard.gateway",
            "event": what,
        }
        record.update(fields)
        self.log(record)

    # -- one message

    async def handle(
        self, data: bytes, mail_from: str, rcpt_tos: list[str], options: list[str], peer: Any
    ) -> str:
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        cfg = self.config
        decision: Decision | None = None
        code, reply = 451, "4.3.0 Internal error; try again later"
        error: str | None = None
        deadline = started + cfg.timeout
        try:
            decision = await asyncio.wait_for(
                loop.run_in_executor(
                    self.pool,
                    lambda: decide(
                        data,
                        self.recipe,
                        profile=cfg.profile,
                        mail_from=mail_from,
                        gateway_id=cfg.gateway_id,
                        key=self.key,
                        quarantine=cfg.quarantine_dir is not None,
                    ),
                ),
                timeout=cfg.timeout,
            )
            code, reply = decision.code, decision.reply
            if decision.action == "relay":
                assert decision.data is not None
                out = decision.data
                remaining = max(1.0, deadline - time.monotonic())
                await asyncio.wait_for(
                    loop.run_in_executor(
                        self.pool,
                        lambda: relay(
                            out,
                            mail_from,
                            rcpt_tos,
                            cfg.next_hop,
                            options=options,
                            timeout=remaining,
                        ),
                    ),
                    timeout=remaining,
                )
            elif decision.action == "quarantine":
                assert decision.data is not None and cfg.quarantine_dir is not None
                held = decision.data
                folder = cfg.quarantine_dir
                error = "quarantined to " + str(
                    await loop.run_in_executor(self.pool, lambda: _quarantine(folder, held))
                )
        except TimeoutError:
            code, reply, error = 451, "4.4.2 Timeout while filtering; try again later", "timeout"
        except _RelayRejectedError as exc:
            code, reply = exc.code, f"5.0.0 Next hop refused: {_reply_text(exc.text)}"
            error = str(exc)
        except Exception as exc:  # the next hop is down, the disk is full, a bug: retry
            code, reply = 451, "4.3.0 Temporary failure; try again later"
            error = f"{type(exc).__name__}: {exc}"
        self.record(decision, code, reply, error, data, mail_from, rcpt_tos, peer, started)
        return f"{code} {reply}"

    def record(
        self,
        decision: Decision | None,
        code: int,
        reply: str,
        error: str | None,
        data: bytes,
        mail_from: str,
        rcpt_tos: list[str],
        peer: Any,
        started: float,
    ) -> None:
        applied = decision.applied if decision else None
        out = decision.data if decision and decision.action == "relay" else None
        fields: dict[str, Any] = {
            "status": decision.status if decision else "failed",
            "action": decision.action if decision else "tempfail",
            "code": code,
            "reply": reply,
            "detail": decision.detail if decision else "",
            "peer": f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else None,
            "mailFrom": mail_from,
            "recipients": len(rcpt_tos),
            "messageId": _message_id(data),
            "bytes": {"in": len(data), "out": len(out) if out is not None else None},
            "findings": _summary(applied.report) if applied else None,
            "edits": [_change_dict(c) for c in applied.changes] if applied else [],
            "brokenSignatures": list(applied.broken_signatures) if applied else [],
            "ms": round((time.monotonic() - started) * 1000.0, 1),
        }
        if applied and applied.sealed is not None:
            fields.update(sealed=applied.sealed, sealNote=applied.seal_note)
        if error:
            fields["error"] = error
        if applied and applied.traceback:
            fields["traceback"] = applied.traceback
        level = "ERROR" if code >= 400 and code < 500 else _LEVEL.get(fields["action"], "INFO")
        self.emit(level, "decision", fields)


def _message_id(data: bytes) -> str | None:
    try:
        return parse(data).get("message-id")
    except Exception:  # logging must not turn a decision into an error
        return None


def _quarantine(folder: Path, data: bytes) -> Path:
    """Write ``data`` to ``folder`` atomically (a temporary name, fsync, rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4()}.eml"
    tmp = folder / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    final = folder / name
    os.replace(tmp, final)
    return final


class _Handler:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data = envelope.original_content or b""
        if isinstance(data, str):  # pragma: no cover - decode_data is off
            data = data.encode("utf-8", "surrogateescape")
        return await self.gateway.handle(
            bytes(data),
            envelope.mail_from or "",
            list(envelope.rcpt_tos),
            list(envelope.mail_options),
            getattr(session, "peer", None),
        )


def with_overrides(config: GatewayConfig, **changes: Any) -> GatewayConfig:
    """``config`` with the fields in ``changes`` that are not None replaced."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})
