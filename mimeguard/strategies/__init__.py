"""Hypothesis strategies that generate email, for testing any software that reads mail.

>>> from hypothesis import given
>>> from mimeguard import strategies as ms
>>> @given(ms.messages())
... def test_my_parser(data: bytes) -> None:
...     my_parser.parse(data)  # doctest: +SKIP

:func:`messages` draws valid RFC 5322 / MIME messages as bytes: single part,
multipart/mixed, alternative, related and digest, attached ``message/rfc822``,
RFC 2047 encoded-words, RFC 2231 parameters, every transfer encoding, and text
in many charsets.  "Valid" means, for the default arguments, that
:func:`mimeguard.validate` reports no error and no warning under every profile (but
for the one RFC 5322 feature a service refuses: ``gmail`` takes one From mailbox,
MG420, and one message in ten has two authors and a Sender) and that the standard
library's parser (``compat32`` and ``default`` policies) records no defect on any
part or header.  Knobs that leave that safe ground (``"8bit"`` and
``"binary"`` transfer encodings, ``"\\n"`` line endings) say so.

:func:`malformed_messages` draws a valid message, injects one or more targeted
defects and returns ``(data, expected)``: the bytes and the rule codes that
:func:`mimeguard.validate` must report for them -- a test oracle for any validator.

The building blocks (:func:`addresses`, :func:`header_fields`, :func:`content_types`,
:func:`bodies`, :func:`boundaries`, :func:`dates`) draw the pieces on their own.

The package has three modules: ``_blocks`` (the building blocks and the independent
encoders), ``_messages`` (valid messages) and ``_injectors`` (one defect injector per
rule code, registered with :func:`~mimeguard.strategies._injectors.injector`).

Every strategy shrinks towards short, readable messages: plain ASCII, one part,
``a@example.com``.  Hypothesis is needed only here (``pip install hypothesis``);
``import mimeguard`` never imports it.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401  # a clear error before the modules below need it
except ImportError as exc:  # pragma: no cover - exercised without hypothesis installed
    raise ImportError(
        "mimeguard.strategies needs Hypothesis, which is not installed: pip install hypothesis"
    ) from exc

from ._blocks import (
    DEFAULT_CHARSETS,
    DEFAULT_TRANSFER_ENCODINGS,
    MULTIPART_SUBTYPES,
    TRANSFER_ENCODINGS,
    Body,
    addresses,
    bodies,
    boundaries,
    content_types,
    dates,
    header_fields,
)
from ._injectors import DEFECTS, malformed_messages
from ._messages import messages

__all__ = [
    "DEFAULT_CHARSETS",
    "DEFAULT_TRANSFER_ENCODINGS",
    "DEFECTS",
    "MULTIPART_SUBTYPES",
    "TRANSFER_ENCODINGS",
    "Body",
    "addresses",
    "bodies",
    "boundaries",
    "content_types",
    "dates",
    "header_fields",
    "malformed_messages",
    "messages",
]
