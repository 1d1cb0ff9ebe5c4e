"""Does git rewrite the line endings of the messages being checked?

A ``.gitattributes`` with the common ``* text=auto`` (or ``core.autocrlf``)
makes git store CRLF files with LF and check them out with the platform's
line endings: the author's copy passes MG111, every fresh clone fails it.
:func:`normalised` finds the tracked files this applies to with a fixed
number of git calls (never one per file), so ``check`` can say so once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable

__all__ = ["normalised", "warning"]

#: a folder search may name this many folders to ``git ls-files``; past it the whole
#: index is listed (one call either way)
_MAX_PATHSPECS = 64


def _git(args: list[str], cwd: str, stdin: bytes | None = None) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def normalised(paths: Iterable[str], cwd: str | None = None) -> list[tuple[str, str]]:
    """The tracked files among ``paths`` whose line endings git would rewrite, each with why.

    ``why`` is the attribute or setting responsible (``text=auto``, ``eol=lf``,
    ``core.autocrlf=true``).  Nothing is reported outside a git work tree, for
    untracked files, or when git is not installed.
    """
    cwd = cwd or os.getcwd()
    wanted = [p for p in paths if p != "-"]
    if not wanted or shutil.which("git") is None:
        return []
    out = _git(["rev-parse", "--show-toplevel"], cwd)
    if out is None:
        return []
    top = os.path.realpath(out.decode("utf-8", "surrogateescape").strip())
    shown: dict[str, str] = {}  # path relative to the top -> the path as given
    for p in wanted:
        rel = os.path.relpath(os.path.realpath(os.path.join(cwd, p)), top)
        if not rel.startswith(".."):
            shown.setdefault(rel.replace(os.sep, "/"), p)
    if not shown:
        return []
    folders = sorted({os.path.dirname(r) or "." for r in shown})
    specs = folders if len(folders) <= _MAX_PATHSPECS else ["."]
    listed = _git(["--literal-pathspecs", "ls-files", "-z", "--full-name", "--", *specs], top)
    if listed is None:
        return []
    tracked = set(listed.decode("utf-8", "surrogateescape").split("\0"))
    rels = [r for r in shown if r in tracked]
    if not rels:
        return []
    feed = "\0".join(rels).encode("utf-8", "surrogateescape") + b"\0"
    attrs = _git(["check-attr", "-z", "--stdin", "text", "eol"], top, feed)
    if attrs is None:
        return []
    autocrlf = (_git(["config", "--get", "core.autocrlf"], top) or b"").decode().strip().lower()
    fields = attrs.decode("utf-8", "surrogateescape").split("\0")
    found: dict[str, dict[str, str]] = {}
    for i in range(0, len(fields) - 2, 3):
        found.setdefault(fields[i], {})[fields[i + 1]] = fields[i + 2]
    result = []
    for rel in rels:
        why = _why(found.get(rel, {}), autocrlf)
        if why is not None:
            result.append((shown[rel], why))
    return result


def _why(attrs: dict[str, str], autocrlf: str) -> str | None:
    """The setting that makes git convert a file's line endings, or ``None``."""
    text = attrs.get("text", "unspecified")
    eol = attrs.get("eol", "unspecified")
    if text == "unset":  # -text: stored and checked out byte for byte
        return None
    if text == "set":
        return "text"
    if text != "unspecified":
        return f"text={text}"
    if eol in ("lf", "crlf"):  # eol implies text
        return f"eol={eol}"
    if autocrlf in ("true", "input"):
        return f"core.autocrlf={autocrlf}"
    return None


def warning(found: list[tuple[str, str]]) -> str:
    """The one warning ``check`` prints for ``found`` (from :func:`normalised`)."""
    path, why = found[0]
    more = f" and {len(found) - 1:,} more" if len(found) > 1 else ""
    return (
        f"git rewrites the line endings of {path} ({why}){more}: a fresh clone gets LF "
        "lines and fails MG111 where this copy may pass. Add '*.eml -text', '*.msg -text' "
        "and '*.mbox -text' to .gitattributes (see docs/cli.md, 'Messages in git')"
    )
