"""mimeguard.gateway: the decision (sans-IO), the SMTP server in-process, the configuration."""

from __future__ import annotations

import asyncio
import contextlib
import json
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiosmtpd")

from mimeguard import _transit, gateway
from mimeguard._parser import parse
from mimeguard.cli import main
from mimeguard.gateway import Gateway, GatewayConfig, decide, load_config
from mimeguard.workmail import ConfigurationError, Recipe

ROOT = Path(__file__).resolve().parent.parent
PLAIN = (ROOT / "examples" / "clean-plain.eml").read_bytes()
ATTACHMENT = (ROOT / "examples" / "clean-attachment.eml").read_bytes()
EXE = ATTACHMENT.replace(b"report-q3.pdf", b"payload.exe")
BROKEN = (ROOT / "examples" / "broken-missing-closing-boundary.eml").read_bytes()
TWO_FROMS = b"From: Mallory <m@example.net>\r\n" + PLAIN
DISCLAIMER = "CAUTION: this message came from outside the organization."
KEY = _transit.mark_key("test-secret")


# -- the decision ------------------------------------------------------------------------------


def test_clean_message_is_edited_marked_and_relayed() -> None:
    d = decide(PLAIN, Recipe(disclaimer_text=DISCLAIMER), key=KEY)
    assert (d.action, d.code, d.status) == ("relay", 250, "edited")
    assert d.data is not None and DISCLAIMER.encode() in d.data
    assert _transit.is_marked(d.data, gateway_id="mimeguard", key=KEY)
    again = decide(d.data, Recipe(disclaimer_text=DISCLAIMER), key=KEY)
    assert again.status == "loop" and again.data == d.data  # never a second disclaimer


def test_blocked_attachment_is_removed() -> None:
    d = decide(EXE, Recipe(strip=("*.exe",)), key=KEY)
    assert d.action == "relay" and d.data is not None
    assert b'filename="payload.exe"\r\nContent-Transfer-Encoding: base64' not in d.data
    assert any(c.kind == "removed" for c in d.applied.changes)  # type: ignore[union-attr]


def test_forged_marks_do_not_skip_the_filter() -> None:
    genuine = _transit.mark(PLAIN, gateway_id="mimeguard", key=KEY)
    line = genuine.split(b"\r\n", 1)[0] + b"\r\n"
    for forged in (
        line + EXE,
        _transit.mark(EXE, gateway_id="mimeguard", key=_transit.mark_key("other")),
        b"X-MIMEGUARD-GATEWAY: id=mimeguard; mac=" + b"0" * 32 + b"\r\n" + EXE,
    ):
        d = decide(forged, Recipe(strip=("*.exe",)), key=KEY)
        assert d.status == "edited" and d.data is not None
        assert d.data.count(b"X-Mimeguard-Gateway") == 1  # the forged mark was replaced
        assert b'filename="payload.exe"\r\nContent-Transfer-Encoding' not in d.data


def test_broken_message_is_repaired() -> None:
    d = decide(BROKEN, Recipe(disclaimer_text=DISCLAIMER), key=KEY)
    assert d.action == "relay" and d.data is not None
    assert any(c.kind == "repaired" for c in d.applied.changes)  # type: ignore[union-attr]


def test_unfixable_message_follows_the_failure_policy(tmp_path: Path) -> None:
    strip = Recipe(strip=("*.exe",))  # fails closed: bounce
    d = decide(TWO_FROMS, strip, key=KEY)
    assert (d.action, d.code) == ("reject", 554) and d.reply.startswith("5.7.1 ")
    assert "\r" not in d.reply and "\n" not in d.reply and len(d.reply) < 220
    deliver = decide(TWO_FROMS, Recipe(disclaimer_text=DISCLAIMER), key=KEY)
    assert deliver.action == "relay" and deliver.data is not None
    assert deliver.data.endswith(TWO_FROMS) and deliver.status == "unchanged-invalid"
    drop = decide(TWO_FROMS, Recipe(disclaimer_text="x", on_failure="drop"), key=KEY)
    assert (drop.action, drop.code) == ("discard", 250)
    held = Recipe(disclaimer_text="x", on_failure="quarantine")
    assert decide(TWO_FROMS, held, key=KEY).code == 451  # no quarantine configured: retry
    q = decide(TWO_FROMS, held, key=KEY, quarantine=True)
    assert (q.action, q.data) == ("quarantine", TWO_FROMS)


def test_recipe_actions() -> None:
    hostile = "no\r\n250 OK\r\nMAIL FROM:<x>"  # a reply must stay one line
    bounce = decide(PLAIN, Recipe(action="BOUNCE", bounce_message=hostile), key=KEY)
    assert bounce.code == 554 and "\r" not in bounce.reply and "\n" not in bounce.reply
    assert decide(PLAIN, Recipe(action="DROP"), key=KEY).action == "discard"


def test_internal_error_is_a_temporary_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(Recipe, "editor", boom)
    d = decide(PLAIN, Recipe(disclaimer_text=DISCLAIMER), key=KEY)
    assert (d.action, d.code) == ("tempfail", 451) and "RuntimeError" in d.detail


# -- the server --------------------------------------------------------------------------------


class Sink:
    """An SMTP server on a free loopback port that keeps what it receives."""

    def __init__(self, answer: str | None = None) -> None:
        self.answer = answer
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.received = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer:
            return self.answer
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        self.received.set()
        return "250 OK"

    def __enter__(self) -> Sink:
        from aiosmtpd.smtp import SMTP

        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(
                self.loop.create_server(
                    lambda: SMTP(self, enable_SMTPUTF8=True, loop=self.loop), "127.0.0.1", 0
                )
            )
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
            server.close()
            self.loop.run_until_complete(server.wait_closed())

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def wait(self, count: int = 1, timeout: float = 30.0) -> list[tuple[str, list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class Log(list[dict[str, Any]]):
    def __call__(self, record: dict[str, Any]) -> None:
        json.dumps(record)
        self.append(record)

    def decisions(self) -> list[dict[str, Any]]:
        return [r for r in self if r["event"] == "decision"]


@contextlib.contextmanager
def running(config: GatewayConfig, recipe: Recipe, log: Log) -> Iterator[int]:
    """The gateway on a free port in a thread of its own; yields the port."""
    gw = Gateway(config, recipe, log=log)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    bound: list[int] = []

    async def main_() -> None:
        _, port = await gw.start()
        bound.append(port)
        ready.set()
        await stop.wait()
        await gw.close()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main_()), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield bound[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(next_port: int, **changes: Any) -> GatewayConfig:
    return GatewayConfig(
        listen=("127.0.0.1", 0), next_hop=("127.0.0.1", next_port), secret="s", **changes
    )


def send(port: int, data: bytes, sender: str = "alice@example.com") -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo()
        c.mail(sender)
        c.rcpt("bob@example.org")
        code, msg = c.data(data)
        return code, msg


def test_server_relays_the_edited_message() -> None:
    log = Log()
    with (
        Sink() as sink,
        running(config(sink.port), Recipe(disclaimer_text=DISCLAIMER), log) as port,
    ):
        code, _ = send(port, PLAIN)
        assert code == 250
        ((sender, rcpts, data),) = sink.wait()
    assert sender == "alice@example.com" and rcpts == ["bob@example.org"]
    assert DISCLAIMER.encode() in data and parse(data).headers[0].name == "X-Mimeguard-Gateway"
    (d,) = log.decisions()
    assert d["status"] == "edited" and d["code"] == 250 and d["bytes"]["in"] == len(PLAIN)
    assert d["messageId"] == "<20261123100000.1@example.com>"


def test_server_rejects_what_must_be_blocked() -> None:
    log = Log()
    with Sink() as sink, running(config(sink.port), Recipe(strip=("*.exe",)), log) as port:
        code, msg = send(port, TWO_FROMS)
    assert code == 554 and msg.startswith(b"5.7.1") and not sink.messages
    assert log.decisions()[0]["action"] == "reject"


def test_null_sender_is_relayed_as_null() -> None:
    with Sink() as sink, running(config(sink.port), Recipe(subject_prefix="[x] "), Log()) as port:
        assert send(port, PLAIN, sender="<>")[0] == 250
        ((sender, _, _),) = sink.wait()
    assert sender == "<>" or sender == ""


def test_next_hop_down_is_a_temporary_failure() -> None:
    log = Log()
    with running(config(free_port()), Recipe(disclaimer_text=DISCLAIMER), log) as port:
        code, _ = send(port, PLAIN)
    assert code == 451 and "error" in log.decisions()[0]


def test_next_hop_refusal_is_passed_on() -> None:
    with (
        Sink(answer="550 5.7.1 no thanks") as sink,
        running(config(sink.port), Recipe(disclaimer_text=DISCLAIMER), Log()) as port,
    ):
        code, msg = send(port, PLAIN)
    assert code == 550 and b"no thanks" in msg


def test_timeout_is_a_temporary_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    real = gateway.decide

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(gateway, "decide", slow)
    log = Log()
    with (
        Sink() as sink,
        running(config(sink.port, timeout=0.3), Recipe(disclaimer_text=DISCLAIMER), log) as port,
    ):
        code, msg = send(port, PLAIN)
    assert code == 451 and b"4.4.2" in msg
    assert log.decisions()[0]["error"] == "timeout"


def test_size_limit_answers_552() -> None:
    big = PLAIN + b"x" * 70 + b"\r\n"
    big = big + (b"y" * 70 + b"\r\n") * 200
    with (
        Sink() as sink,
        running(
            config(sink.port, max_message_bytes=2000), Recipe(disclaimer_text=DISCLAIMER), Log()
        ) as port,
    ):
        code, _ = send(port, big)
    assert code == 552 and not sink.messages


def test_connection_limit_answers_421() -> None:
    with (
        Sink() as sink,
        running(
            config(sink.port, max_connections=2), Recipe(disclaimer_text=DISCLAIMER), Log()
        ) as port,
    ):
        held = [smtplib.SMTP("127.0.0.1", port, timeout=10) for _ in range(2)]
        try:
            with pytest.raises(smtplib.SMTPConnectError) as info:
                smtplib.SMTP("127.0.0.1", port, timeout=10)
            assert info.value.smtp_code == 421
        finally:
            for c in held:
                c.quit()
        time.sleep(0.2)  # the slots are free again
        assert send(port, PLAIN)[0] == 250


def test_quarantine_writes_the_message(tmp_path: Path) -> None:
    held = tmp_path / "held"
    recipe = Recipe(disclaimer_text=DISCLAIMER, on_failure="quarantine")
    with Sink() as sink, running(config(sink.port, quarantine_dir=held), recipe, Log()) as port:
        assert send(port, TWO_FROMS)[0] == 250
    (stored,) = held.glob("*.eml")
    assert stored.read_bytes() == TWO_FROMS and not sink.messages


# -- configuration -----------------------------------------------------------------------------


def test_load_config_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[gateway]\nlisten = "127.0.0.1:2525"\nnext-hop = "[127.0.0.1]:2526"\n'
        'max-connections = 5\nprofile = "ses"\n'
        '[gateway.recipe]\ndisclaimer-text = "Hi"\nstrip = ["*.exe", "ses-blocked"]\n',
        encoding="utf-8",
    )
    cfg, recipe = load_config(path, environ={"MIMEGUARD_SUBJECT_PREFIX": "[ext] "})
    assert cfg.listen == ("127.0.0.1", 2525) and cfg.next_hop == ("127.0.0.1", 2526)
    assert cfg.max_connections == 5 and cfg.profile == "ses"
    assert recipe.disclaimer_text == "Hi" and recipe.strip == ("*.exe", "ses-blocked")
    assert recipe.subject_prefix == "[ext] "  # the Lambdas' variables still apply
    cfg, _ = load_config(path, environ={}, max_connections=9)
    assert cfg.max_connections == 9  # flags win


def test_pyproject_gateway_table_does_not_break_check(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mimeguard]\nprofile = "rfc"\n[tool.mimeguard.gateway]\nworkers = 2\n'
        '[tool.mimeguard.gateway.recipe]\nsubject-prefix = "[gw] "\n',
        encoding="utf-8",
    )
    cfg, recipe = load_config(start=tmp_path, environ={})
    assert cfg.workers == 2 and recipe.subject_prefix == "[gw] "
    from mimeguard._config import load_config as load_check_config

    assert load_check_config(start=tmp_path).profile == "rfc"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[gateway]\nlisten = "nowhere"\n', "HOST:PORT"),
        ("[gateway]\nbogus = 1\n", "unknown key 'bogus'"),
        ("[gateway.recipe]\nbogus = 1\n", "unknown key 'bogus'"),
        ("[gateway]\nmax-connections = 0\n", "positive integer"),
        ('[gateway]\nlisten = "127.0.0.1:1"\nnext-hop = "127.0.0.1:1"\n', "mail loop"),
        ('[gateway.recipe]\non-failure = "quarantine"\ndisclaimer-text = "x"\n', "quarantine-dir"),
        ('[gateway]\nprofile = "smtp"\n', "unknown profile"),
        ("[gateway\n", "invalid TOML"),
    ],
)
def test_bad_config(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=match):
        load_config(path, environ={})


def test_cli_reports_configuration_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "g.toml"
    path.write_text('[gateway]\nlisten = "x"\n', encoding="utf-8")
    assert main(["gateway", "--config", str(path)]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_recipe_must_be_a_recipe() -> None:
    with pytest.raises(TypeError):
        Gateway(GatewayConfig(), lambda b: b)  # type: ignore[arg-type]


def test_example_configuration_loads() -> None:
    cfg, recipe = load_config(ROOT / "examples" / "gateway" / "gateway.toml", environ={})
    assert cfg.listen == ("127.0.0.1", 10025) and cfg.next_hop == ("127.0.0.1", 10026)
    assert recipe.strip == ("ses-blocked",) and recipe.failure_policy == "bounce"
    master = (ROOT / "examples" / "gateway" / "master.cf").read_text()
    assert "content_filter=mimeguard:[127.0.0.1]:10025" in master
    assert "127.0.0.1:10026 inet" in master and "-o content_filter=\n" in master


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    listen = free_port()
    path = tmp_path / "g.toml"
    with Sink() as sink:
        path.write_text(
            f'[gateway]\nlisten = "127.0.0.1:{listen}"\nnext-hop = "127.0.0.1:{sink.port}"\n'
            f'[gateway.recipe]\ndisclaimer-text = "{DISCLAIMER}"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIMEGUARD_")}
        env["PYTHONPATH"] = str(ROOT)
        proc = subprocess.Popen(
            [sys.executable, "-m", "mimeguard", "gateway", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", listen), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            assert send(listen, PLAIN)[0] == 250
            ((_, _, data),) = sink.wait()
            assert DISCLAIMER.encode() in data
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in out.decode().splitlines()]
    assert [r["event"] for r in records] == ["listening", "decision"]
    assert records[1]["status"] == "edited"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "mail.example.org"])
def test_listening_beyond_loopback_needs_an_opt_in(host: str) -> None:
    with pytest.raises(ConfigurationError, match="open relay"):
        GatewayConfig(listen=(host, 10025))
    assert GatewayConfig(listen=(host, 10025), allow_remote=True).allow_remote
    assert GatewayConfig(listen=("::1", 10025)).listen == ("::1", 10025)


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    import mimeguard

    assert main(["gateway", "--version"]) == 0
    assert capsys.readouterr().out == f"mimeguard {mimeguard.__version__}\n"
    assert main(["gateway", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: mimeguard gateway" in out and "mimeguard gateway --listen" in out
    assert main(["--help"]) == 0 and "  gateway " in capsys.readouterr().out


def test_addresses_are_checked() -> None:
    assert GatewayConfig(listen="127.0.0.1:2525").listen == ("127.0.0.1", 2525)  # type: ignore[arg-type]
    for bad in (("127.0.0.1",), ("127.0.0.1", "25"), ("127.0.0.1", 70000), 25):
        with pytest.raises(ConfigurationError, match="listen"):
            GatewayConfig(listen=bad)  # type: ignore[arg-type]
