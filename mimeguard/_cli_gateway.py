"""``mimeguard gateway``: run the SMTP content filter (mimeguard/gateway.py; docs/gateway.md)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from . import __version__

__all__ = ["add_parser", "cmd_gateway"]

_EPILOG = """\
examples:
  mimeguard gateway --listen 127.0.0.1:10025 --next-hop 127.0.0.1:10026
  mimeguard gateway --config /etc/mimeguard/gateway.toml

The recipe comes from the [gateway.recipe] table of --config (or
[tool.mimeguard.gateway.recipe] in pyproject.toml) over the MIMEGUARD_*
variables of the WorkMail and SES Lambdas. Postfix wiring: examples/gateway/.
Exit status: 0 after SIGTERM or SIGINT, 2 for a configuration error.
"""


def add_parser(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Add the ``gateway`` command to the ``sub`` parsers of ``mimeguard``."""
    p = sub.add_parser(
        "gateway",
        help="run the SMTP content filter for Postfix or another MTA",
        description="Receive mail on one loopback port, apply the recipe, re-inject it into "
        "the next hop; 4xx on any internal error so the MTA retries.",
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    p.add_argument("--config", metavar="FILE", help="a TOML file with a [gateway] table")
    p.add_argument("--listen", metavar="HOST:PORT", help="where to listen (127.0.0.1:10025)")
    p.add_argument("--next-hop", metavar="HOST:PORT", help="where to re-inject (127.0.0.1:10026)")
    p.add_argument("--profile", help="validation profile of the final check (rfc)")
    p.add_argument("--max-connections", metavar="N", type=int, help="at once (20)")
    p.add_argument("--max-message-size", metavar="BYTES", type=int, help="552 above (50 MiB)")
    p.add_argument("--workers", metavar="N", type=int, help="messages edited at once (4)")
    p.add_argument("--timeout", metavar="SECONDS", type=float, help="per message, 451 after (120)")
    p.add_argument("--quarantine-dir", metavar="DIR", help="for the quarantine failure policy")
    p.add_argument("--version", action="version", version=f"mimeguard {__version__}")
    p.set_defaults(func=cmd_gateway)


def cmd_gateway(args: argparse.Namespace, streams: Any) -> int:
    from .gateway import Gateway, load_config
    from .recipe import ConfigurationError

    try:
        config, recipe = load_config(
            args.config,
            listen=args.listen,
            next_hop=args.next_hop,
            profile=args.profile,
            max_connections=args.max_connections,
            max_message_bytes=args.max_message_size,
            workers=args.workers,
            timeout=args.timeout,
            quarantine_dir=Path(args.quarantine_dir) if args.quarantine_dir else None,
        )
        gateway = Gateway(config, recipe)
    except ConfigurationError as exc:
        streams.error(str(exc))
        return 2
    try:
        asyncio.run(gateway.serve())
    except OSError as exc:  # the port is taken, the address is not local
        streams.error(f"cannot listen on {config.listen[0]}:{config.listen[1]}: {exc}")
        return 2
    return 0
