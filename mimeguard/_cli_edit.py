"""``mimeguard fix`` and ``mimeguard edit``: the commands that write messages.

Both call the edit API (:mod:`mimeguard.edit`), imported here and only when
one of these commands runs.  Files are written atomically: a temporary file in
the same folder, the original's permission bits, then a rename.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from typing import TextIO

from ._cli_check import Settings, mbox_hits
from ._cli_output import where
from ._specs import SPECS, Flag, Spec, build, expand_presets, missing_key, options
from .cli import Selection, Streams, UsageError, read_stdin
from .edit import Editor, repair_result
from .errors import InvalidMessageError, SignedMessageError
from .findings import Report
from .validation import validate

__all__ = ["atomic_write", "cmd_edit", "cmd_fix", "render_diff"]


def atomic_write(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` (a temporary file renamed over it; mode and owner kept).

    A symbolic link is followed: the file it points to is replaced.
    """
    real = os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    folder, name = os.path.split(real)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".mimeguard-tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                with contextlib.suppress(OSError):  # not allowed to give files away
                    os.chown(tmp, st.st_uid, st.st_gid)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _lines(data: bytes) -> list[bytes]:
    """``data`` split after each LF only: a CR stays in its line, as git sees it."""
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def render_diff(old: bytes, new: bytes, name: str) -> Iterator[bytes]:
    """A unified diff of two messages that ``git apply`` (and ``patch``) accept.

    Lines are compared as bytes with their line endings, so a CRLF repair shows
    as changed lines whose ``+`` side ends in CRLF, and a last line without a
    line ending gets git's ``\\ No newline at end of file`` marker.
    """
    label = name.replace("\\", "/")
    diff = difflib.diff_bytes(
        difflib.unified_diff,
        _lines(old),
        _lines(new),
        f"a/{label}".encode("utf-8", "surrogateescape"),
        f"b/{label}".encode("utf-8", "surrogateescape"),
        lineterm=b"\n",
    )
    for line in diff:
        yield line if line.endswith(b"\n") else line + b"\n\\ No newline at end of file\n"


def _errors(report: Report) -> list[str]:
    return [
        f"{f.line}:{f.column}: {f.code} [{f.severity}] {f.message}"
        + (f" (part {f.part})" if f.part else "")
        for f in report.findings
        if f.severity == "error"
    ]


# -- fix ------------------------------------------------------------------------------------------


def cmd_fix(args: argparse.Namespace, streams: Streams) -> int:
    sel = Selection(args)
    targets = sel.targets(args.paths)
    # stdout carries only the data (a diff, or the repaired standard input); the report
    # of what was fixed goes to stderr, as ruff's does.
    log = streams.err
    status = 0
    changed = broken = files = 0
    for t in targets:
        if t.error is not None:
            streams.error(f"{t.display}: {t.error}")
            status = 2
            continue
        try:
            data = read_stdin() if t.path == "-" else _read(t.path)
        except OSError as exc:
            streams.error(f"{t.display}: {exc.strerror or exc}")
            status = 2
            continue
        files += 1
        ignore = sel.ignore + sel.ignore_for(t)
        if t.path.lower().endswith(".mbox") or t.display.lower().endswith(".mbox"):
            broken += _fix_mbox(t.display, data, sel, ignore, log)
            continue
        outcome = _fix_one(t.display, data, sel, ignore, args, streams)
        if outcome is None:  # could not be repaired: reported
            broken += 1
            if t.path == "-" and not args.diff:
                _write_out(streams, data)
            continue
        new, still_broken = outcome
        broken += still_broken
        if t.path == "-" and not args.diff:
            _write_out(streams, new)
        if new == data:
            continue
        changed += 1
        if t.path != "-" and not args.diff:
            try:
                atomic_write(t.path, new)
            except OSError as exc:
                streams.error(f"{t.display}: cannot write: {exc.strerror or exc}")
                status = 2
    if not args.quiet:
        verb = "would be fixed" if args.diff else "fixed"
        log.write(
            f"{files} file{'s' if files != 1 else ''} checked, {changed} {verb}, "
            f"{broken} still broken\n"
        )
    if status:
        return status
    return 1 if changed or broken else 0


def _write_out(streams: Streams, data: bytes) -> None:
    streams.out.flush()
    streams.out.buffer.write(data)
    streams.out.buffer.flush()


def _fix_one(
    display: str,
    data: bytes,
    sel: Selection,
    ignore: tuple[str, ...],
    args: argparse.Namespace,
    streams: Streams,
) -> tuple[bytes, bool] | None:
    """Repair one message: (the new bytes, whether errors remain), or ``None`` if it cannot."""
    log = streams.err
    report = validate(data, profile=sel.profile, select=sel.select, ignore=ignore)
    new = data
    changes: list[str] = []
    if report.findings:
        try:
            result = repair_result(data, envelope_from=args.envelope_from, profile=sel.profile)
        except InvalidMessageError as exc:
            log.write(f"{display}: cannot fix:\n")
            for line in _errors(exc.report):
                log.write(f"  {line}\n")
            return None
        new = result.data
        changes = [str(c) for c in result.changes]
    if new != data:
        if args.diff:
            streams.out.flush()
            for chunk in render_diff(data, new, display):
                streams.out.buffer.write(chunk)
            streams.out.buffer.flush()
        if not args.quiet:
            log.write(f"{display}: {'would fix' if args.diff else 'fixed'}:\n")
            for change in changes:
                log.write(f"  {change}\n")
    after = validate(new, profile=sel.profile, select=sel.select, ignore=ignore)
    if not after.ok:
        log.write(f"{display}: still broken:\n")
        for line in _errors(after):
            log.write(f"  {line}\n")
    return new, not after.ok


def _fix_mbox(
    display: str, data: bytes, sel: Selection, ignore: tuple[str, ...], log: TextIO
) -> bool:
    """Report an mbox's errors as ``check`` positions them; mbox files are never rewritten."""
    hits, _ = mbox_hits(data, Settings(sel.profile, sel.select), ignore)
    errors = [h for h in hits if h.severity == "error"]
    if errors:
        log.write(f"{display}: not fixed: mbox files are checked, not rewritten\n")
        for h in errors:
            log.write(f"  {h.line}:{h.column}: {h.code} [{h.severity}] {h.message}{where(h)}\n")
    return bool(errors)


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


# -- edit -----------------------------------------------------------------------------------------


def _text_or_file(value: str) -> str:
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as fh:
            return fh.read().rstrip("\r\n")
    return value


def _dest(flag: Flag) -> str:
    return flag.name.lstrip("-").replace("-", "_")


def _label(spec: type[Spec]) -> Callable[[str], str]:
    """An option by its first flag, so an error names what was typed."""
    names = {name: option.flags[0].name for name, option in options(spec) if option.flags}
    return lambda name: names.get(name, name)


def _given(args: argparse.Namespace, spec: type[Spec]) -> dict[str, object]:
    """The options of ``spec`` the flags give (values as typed: files not read yet)."""
    given: dict[str, object] = {}
    for name, option in options(spec):
        for flag in option.flags:
            value = getattr(args, _dest(flag))
            if not value:
                continue
            if flag.presets:
                value = expand_presets(value)
            if flag.repeat:
                listed = given.setdefault(name, [])
                assert isinstance(listed, list)
                listed.extend(value)
            else:
                given[name] = value
    return given


def _read_flags(spec: type[Spec], given: dict[str, object]) -> None:
    """Replace the values of flags that name files by what the files hold."""
    for name, option in options(spec):
        value = given.get(name)
        if not isinstance(value, str):
            continue
        read = option.flags[0].read if option.flags else ""  # a file is named by one flag
        if read == "text-or-file":
            given[name] = _text_or_file(value)
        elif read == "file":
            with open(value, encoding="utf-8") as fh:
                given[name] = fh.read()


def cmd_edit(args: argparse.Namespace, streams: Streams) -> int:
    given = {spec: _given(args, spec) for spec in SPECS}
    asks = [
        name
        for spec in SPECS
        for name, option in options(spec)
        if option.role != "modifier" and name in given[spec]
    ]
    if not asks:
        flags = [
            f.name
            for spec in SPECS
            for _, option in options(spec)
            if option.role in ("key", "switch")
            for f in option.flags
        ]
        raise UsageError(f"nothing to do: give {', '.join(flags[:-1])} or {flags[-1]}")
    try:
        for spec in SPECS:
            missing_key(spec, given[spec], _label(spec))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        data = read_stdin() if args.input == "-" else _read(args.input)
        for spec in SPECS:
            _read_flags(spec, given[spec])
    except OSError as exc:
        name = exc.filename or args.input
        streams.error(f"{name}: {exc.strerror or exc}")
        return 2
    except UnicodeDecodeError as exc:
        raise UsageError(f"the disclaimer must be UTF-8 text: {exc}") from None
    try:
        specs = [s for spec in SPECS if (s := build(spec, given[spec], _label(spec))) is not None]
        result = Editor(data, profile=args.profile)._append(*specs).result()
    except SignedMessageError as exc:
        streams.error(f"{args.input}: {exc}")
        return 1
    except InvalidMessageError as exc:
        streams.error(f"{args.input}: {exc}")
        return 1
    except (ValueError, KeyError) as exc:
        raise UsageError(str(exc)) from None
    if args.output and args.output != "-":
        try:
            atomic_write(args.output, result.data)
        except OSError as exc:
            streams.error(f"{args.output}: {exc.strerror or exc}")
            return 2
    else:
        streams.out.flush()
        streams.out.buffer.write(result.data)
        streams.out.buffer.flush()
    if not args.quiet:
        for change in result.changes:
            streams.err.write(f"{change}\n")
        if not result.changes:
            streams.err.write("no changes\n")
    return 0
