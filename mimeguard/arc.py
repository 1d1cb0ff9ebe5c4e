"""ARC sealing (RFC 8617): vouch for the authentication a message had before an edit.

A disclaimer or a stripped attachment breaks the sender's DKIM body hash (see
:attr:`mimeguard.EditResult.broken_signatures`).  A gateway that verified the
message on the way in can record what it saw in an ARC set (an
ARC-Authentication-Results, an ARC-Message-Signature over the edited message and
an ARC-Seal over the chain), so a receiver that trusts the gateway's domain can
accept the original authentication.  The signing is dkimpy's (``pip install
'mimeguard[dkim]'``); this module decides what goes into the results and refuses
to vouch for results anyone else wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ._dkim import body_matches, signatures
from ._parser import parse
from .errors import InvalidMessageError, SealError
from .message import HeaderField, Message
from .validation import validate

__all__ = ["arc_seal"]

Input = bytes | bytearray | memoryview | Message
DnsFunc = Callable[..., bytes | None]

#: RFC 8601 section 2.2: authserv-id is a value (token or quoted string); we take the
#: common domain-name shape only, so it can be written without quoting.
_AUTHSERV_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-_]{0,252}[A-Za-z0-9])?")
#: RFC 6376 section 3.5: d= and s= are domain names / sub-domains (ASCII here).
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-_]{0,61}[A-Za-z0-9])?\.?)+")
_RESULTS_TEXT = re.compile(r"[\x20-\x7e\t]+")


def _dkimpy() -> Any:
    try:
        import authres  # noqa: F401  (dkimpy's ARC signing needs it)
        import dkim
    except ImportError as exc:  # pragma: no cover - the test extra installs both
        raise ModuleNotFoundError(
            "mimeguard.arc_seal needs dkimpy and authres: pip install 'mimeguard[dkim]'"
        ) from exc
    return dkim


def _as_bytes(data: Input, name: str) -> bytes:
    if isinstance(data, Message):
        return data.to_bytes()
    if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, bytearray, memoryview or Message")
    return bytes(data)


def _name(value: object, what: str, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a plain ASCII domain name")
    return value


def check_names(*, domain: object, selector: object, authserv_id: object) -> None:
    """Raise TypeError/ValueError unless the three are what :func:`arc_seal` accepts."""
    _name(domain, "domain", _DOMAIN)
    _name(selector, "selector", _DOMAIN)
    _name(authserv_id, "authserv_id", _AUTHSERV_ID)


def arc_seal(
    data: Input,
    *,
    domain: str,
    selector: str,
    private_key: bytes | str,
    authserv_id: str,
    original: Input | None = None,
    authentication_results: str | None = None,
    signed_headers: Sequence[str] | None = None,
    timestamp: int | None = None,
    dnsfunc: DnsFunc | None = None,
) -> bytes:
    """``data`` with an Authentication-Results field and the next ARC set prepended.

    The results are what this host verified: by default the DKIM signatures and the
    ARC chain of ``original`` (the message as received, before editing; ``data``
    itself when not given), looked up in DNS (or through ``dnsfunc(name)``, which
    returns the TXT record's bytes, as dkimpy's).  Pass ``authentication_results``
    (the part after ``authserv_id;``, e.g. ``"dkim=pass header.d=example.com;
    spf=pass smtp.mailfrom=example.com"``) to record a verdict reached elsewhere.
    Authentication-Results fields already in the message that claim
    ``authserv_id`` are not carried into the ARC set (RFC 8601 section 5: they
    were not written by this host).  ``private_key`` is a PEM (PKCS#1 or PKCS#8)
    RSA key; ``signed_headers`` defaults to dkimpy's list.  Raises
    :class:`~mimeguard.SealError` when dkimpy cannot seal (a bad key, an ARC
    chain past instance 50) and :class:`~mimeguard.InvalidMessageError` when the
    header block cannot be read.
    """
    buf = _as_bytes(data, "data")
    orig = buf if original is None else _as_bytes(original, "original")
    check_names(domain=domain, selector=selector, authserv_id=authserv_id)
    if isinstance(private_key, str):
        private_key = private_key.encode("ascii", "replace")
    if not isinstance(private_key, bytes):
        raise TypeError("private_key must be the PEM text of an RSA key, as bytes or str")
    if b"PRIVATE KEY-----" not in private_key:
        raise ValueError("private_key is not a PEM private key (no '-----BEGIN … PRIVATE KEY')")
    if authentication_results is not None:
        if not isinstance(authentication_results, str):
            raise TypeError("authentication_results must be a str")
        if not _RESULTS_TEXT.fullmatch(authentication_results):
            raise ValueError("authentication_results must be printable ASCII on one line")
    headers: list[bytes] | None = None
    if signed_headers is not None:
        if isinstance(signed_headers, str):
            raise TypeError("signed_headers must be a sequence of field names, not one str")
        headers = [
            _name(h, "signed header", re.compile(r"[!-9;-~]+")).encode() for h in signed_headers
        ]
        if b"from" not in (h.lower() for h in headers):
            raise ValueError("signed_headers must include From (RFC 6376 section 5.4)")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int)):
        raise TypeError("timestamp must be an int (seconds since the epoch)")
    if timestamp is not None and timestamp < 0:
        raise ValueError("timestamp must not be negative")
    dkim = _dkimpy()

    msg = parse(buf)
    if msg.separator is None or any(not f.valid for f in msg.headers):
        raise InvalidMessageError(
            "the header block cannot be sealed: a line that is not a field, or no "
            "empty line before the body",
            validate(buf),
        )
    results = authentication_results
    if results is None:
        results = _verify(dkim, orig, dnsfunc)
    # the fields we add end their lines as the message's header block does
    eol = b"\n" if buf[msg.separator[0] : msg.separator[1]] == b"\n" else b"\r\n"
    ar = f"Authentication-Results: {authserv_id};\r\n {results}\r\n".encode("ascii")
    ar = ar.replace(b"\r\n", eol)
    # dkimpy gathers every Authentication-Results claiming authserv_id into the AAR:
    # hand it the message without the ones that came from outside.
    unsealed = _without_results_of(buf, msg, authserv_id)
    kwargs: dict[str, Any] = {"include_headers": headers, "linesep": eol}
    if timestamp is not None:
        kwargs["timestamp"] = timestamp
    try:
        lines = dkim.arc_sign(
            ar + unsealed,
            selector.encode(),
            domain.encode(),
            private_key,
            authserv_id.encode(),
            **kwargs,
        )
    except dkim.DKIMException as exc:
        raise SealError(f"dkimpy could not seal the message: {exc}") from exc
    if not lines:
        raise SealError(
            "dkimpy ended the ARC chain instead of sealing it (an earlier ARC set without "
            "an arc= result in our Authentication-Results)"
        )
    return b"".join(lines) + ar + buf


def _without_results_of(buf: bytes, msg: Message, authserv_id: str) -> bytes:
    drop = [
        f for f in msg.headers if f.lname == "authentication-results" and _claims(f, authserv_id)
    ]
    if not drop:
        return buf
    pieces, pos = [], 0
    for f in drop:
        pieces.append(buf[pos : f.start])
        pos = f.end
    pieces.append(buf[pos:])
    return b"".join(pieces)


def _claims(field: HeaderField, authserv_id: str) -> bool:
    # authserv-id [CFWS authres-version] ";" (RFC 8601 section 2.2); comments dropped
    words = re.sub(r"\([^)]*\)", " ", field.value.split(";", 1)[0]).split()
    return bool(words) and words[0].strip('"').lower() == authserv_id.lower()


def _verify(dkim: Any, data: bytes, dnsfunc: DnsFunc | None) -> str:
    """RFC 8601 results for the DKIM signatures and ARC chain of ``data``."""
    options: dict[str, Any] = {} if dnsfunc is None else {"dnsfunc": dnsfunc}
    msg = parse(data)
    sigs = signatures(msg)
    # Our streaming body hash first: a signature whose bh= fails is "fail" without
    # dkimpy, whose regexes over a 20 MB body take seconds; dkimpy parses the message
    # once for all the others.
    wellformed = [s for s in sigs if not s.problems]
    held = {id(s) for s, ok in zip(wellformed, body_matches(msg, wellformed), strict=True) if ok}
    verifier: Any = None
    out: list[str] = []
    for i, sig in enumerate(sigs):
        if sig.problems:
            verdict = "permerror"
        elif id(sig) not in held:
            verdict = "fail"  # body hash did not verify
        else:
            try:
                verifier = verifier or dkim.DKIM(data)
                verdict = "pass" if verifier.verify(idx=i, **options) else "fail"
            except dkim.DKIMException:
                verdict = "fail"
            except Exception:  # DNS trouble is a temporary error (RFC 8601 section 2.7.1)
                verdict = "temperror"
        b = sig.field.raw_value
        tag = re.search(rb"(?:^|;)\s*b\s*=\s*([A-Za-z0-9+/]{1,8})", b)
        props = f" header.d={sig.domain}" if _DOMAIN.fullmatch(sig.domain) else ""
        if props and _DOMAIN.fullmatch(sig.selector):
            props += f" header.s={sig.selector}"
        if tag is not None:
            props += f" header.b={tag.group(1).decode()}"
        out.append(f"dkim={verdict}{props}")
    if not out:
        out.append("dkim=none")
    if msg.header("arc-seal") is None:
        out.append("arc=none")
    else:
        try:
            cv = dkim.arc_verify(data, **options)[0]
        except Exception:  # dkimpy reports chain problems as a result, DNS trouble raises
            cv = b"fail"
        out.append(f"arc={'pass' if cv == b'pass' else 'fail'}")
    return ";\r\n ".join(out)
