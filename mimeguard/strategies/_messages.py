"""Valid messages: the entity tree drawn under options, and :func:`messages`."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Collection

from hypothesis import strategies as st

from .._magic import executable_kind
from ._blocks import (
    _ADDR_SPEC,
    _ATTACHMENT_TYPES,
    _BCHARS,
    _BOOL,
    _LINE_ENDINGS,
    CRLF,
    DEFAULT_CHARSETS,
    DEFAULT_TRANSFER_ENCODINGS,
    MULTIPART_SUBTYPES,
    _address_list,
    _b64,
    _check_choice,
    _codec,
    _Entity,
    _filename_params,
    _fold,
    _ints,
    _line,
    _mailbox,
    _msg_id,
    _Options,
    _options,
    _param_value,
    _pick,
    _stems,
    _unstructured_field,
    dates,
)

# -- building messages -----------------------------------------------------------------------------


class _Budget:
    def __init__(self, parts: int) -> None:
        self.left = parts

    def take(self, n: int = 1) -> None:
        self.left -= n


def _fits_7bit(data: bytes) -> bool:
    return data.isascii() and b"\x00" not in data


def _text_leaf(
    draw: st.DrawFn, opts: _Options, subtype: str = "plain", *, attachment: bool = False
) -> _Entity:
    charset = draw(_pick(opts.charsets))
    cte = draw(_pick(opts.encodings))
    seven_bit_codec = charset.lower() == "iso-2022-jp"  # 7-bit escapes: fine in a 7bit body
    ascii_only = cte == "7bit" and not seven_bit_codec
    lines = draw(_lines(charset, ascii_only))
    if subtype == "html":
        escaped = [
            ln.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for ln in lines
        ]
        lines = ["<html><body>", *(f"<p>{ln}</p>" for ln in escaped), "</body></html>"]
    final_newline = draw(_BOOL) if lines else False
    text = "\r\n".join(lines) + ("\r\n" if final_newline else "")
    payload = text.encode(_codec(charset))
    if cte in ("7bit",) and not _fits_7bit(payload):  # pragma: no cover - excluded above
        cte = "quoted-printable"
    e = _Entity(payload=payload, text=True, charset=charset, cte=cte)
    explicit = charset.lower() != "us-ascii" or subtype != "plain" or draw(_BOOL)
    e.mime = f"text/{subtype}" if explicit or attachment else ""
    if e.mime:
        e.params = [_param_value("charset", charset)]
        if subtype == "plain" and _rarely(draw, 8):
            e.params.append("format=flowed")
    keep_cte = draw(_BOOL)  # drawn whatever the encoding, so 7bit stays the simplest choice
    if cte == "7bit" and not e.mime and not keep_cte:
        e.cte = None  # 7bit is the default
    if attachment:
        stem = draw(_stems(opts))
        e.disposition = "attachment; " + "; ".join(
            _filename_params(draw, "filename", f"{stem}.txt", opts.charsets, opts.rfc2231)
        )
    elif _rarely(draw, 4):
        e.disposition = "inline"
    return e


@functools.cache
def _lines(charset: str, ascii_only: bool) -> st.SearchStrategy[list[str]]:
    return st.lists(_line(charset, ascii_only=ascii_only), max_size=6)


@functools.cache
def _ascii_lines() -> st.SearchStrategy[list[str]]:
    return st.lists(_line("us-ascii", ascii_only=True), max_size=4)


def _not_executable(data: bytes) -> bool:
    """A generated attachment must not start like an executable (MZ, ELF, Mach-O, ``#!``):
    MG332 would rightly report it under a harmless name, and the message is meant valid."""
    return executable_kind(data) is None


_DATA = st.binary(max_size=300).filter(_not_executable)


def _data_leaf(draw: st.DrawFn, opts: _Options, *, inline_id: str | None = None) -> _Entity:
    mime, ext = draw(_pick(_ATTACHMENT_TYPES))
    if inline_id is not None:
        mime, ext = draw(_pick((("image/png", "png"), ("image/jpeg", "jpg"), ("image/gif", "gif"))))
    binary_ok = [c for c in opts.encodings if c in ("base64", "quoted-printable")]
    cte = draw(_pick(tuple(binary_ok))) if binary_ok else draw(_pick(opts.encodings))
    if cte in ("base64", "quoted-printable"):
        payload = draw(_DATA)
        text = False
    else:  # only identity encodings allowed: the data are lines of ASCII
        payload = "\r\n".join(draw(_ascii_lines())).encode()
        payload = payload if _not_executable(payload) else b"." + payload
        text = True
    e = _Entity(mime=mime, payload=payload, text=text, cte=cte)
    stem = draw(_stems(opts))
    fname = f"{stem}.{ext}"
    kind = "inline" if inline_id is not None else "attachment"
    e.disposition = f"{kind}; " + "; ".join(
        _filename_params(draw, "filename", fname, opts.charsets, opts.rfc2231)
    )
    if draw(_BOOL):
        e.params = _filename_params(draw, "name", fname, opts.charsets, opts.rfc2231)
    if inline_id is not None:
        e.mime_extra.append(f"Content-ID: {inline_id}".encode("ascii"))
    return e


_EXTRA_FIELDS = st.lists(
    st.sampled_from(("X-Mailer", "X-Note", "Comments", "Organization")), max_size=2, unique=True
)
_BOUNDARY_BASE = st.text(st.sampled_from(_BCHARS), min_size=1, max_size=30)
_SMIME = st.binary(min_size=1, max_size=120)
_SIGNATURE = st.binary(min_size=1, max_size=60)
_CIPHERTEXT = st.binary(min_size=1, max_size=90)


def _root_headers(draw: st.DrawFn, opts: _Options) -> list[bytes]:
    mailbox = _mailbox(opts.charsets, opts.encoded_words, True)
    fields: list[bytes] = []
    senders = [draw(mailbox)]
    if _rarely(draw, 10):
        senders.append(draw(mailbox))
    fields.append(_fold("From", [s + "," for s in senders[:-1]] + senders[-1:]))
    if len(senders) > 1:
        fields.append(_fold("Sender", [draw(_ADDR_SPEC)]))
    to = draw(_address_list(mailbox, groups=True))
    fields.append(_fold("To", [t + "," for t in to[:-1]] + to[-1:]))
    if _rarely(draw, 4):
        cc = draw(_address_list(mailbox, groups=False))
        fields.append(_fold("Cc", [c + "," for c in cc[:-1]] + cc[-1:]))
    if _rarely(draw, 5):
        fields.append(_fold("Reply-To", [draw(mailbox)]))
    fields.append(f"Date: {draw(dates())}".encode("ascii"))
    fields.append(f"Message-ID: {draw(_msg_id())}".encode("ascii"))
    if draw(_BOOL):
        fields.append(draw(_unstructured_field("Subject", opts.charsets, opts.encoded_words)))
    if _rarely(draw, 5):
        ref = draw(_msg_id())
        fields.append(f"In-Reply-To: {ref}".encode("ascii"))
        fields.append(f"References: {ref}".encode("ascii"))
    extra = draw(_EXTRA_FIELDS)
    for name in extra:
        fields.append(draw(_unstructured_field(name, opts.charsets, opts.encoded_words)))
    fields = draw(st.permutations(fields))
    fields.append(b"MIME-Version: 1.0")
    return fields


def _new_boundary(draw: st.DrawFn, taken: set[str], content: list[bytes]) -> str:
    base = draw(_BOUNDARY_BASE)
    base = base.replace("=?", "=_")  # never an encoded-word look-alike
    if _rarely(draw, 4):  # a space inside (quoted) is allowed
        base = base[:1] + " " + base[1:] + "x"
    return _unique(base, taken, content)


def _unique(base: str, taken: set[str], content: list[bytes]) -> str:
    """``base``, or ``base`` behind a prefix no boundary in ``taken`` shares, so that it
    overlaps none of them; then numbered until no line of ``content`` starts with it."""
    if not _clashes(base, taken, content):
        return base
    prefix = _free_prefix(taken)
    for n in itertools.count():
        bnd = (prefix + base)[:60] + (f"={n}" if n else "")
        if not _clashes(bnd, taken, content):
            return bnd
    raise AssertionError("unreachable")  # pragma: no cover


def _free_prefix(taken: set[str]) -> str:
    """The shortest bchars string that is neither a prefix of a boundary in ``taken``
    nor has one as its prefix."""
    candidates = [""]
    while True:
        candidates = [c + ch for c in candidates for ch in _BCHARS]
        for c in candidates:
            if not any(t.startswith(c) or c.startswith(t) for t in taken):
                return c


def _clashes(bnd: str, taken: set[str], content: list[bytes]) -> bool:
    """``bnd`` overlaps a boundary in ``taken`` or starts a line of some ``content``."""
    for other in taken:
        if bnd.startswith(other) or other.startswith(bnd):
            return True
    dash = b"--" + bnd.encode("ascii")
    return any(c.startswith(dash) or b"\n" + dash in c for c in content)


def _finish_multipart(draw: st.DrawFn, e: _Entity) -> _Entity:
    taken: set[str] = set()
    for c in e.children:
        taken |= c.boundaries()
    pieces = [c.render() for c in e.children]
    if _rarely(draw, 4):
        e.preamble = b"This is a multi-part message in MIME format."
    if _rarely(draw, 6):
        e.epilogue = b"That was all." + CRLF
    e.boundary = _new_boundary(draw, taken, [*pieces, e.preamble, e.epilogue])
    return e


def _rarely(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False (the simpler message)."""
    return draw(_ints(1, one_in)) == one_in


def _entity(draw: st.DrawFn, opts: _Options, depth: int, budget: _Budget, root: bool) -> _Entity:
    """A body entity at ``depth`` (root 0) using at most ``budget.left`` parts."""
    budget.take()
    left = budget.left  # parts left for children
    deeper = depth < opts.max_depth
    kinds = ["text"]
    if deeper:
        need = {"mixed": 1, "related": 1, "alternative": 2, "digest": 2}
        kinds += [
            f"multipart/{s}"
            for s in opts.subtypes
            if left >= need[s]
            and (s != "digest" or (opts.attached_messages and depth + 2 <= opts.max_depth))
        ]
        if opts.signed and left >= 2:
            kinds += ["multipart/signed", "multipart/encrypted"]
    if not root:
        if opts.attachments:
            kinds += ["data", "text-attachment"]
        if opts.signed:
            kinds.append("smime")
        if opts.attached_messages and deeper and left >= 1:
            kinds.append("message")
    kind = draw(_pick(tuple(kinds)))
    if kind == "text":
        return _text_leaf(draw, opts, draw(_pick(("plain", "html"))))
    if kind == "text-attachment":
        return _text_leaf(draw, opts, "plain", attachment=True)
    if kind == "data":
        return _data_leaf(draw, opts)
    if kind == "smime":
        e = _Entity(mime="application/pkcs7-mime", cte="base64")
        e.payload = draw(_SMIME)
        e.params = ["smime-type=enveloped-data", "name=smime.p7m"]
        e.disposition = "attachment; filename=smime.p7m"
        return e
    if kind == "message":
        inner = _message_entity(draw, opts, depth + 1, budget)
        e = _Entity(mime="message/rfc822", attached=inner)
        if draw(_BOOL):
            e.cte = "7bit"
        if draw(_BOOL):
            e.disposition = "attachment; filename=forwarded.eml"
        return e
    subtype = kind.split("/")[1]
    if subtype == "related":
        return _related(draw, opts, depth, budget, counted=True)
    e = _Entity(mime=kind)
    if subtype == "alternative":
        budget.take()
        e.children.append(_text_leaf(draw, opts, "plain"))
        if (
            budget.left >= 2
            and "related" in opts.subtypes
            and depth + 2 <= opts.max_depth
            and draw(_BOOL)
        ):
            e.children.append(_related(draw, opts, depth + 1, budget))
        else:
            budget.take()
            e.children.append(_text_leaf(draw, opts, "html"))
    elif subtype == "signed":
        e.params = ['protocol="application/pgp-signature"', "micalg=pgp-sha256"]
        budget.take()  # the signature, reserved before the content is drawn
        e.children.append(_entity(draw, opts, depth + 1, budget, False))
        sig = _Entity(mime="application/pgp-signature", params=['name="signature.asc"'])
        sig.cte, sig.text = "7bit", True
        sig.payload = (
            b"-----BEGIN PGP SIGNATURE-----\r\n\r\n"
            + _b64(draw(_SIGNATURE))
            + b"-----END PGP SIGNATURE-----\r\n"
        )
        sig.disposition = 'attachment; filename="signature.asc"'
        e.children.append(sig)
    elif subtype == "encrypted":
        budget.take(2)
        e.params = ['protocol="application/pgp-encrypted"']
        control = _Entity(mime="application/pgp-encrypted", payload=b"Version: 1\r\n")
        control.cte, control.text = "7bit", True
        data = _Entity(mime="application/octet-stream", params=['name="encrypted.asc"'])
        data.cte, data.text = "7bit", True
        data.payload = (
            b"-----BEGIN PGP MESSAGE-----\r\n\r\n"
            + _b64(draw(_CIPHERTEXT))
            + b"-----END PGP MESSAGE-----\r\n"
        )
        data.disposition = 'inline; filename="encrypted.asc"'
        e.children += [control, data]
    elif subtype == "digest":
        while budget.left >= 2 and (not e.children or (len(e.children) < 3 and draw(_BOOL))):
            budget.take()
            child = _Entity(attached=_message_entity(draw, opts, depth + 2, budget))
            if draw(_BOOL):
                child.mime = "message/rfc822"
            e.children.append(child)
    else:  # mixed: a body, then attachments
        e.children.append(_entity(draw, opts, depth + 1, budget, False))
        while budget.left >= 1 and len(e.children) < 4 and draw(_BOOL):
            e.children.append(_entity(draw, opts, depth + 1, budget, False))
    return _finish_multipart(draw, e)


def _related(
    draw: st.DrawFn, opts: _Options, depth: int, budget: _Budget, counted: bool = False
) -> _Entity:
    if not counted:
        budget.take()
    e = _Entity(mime="multipart/related", params=['type="text/html"'])
    ids = [
        f"<img{i}.{draw(_ints(0, 999))}@example.com>"
        for i in range(draw(_ints(0, max(0, min(2, budget.left - 1)))))
    ]
    html = _text_leaf(draw, opts, "html")
    budget.take()
    if ids:
        refs = "".join(f'<img src="cid:{i[1:-1]}">' for i in ids)
        html.payload = html.payload.replace(b"</body>", refs.encode("ascii") + b"</body>")
    e.children.append(html)
    for cid in ids:
        e.children.append(_data_leaf(draw, opts, inline_id=cid))
        budget.take()
    return _finish_multipart(draw, e)


def _message_entity(draw: st.DrawFn, opts: _Options, depth: int, budget: _Budget) -> _Entity:
    headers = _root_headers(draw, opts)
    e = _entity(draw, opts, depth, budget, True)
    e.headers = headers + e.headers
    return e


@st.composite
def _message_tree(draw: st.DrawFn, opts: _Options) -> _Entity:
    return _message_entity(draw, opts, 0, _Budget(opts.max_parts))


@functools.cache
def _message(opts: _Options) -> st.SearchStrategy[_Entity]:
    return _message_tree(opts)


def messages(
    *,
    max_depth: int = 3,
    max_parts: int = 8,
    multipart_subtypes: Collection[str] = MULTIPART_SUBTYPES,
    attachments: bool = True,
    attached_messages: bool = True,
    charsets: Collection[str] = DEFAULT_CHARSETS,
    transfer_encodings: Collection[str] = DEFAULT_TRANSFER_ENCODINGS,
    line_endings: Collection[str] = ("\r\n",),
    signed: bool = False,
    encoded_words: bool = True,
    rfc2231: bool = True,
) -> st.SearchStrategy[bytes]:
    """Valid RFC 5322 / MIME messages as bytes.

    * ``max_depth``: deepest nesting (the root is depth 0; 0 means single-part only).
    * ``max_parts``: most parts in the tree, counting the root, multiparts and attached
      messages.
    * ``multipart_subtypes``: which of ``mixed``, ``alternative``, ``related`` and
      ``digest`` may appear (empty: single-part messages only).
    * ``attachments``: non-text parts and text attachments with file names (RFC 2231
      ``filename*`` and continuations when ``rfc2231``).
    * ``attached_messages``: ``message/rfc822`` parts (and ``multipart/digest``).
    * ``charsets``: charsets text is drawn in; each must be known to Python and to
      mimeguard and encode ASCII as itself.
    * ``transfer_encodings``: which of :data:`TRANSFER_ENCODINGS` parts may use.  The
      default leaves out ``8bit`` and ``binary``; with them, 8-bit text goes unencoded
      and messages are valid RFC 6152 / RFC 3030 mail but mimeguard notes or warns
      (MG325) or, for ``binary`` under ``workmail``, ``mailmanager`` and ``imap``, errs
      (MG317).
    * ``line_endings``: ``("\\r\\n",)`` by default.  With ``"\\n"`` some messages use bare
      LF throughout, as Unix tools store mail; the validator reports those (MG111).
    * ``signed``: also PGP/MIME ``multipart/signed`` and ``multipart/encrypted`` and an
      S/MIME ``application/pkcs7-mime`` attachment (with made-up signature data).
    * ``encoded_words``: non-ASCII in headers as RFC 2047 encoded-words; ``False`` keeps
      headers ASCII-only.
    * ``rfc2231``: non-ASCII and split file names with RFC 2231 parameters.

    Impossible arguments raise :class:`hypothesis.errors.InvalidArgument` at once.
    """
    opts = _options(
        max_depth=max_depth,
        max_parts=max_parts,
        multipart_subtypes=multipart_subtypes,
        attachments=attachments,
        attached_messages=attached_messages,
        charsets=charsets,
        transfer_encodings=transfer_encodings,
        signed=signed,
        encoded_words=encoded_words,
        rfc2231=rfc2231,
    )
    endings = _check_choice(line_endings, _LINE_ENDINGS, "line_endings")
    rendered = _message(opts).map(lambda e: e.render())
    if endings == ("\r\n",):
        return rendered
    return st.tuples(rendered, st.sampled_from(endings)).map(
        lambda pair: pair[0] if pair[1] == "\r\n" else pair[0].replace(CRLF, b"\n")
    )
