"""Defect injectors, registered by rule code, and :func:`malformed_messages`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ..profiles import PROFILES
from ..rules import RULES
from ._blocks import (
    _BOOL,
    CRLF,
    DEFAULT_CHARSETS,
    DEFAULT_TRANSFER_ENCODINGS,
    MULTIPART_SUBTYPES,
    _check_int,
    _Entity,
    _fail,
    _fold,
    _ints,
    _Options,
    _options,
    _pick,
)
from ._messages import _message, _unique

# -- malformed messages ----------------------------------------------------------------------------


Inject = Callable[["_Injection"], None]


@dataclass(frozen=True)
class _Defect:
    code: str
    summary: str
    phase: int
    apply: Inject


#: rule code -> its injector, filled by :func:`injector`
_INJECTORS: dict[str, _Defect] = {}


def injector(code: str, summary: str, *, phase: int) -> Callable[[Inject], Inject]:
    """Register the decorated function as the injector of rule ``code``.

    ``phase`` orders injections in one message: structure first (0), then parts (1),
    header fields (2), lines (3) and line endings (4).
    """
    if code not in RULES:
        raise ValueError(f"injector for {code}: no such rule")
    if RULES[code].no_injector is not None:
        raise ValueError(f"injector for {code}: the rule says it has none")

    def register(apply: Inject) -> Inject:
        if code in _INJECTORS:
            raise RuntimeError(f"two injectors for {code}")
        _INJECTORS[code] = _Defect(code, summary, phase, apply)
        return apply

    return register


class _Injection:
    """One defect injection pass over a drawn message tree."""

    def __init__(self, draw: st.DrawFn, root: _Entity, opts: _Options) -> None:
        self.draw = draw
        self.root = root
        self.opts = opts
        self.claimed: set[int] = set()
        self.sealed: set[int] = set()
        self.line_endings: str | None = None  # "lf" (MG111) or "mixed" (MG113)

    # -- the tree ---------------------------------------------------------------------------

    def chains(self) -> list[tuple[_Entity, list[_Entity]]]:
        """Every entity with its ancestors, root first."""
        out: list[tuple[_Entity, list[_Entity]]] = []

        def visit(e: _Entity, above: list[_Entity]) -> None:
            out.append((e, above))
            for c in e.children:
                visit(c, [*above, e])
            if e.attached is not None:
                visit(e.attached, [*above, e])

        visit(self.root, [])
        return out

    def free(self, e: _Entity, above: list[_Entity], subtree: bool) -> bool:
        if id(e) in self.claimed or any(id(a) in self.sealed for a in [*above, e]):
            return False
        if subtree:
            return not any(id(d) in self.claimed or id(d) in self.sealed for d in e.walk())
        return True

    def pick(self, pred: Callable[[_Entity], bool], *, subtree: bool = False) -> _Entity | None:
        found = [e for e, above in self.chains() if pred(e) and self.free(e, above, subtree)]
        if not found:
            return None
        return self.draw(st.sampled_from(found))

    def claim(self, e: _Entity, *, subtree: bool = False) -> _Entity:
        (self.sealed if subtree else self.claimed).add(id(e))
        return e

    def host(self, *, top: bool = False) -> _Entity:
        """A multipart/mixed that new parts can be appended to (the root is wrapped in
        one when there is none free); with ``top``, one of the message itself, not of a
        message attached to it."""
        inside = {id(d) for e, _ in self.chains() if e.attached is not None for d in e.walk()}
        found = self.pick(
            lambda e: (
                e.mime == "multipart/mixed"
                and e.close
                and bool(e.children)
                and not (top and id(e) in inside)
            )
        )
        if found is not None:
            return found
        old = self.root
        new = _Entity(mime="multipart/mixed")
        new.headers, old.headers = old.headers, []
        new.lead, old.lead = old.lead, []
        new.tail, old.tail = old.tail, []
        if not old.mime and old.attached is None:  # keep the type explicit once it moves
            old.mime, old.params = "text/plain", ["charset=us-ascii"]
        new.children = [old]
        new.boundary = self.fresh_boundary("wrap")
        self.root = new
        return new

    def fresh_boundary(self, base: str) -> str:
        return _unique(f"=_{base}", self.root.boundaries(), [self.root.render()])

    def append(self, e: _Entity) -> _Entity:
        self.host().children.append(e)
        return e

    def new_leaf(self, kind: str) -> _Entity:
        if kind == "base64":
            e = _Entity(mime="application/octet-stream", cte="base64", payload=b"hello, world")
            e.disposition = "attachment; filename=data.bin"
        elif kind == "qp":
            e = _Entity(mime="text/plain", params=["charset=utf-8"], cte="quoted-printable")
            e.payload, e.text, e.charset = "Grüße\r\n".encode(), True, "utf-8"
        else:
            e = _Entity(mime="text/plain", params=["charset=us-ascii"], cte="7bit")
            e.payload, e.text, e.charset = b"Hello.\r\n", True, "us-ascii"
        return self.append(e)

    def new_multipart(self) -> _Entity:
        leaf = _Entity(
            mime="text/plain",
            params=["charset=us-ascii"],
            cte="7bit",
            payload=b"Inside.\r\n",
            text=True,
        )
        e = _Entity(mime="multipart/mixed", children=[leaf])
        host = self.host()
        e.boundary = self.fresh_boundary("inner")
        host.children.append(e)
        return e

    def leaf(self, pred: Callable[[_Entity], bool], kind: str) -> _Entity:
        """A free leaf matching ``pred``, else a new one of ``kind``; claimed."""
        found = self.pick(lambda e: e.is_leaf and pred(e))
        return self.claim(found if found is not None else self.new_leaf(kind))

    def multipart(self, *, subtree: bool = False, retype: bool = False) -> _Entity:
        """A free multipart with parts and its close delimiter, else a new one; claimed.
        ``retype``: its subtype will change, so not a digest (whose parts are
        message/rfc822 only by default)."""
        found = self.pick(
            lambda e: (
                e.is_multipart
                and bool(e.children)
                and e.close
                and not (retype and e.mime == "multipart/digest")
            ),
            subtree=subtree,
        )
        return self.claim(found if found is not None else self.new_multipart(), subtree=subtree)

    # -- header helpers -----------------------------------------------------------------------

    def fields(self, name: str) -> list[int]:
        prefix = name.lower().encode("ascii") + b":"
        return [i for i, h in enumerate(self.root.headers) if h.lower().startswith(prefix)]

    def drop(self, name: str) -> None:
        for i in reversed(self.fields(name)):
            del self.root.headers[i]

    def replace(self, name: str, line: bytes) -> None:
        at = self.fields(name)
        if at:
            self.root.headers[at[0]] = line
        else:
            self.root.headers.append(line)

    def choice(self, options: tuple[Any, ...]) -> Any:
        return self.draw(_pick(options))


def _is_text(e: _Entity) -> bool:
    return e.text and e.charset is not None


def _d_header_line(line: bytes, *, anywhere: bool = True) -> Callable[[_Injection], None]:
    """Add a raw header line to the root, or to a free part's header block."""

    def apply(inj: _Injection) -> None:
        target = inj.root
        if anywhere and inj.draw(_BOOL):
            found = inj.pick(lambda e: e is not inj.root and e.mime != "")
            if found is not None:
                target = inj.claim(found)
        target.headers.append(line)

    return apply


@injector("MG101", "a line that is not a field ends the root header block", phase=3)
def _mg101(inj: _Injection) -> None:
    inj.root.tail.append(b"This line is not a header")


@injector("MG102", "a line without colon between two header fields", phase=3)
def _mg102(inj: _Injection) -> None:
    headers = inj.root.headers
    regular = [i for i, h in enumerate(headers) if i >= 1 and re.match(rb"[!-9;-~]+:", h)]
    if not regular:
        headers.append(b"X-Filler: 1")
        headers.append(b"X-Filler: 2")
        regular = [len(headers) - 1]
    at = inj.draw(st.sampled_from(regular))
    headers.insert(at, b"This is not a header")


@injector("MG106", "the message starts with a continuation line", phase=3)
def _mg106(inj: _Injection) -> None:
    inj.root.lead.insert(0, b" folded")


@injector("MG107", "the message starts with an mbox 'From ' line", phase=3)
def _mg107(inj: _Injection) -> None:
    inj.root.lead.insert(0, b"From alice@example.com Mon Nov 23 10:00:00 2026")


@injector("MG110", "a header or body line over 998 octets", phase=3)
def _mg110(inj: _Injection) -> None:
    if inj.draw(_BOOL):
        inj.root.headers.append(b"X-Long: " + b"x" * inj.draw(_ints(999, 1200)))
    else:
        inj.leaf(lambda e: True, "text").body_lead += b"x" * inj.draw(_ints(999, 1200)) + CRLF


@injector("MG111", "every CRLF becomes a bare LF", phase=4)
def _mg111(inj: _Injection) -> None:
    inj.line_endings = "lf"


@injector("MG112", "a bare CR in a body", phase=3)
def _mg112(inj: _Injection) -> None:
    inj.leaf(lambda e: True, "text").body_lead += b"one\rtwo" + CRLF


@injector("MG113", "one CRLF becomes a bare LF", phase=4)
def _mg113(inj: _Injection) -> None:
    inj.line_endings = "mixed"


@injector("MG114", "a NUL byte in a body", phase=3)
def _mg114(inj: _Injection) -> None:
    inj.leaf(lambda e: True, "text").body_lead += b"before\x00after" + CRLF


@injector("MG116", "a malformed encoded-word in Subject", phase=2)
def _mg116(inj: _Injection) -> None:
    bad = inj.choice(
        (
            b"=?utf-8?B?not*base64?=",
            b"=?x-no-such-charset?Q?abc?=",
            b"=?utf-8?Q?caf=E?=",
            b"Hello=?utf-8?Q?glued?=",
            b"=?utf-8?Q?" + b"a" * 70 + b"?=",
        )
    )
    inj.replace("Subject", b"Subject: " + bad)


@injector("MG201", "From removed", phase=2)
def _mg201(inj: _Injection) -> None:
    inj.drop("From")


@injector("MG202", "Date removed", phase=2)
def _mg202(inj: _Injection) -> None:
    inj.drop("Date")


@injector("MG203", "a second Subject", phase=2)
def _mg203(inj: _Injection) -> None:
    if not inj.fields("Subject"):
        inj.root.headers.append(b"Subject: Quarterly report")
    inj.root.headers.append(
        inj.choice((b"Subject: Quarterly report, again", b"Subject: Quarterly report"))
    )


@injector("MG204", "an SES once-only field twice (List-Id, Organization, …)", phase=2)
def _mg204(inj: _Injection) -> None:
    name = inj.choice((b"List-Id", b"Organization", b"Importance", b"Keywords"))
    inj.root.headers += [name + b": first", name + b": second"]


@injector("MG205", "From that is not a mailbox list", phase=2)
def _mg205(inj: _Injection) -> None:
    inj.replace(
        "From", inj.choice((b"From: Alice <alice.example.com", b"From: @example.com", b"From: <>"))
    )


@injector("MG206", "Reply-To that is not an address", phase=2)
def _mg206(inj: _Injection) -> None:
    inj.replace(
        "Reply-To", inj.choice((b"Reply-To: bob@@example.org", b"Reply-To: <bob@example.org"))
    )


@injector("MG207", "Date that is not an RFC 5322 date-time", phase=2)
def _mg207(inj: _Injection) -> None:
    inj.replace(
        "Date",
        inj.choice(
            (
                b"Date: yesterday at noon",
                b"Date: 2026-11-23T10:00:00Z",
                b"Date: Mon, 32 Nov 2026 10:00:00 +0000",
            )
        ),
    )


@injector("MG208", "Message-ID that is not a msg-id", phase=2)
def _mg208(inj: _Injection) -> None:
    inj.replace("Message-ID", inj.choice((b"Message-ID: not-an-id", b"Message-ID: <no-at-sign>")))


@injector("MG209", "MIME-Version removed", phase=2)
def _mg209(inj: _Injection) -> None:
    inj.drop("MIME-Version")
    if not inj.root.mime:
        inj.root.mime, inj.root.params = "text/plain", ["charset=us-ascii"]


@injector("MG210", "From with two mailboxes and no Sender", phase=2)
def _mg210(inj: _Injection) -> None:
    inj.drop("Sender")
    inj.replace("From", b"From: alice@example.com, carol@example.org")


@injector("MG420", "From with two mailboxes and a Sender", phase=2)
def _mg420(inj: _Injection) -> None:
    inj.replace("From", b"From: alice@example.com, carol@example.org")
    inj.replace("Sender", b"Sender: alice@example.com")


@injector("MG211", "a part with its Content-Type twice", phase=1)
def _mg211(inj: _Injection) -> None:
    found = inj.pick(lambda e: e.mime != "" and e is not inj.root) if inj.draw(_BOOL) else None
    if found is None:
        found = inj.pick(lambda e: e.mime != "")
    if found is None:
        found = inj.new_leaf("text")
    inj.claim(found).duplicate_ct = True


@injector("MG301", "a multipart without its closing delimiter", phase=1)
def _mg301(inj: _Injection) -> None:
    inj.multipart().close = False


@injector("MG302", "a multipart whose boundary parameter names another boundary", phase=0)
def _mg302(inj: _Injection) -> None:
    e = inj.multipart(subtree=True)
    content = e.render_body()
    n = 0
    while True:
        declared = f"{e.boundary[:60]}-elsewhere{n or ''}"
        if (b"--" + declared.encode("ascii")) not in content:
            break
        n += 1
    e.declared = declared


@injector("MG303", "a multipart without boundary parameter", phase=0)
def _mg303(inj: _Injection) -> None:
    inj.multipart(subtree=True).declared = ""


@injector("MG304", "a boundary over 70 characters or with a character outside bchars", phase=1)
def _mg304(inj: _Injection) -> None:
    # The new boundary may overlap another one (MG305 then follows too): only its own
    # validity matters here, and no line of the message starts with it.
    e = inj.multipart()
    base = e.boundary.replace(" ", "_")
    if inj.choice(("long", "char")) == "long":
        e.boundary = (base + "_" * 71)[: max(71, len(base) + 1)]
    else:
        e.boundary = f"{base[:60]}[]"


@injector("MG305", "a nested boundary that extends (or is cut from) its parent's", phase=0)
def _mg305(inj: _Injection) -> None:
    pairs = [
        (e, next(a for a in reversed(above) if a.is_multipart))
        for e, above in inj.chains()
        if e.is_multipart
        and e.children
        and any(a.is_multipart for a in above)
        and inj.free(e, above, False)
    ]
    pairs = [(e, a) for e, a in pairs if id(a) not in inj.claimed]
    if pairs:
        inner, outer = inj.draw(st.sampled_from(pairs))
    else:
        inner = inj.new_multipart()
        outer = next(above[-1] for e, above in inj.chains() if e is inner)
    inj.claim(inner)
    inj.claim(outer)
    base = outer.boundary
    inner.boundary = f"{base}-x" if len(base) <= 68 else base[:-1].rstrip()


@injector("MG306", "a multipart with only its closing delimiter", phase=0)
def _mg306(inj: _Injection) -> None:
    inj.multipart(subtree=True).children = []


@injector("MG310", "a Content-Type that is not type/subtype", phase=1)
def _mg310(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime != "" and e.attached is None, "text")
    e.mime = inj.choice(("text", "text/", "/plain", "te(x)t/plain"))


@injector("MG311", "a Content-Disposition without a valid type", phase=1)
def _mg311(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.attached is None, "base64")
    e.disposition = inj.choice(("; filename=a.pdf", "inline@x; filename=a.pdf"))


@injector("MG312", "a malformed Content-Type parameter", phase=1)
def _mg312(inj: _Injection) -> None:
    found = inj.pick(lambda e: e.mime != "" and "/" in e.mime)
    e = inj.claim(found if found is not None else inj.new_leaf("text"))
    e.params = [
        *e.params,
        inj.choice(("x-bad", "x-dup=1; x-dup=2", "x-pct*=utf-8''%G1", "x-raw*=noquote")),
    ]


@injector("MG313", "an unknown Content-Transfer-Encoding", phase=1)
def _mg313(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.attached is None, "text")
    e.cte = inj.choice(("x-uuencode", "7-bit", "none", "uuencode"))


@injector("MG314", "a multipart labelled base64 or quoted-printable", phase=1)
def _mg314(inj: _Injection) -> None:
    inj.multipart().cte = inj.choice(("base64", "quoted-printable"))


@injector("MG315", "an attached message/rfc822 in base64", phase=0)
def _mg315(inj: _Injection) -> None:
    found = inj.pick(lambda e: e.attached is not None and e.mime == "message/rfc822", subtree=True)
    if found is None:
        inner = _Entity(
            mime="text/plain",
            params=["charset=us-ascii"],
            cte="7bit",
            payload=b"Forwarded.\r\n",
            text=True,
        )
        inner.headers = [
            b"From: alice@example.com",
            b"Date: Mon, 23 Nov 2026 10:00:00 +0000",
            b"MIME-Version: 1.0",
        ]
        found = inj.append(_Entity(mime="message/rfc822", attached=inner))
    inj.claim(found, subtree=True).cte = "base64"


@injector("MG316", "raw 8-bit bytes in a 7bit part", phase=1)
def _mg316(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte in (None, "7bit"), "text")
    e.body_lead += "Grüße".encode() + CRLF


@injector("MG317", "a part labelled binary", phase=1)
def _mg317(inj: _Injection) -> None:
    inj.leaf(lambda e: True, "text").cte = "binary"


@injector("MG318", "a character outside base64 in a base64 body", phase=1)
def _mg318(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte == "base64", "base64")
    e.body_lead += inj.choice((b"SGVsbG8*gd29ybGQ", b"not base64!", b"QUJD=QUJD")) + CRLF


@injector("MG319", "a bad '=' escape or raw 8-bit in a quoted-printable body", phase=1)
def _mg319(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte == "quoted-printable", "qp")
    e.body_lead += inj.choice((b"100% =ZZ sure", b"=\xe9t\xe9")) + CRLF


@injector("MG320", "a base64 or quoted-printable line over 76 characters", phase=1)
def _mg320(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.cte in ("base64", "quoted-printable"), "base64")
    e.body_lead += (b"QUFB" if e.cte == "base64" else b"abcd") * inj.draw(_ints(20, 24)) + CRLF


@injector("MG321", "a charset nobody knows", phase=1)
def _mg321(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime.startswith("text/"), "text")
    e.params = [p for p in e.params if not p.startswith("charset=")]
    e.params.insert(
        0, inj.choice(("charset=x-klingon", 'charset="utf-9"', "charset=no-such-charset"))
    )


@injector("MG322", "a text part that does not decode in its charset", phase=1)
def _mg322(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime.startswith("text/") and _is_text(e), "text")
    e.params = [p for p in e.params if not p.startswith("charset=")]
    e.params.insert(0, "charset=utf-8")
    e.payload += b"caf\xc3"
    if e.cte not in ("base64", "quoted-printable"):
        e.cte = inj.choice(("base64", "quoted-printable"))


@injector("MG323", "a multipart/signed without protocol", phase=1)
def _mg323(inj: _Injection) -> None:
    e = inj.multipart(retype=True)
    e.mime, e.params = "multipart/signed", [p for p in e.params if not p.startswith("protocol")]


@injector("MG324", "a multipart/encrypted without protocol", phase=1)
def _mg324(inj: _Injection) -> None:
    e = inj.multipart(retype=True)
    e.mime, e.params = "multipart/encrypted", [p for p in e.params if not p.startswith("protocol")]


@injector("MG325", "8-bit text sent as 8bit", phase=1)
def _mg325(inj: _Injection) -> None:
    e = inj.leaf(lambda e: e.mime.startswith("text/") and _is_text(e), "text")
    if e.payload.isascii():
        e.params = [p for p in e.params if not p.startswith("charset=")]
        e.params.insert(0, "charset=utf-8")
        e.payload += "Grüße".encode() + CRLF
    e.cte = "8bit"


@injector("MG402", "501 attachments", phase=0)
def _mg402(inj: _Injection) -> None:
    host = inj.host(top=True)  # attachments of an attached message do not count
    inj.claim(host)
    for i in range(501):
        e = _Entity(mime="application/octet-stream", cte="base64", payload=b"\x00\x01\x02")
        e.disposition = f"attachment; filename=a{i}.bin"
        host.children.append(inj.claim(e))


@injector("MG405", "501 MIME parts", phase=0)
def _mg405(inj: _Injection) -> None:
    host = inj.host()
    inj.claim(host)
    for _ in range(500):
        leaf = _Entity(mime="text/plain", params=["charset=us-ascii"], cte="7bit", payload=b"x\r\n")
        host.children.append(inj.claim(leaf))


@injector("MG403", "501 recipients in Bcc", phase=2)
def _mg403(inj: _Injection) -> None:
    names = [f"r{i}@example.org," for i in range(501)]
    names[-1] = names[-1].rstrip(",")
    inj.replace("Bcc", _fold("Bcc", names))


@injector("MG404", "an attachment with an extension Amazon SES blocks", phase=1)
def _mg404(inj: _Injection) -> None:
    e = inj.leaf(
        lambda e: e.disposition is not None and e.disposition.startswith("attachment"), "base64"
    )
    e.params = [p for p in e.params if not p.startswith("name")]
    e.disposition = "attachment; " + inj.choice(
        ('filename="invoice.pdf.exe"', "filename=setup.msi", "filename*=utf-8''run.bat")
    )


@injector("MG410", "parts nested 69 deep", phase=0)
def _mg410(inj: _Injection) -> None:
    host = inj.host()
    inj.claim(host)
    chain = _Entity(
        mime="text/plain", params=["charset=us-ascii"], cte="7bit", payload=b"Deep.\r\n", text=True
    )
    for level in range(67, -1, -1):
        chain = _Entity(mime="multipart/mixed", children=[chain], boundary=f"=_depth-{level:02d}")
    host.children.append(inj.claim(chain, subtree=True))


injector("MG103", "a header line ': no name'", phase=2)(_d_header_line(b": no name"))
injector("MG104", "a field name with a DEL character", phase=2)(_d_header_line(b"X-\x7fBad: 1"))
injector("MG105", "whitespace between a field name and its colon", phase=2)(
    _d_header_line(b"X-Spaced : 1")
)
injector("MG115", "raw UTF-8 in a header field", phase=2)(
    _d_header_line("X-Greeting: Grüße".encode())
)

#: Rule code -> the defect :func:`malformed_messages` injects for it, in code order.
#: A rule without one says why in its ``no_injector`` (too big to draw, or it needs
#: an original message); a test holds the two together.
DEFECTS: dict[str, str] = {c: _INJECTORS[c].summary for c in sorted(_INJECTORS)}
#: defects that cannot be in one message together
_CONFLICTS: tuple[frozenset[str], ...] = (
    frozenset({"MG111", "MG113"}),
    frozenset({"MG201", "MG205"}),
    frozenset({"MG201", "MG210"}),
    frozenset({"MG205", "MG210"}),
    frozenset({"MG201", "MG420"}),
    frozenset({"MG205", "MG420"}),
    frozenset({"MG210", "MG420"}),
    frozenset({"MG202", "MG207"}),
    frozenset({"MG106", "MG107"}),
)


@functools.cache
def _permutations(codes: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.permutations(codes)


def _compatible(chosen: list[str]) -> list[str]:
    kept: list[str] = []
    for code in chosen:
        if not any(pair <= {code, *kept} and code in pair for pair in _CONFLICTS):
            kept.append(code)
    return kept


@st.composite
def _malformed(
    draw: st.DrawFn, opts: _Options, codes: tuple[str, ...], max_defects: int
) -> tuple[bytes, frozenset[str]]:
    root = draw(_message(opts))
    count = draw(_ints(1, min(max_defects, len(codes))))
    chosen = _compatible(list(draw(_permutations(codes))[:count]))
    inj = _Injection(draw, root, opts)
    for code in sorted(chosen, key=lambda c: (_INJECTORS[c].phase, c)):
        _INJECTORS[code].apply(inj)
    data = inj.root.render()
    if inj.line_endings == "lf":
        data = data.replace(CRLF, b"\n")
    elif inj.line_endings == "mixed":
        count = data.count(CRLF)
        nth = draw(_ints(0, count - 1))
        at = -1
        for _ in range(nth + 1):
            at = data.find(CRLF, at + 1)
        data = data[:at] + data[at + 1 :]
    return data, frozenset(chosen)


def malformed_messages(
    *,
    codes: Collection[str] | None = None,
    max_defects: int = 3,
    profile: str = "workmail",
    max_depth: int = 3,
    max_parts: int = 8,
    multipart_subtypes: Collection[str] = MULTIPART_SUBTYPES,
    attachments: bool = True,
    attached_messages: bool = True,
    charsets: Collection[str] = DEFAULT_CHARSETS,
    transfer_encodings: Collection[str] = DEFAULT_TRANSFER_ENCODINGS,
    signed: bool = False,
    encoded_words: bool = True,
    rfc2231: bool = True,
) -> st.SearchStrategy[tuple[bytes, frozenset[str]]]:
    """A valid message with one to ``max_defects`` targeted defects, as ``(data, expected)``.

    ``expected`` holds the rule codes of the injected defects: ``mimeguard.validate(data,
    profile=profile)`` reports at least those (other findings may follow from them, a
    NUL byte in a base64 body is also bad base64).  ``codes`` limits the defects to
    some of :data:`DEFECTS` (all that apply under ``profile`` by default); a code the
    profile does not check, or that cannot be generated, raises InvalidArgument.  The
    other arguments shape the underlying message as for :func:`messages`; the message
    is CRLF, and defects that need a part (a base64 body, a multipart) add one when the
    drawn message has none.
    """
    if profile not in PROFILES:
        raise _fail(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    active = tuple(c for c in DEFECTS if RULES[c].severity[profile] is not None)
    if codes is None:
        chosen = active
    else:
        if isinstance(codes, str) or not isinstance(codes, Collection):
            raise _fail(
                f"codes must be a collection of rule codes such as ('MG301',), not {codes!r}"
            )
        chosen = tuple(dict.fromkeys(c.upper() for c in codes))
        if not chosen:
            raise _fail("codes is empty: give at least one rule code, or None for all")
        for c in chosen:
            if c not in DEFECTS:
                why = "no such rule" if c not in RULES else "it cannot be generated"
                raise _fail(f"codes: {c!r}: {why}; choose from {', '.join(DEFECTS)}")
            if c not in active:
                raise _fail(f"codes: {c} does not apply under the {profile!r} profile")
    _check_int(max_defects, "max_defects", 1)
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
    return _malformed(opts, chosen, max_defects)
