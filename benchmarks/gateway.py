"""``python -m benchmarks.gateway``: messages per second through Postfix and the gateway, and
the memory one connection and one message take.

Needs root, Postfix and aiosmtpd (as tests/test_gateway_postfix.py, whose private
Postfix instance it reuses); run from the repository root.  Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import smtplib
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mimeguard.gateway import GatewayConfig, decide
from mimeguard.workmail import Recipe
from tests.test_gateway import ATTACHMENT, PLAIN, Log, Sink, free_port, running
from tests.test_gateway_postfix import Postfix

DISCLAIMER = "CAUTION: this message came from outside the organization."


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _send_many(port: int, messages: list[bytes], connections: int) -> None:
    def one(chunk: list[bytes]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
            for data in chunk:
                c.sendmail("alice@example.com", ["bob@example.org"], data)

    chunks = [messages[i::connections] for i in range(connections)]
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, chunks))


def _wait(sink: Sink, count: int, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    if len(sink.messages) < count:
        raise SystemExit(f"only {len(sink.messages)} of {count} messages arrived")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gateway")
    parser.add_argument("-n", "--messages", type=int, default=300)
    parser.add_argument("-c", "--connections", type=int, default=4)
    args = parser.parse_args(argv)
    recipe = Recipe(disclaimer_text=DISCLAIMER, strip=("*.exe",))
    results: dict[str, Any] = {"messages": args.messages, "connections": args.connections}
    kinds = {"plain": PLAIN, "attachment": ATTACHMENT.replace(b"report-q3.pdf", b"x.exe")}

    # one message's edit: the peak Python allocation per byte of message
    big = PLAIN.replace(b"Alice\r\n", b"Alice\r\n" + (b"x" * 76 + b"\r\n") * 130_000)
    tracemalloc.start()
    decide(big, recipe)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results["edit_peak_per_message_byte"] = round(peak / len(big), 2)
    results["edit_message_bytes"] = len(big)

    root = Path(tempfile.mkdtemp(prefix="mimeguard-postfix-bench-"))
    root.chmod(0o755)
    reinject = free_port()
    try:
        with Sink() as sink:
            direct = GatewayConfig(
                listen=("127.0.0.1", 0), next_hop=("127.0.0.1", sink.port), max_connections=64
            )
            with running(direct, recipe, Log()) as gateway_port:
                # idle connections: what each one costs the gateway process
                before = _rss_kib()
                held = [smtplib.SMTP("127.0.0.1", gateway_port, timeout=10) for _ in range(50)]
                for c in held:
                    c.ehlo()
                results["rss_per_idle_connection_kib"] = round((_rss_kib() - before) / 50, 1)
                for c in held:
                    c.quit()
                for name, data in kinds.items():
                    sink.messages.clear()
                    started = time.perf_counter()
                    _send_many(gateway_port, [data] * args.messages, args.connections)
                    _wait(sink, args.messages)
                    elapsed = time.perf_counter() - started
                    results[f"gateway_only_{name}_per_s"] = round(args.messages / elapsed, 1)
            behind = GatewayConfig(listen=("127.0.0.1", 0), next_hop=("127.0.0.1", reinject))
            with running(behind, recipe, Log()) as gateway_port:
                postfix = Postfix(root, sink.port, gateway_port, reinject)
                postfix.start()
                try:
                    for name, data in kinds.items():
                        sink.messages.clear()
                        started = time.perf_counter()
                        _send_many(postfix.inbound, [data] * args.messages, args.connections)
                        _wait(sink, args.messages)
                        elapsed = time.perf_counter() - started
                        results[f"postfix_{name}_per_s"] = round(args.messages / elapsed, 1)
                finally:
                    postfix.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
