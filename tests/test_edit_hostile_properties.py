"""Edits with hostile inserted text over generated messages (issue 12).

Disclaimers, HTML disclaimers and notices are drawn from dashes, CR, LF, CRLF, the
message's own boundaries and their prefixes (as delimiter and close-delimiter lines,
with transport padding), NUL, U+2028, U+0085, markup and long lines.  Whatever the
text: the leaf count changes only by the parts an edit reports, untouched leaves keep
their bytes, the output validates, and the disclaimer is in each body text part once.
Lone surrogates are refused with ValueError at the call (no charset can carry them).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mimeguard
from mimeguard import Editor, parse, validate
from mimeguard.strategies import messages

MARK = "Zq7Mark"
_PIECES = [
    "-",
    "--",
    "----------",
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\u2028",
    "\u0085",
    " ",
    "\t",
    "a",
    "é",
    "<",
    "</body>",
    "Content-Type: text/html",
    "=",
    "x" * 1200,
]


def _alphabet(data: bytes) -> list[str]:
    """The pieces above plus every boundary of ``data`` as delimiter-line material."""
    pieces = list(_PIECES)
    for part in parse(data).walk():
        b = part.boundary
        if b:
            half = b[: len(b) // 2]
            pieces += [f"\r\n--{b}\r\n", f"\r\n--{b}--\r\n", f"\n--{b} \t\n", f"--{half}"]
    return pieces


def _hostile(draw: st.DrawFn, data: bytes) -> str:
    pieces = draw(st.lists(st.sampled_from(_alphabet(data)), max_size=12))
    return MARK + "".join(pieces)


def _leaves(data: bytes) -> list[mimeguard.Part]:
    return [p for p in parse(data).walk() if not p.children]


def _body_texts(msg: mimeguard.Message) -> list[mimeguard.Part]:
    out: list[mimeguard.Part] = []
    stack: list[mimeguard.Part] = [msg]
    while stack:
        part = stack.pop()
        if part.is_body_text and not part.children:
            out.append(part)
        if not part.encapsulates:
            stack.extend(part.children)
    return out


def _untouched(before: bytes, after: bytes, changed: set[str]) -> None:
    for part in _leaves(before):
        if not part.path or any(part.path == c or part.path.startswith(c + ".") for c in changed):
            continue
        assert part.raw in after, part.path


@given(st.data(), messages(), st.sampled_from(["top", "bottom"]))
def test_hostile_disclaimer(draw: st.DataObject, data: bytes, position: str) -> None:
    text = _hostile(draw.draw, data)
    html = draw.draw(st.none() | st.just(_hostile(draw.draw, data)))
    result = (
        Editor(data)
        .add_disclaimer(text=text, html=html, position=position)  # type: ignore[arg-type]
        .result()
    )
    out = result.data
    assert validate(out).ok
    created = sum(1 for c in result.changes if c.kind in ("added", "wrapped"))
    assert len(_leaves(out)) == len(_leaves(data)) + created
    _untouched(data, out, {c.part for c in result.changes if c.kind == "disclaimer"})
    for part in _body_texts(parse(out)):
        assert part.text().count(MARK) == 1, part.path


@given(st.data(), messages())
def test_hostile_notice(draw: st.DataObject, data: bytes) -> None:
    notice = _hostile(draw.draw, data).replace("{", "{{").replace("}", "}}") + " {filename}"
    result = (
        Editor(data)
        .strip_attachments(match=lambda p: not p.is_body_text, notice=notice, descend=False)
        .result()
    )
    out = result.data
    assert validate(out).ok
    removed = {c.part for c in result.changes if c.kind == "removed"}
    _untouched(data, out, removed)
    notices = [p for p in parse(out).walk() if not p.children and MARK in p.text()]
    assert len(notices) == len(removed)


@given(st.data(), messages(max_parts=3))
def test_lone_surrogates_are_refused_at_the_call(draw: st.DataObject, data: bytes) -> None:
    surrogate = draw.draw(st.integers(0xD800, 0xDFFF).map(chr))
    text = _hostile(draw.draw, data) + surrogate
    for call in (
        lambda: Editor(data).add_disclaimer(text=text),
        lambda: Editor(data).add_disclaimer(text="ok", html=text),
        lambda: Editor(data).rewrite_subject(prefix=surrogate),
        lambda: Editor(data).strip_attachments(match="*.exe", notice=surrogate),
    ):
        with pytest.raises(ValueError, match=r"surrogate|CR or LF"):
            call()
