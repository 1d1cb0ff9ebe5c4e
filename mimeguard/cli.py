"""The ``mimeguard`` command line: check, fix, edit, explain, rules, tree.

``main(argv)`` returns the exit status instead of exiting, so it can be called
from tests and other programs; the ``mimeguard`` script and
``python -m mimeguard`` pass it to :func:`sys.exit`.  Exit status: 0 all good,
1 findings (``check``) or changes / remaining problems (``fix``), 2 usage,
configuration or I/O problems.  ``docs/cli.md`` is the reference.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from ._cli_check import FileResult, Settings, Task, default_jobs, run
from ._cli_output import FORMATS, Progress, Style, Summary, color_enabled, make_reporter
from ._config import (
    DEFAULT_INCLUDE,
    Config,
    ConfigError,
    Target,
    discover,
    load_config,
    split_codes,
)
from ._gitattrs import normalised
from ._gitattrs import warning as gitattrs_warning
from ._specs import SPECS, Flag, options
from .errors import UnknownProfileError, UnknownRuleError
from .profiles import DEFAULT_PROFILE, PROFILES
from .validation import select_rules

__all__ = ["UsageError", "main"]

PROG = "mimeguard"


class UsageError(Exception):
    """A bad combination of options (exit status 2)."""


# -- the parser -----------------------------------------------------------------------------------

_MAIN_EPILOG = """\
commands:
  check    validate messages (files, folders, globs, - for stdin)
  fix      repair messages in place (or --diff)
  edit     add a disclaimer, rewrite the subject, strip attachments
  explain  show what a rule checks, with a bad and a good example
  rules    list every rule
  tree     show the part tree of a message

examples:
  mimeguard check examples/
  mimeguard check --format sarif -o mimeguard.sarif tests/fixtures/
  mimeguard fix --diff broken.eml
  mimeguard edit in.eml --disclaimer-text "Sent from outside" -o out.eml
  mimeguard explain MG301

Settings are read from [tool.mimeguard] in the nearest pyproject.toml;
see docs/cli.md.  Exit status: 0 ok, 1 findings or changes, 2 usage or I/O errors.
"""

_CHECK_EPILOG = """\
examples:
  mimeguard check examples/                   # every *.eml, *.msg, *.mbox below examples/
  mimeguard check 'fixtures/**/*.eml' msg.eml
  cat msg.eml | mimeguard check -             # standard input
  mimeguard check --profile ses --select MG2,MG4 mail/
  mimeguard check --ignore MG325,line-too-long --statistics mail/
  mimeguard check --format github mail/       # annotations in a GitHub Actions log
  mimeguard check --format sarif -o mimeguard.sarif mail/

output: path:line:col: CODE [*] [severity] message (part 1.2), [*] marking what
`mimeguard fix` repairs, then "N files checked, S skipped (not matching --include)"
and "E errors (M fixable with `mimeguard fix`)".  Exit status: 0 no errors, 1 errors,
2 usage or I/O problems (a missing file is reported; the others are still checked).
"""

_FIX_EPILOG = """\
examples:
  mimeguard fix broken.eml                    # rewrite in place
  mimeguard fix --diff mail/ > fix.patch      # a patch: git apply fix.patch
  mimeguard fix - < in.eml > out.eml          # standard input to standard output

Only files with findings (after select/ignore and per-file-ignores) are
repaired; what was fixed is reported on standard error.  Exit status: 0 nothing
to do, 1 something was changed or is still broken (the pre-commit convention),
2 usage or I/O problems.
"""

_EDIT_EPILOG = """\
examples:
  mimeguard edit in.eml --disclaimer-text "External sender" -o out.eml
  mimeguard edit in.eml --disclaimer-text notice.txt --disclaimer-html notice.html \\
      --position top --on-signed wrap > out.eml
  mimeguard edit in.eml --subject-prefix "[EXT] " --strip '*.exe' --strip 'image/*'
  mimeguard edit in.eml --strip-preset ses-blocked --repair -o out.eml

The edited message goes to standard output unless -o is given (OUT may be IN);
what changed is listed on standard error.  Exit status: 0 written, 1 refused
(signed message with --on-signed error, or the result would not be valid),
2 usage or I/O problems.
"""

_EXPLAIN_EPILOG = """\
examples:
  mimeguard explain MG301
  mimeguard explain missing-closing-boundary
  mimeguard explain --format json bare-lf
"""

_RULES_EPILOG = """\
examples:
  mimeguard rules
  mimeguard rules --format json
"""

_TREE_EPILOG = """\
examples:
  mimeguard tree examples/clean-attachment.eml
  mimeguard tree --format json - < msg.eml
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _codes_arg(value: str) -> list[str]:
    return list(split_codes(value))


def _jobs_arg(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 (one per CPU) or more")
    return n


def _add_common(p: argparse.ArgumentParser, *, color: bool = True) -> None:
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    if color:
        p.add_argument(
            "--color",
            choices=("auto", "always", "never"),
            default="auto",
            help="colour the output: auto (default) on a terminal unless NO_COLOR is set",
        )


def _add_config(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration")
    g.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="read [tool.mimeguard] from FILE instead of the nearest pyproject.toml",
    )
    g.add_argument("--isolated", action="store_true", help="ignore every configuration file")


def _add_selection(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    g = p.add_argument_group("rule selection")
    g.add_argument(
        "--profile",
        choices=list(PROFILES),
        help=f"validation profile (default: {DEFAULT_PROFILE}, or profile in the configuration)",
    )
    g.add_argument(
        "--select",
        metavar="CODES",
        type=_codes_arg,
        action="extend",
        help="only these rules: codes (MG301), prefixes (MG3), names or ALL; comma-separated",
    )
    g.add_argument(
        "--extend-select",
        metavar="CODES",
        type=_codes_arg,
        action="extend",
        help="add rules to the configured selection",
    )
    g.add_argument(
        "--ignore", metavar="CODES", type=_codes_arg, action="extend", help="skip these rules"
    )
    g.add_argument(
        "--extend-ignore",
        metavar="CODES",
        type=_codes_arg,
        action="extend",
        help="skip these rules on top of the configured ignore list",
    )
    return g


def _add_files(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("file selection")
    g.add_argument(
        "--include",
        metavar="PATTERN",
        type=_codes_arg,
        action="extend",
        help="also pick up these names in folders (default: *.eml, *.msg, *.mbox)",
    )
    g.add_argument(
        "--exclude",
        metavar="PATTERN",
        type=_codes_arg,
        action="extend",
        help="skip paths matching these globs (replaces exclude from the configuration)",
    )
    g.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply exclude to files named on the command line too (for pre-commit)",
    )
    g.add_argument(
        "--stdin-filename",
        metavar="NAME",
        help="the name standard input (-) is reported under and matched with",
    )


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=_Formatter
    )


def _add_format(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, choices: Sequence[str]
) -> None:
    # --output-format is ruff's name for the same option
    p.add_argument(
        "--format",
        "--output-format",
        dest="format",
        choices=choices,
        default="text",
        help="output format (default: text)",
    )


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = _command(
        sub,
        "check",
        help="validate messages",
        description="Validate messages and print one line per finding.",
        epilog=_CHECK_EPILOG,
    )
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files, folders, globs or - (default: .)"
    )
    _add_selection(check).add_argument(
        "--warnings-as-errors", action="store_true", help="report warnings as errors (exit 1)"
    )
    out = check.add_argument_group("output")
    _add_format(out, FORMATS)
    out.add_argument(
        "-o", "--output-file", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    out.add_argument(
        "--statistics", action="store_true", help="count findings per rule, with a fixable column"
    )
    out.add_argument(
        "-q", "--quiet", action="store_true", help="findings only: no summary, no progress"
    )
    out.add_argument(
        "-j",
        "--jobs",
        metavar="N",
        type=_jobs_arg,
        default=0,
        help="check N files at a time in worker processes (default 0: one per CPU)",
    )
    _add_files(check)
    _add_config(check)
    _add_common(check)
    check.set_defaults(func=cmd_check)


def _add_fix(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fix = _command(
        sub,
        "fix",
        help="repair messages in place",
        description="Repair every fixable problem and write the result in place.",
        epilog=_FIX_EPILOG,
    )
    fix.add_argument(
        "paths", nargs="*", metavar="PATH", help="files, folders, globs or - (default: .)"
    )
    fix.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff (git apply takes it), write nothing",
    )
    fix.add_argument(
        "--envelope-from", metavar="ADDRESS", help="fill a missing From with this address"
    )
    fix.add_argument(
        "-q", "--quiet", action="store_true", help="report only what could not be fixed"
    )
    _add_selection(fix)
    _add_files(fix)
    _add_config(fix)
    _add_common(fix)
    fix.set_defaults(func=_lazy("fix"))


def _add_edit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    edit = _command(
        sub,
        "edit",
        help="edit a message (disclaimer, subject, attachments)",
        description="Edit one message and write a compliant result.",
        epilog=_EDIT_EPILOG,
    )
    edit.add_argument("input", metavar="IN", help="the message file, or - for standard input")
    edit.add_argument(
        "-o", "--output", metavar="OUT", help="write here (atomically) instead of standard output"
    )
    # the flags of each edit come from its spec, with the option they set
    for spec in SPECS:
        group = edit.add_argument_group(spec.group)
        for _, option in options(spec):
            for flag in option.flags:
                group.add_argument(flag.name, **_flag_arguments(flag))
    e = edit.add_argument_group("other")
    e.add_argument(
        "--profile", choices=list(PROFILES), default=DEFAULT_PROFILE, help="validation profile"
    )
    e.add_argument("-q", "--quiet", action="store_true", help="do not list the changes")
    _add_common(edit, color=False)
    edit.set_defaults(func=_lazy("edit"))


def _flag_arguments(flag: Flag) -> dict[str, Any]:
    """``add_argument``'s keywords for an edit option's flag."""
    if flag.switch:
        return {"action": "store_true", "help": flag.help}
    found: dict[str, Any] = {"help": flag.help, "metavar": flag.metavar, "choices": flag.choices}
    if flag.repeat:
        found["action"] = "append"
    return {k: v for k, v in found.items() if v is not None}


def _add_explain(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain = _command(
        sub,
        "explain",
        help="explain a rule",
        description="Show a rule: severity per profile, source, a bad and a good example, repair.",
        epilog=_EXPLAIN_EPILOG,
    )
    explain.add_argument(
        "rule", metavar="CODE", help="a rule code (MG301), a prefix (MG3, MG) or a name"
    )
    _add_format(explain, ("text", "json"))
    _add_common(explain)
    explain.set_defaults(func=_lazy("explain"))


def _add_rules(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = _command(
        sub,
        "rules",
        help="list the rules",
        description="List every rule with its severity per profile.",
        epilog=_RULES_EPILOG,
    )
    _add_format(rules, ("text", "json"))
    _add_common(rules)
    rules.set_defaults(func=_lazy("rules"))


def _add_tree(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tree = _command(
        sub,
        "tree",
        help="show the part tree of a message",
        description="Show every part: path, content type, charset, transfer encoding, size, "
        "file name and the findings in it.",
        epilog=_TREE_EPILOG,
    )
    tree.add_argument("file", metavar="FILE", help="the message file, or - for standard input")
    tree.add_argument("--profile", choices=list(PROFILES), help="validation profile")
    _add_format(tree, ("text", "json"))
    _add_config(tree)
    _add_common(tree)
    tree.set_defaults(func=_lazy("tree"))


def _add_gateway(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._cli_gateway import add_parser  # mimeguard gateway (docs/gateway.md)

    add_parser(sub, _Formatter)


#: The subcommands, in the order ``--help`` lists them: (name, the function adding it).
#: A new command is one function and one entry here.
COMMANDS: list[
    tuple[str, Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]
] = [
    ("check", _add_check),
    ("fix", _add_fix),
    ("edit", _add_edit),
    ("explain", _add_explain),
    ("rules", _add_rules),
    ("tree", _add_tree),
    ("gateway", _add_gateway),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Parse, validate and repair raw email for Amazon WorkMail.",
        epilog=_MAIN_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _name, add in COMMANDS:
        add(sub)
    return parser


def _lazy(name: str) -> Callable[[argparse.Namespace, Streams], int]:
    """``cmd_<name>``, imported when the command runs (``fix`` and ``edit`` need the edit API)."""
    module = "_cli_edit" if name in ("fix", "edit") else "_cli_show"

    def command(args: argparse.Namespace, streams: Streams) -> int:
        found = importlib.import_module(f".{module}", __package__)
        status: int = getattr(found, f"cmd_{name}")(args, streams)
        return status

    return command


# -- shared machinery -----------------------------------------------------------------------------


class Streams:
    """Where a command writes: looked up when ``main`` runs (so captured output works)."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def error(self, message: str) -> None:
        self.err.write(f"{PROG}: error: {message}\n")

    def warn(self, message: str) -> None:
        self.err.write(f"{PROG}: warning: {message}\n")


class Selection:
    """Profile, rules and files as the configuration and the flags decide them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.config = _load(args)
        cfg = self.config
        self.profile: str = getattr(args, "profile", None) or cfg.profile or DEFAULT_PROFILE
        select = tuple(args.select) if getattr(args, "select", None) else cfg.select
        extend_select = tuple(getattr(args, "extend_select", None) or ())
        if extend_select:
            select = (select if select is not None else ("ALL",)) + extend_select
        ignore = tuple(args.ignore) if getattr(args, "ignore", None) else (cfg.ignore or ())
        ignore += tuple(getattr(args, "extend_ignore", None) or ())
        self.select = select
        self.ignore = ignore
        # Fail early, naming the bad code, rather than once per file.
        select_rules(self.profile, select=select, ignore=ignore)
        for pattern, codes in cfg.per_file_ignores:
            try:
                select_rules(self.profile, ignore=codes)
            except UnknownRuleError as exc:
                raise ConfigError(f"per-file-ignores {pattern!r}: {exc}") from None
        include = tuple(getattr(args, "include", None) or ()) or cfg.include
        self.include = DEFAULT_INCLUDE + tuple(p for p in include if p not in DEFAULT_INCLUDE)
        self.exclude = tuple(getattr(args, "exclude", None) or ()) or cfg.exclude
        self.force_exclude = bool(getattr(args, "force_exclude", False))
        self.stdin_filename: str | None = getattr(args, "stdin_filename", None)

    def targets(self, paths: Sequence[str]) -> list[Target]:
        """The files to work on; ``self.skipped`` counts what folder searches passed over."""
        self.skipped: Counter[str] = Counter()
        return list(
            discover(
                paths or ["."],
                self.config,
                include=self.include,
                exclude=self.exclude,
                force_exclude=self.force_exclude,
                stdin_filename=self.stdin_filename,
                skipped=self.skipped,
            )
        )

    def ignore_for(self, target: Target) -> tuple[str, ...]:
        """Codes ignored in this file: ``per-file-ignores`` matches."""
        if target.path == "-" and not self.stdin_filename:
            return ()
        return self.config.ignored_for(target.relpath)


def _load(args: argparse.Namespace) -> Config:
    if getattr(args, "isolated", False):
        return Config(root=Path.cwd().resolve())
    explicit: Path | None = getattr(args, "config", None)
    if explicit is not None and not explicit.is_file():
        raise ConfigError(f"{explicit}: no such configuration file")
    return load_config(explicit)


def read_stdin() -> bytes:
    return sys.stdin.buffer.read()


# -- check ----------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, streams: Streams) -> int:
    sel = Selection(args)
    settings = Settings(sel.profile, sel.select, sel.ignore, args.warnings_as_errors)
    targets = sel.targets(args.paths)
    summary = Summary(
        skipped_include=sel.skipped["include"], skipped_exclude=sel.skipped["exclude"]
    )
    out: TextIO = streams.out
    opened: TextIO | None = None
    if args.output_file:
        try:
            opened = open(args.output_file, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"{args.output_file}: {exc.strerror or exc}") from None
        out = opened
    try:
        style = Style(args.format in ("text", "concise") and color_enabled(out, args.color))
        reporter = make_reporter(
            args.format,
            out,
            style=style,
            profile=sel.profile,
            statistics=args.statistics,
            quiet=args.quiet,
            version=__version__,
        )
        err_style = Style(color_enabled(streams.err, args.color))
        tasks: list[Task] = []
        missing: list[Target] = []
        for t in targets:
            if t.error is not None:
                missing.append(t)
            elif t.path == "-":
                tasks.append(Task("-", t.display, sel.ignore_for(t), read_stdin()))
            else:
                tasks.append(Task(t.path, t.display, sel.ignore_for(t)))
        shown = {t.path: t.display for t in tasks if t.data is None}
        found = [(shown[p], why) for p, why in normalised(shown)]
        if found:  # once per run, however many files it concerns
            streams.warn(gitattrs_warning(found))
        reporter.start()
        for t in missing:
            result = FileResult(t.display, error=t.error)
            streams.err.write(
                f"{err_style(t.display, 'bold')}: {err_style('error', 'red')}: {t.error}\n"
            )
            summary.add(result)
            reporter.file(result)
        if not tasks and not missing:
            streams.warn("no message files found (looked for " + ", ".join(sel.include) + ")")
        progress = Progress(
            streams.err, len(tasks), enabled=not args.quiet and _isatty(streams.err)
        )
        jobs = args.jobs or default_jobs()
        for result in run(tasks, settings, jobs):
            summary.add(result)
            loud = bool(result.hits) or result.error is not None
            if loud:
                progress.clear()
            if result.error is not None:
                streams.err.write(
                    f"{err_style(result.display, 'bold')}: {err_style('error', 'red')}: "
                    f"{result.error}\n"
                )
                streams.err.flush()
            if reporter.file(result):
                out.flush()
            progress.advance(force=loud)
        progress.clear()
        summary.exit_code = 2 if summary.failures else (1 if summary.errors else 0)
        reporter.finish(summary)
        out.flush()
    finally:
        if opened is not None:
            opened.close()
    return summary.exit_code


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    streams = Streams(sys.stdout, sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.func(args, streams)
        return status
    except (UsageError, ConfigError, UnknownRuleError, UnknownProfileError) as exc:
        streams.error(str(exc))
        return 2
    except KeyboardInterrupt:
        streams.err.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (``mimeguard check … | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            os.dup2(devnull, sys.stdout.fileno())
        return 1
