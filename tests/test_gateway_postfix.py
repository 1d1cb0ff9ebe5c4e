"""End to end through a real Postfix: smtplib → Postfix → mimeguard gateway → Postfix → sink.

The test starts its own Postfix instance (``postfix -c DIR start``) with a
private configuration, queue and data directory under a temporary folder,
listening on loopback high ports only, without DNS, relaying everything to a
local aiosmtpd sink; the content filter is the gateway (examples/gateway/ has
the same wiring for a real server).  It stops that instance at teardown and
nothing else.  Skipped where Postfix is not installed or cannot start (it
needs root to drop privileges to its ``postfix`` user).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiosmtpd")

from mimeguard import validate
from mimeguard._parser import parse
from mimeguard.gateway import GatewayConfig
from mimeguard.workmail import Recipe

from .test_gateway import (
    BROKEN,
    DISCLAIMER,
    EXE,
    PLAIN,
    TWO_FROMS,
    Log,
    Sink,
    free_port,
    running,
)

POSTFIX = shutil.which("postfix") or (
    "/usr/sbin/postfix" if os.path.exists("/usr/sbin/postfix") else None
)


def _why_not() -> str | None:
    if POSTFIX is None:
        return "Postfix is not installed (apt-get install postfix; .ci/run does it as root)"
    if os.geteuid() != 0:
        return "Postfix must be started as root (it drops privileges to its postfix user)"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "there is no postfix user (the Debian package creates it)"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mimeguard-test.localdomain
mydomain = localdomain
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:{sink}
smtp_dns_support_level = disabled
smtp_host_lookup = native
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
syslog_name = postfix-mimeguard-test
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
"""

# Only the listeners the test needs (no port 25); chroot off: the private queue
# directory is not a chroot jail.
MASTER_CF = """\
127.0.0.1:{inbound} inet n - n - - smtpd
  -o content_filter=mimeguard:[127.0.0.1]:{gateway}
127.0.0.1:{reinject} inet n - n - - smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_relay_restrictions=permit_mynetworks,reject
mimeguard unix - - n - 4 smtp
  -o smtp_data_done_timeout=180
  -o max_use=20
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, root: Path, sink: int, gateway: int, reinject: int) -> None:
        self.root = root
        self.conf = root / "conf"
        self.inbound = free_port()
        for sub in ("conf", "queue", "data"):
            (root / sub).mkdir()
        shutil.chown(root / "data", "postfix")
        (self.conf / "main.cf").write_text(MAIN_CF.format(root=root, sink=sink))
        (self.conf / "master.cf").write_text(
            MASTER_CF.format(inbound=self.inbound, gateway=gateway, reinject=reinject)
        )

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert POSTFIX is not None
        return subprocess.run(
            [POSTFIX, "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        done = self.command("start")
        if done.returncode != 0:
            self.stop()  # whatever part of this instance did start
            pytest.skip(f"Postfix did not start: {done.stderr.strip()} {self.log()[-2000:]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.inbound), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.skip(f"Postfix did not listen on 127.0.0.1:{self.inbound}: {self.log()[-2000:]}")

    def stop(self) -> None:
        self.command("stop")


@pytest.fixture(scope="module")
def chain() -> Iterator[tuple[Postfix, Sink, Log]]:
    root = Path(tempfile.mkdtemp(prefix="mimeguard-postfix-"))
    root.chmod(0o755)  # the postfix user must reach its queue below it
    log = Log()
    reinject = free_port()
    recipe = Recipe(disclaimer_text=DISCLAIMER, strip=("*.exe",))  # fails closed: bounce
    try:
        with Sink() as sink:
            config = GatewayConfig(
                listen=("127.0.0.1", 0), next_hop=("127.0.0.1", reinject), secret="postfix-test"
            )
            with running(config, recipe, log) as gateway_port:
                postfix = Postfix(root, sink.port, gateway_port, reinject)
                postfix.start()
                try:
                    yield postfix, sink, log
                finally:
                    postfix.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def send(postfix: Postfix, data: bytes, sender: str = "alice@example.com") -> None:
    import smtplib

    with smtplib.SMTP("127.0.0.1", postfix.inbound, timeout=30) as c:
        assert c.sendmail(sender, ["bob@example.org"], data) == {}


def delivered(sink: Sink, postfix: Postfix, predicate: Any, timeout: float = 60.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _, _, data in list(sink.messages):
            if predicate(data):
                return data
        time.sleep(0.1)
    raise AssertionError(f"nothing delivered in {timeout}s; Postfix log:\n{postfix.log()[-3000:]}")


def with_subject(data: bytes, subject: str) -> bytes:
    return data.replace(b"Subject: Lunch on Friday?", f"Subject: {subject}".encode()).replace(
        b"Subject: Quarterly report", f"Subject: {subject}".encode()
    )


def test_disclaimer_is_added(chain: tuple[Postfix, Sink, Log]) -> None:
    postfix, sink, _ = chain
    send(postfix, with_subject(PLAIN, "pf-disclaimer"))
    out = delivered(sink, postfix, lambda d: b"pf-disclaimer" in d)
    assert DISCLAIMER.encode() in out
    assert b"X-Mimeguard-Gateway: id=mimeguard" in out
    assert parse(out).get("message-id") == "<20261123100000.1@example.com>"
    assert validate(out, profile="rfc").ok


def test_blocked_attachment_is_gone(chain: tuple[Postfix, Sink, Log]) -> None:
    postfix, sink, _ = chain
    send(postfix, with_subject(EXE, "pf-strip"))
    out = delivered(sink, postfix, lambda d: b"pf-strip" in d)
    assert b'filename="payload.exe"\r\nContent-Transfer-Encoding: base64' not in out
    assert b"JVBERi0xLjQK" not in out  # the attachment's bytes are gone, not just relabelled
    assert DISCLAIMER.encode() in out


def test_broken_message_is_repaired(chain: tuple[Postfix, Sink, Log]) -> None:
    postfix, sink, _ = chain
    assert not validate(BROKEN, profile="rfc").ok
    marker = b"Message-ID: <pf-repair@example.com>"
    data = b"\r\n".join(
        marker if line.lower().startswith(b"message-id:") else line
        for line in BROKEN.split(b"\r\n")
    )
    send(postfix, data)
    out = delivered(sink, postfix, lambda d: marker in d)
    report = validate(out, profile="rfc")
    assert not [f for f in report.findings if f.code == "MG301"]


def test_unfixable_message_is_rejected_and_bounced(chain: tuple[Postfix, Sink, Log]) -> None:
    postfix, sink, log = chain
    send(postfix, with_subject(TWO_FROMS, "pf-reject"))
    # Postfix turns the gateway's 554 into a bounce to the envelope sender
    dsn = delivered(
        sink, postfix, lambda d: b"pf-reject" in d and b"MAILER-DAEMON" in d, timeout=60
    )
    assert b"5.7.1" in dsn
    assert not [d for _, _, d in sink.messages if b"pf-reject" in d and b"MAILER-DAEMON" not in d]
    assert any(r.get("action") == "reject" for r in log.decisions())
