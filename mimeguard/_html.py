"""Find where a disclaimer goes in an HTML document, without an HTML parser.

Only what matters for placement is recognised: comments, ``<script>``,
``<style>``, ``<textarea>`` and ``<title>`` contents (where tag-like text is not
markup), CDATA sections, and the ``<html>``/``<body>`` open and close tags,
case-insensitively and with attributes.  One pass, one Python step per ``<``.
"""

from __future__ import annotations

import html
import re

__all__ = ["insertion_point", "text_to_html"]

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b")
#: elements whose content is raw text, so a ``<body>`` inside is not a tag
_RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "noscript")


def _tag_end(doc: str, pos: int) -> int:
    """Index after the ``>`` that closes the tag starting at ``pos`` (quotes respected)."""
    n = len(doc)
    while True:
        m = _NEXT_SPECIAL.search(doc, pos)
        if m is None:
            return n
        if m.group() == ">":
            return m.end()
        close = doc.find(m.group(), m.end())  # skip a quoted attribute value
        if close < 0:
            return n
        pos = close + 1


_NEXT_SPECIAL = re.compile(r"[>\"']")


def _scan(doc: str) -> dict[str, int]:
    """Positions: ``body_open_end``, ``body_close``, ``html_open_end``, ``html_close``."""
    found: dict[str, int] = {}
    pos = 0
    n = len(doc)
    while True:
        lt = doc.find("<", pos)
        if lt < 0 or lt + 1 >= n:
            return found
        if doc.startswith("<!--", lt):
            end = doc.find("-->", lt + 4)
            if end < 0:
                return found  # an unterminated comment runs to the end
            pos = end + 3
            continue
        if doc.startswith("<![CDATA[", lt):
            end = doc.find("]]>", lt + 9)
            if end < 0:
                return found
            pos = end + 3
            continue
        if doc.startswith("<!", lt) or doc.startswith("<?", lt):
            pos = _tag_end(doc, lt + 2)
            continue
        m = _TAG.match(doc, lt)
        if m is None:
            pos = lt + 1
            continue
        closing, name = m.group(1), m.group(2).lower()
        end = _tag_end(doc, m.end())
        if not closing and name in _RAW_TEXT:
            close = re.compile(r"</" + name + r"\s*>", re.IGNORECASE).search(doc, end)
            pos = n if close is None else close.end()
            continue
        if name == "body":
            if closing:
                found["body_close"] = lt  # the last one wins
            else:
                found.setdefault("body_open_end", end)
        elif name == "html":
            if closing:
                found["html_close"] = lt
            else:
                found.setdefault("html_open_end", end)
        pos = end


def insertion_point(doc: str, position: str) -> int:
    """Where to insert for ``position`` ``"top"`` or ``"bottom"``.

    Top: after the ``<body>`` open tag, else after ``<html>``, else the start.
    Bottom: before the last ``</body>``, else before the last ``</html>``, else
    the end (trailing whitespace kept after the insertion).
    """
    found = _scan(doc)
    if position == "top":
        for key in ("body_open_end", "html_open_end"):
            if key in found:
                return found[key]
        return 0
    for key in ("body_close", "html_close"):
        if key in found:
            return found[key]
    return len(doc.rstrip())


def text_to_html(text: str) -> str:
    """Plain text as an HTML block: escaped, line breaks kept (linear: no step per line)."""
    body = html.escape(text.strip("\r\n"))  # leaves CR and LF alone
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>\r\n")
    return '<div class="mimeguard-disclaimer">' + body + "</div>"
