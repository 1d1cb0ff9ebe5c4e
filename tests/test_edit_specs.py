"""The edit specs (issue 14 section 3): each option declared and checked once, reached
alike from the ``Editor``, the ``Recipe`` and ``mimeguard edit``; one parse of the input
and one validation of the output per session."""

from __future__ import annotations

import argparse
import base64
import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from mimeguard import (
    SES_BLOCKED,
    Editor,
    InvalidMessageError,
    Message,
    Part,
    _parser,
    _specs,
    validation,
)
from mimeguard._cli_edit import _given, _label
from mimeguard._rules._fixture import build as build_message
from mimeguard._specs import (
    SPECS,
    Disclaimer,
    Repair,
    Spec,
    StripAttachments,
    SubjectRewrite,
    build,
    options,
)
from mimeguard._transit import apply_recipe, is_marked, mark
from mimeguard.cli import build_parser
from mimeguard.recipe import ConfigurationError, Recipe

from .conftest import EXAMPLES

# -- each spec rejects bad options when it is made ----------------------------------------------

BAD: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: Disclaimer(text=None), TypeError, "text must be a str"),  # type: ignore[arg-type]
    (lambda: Disclaimer(text=b"x"), TypeError, "not bytes"),  # type: ignore[arg-type]
    (lambda: Disclaimer(text=" \r\n\t "), ValueError, "empty"),
    (lambda: Disclaimer(text="a\ud800b"), ValueError, "lone surrogate"),
    (lambda: Disclaimer(text="x", html=5), TypeError, "html must be a str or None"),  # type: ignore[arg-type]
    (lambda: Disclaimer(text="x", html="<p>\udc80</p>"), ValueError, "lone surrogate"),
    (lambda: Disclaimer(text="x", position="middle"), ValueError, "position must be"),  # type: ignore[arg-type]
    (lambda: Disclaimer(text="x", position="TOP"), ValueError, "position must be"),  # type: ignore[arg-type]
    (lambda: Disclaimer(text="x", on_signed="ignore"), ValueError, "on_signed"),  # type: ignore[arg-type]
    (lambda: Disclaimer(text="x", on_no_text="maybe"), ValueError, "on_no_text"),  # type: ignore[arg-type]
    (lambda: SubjectRewrite(prefix=None), TypeError, "prefix must be a str"),  # type: ignore[arg-type]
    (lambda: SubjectRewrite(prefix="[x]\r\nBcc: a@b"), ValueError, "CR or LF"),
    (lambda: SubjectRewrite(suffix="\n"), ValueError, "CR or LF"),
    (lambda: SubjectRewrite(suffix="\r"), ValueError, "CR or LF"),
    (lambda: SubjectRewrite(replace="new\r\nTo: x"), ValueError, "CR or LF"),
    (lambda: SubjectRewrite(replace=3), TypeError, "replace must be"),  # type: ignore[arg-type]
    (lambda: SubjectRewrite(prefix="\udfff"), ValueError, "lone surrogate"),
    (lambda: StripAttachments(match=[]), ValueError, "at least one pattern"),
    (lambda: StripAttachments(match=["*.exe", "  "]), ValueError, "empty pattern"),
    (lambda: StripAttachments(match=[5]), TypeError, "a pattern or a callable"),  # type: ignore[list-item]
    (lambda: StripAttachments(match=5), TypeError, "not iterable"),  # type: ignore[arg-type]
    (lambda: StripAttachments(match="*.exe", notice="{name}"), ValueError, "not a valid template"),
    (lambda: StripAttachments(match="*.exe", notice="{"), ValueError, "not a valid template"),
    (lambda: StripAttachments(match="*.exe", notice="{0}"), ValueError, "not a valid template"),
    (lambda: StripAttachments(match="*.exe", notice="{size.real}"), ValueError, "not a valid"),
    (lambda: StripAttachments(match="*.exe", notice=b"gone"), TypeError, "notice must be"),  # type: ignore[arg-type]
    (lambda: StripAttachments(match="*.exe", descend="yes"), TypeError, "descend must be a bool"),  # type: ignore[arg-type]
    (lambda: Repair(envelope_from="a@b.org\r\nBcc: c@d"), ValueError, "CR or LF"),
    (lambda: Repair(envelope_from=5), TypeError, "envelope_from must be"),  # type: ignore[arg-type]
    (lambda: Repair(now="today"), TypeError, "now must be a datetime"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "error", "message"), BAD)
def test_a_spec_rejects_bad_options_when_made(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make()


def test_the_editor_methods_raise_what_the_spec_raises() -> None:
    data = build_message()
    cases: list[tuple[Callable[[], object], Callable[[], object]]] = [
        (lambda: Editor(data).add_disclaimer(text="  "), lambda: Disclaimer(text="  ")),
        (
            lambda: Editor(data).rewrite_subject(prefix="a\nb"),
            lambda: SubjectRewrite(prefix="a\nb"),
        ),
        (
            lambda: Editor(data).strip_attachments(match=["*.x"], notice="{x}"),
            lambda: StripAttachments(match=["*.x"], notice="{x}"),
        ),
        (lambda: Editor(data, envelope_from="a\rb"), lambda: Repair(envelope_from="a\rb")),
        (lambda: Editor(data).repair(now=1), lambda: Repair(now=1)),  # type: ignore[arg-type]
    ]
    for via_editor, via_spec in cases:
        with pytest.raises((TypeError, ValueError)) as editor_error:
            via_editor()
        with pytest.raises((TypeError, ValueError)) as spec_error:
            via_spec()
        assert type(editor_error.value) is type(spec_error.value)
        assert str(editor_error.value) == str(spec_error.value)


def test_a_generator_of_patterns_is_read_once_and_kept() -> None:
    spec = StripAttachments(match=(p for p in ("*.exe", "*.js")))
    assert spec.match == ("*.exe", "*.js")
    data = build_message(
        body=b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/"
        b"octet-stream\r\nContent-Disposition: attachment; filename=a.js\r\n\r\nx\r\n--b--\r\n",
        mime=(b'Content-Type: multipart/mixed; boundary="b"',),
    )
    for _ in range(2):  # the same spec applied twice strips twice
        result = Editor(data)._append(spec).result()
        assert [c.kind for c in result.changes] == ["removed"]


def test_errors_name_the_option_as_each_caller_gave_it() -> None:
    with pytest.raises(ValueError, match=r"^subject_prefix must not contain CR or LF"):
        Recipe(subject_prefix="a\r\nBcc: x")
    with pytest.raises(ValueError, match=r"^strip_notice '{x}' is not a valid template"):
        Recipe(strip=("*.exe",), strip_notice="{x}")
    with pytest.raises(ValueError, match=r"^disclaimer_html needs disclaimer_text"):
        Recipe(disclaimer_html="<p>x</p>")
    with pytest.raises(TypeError, match=r"^repair must be a bool"):
        Recipe(repair="yes")  # type: ignore[arg-type]
    args = _parse("--subject-prefix", "a\nb")
    with pytest.raises(ValueError, match=r"^--subject-prefix must not contain CR or LF"):
        build(SubjectRewrite, _given(args, SubjectRewrite), _label(SubjectRewrite))
    with pytest.raises(ValueError, match=r"^--disclaimer-html needs --disclaimer-text"):
        build(Disclaimer, _given(_parse("--disclaimer-html", "x"), Disclaimer), _label(Disclaimer))


# -- the Editor, the Recipe and the command line reach the same spec ---------------------------


def _edit_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = sub.choices["edit"]
    return parser


def _parse(*flags: str) -> argparse.Namespace:
    return _edit_parser().parse_args(["in.eml", *flags])


def test_the_cli_flags_are_the_specs_flags() -> None:
    declared = {f.name: f for spec in SPECS for _, o in options(spec) for f in o.flags}
    parser = _edit_parser()
    by_flag = {s: a for a in parser._actions for s in a.option_strings}
    assert set(declared) <= set(by_flag)
    others = set(by_flag) - set(declared)
    assert others == {"-h", "--help", "-o", "--output", "--profile", "-q", "--quiet", "--version"}
    for name, flag in declared.items():
        action = by_flag[name]
        assert action.help == flag.help
        assert tuple(action.choices or ()) == (flag.choices or ())
        assert isinstance(action, argparse._AppendAction) == flag.repeat
        assert isinstance(action, argparse._StoreTrueAction) == flag.switch
    # every flag the command had before still parses
    for flags in (
        ["--disclaimer-text", "t", "--disclaimer-html", "h", "--position", "top"],
        ["--on-signed", "wrap", "--subject-prefix", "[x]", "--subject-suffix", "!"],
        ["--strip", "*.exe", "--strip", "image/*", "--strip-preset", "ses-blocked"],
        ["--strip-notice", "gone", "--repair", "--envelope-from", "a@b.org"],
    ):
        _parse(*flags)


def test_the_recipe_fields_are_the_specs_options() -> None:
    recipe_fields = {f.name: f for f in dataclasses.fields(Recipe)}
    named = 0
    for spec in SPECS:
        spec_fields = {f.name: f for f in dataclasses.fields(spec)}
        for name, option in options(spec):
            if option.recipe is None:
                assert option.env is None
                continue
            named += 1
            assert option.recipe in recipe_fields and option.env is not None
            spec_field = spec_fields.get(name)
            if spec_field is not None and spec_field.default is not dataclasses.MISSING:
                # a field the recipe leaves at its default leaves the spec at its own
                assert recipe_fields[option.recipe].default == spec_field.default, name
    assert named == 9


#: a value for each kind of MIMEGUARD_* variable and what the recipe field becomes
ENV_SAMPLES: dict[str, tuple[str, object]] = {
    "MIMEGUARD_DISCLAIMER_TEXT": ("Outside", "Outside"),
    "MIMEGUARD_DISCLAIMER_HTML": ("<p>Outside</p>", "<p>Outside</p>"),
    "MIMEGUARD_DISCLAIMER_POSITION": (" TOP ", "top"),
    "MIMEGUARD_ON_SIGNED": ("Wrap", "wrap"),
    "MIMEGUARD_SUBJECT_PREFIX": ("[EXT] ", "[EXT] "),
    "MIMEGUARD_SUBJECT_SUFFIX": (" (ext)", " (ext)"),
    "MIMEGUARD_STRIP": ("*.exe, ses-blocked", ("*.exe", "ses-blocked")),
    "MIMEGUARD_STRIP_NOTICE": ("None", None),
    "MIMEGUARD_REPAIR": ("off", False),
}


def test_from_env_reads_each_specs_variable() -> None:
    declared = {o.env: o.recipe for spec in SPECS for _, o in options(spec) if o.env and o.recipe}
    assert set(declared) == set(ENV_SAMPLES)
    for env, field in declared.items():
        value, expected = ENV_SAMPLES[env]
        recipe = Recipe.from_env({"MIMEGUARD_DISCLAIMER_TEXT": "Outside", env: value})
        assert getattr(recipe, field) == expected, env
    with pytest.raises(ConfigurationError, match="MIMEGUARD_REPAIR"):
        Recipe.from_env({"MIMEGUARD_REPAIR": "perhaps"})


def _by_type(specs: list[Spec]) -> dict[type[Spec], Spec]:
    return {type(s): s for s in specs}


def test_editor_recipe_and_cli_make_the_same_specs() -> None:
    data = build_message()
    recipe = Recipe(
        disclaimer_text="Note",
        position="top",
        on_signed="wrap",
        subject_prefix="[X] ",
        subject_suffix=" !",
        strip=("*.exe", "ses-blocked"),
        strip_notice="gone: {filename}",
        repair=True,
    )
    editor = (
        Editor(data, repair=True, envelope_from="a@b.org")
        .strip_attachments(match=["*.exe", *SES_BLOCKED], notice="gone: {filename}")
        .add_disclaimer(text="Note", position="top", on_signed="wrap")
        .rewrite_subject(prefix="[X] ", suffix=" !")
    )
    args = _parse(
        "--disclaimer-text", "Note", "--position", "top", "--on-signed", "wrap",
        "--subject-prefix", "[X] ", "--subject-suffix", " !", "--strip", "*.exe",
        "--strip-preset", "ses-blocked", "--strip-notice", "gone: {filename}",
        "--repair", "--envelope-from", "a@b.org",
    )  # fmt: skip
    cli = [s for spec in SPECS if (s := build(spec, _given(args, spec), _label(spec)))]
    from_recipe = recipe.editor(data, envelope_from="a@b.org")
    expected = _by_type([*editor._specs, Repair(envelope_from="a@b.org")])
    assert editor._repair == Repair(envelope_from="a@b.org")
    assert _by_type([*from_recipe._specs, *filter(None, [from_recipe._repair])]) == expected
    assert _by_type(cli) == expected
    assert len(cli) == len(expected) == 4


def test_repair_is_a_spec_run_first_wherever_it_is_asked_for() -> None:
    data = (EXAMPLES / "broken-missing-date.eml").read_bytes()
    now = datetime(2026, 1, 2, 3, 4, 5)
    chained = Editor(data).rewrite_subject(prefix="[X] ").repair(now=now).result()
    keyword = Editor(data, repair=True, now=now).rewrite_subject(prefix="[X] ").result()
    assert chained.data == keyword.data
    assert [str(c) for c in chained.changes] == [str(c) for c in keyword.changes]
    assert chained.changes[0].kind == "repaired"


def test_a_recipe_without_edits_makes_none() -> None:
    assert Recipe(repair=False)._edit_specs() == []
    assert not Recipe(repair=True, position="top", strip_notice=None).has_edits
    assert [type(s) for s in Recipe()._edit_specs()] == [Repair]


# -- parses and validations per run ------------------------------------------------------------


class Counts:
    """Full parses and validations, those inside ``repair_message`` counted apart (its
    rounds are its own business), and all of them in :attr:`total`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parse = self.validate = self.repairs = 0
        self.total = [0, 0]
        self.inside = False
        run = _parser._Parser.run
        # looked up where they are called: validate builds a Context per run
        context = vars(validation)["Context"]
        repair_message = vars(_specs)["repair_message"]

        def counting_run(parser: Any) -> None:
            self.parse += not self.inside
            self.total[0] += 1
            run(parser)

        def counting_context(*args: Any, **kwargs: Any) -> Any:
            self.validate += not self.inside
            self.total[1] += 1
            return context(*args, **kwargs)

        def counting_repair(*args: Any, **kwargs: Any) -> Any:
            self.repairs += 1
            self.inside = True
            try:
                return repair_message(*args, **kwargs)
            finally:
                self.inside = False

        monkeypatch.setattr(_parser._Parser, "run", counting_run)
        monkeypatch.setattr(validation, "Context", counting_context)
        monkeypatch.setattr(_specs, "repair_message", counting_repair)

    def __call__(self) -> tuple[int, int, int]:
        found = (self.parse, self.validate, self.repairs)
        self.parse = self.validate = self.repairs = 0
        return found

    def totals(self) -> tuple[int, int]:
        """Every parse and validation, repair's rounds included."""
        found = (self.total[0], self.total[1])
        self.total = [0, 0]
        return found


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    return Counts(monkeypatch)


def _pipeline(data: bytes) -> None:
    (
        Editor(data, repair=True)
        .add_disclaimer(text="Outside")
        .rewrite_subject(prefix="[EXT] ")
        .strip_attachments(match=["*.pdf", "*.exe"])
        .result()
    )


# (parses, validations, repairs) outside repair_message, then every (parse, validation).
# Outside: the input once, the output once (the integrity check and the validation share
# it), the root header block the immutable fields are compared with, and one more where
# an edit must see an earlier one's result (the strip before repair that removed
# something).  Repair validates what it is given, and after a round that changed
# something parses and validates its output once more (the fixed point).
@pytest.mark.parametrize(
    ("name", "expected", "totals"),
    [
        ("clean-plain.eml", (3, 1, 1), (3, 2)),  # nothing to strip, nothing to repair
        ("clean-attachment.eml", (4, 1, 1), (4, 2)),  # the PDF stripped before repair
        ("broken-missing-date.eml", (3, 1, 1), (4, 3)),  # repair adds a Date
        ("broken-lf-line-endings.eml", (3, 1, 1), (4, 3)),  # repair rewrites line endings
    ],
)
def test_the_repairing_pipeline_parses_the_input_once(
    counts: Counts, name: str, expected: tuple[int, int, int], totals: tuple[int, int]
) -> None:
    _pipeline((EXAMPLES / name).read_bytes())
    assert counts() == expected
    assert counts.totals() == totals


def test_an_edit_without_repair_parses_the_input_once(counts: Counts) -> None:
    data = (EXAMPLES / "clean-attachment.eml").read_bytes()
    Editor(data).rewrite_subject(prefix="[EXT] ").add_disclaimer(text="Outside").result()
    assert counts() == (3, 1, 0)
    parsed = _parser.parse(data)
    counts()
    Editor(parsed).rewrite_subject(prefix="[EXT] ").result()  # a parse given is used
    assert counts() == (2, 1, 0)


def test_a_gateway_run_validates_the_output_twice_and_parses_it_once(counts: Counts) -> None:
    data = (EXAMPLES / "clean-attachment.eml").read_bytes()
    recipe = Recipe(disclaimer_text="Outside", subject_prefix="[EXT] ", strip=("*.pdf",))
    applied = apply_recipe(data, recipe, profile="workmail", envelope_from="a@b.org")
    assert applied.result == "edited"
    # the edit's own check against the repaired header, and final_report's against the
    # message as received: both read the edit's parses
    assert counts() == (4, 2, 1)


def test_the_loop_mark_parses_once_unless_a_mark_is_cut(counts: Counts) -> None:
    data = (EXAMPLES / "clean-plain.eml").read_bytes()
    key = b"k" * 32
    assert not is_marked(data, gateway_id="gw", key=key)
    assert counts()[0] == 1
    marked = mark(data, gateway_id="gw", key=key)
    assert counts()[0] == 1
    assert is_marked(marked, gateway_id="gw", key=key)
    assert counts()[0] == 2
    assert mark(marked, gateway_id="gw", key=key) == marked
    assert counts()[0] == 2


# -- what a caller may hand in --------------------------------------------------------------

RENAMED_EXE = (
    b"From: a@example.com\r\nTo: b@example.org\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    b"--b1\r\nContent-Type: text/plain\r\n\r\nHi\r\n--b1\r\n"
    b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="q3.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAFJFTkFNRUQtRVhF\r\n--b1--\r\n"
)


@pytest.mark.parametrize(
    "flags",
    [
        ("--strip-preset", "executables"),
        ("--strip", "executables"),
        ("--strip", "EXECUTABLES"),  # a preset name in any case, as Recipe.strip reads it
        ("--strip", "*.zip", "--strip-preset", "executables"),
    ],
)
def test_the_cli_strips_renamed_executables_by_content(flags: tuple[str, ...]) -> None:
    args = _parse(*flags)
    spec = build(StripAttachments, _given(args, StripAttachments), _label(StripAttachments))
    assert spec is not None
    out = Editor(RENAMED_EXE)._append(spec).result()
    assert b"TVqQ" not in out.data and [c.kind for c in out.changes] == ["removed"]
    assert spec == Recipe(strip=tuple(flags[1::2]))._edit_specs()[1]


ENCODED_ATTACHED = build_message(
    body=b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
    b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(
        b"From: c@example.com\r\nTo: d@example.org\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <inner@example.com>\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain\r\n\r\ninner body\r\n"
    ).replace(b"\n", b"\r\n")
    + b"--b--\r\n",
    mime=(b'Content-Type: multipart/mixed; boundary="b"',),
)


@pytest.mark.parametrize("name", ["clean-forwarded.eml", "encoded-attached"])
def test_a_parsed_message_is_edited_as_its_bytes_are(name: str) -> None:
    data = ENCODED_ATTACHED if name == "encoded-attached" else (EXAMPLES / name).read_bytes()
    whole = _parser.parse(data)
    inner = [p for p in whole.walk() if isinstance(p, type(whole)) and p is not whole]
    assert inner, "the test needs an attached message"
    for given in (whole, *inner):
        assert _outcome(given) == _outcome(given.to_bytes())


def _outcome(data: bytes | Message) -> tuple[bytes, str]:
    try:
        result = Editor(data).add_disclaimer(text="Outside").result()
    except InvalidMessageError as exc:
        return b"", str(exc)
    return result.data, "; ".join(map(str, result.changes))


def test_a_recipe_field_of_the_wrong_type_is_reported_as_such() -> None:
    with pytest.raises(ValueError, match="position must be 'top' or 'bottom'"):
        Recipe(position=["top"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="disclaimer_text must be a str, not list"):
        Recipe(disclaimer_text=["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize("repaired", [False, True])
def test_strip_judges_each_parse_a_repairing_edit_makes_once(repaired: bool) -> None:
    data = (EXAMPLES / "clean-attachment.eml").read_bytes()
    if repaired:  # repair adds a Date: what it made is judged again
        head, sep, body = data.partition(b"\r\n\r\n")
        lines = head.splitlines(keepends=True)
        data = b"".join(line for line in lines if not line.startswith(b"Date:"))
        data += sep + body
    seen: list[str] = []

    def match(part: Part) -> bool:
        seen.append(part.path)
        return False

    result = Editor(data, repair=True).strip_attachments(match=match).result()
    assert any(c.kind != "removed" for c in result.changes) == repaired
    asked = sorted(set(seen))
    assert asked  # the attachment is asked about
    # repair changed nothing: the same parse is judged once, else each parse once
    assert sorted(seen) == sorted(asked * (2 if repaired else 1))
