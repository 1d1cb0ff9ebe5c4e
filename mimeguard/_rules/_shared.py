"""Header values parsed once per validation and shared by the rules that read them.

From is read by two rules and To/Cc/Bcc by two others; an address list costs
more to parse than the rest of a small message's checks, so each value is
parsed once per :class:`~mimeguard._registry.Context`.
"""

from __future__ import annotations

from .._address import AddressList, parse_address_list, parse_mailbox_list
from .._registry import Context

__all__ = ["address_list", "mailbox_list"]


def address_list(ctx: Context, value: str, *, allow_empty: bool = False) -> AddressList:
    """:func:`~mimeguard._address.parse_address_list`, once per value in this validation."""
    cache = ctx._addresses
    key = (1 if allow_empty else 0, value)
    found = cache.get(key)
    if found is None:
        found = cache[key] = parse_address_list(value, allow_empty=allow_empty)
    return found


def mailbox_list(ctx: Context, value: str) -> AddressList:
    """:func:`~mimeguard._address.parse_mailbox_list`, once per value in this validation."""
    cache = ctx._addresses
    key = (2, value)
    found = cache.get(key)
    if found is None:
        found = cache[key] = parse_mailbox_list(value)
    return found
