"""Address and date parsing for header values: typed values plus the problems met.

The parsers the validator uses, made public.  They never raise for a bad
value: they return what they could read and a tuple of :class:`Problem`
records (rule name, message, offset into the value), so a caller can decide.
They raise ``TypeError`` / ``ValueError`` only for bad arguments.

========================================  ==========================================
standard library                          mimeguard
========================================  ==========================================
``email.utils.getaddresses([value])``     ``parse_addresses(value).mailboxes``
``email.utils.parseaddr(value)``          ``parse_addresses(value, kind="mailbox")``
``email.utils.parsedate_to_datetime(v)``  ``parse_date(v).datetime`` (no exception)
========================================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ._address import AddressList, Mailbox, parse_address_list, parse_mailbox, parse_mailbox_list
from ._date import parse_date as _parse_date
from ._problem import Problem

__all__ = ["AddressList", "Mailbox", "ParsedDate", "Problem", "parse_addresses", "parse_date"]

AddressKind = Literal["address-list", "mailbox-list", "mailbox"]
_KINDS = ("address-list", "mailbox-list", "mailbox")


def _text(value: object, what: str) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        # header bytes are UTF-8 (RFC 6532) or ASCII; nothing here may raise for them
        return bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str):
        raise TypeError(f"{what} takes a str or bytes header value, not {type(value).__name__}")
    return value


def parse_addresses(
    value: str | bytes, *, kind: AddressKind = "address-list", allow_empty: bool = False
) -> AddressList:
    """Parse a header value holding addresses (RFC 5322 section 3.4, obsolete forms 4.4).

    ``kind`` is the grammar of the field: ``"address-list"`` (To, Cc, Bcc,
    Reply-To: mailboxes and groups), ``"mailbox-list"`` (From: no groups) or
    ``"mailbox"`` (Sender: exactly one).  ``allow_empty`` accepts an empty
    list (Bcc, section 3.6.3).  Returns the mailboxes (group members
    included, each with its ``group``), the group names and the problems;
    display names are as written (encoded-words are not decoded).
    """
    text = _text(value, "parse_addresses")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))}, not {kind!r}")
    if not isinstance(allow_empty, bool):
        raise TypeError("allow_empty is a bool")
    if kind == "address-list":
        return parse_address_list(text, allow_empty=allow_empty)
    if allow_empty and not text.strip():
        return AddressList((), (), ())
    if kind == "mailbox-list":
        return parse_mailbox_list(text)
    return parse_mailbox(text)


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A ``date-time`` as read: an aware datetime (``None`` when none could be read)."""

    datetime: datetime | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """A date was read and nothing was wrong with how it was written."""
        return self.datetime is not None and not self.problems


def parse_date(value: str | bytes) -> ParsedDate:
    """Parse a Date (or Resent-Date) value: RFC 5322 section 3.3, obsolete forms 4.3.

    The datetime keeps the zone as written (``-0000``, military letters and
    unknown zone names read as UTC); a date that does not exist (31 February,
    25:00) is ``None`` with a problem saying why; a leap second reads as :59.
    """
    found, problems = _parse_date(_text(value, "parse_date"))
    return ParsedDate(found, tuple(problems))
