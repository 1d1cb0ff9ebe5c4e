"""The package's shape, read from its source: layers, sizes, and who may import what.

docs/architecture.md describes the layers; these tests keep the code to it.  Imports
are read from the AST (module-level and inside functions alike), so a late import
that hides a cycle from Python's import machinery does not hide it here.  Imports
under ``if TYPE_CHECKING:`` never run and are left out of the graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mimeguard"

MAX_MODULE_LINES = 900
MAX_FUNCTION_LINES = 120

#: The faces: the command line, the gateways and the hypothesis strategies.  Only
#: they (and the private modules that serve only them) may reach optional extras.
FACES: tuple[str, ...] = ("mimeguard.cli", "mimeguard.__main__", "mimeguard.workmail")
FACES += ("mimeguard.ses", "mimeguard.gateway", "mimeguard.strategies")
FACE_PREFIXES = ("mimeguard._cli_", "mimeguard.strategies.")
#: Private modules below the faces that exist for them (configuration, AWS, logging).
FACE_SUPPORT: tuple[str, ...] = ("mimeguard.recipe", "mimeguard._aws", "mimeguard._jsonlog")
FACE_SUPPORT += ("mimeguard._messageflow", "mimeguard._ses_inbound", "mimeguard._transit")
FACE_SUPPORT += ("mimeguard._config",)
#: Optional extras no module may import when it is itself imported (only when used).
EXTRAS = frozenset({"boto3", "botocore", "aiosmtpd", "dkim", "authres", "dns"})


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str, paths: dict[str, Path]) -> bool:
    return paths[name].name == "__init__.py"


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement that can run, with whether it runs on import of the module
    (anywhere but inside a function body)."""

    def visit(
        nodes: list[ast.AST], top: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in nodes:
            if isinstance(child, ast.If) and _type_checking(child.test):
                yield from visit(list(child.orelse), top)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, top
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            yield from visit(list(ast.iter_child_nodes(child)), inner)

    yield from visit(list(tree.body), True)


def resolve(name: str, node: ast.Import | ast.ImportFrom, paths: dict[str, Path]) -> set[str]:
    """The package modules ``node`` (in module ``name``) imports."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in paths}
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = name.split(".") if is_package(name, paths) else name.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, node.module] if node.module else anchor)
    if base != "mimeguard" and not base.startswith("mimeguard."):
        return set()
    out = {base} if base in paths and base != "mimeguard" else set()
    # ``from . import _html`` and ``from .strategies import _blocks`` import modules
    out |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in paths}
    return out


def graph() -> dict[str, set[str]]:
    paths = modules()
    edges: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node, _ in imports(tree):
            found |= resolve(name, node, paths)
        edges[name] = found - {name}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def is_face(name: str) -> bool:
    return name in FACES or name.startswith(FACE_PREFIXES)


# -- the checker checks ------------------------------------------------------------------------


def test_the_graph_sees_relative_function_level_and_submodule_imports() -> None:
    edges = graph()
    assert "mimeguard._results" in edges["mimeguard._repair"]  # inside a function
    assert "mimeguard._html" in edges["mimeguard._disclaimer"]  # from . import _html
    assert "mimeguard.arc" in edges["mimeguard.recipe"]  # a late import
    assert "mimeguard._rules.encoding" in edges["mimeguard._disclaimer"]
    assert "mimeguard.strategies._blocks" in edges["mimeguard.strategies._messages"]


def test_find_cycle_finds_late_import_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_type_checking_imports_are_left_out() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .edit import Change\n"
        "else:\n    from ._results import Change\n"
    )
    names = [n.module for n, _ in imports(tree) if isinstance(n, ast.ImportFrom)]
    assert names == ["typing", "_results"]


# -- the package -------------------------------------------------------------------------------


def test_no_import_cycle_in_the_package() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle or ())


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_over_900_lines(name: str) -> None:
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines: split it by concept"


def test_no_function_over_120_lines() -> None:
    long: list[str] = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name} ({size} lines)")
    assert not long, long


def test_optional_extras_are_imported_only_when_used() -> None:
    # ``import mimeguard.workmail`` without boto3 installed must work (docs/workmail.md)
    eager: list[str] = []
    for name, path in modules().items():
        for node, top in imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not top:
                continue
            targets = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            for target in targets:
                if target and target.split(".")[0] in EXTRAS:
                    eager.append(f"{name}: {target}")
    assert not eager, eager


def test_hypothesis_is_imported_only_by_the_strategies() -> None:
    users: list[str] = []
    for name, path in modules().items():
        for node, _ in imports(ast.parse(path.read_text(encoding="utf-8"))):
            absolute = isinstance(node, ast.Import) or node.level == 0
            targets = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            hits = [t for t in targets if absolute and t and t.split(".")[0] == "hypothesis"]
            if hits and not (name == "mimeguard.strategies" or name.startswith(FACE_PREFIXES[1])):
                users.append(name)
    assert not users, users


def test_nothing_below_the_faces_imports_them() -> None:
    edges = graph()
    upward = sorted(
        f"{src} -> {dst}"
        for src, dsts in edges.items()
        if not is_face(src) and src != "mimeguard" and src not in FACE_SUPPORT
        for dst in dsts
        if is_face(dst) or dst in FACE_SUPPORT
    )
    assert not upward, upward


def test_support_modules_do_not_import_the_faces() -> None:
    edges = graph()
    upward = sorted(f"{src} -> {dst}" for src in FACE_SUPPORT for dst in edges[src] if is_face(dst))
    assert not upward, upward


# -- the grammar lives in _abnf (issue 14 section 4) -------------------------------------------

GRAMMAR = "mimeguard._abnf"
#: The strategies are a deliberate oracle (issue 14 section 6): their encoders and
#: limits are written independently of the package they test.
ORACLE = "mimeguard.strategies"
#: Numbers that are RFC limits (RFC 5322 section 2.1.1): written as a literal only in
#: the grammar module.  (76, RFC 2045's encoded-line limit, is also a plain wrap width
#: in a bounce text, so it is left to review.)
LIMITS = frozenset({998, 78})
MIN_FRAGMENT = 12
_EOL_PIECES = ("\\r\\n", "\\r", "\\n")
#: Every way a line-ending alternation has been spelt, as regex source and as the
#: characters themselves (a non-raw literal).
EOL_SPELLINGS = frozenset(
    {f"{a}|{b}|{c}" for a in _EOL_PIECES for b in _EOL_PIECES for c in _EOL_PIECES}
    | {"\\r?\\n|\\r", "\\r|\\r?\\n", "\r\n|\r|\n", "\r\n|\n|\r", "\r?\n|\r"}
)


def _grammar_fragments() -> frozenset[str]:
    """The character classes and patterns ``_abnf`` owns, as source text."""
    from mimeguard import _abnf

    out: set[str] = set()
    for name in _abnf.__all__:
        value = getattr(_abnf, name)
        if isinstance(value, str):  # a character class's contents or a pattern's source
            out.add(value)
        elif hasattr(value, "pattern"):
            pattern = value.pattern
            out.add(pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern)
    # a one-character pattern (NUL, a bare CR) is too short a spelling to claim
    return EOL_SPELLINGS | {f for f in out if len(f) >= MIN_FRAGMENT}


def grammar_copies(source: str, fragments: frozenset[str]) -> list[str]:
    """Where ``source`` spells a limit or a pattern of ``_abnf`` itself (line: what)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Constant):
            continue
        value = node.value
        if type(value) is int and value in LIMITS:
            found.append(f"{node.lineno}: the limit {value}")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            found += [f"{node.lineno}: {f!r}" for f in sorted(fragments) if f in value]
    return found


def test_the_grammar_checker_finds_copies() -> None:
    fragments = _grammar_fragments()
    planted = (
        'import re\nA = re.compile(rb"\\r\\n|\\r|\\n")\nB = re.compile("\\r?\\n|\\r")\n'
        "C = 998\nF = 78\n"
        'D = re.compile(r"[!#$%&\'*+\\-.0-9A-Z^_`a-z{|}~]+")\n'
        'E = re.compile(r"[0-9A-Za-z\'()+_,\\-./:=?]{1,70}")\n'
    )
    lines = {hit.split(":")[0] for hit in grammar_copies(planted, fragments)}
    assert lines == {"2", "3", "4", "5", "6", "7"}
    composed = (
        "from . import _abnf as g\nimport re\n"
        'A = re.compile(rf"[{g.TOKEN_CHARS}]+")\nB = g.EOL\nC = g.MAX_LINE_OCTETS + 1\n'
    )
    assert grammar_copies(composed, fragments) == []


def test_the_grammar_is_written_once() -> None:
    """No module outside ``_abnf`` spells a line-ending regex, a shared character class
    or pattern, or the 998 limit: it imports them, so no copy can drift."""
    fragments = _grammar_fragments()
    copies = [
        f"{name}:{hit}"
        for name, path in modules().items()
        if name != GRAMMAR and not (name == ORACLE or name.startswith(ORACLE + "."))
        for hit in grammar_copies(path.read_text(encoding="utf-8"), fragments)
    ]
    assert not copies, copies
