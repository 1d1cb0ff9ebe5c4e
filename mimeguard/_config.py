"""Command-line configuration and file discovery.

``[tool.mimeguard]`` in the nearest ``pyproject.toml`` (searched from the
current folder upwards) sets the defaults; command-line flags override them.
Patterns in the configuration are relative to the folder of that file.

Glob patterns follow gitignore habits: a pattern without ``/`` matches any
path component (``*.mbox``, ``broken``), a pattern with ``/`` is anchored at
the project root (``tests/fixtures/broken/**``), ``**`` spans folders, ``*``
stays inside one, and a pattern that names a folder covers everything below it.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .profiles import PROFILES

__all__ = [
    "DEFAULT_INCLUDE",
    "Config",
    "ConfigError",
    "Target",
    "discover",
    "find_config",
    "load_config",
    "path_matches",
    "split_codes",
]

#: what a folder search picks up unless ``include`` adds more
DEFAULT_INCLUDE: tuple[str, ...] = ("*.eml", "*.msg", "*.mbox")
#: folders never searched (besides hidden ones and virtual environments)
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
_KEYS = frozenset({"profile", "select", "ignore", "per-file-ignores", "exclude", "include"})
# [tool.mimeguard.gateway] belongs to ``mimeguard gateway`` (mimeguard/gateway.py reads it)
_KEYS |= {"gateway"}
_GLOB_CHARS = re.compile(r"[*?\[]")


class ConfigError(Exception):
    """A configuration file or command-line value that cannot be used (exit status 2)."""


@dataclass(frozen=True, slots=True)
class Config:
    """``[tool.mimeguard]`` as read; ``None`` means "not set"."""

    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    profile: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()

    def ignored_for(self, relpath: str) -> tuple[str, ...]:
        """The codes ``per-file-ignores`` ignores for a path relative to :attr:`root`."""
        out: list[str] = []
        for pattern, codes in self.per_file_ignores:
            if path_matches(pattern, relpath):
                out.extend(c for c in codes if c not in out)
        return tuple(out)

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the project root, with ``/`` separators."""
        return relative_to(path, self.root)


def relative_to(path: str | Path, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        rel = absolute
    return rel.replace(os.sep, "/")


def split_codes(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """``["MG1,MG301", "bare-lf"]`` -> ``("MG1", "MG301", "bare-lf")``."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        out.extend(v for v in value.replace(",", " ").split() if v)
    return tuple(out)


# -- finding and reading the file ---------------------------------------------------------------


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.mimeguard]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            data = _read_toml(candidate)
            if isinstance(data.get("tool"), dict) and "mimeguard" in data["tool"]:
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """Read ``[tool.mimeguard]`` from ``path``, or from the file :func:`find_config` finds.

    Without any such file the result is an empty :class:`Config` rooted at ``start``.
    """
    start = (start or Path.cwd()).resolve()
    if path is None:
        path = find_config(start)
        if path is None:
            return Config(root=start)
    path = path.resolve()
    data = _read_toml(path)
    table = data.get("tool", {}).get("mimeguard", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.mimeguard] must be a table")
    return _parse(table, path)


def _parse(table: dict[str, Any], path: Path) -> Config:
    where = f"{path}: [tool.mimeguard]"
    settings = {key.replace("_", "-"): value for key, value in table.items()}
    unknown = sorted(set(settings) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(_KEYS))}"
        )
    profile = settings.get("profile")
    if profile is not None and profile not in PROFILES:
        raise ConfigError(f"{where}: profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    per_file: list[tuple[str, tuple[str, ...]]] = []
    raw = settings.get("per-file-ignores", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [codes]")
    for pattern, codes in raw.items():
        per_file.append((pattern, _codes(codes, f"{where} per-file-ignores {pattern!r}")))
    select = settings.get("select")
    ignore = settings.get("ignore")
    return Config(
        path=path,
        root=path.parent,
        profile=profile,
        select=None if select is None else _codes(select, f"{where} select"),
        ignore=None if ignore is None else _codes(ignore, f"{where} ignore"),
        per_file_ignores=tuple(per_file),
        exclude=_strings(settings.get("exclude", []), f"{where} exclude"),
        include=_strings(settings.get("include", []), f"{where} include"),
    )


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(value)


def _codes(value: object, where: str) -> tuple[str, ...]:
    return split_codes(_strings(value, where))


# -- glob patterns --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    pat = pattern.strip().replace("\\", "/")
    while pat.startswith("./"):
        pat = pat[2:]
    anchored = "/" in pat.rstrip("/")
    pat = pat.strip("/")
    pieces: list[str] = []
    segments = pat.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            pieces.append(".*" if last else "(?:[^/]+/)*")
            continue
        pieces.append(_segment(segment) + ("" if last else "/"))
    body = "".join(pieces)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"{prefix}{body}(?:/.*)?", re.DOTALL)


def _segment(segment: str) -> str:
    """One path segment of a glob as a regular expression (``*`` and ``?`` stay in it)."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        i += 1
        if c == "*":
            while i < n and segment[i] == "*":
                i += 1
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and segment[j] in "!^":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            while j < n and segment[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                continue
            inner = segment[i:j].replace("\\", "\\\\")
            i = j + 1
            if inner[:1] in ("!", "^"):
                inner = "^" + inner[1:]
            out.append(f"[{inner}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


def path_matches(pattern: str, relpath: str) -> bool:
    """Does ``pattern`` (see the module docstring) match the relative path ``relpath``?"""
    return _compile(pattern).fullmatch(relpath) is not None


def _included(name: str, relpath: str, include: Sequence[str]) -> bool:
    lower = name.lower()
    for pattern in include:
        if "/" in pattern.strip("/"):
            if path_matches(pattern, relpath):
                return True
        elif fnmatch.fnmatchcase(lower, pattern.lower()):
            return True
    return False


# -- discovery ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One thing to check: a file (``path``) or standard input (``path == "-"``).

    ``display`` is how the path is printed, ``relpath`` how configuration
    patterns see it; ``error`` is set when the argument could not be used.
    """

    path: str
    display: str
    relpath: str
    error: str | None = None


def discover(
    args: Sequence[str],
    config: Config,
    *,
    include: Sequence[str],
    exclude: Sequence[str],
    force_exclude: bool = False,
    stdin_filename: str | None = None,
) -> Iterator[Target]:
    """The files named by ``args`` (files, folders, globs, ``-``), each once, in order.

    Folders are searched recursively for names matching ``include``; ``exclude``
    applies to what a folder or glob search finds, and to named files only with
    ``force_exclude`` (what the pre-commit hooks use).  A missing path yields a
    :class:`Target` with ``error`` set.
    """
    seen: set[str] = set()

    def excluded(relpath: str) -> bool:
        return any(path_matches(p, relpath) for p in exclude)

    def target(path: str) -> Target | None:
        key = os.path.realpath(path)
        if key in seen:
            return None
        seen.add(key)
        return Target(path, _display(path), config.relative(path))

    for arg in args:
        if arg == "-":
            name = stdin_filename or "-"
            rel = config.relative(stdin_filename) if stdin_filename else "-"
            if stdin_filename and force_exclude and excluded(rel):
                continue
            yield Target("-", name, rel)
            continue
        if os.path.isdir(arg):
            yield from _walk(arg, config, include, excluded, target)
            continue
        if os.path.lexists(arg) and not os.path.isdir(arg):
            if force_exclude and excluded(config.relative(arg)):
                continue
            found = target(arg)
            if found is not None:
                yield found
            continue
        if _GLOB_CHARS.search(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                yield Target(arg, arg, arg, "no file matches this pattern")
            for match in matches:
                if os.path.isdir(match):
                    yield from _walk(match, config, include, excluded, target)
                elif not excluded(config.relative(match)):
                    found = target(match)
                    if found is not None:
                        yield found
            continue
        yield Target(arg, arg, arg, "No such file or directory")


def _walk(
    top: str,
    config: Config,
    include: Sequence[str],
    excluded: Callable[[str], bool],
    target: Callable[[str], Target | None],
) -> Iterator[Target]:
    for folder, dirs, files in os.walk(top):
        keep = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            if d.startswith(".") or d in _SKIP_DIRS or _is_venv(full):
                continue
            if excluded(config.relative(full)):
                continue
            keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            full = os.path.join(folder, name)
            rel = config.relative(full)
            if not _included(name, rel, include) or excluded(rel):
                continue
            found = target(full)
            if found is not None:
                yield found


def _is_venv(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, "pyvenv.cfg"))


def _display(path: str) -> str:
    """A path as printed: relative to the current folder when below it."""
    if not os.path.isabs(path):
        return os.path.normpath(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
