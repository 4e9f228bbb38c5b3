"""The import graph of a package and the layer rules DESIGN.md sets for unmask (test helper).

Every ``import`` and ``from … import`` of the package, at module level or inside a function (a
lazy import still ties two modules together), becomes an edge between modules. A ``from pkg
import name`` where ``pkg.name`` is a module is an edge to that module, and where ``name`` is
defined in ``pkg/__init__.py`` an edge to the package. Importing ``a.b.c`` also runs the
``__init__`` of ``a`` and ``a.b``: edges to those, except to the importing module's own enclosing
packages, whose ``__init__`` has run before it anyway (so a package may re-export its modules
without counting as a circle with them). Only ``TYPE_CHECKING`` blocks are left out: they never
run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    """The dotted name of a source file under ``root`` (the folder holding the top package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_of(child))
            continue
        yield from _imports_of(node)


def _imports_of(node: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
        return
    if isinstance(node, ast.If) and _is_type_checking(node):
        for child in node.orelse:
            yield from _imports_of(child)
        return
    for child in ast.iter_child_nodes(node):
        yield from _imports_of(child)


def import_graph(root: Path, package: str) -> Graph:
    """Module → the modules of ``package`` it imports, for every ``.py`` file of the package."""
    files = {module_name(root, p): p for p in (root / package).rglob("*.py")}
    graph: Graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            explicit: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
                explicit = list(targets)
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                modules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in files]
                targets = [target, *modules]
                explicit = modules + ([target] if len(modules) < len(node.names) else [])
            for target in targets:
                if target != package and not target.startswith(package + "."):
                    continue
                # Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c: an edge to each that exists.
                pieces = target.split(".")
                for i in range(2, len(pieces) + 1):
                    prefix = ".".join(pieces[:i])
                    if prefix not in files or prefix == name:
                        continue
                    if name.startswith(prefix + ".") and prefix not in explicit:
                        continue  # the importing module's own package: its __init__ ran first
                    deps.add(prefix)
        graph[name] = deps
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


@dataclass(frozen=True)
class Rule:
    """Modules matching ``what`` (a dotted prefix) may import nothing matching ``forbidden``, except
    modules matching ``allowed``."""

    what: str
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    why: str = ""


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(graph: Graph, rules: Iterable[Rule]) -> list[str]:
    """Every import that breaks a rule, as ``a imports b: why``."""
    out: list[str] = []
    for rule in rules:
        for module, deps in sorted(graph.items()):
            if not _under(module, rule.what):
                continue
            for dep in sorted(deps):
                if _under(dep, rule.what):
                    continue  # a layer's own modules may import each other
                if any(_under(dep, f) for f in rule.forbidden) and not any(_under(dep, a) for a in rule.allowed):
                    out.append(f"{module} imports {dep}: {rule.why}")
    return out


# The layers of unmask, bottom up (DESIGN.md "Layers"): each may import only what lies below it.
EVERYTHING = ("unmask",)
RULES = (
    Rule("unmask.model", EVERYTHING, why="model is the lowest layer and imports nothing from unmask"),
    Rule("unmask.errors", EVERYTHING, why="errors imports nothing from unmask"),
    Rule("unmask.safetext", EVERYTHING, why="safetext imports nothing from unmask"),
    Rule("unmask.timeutil", EVERYTHING, ("unmask.errors",), why="timeutil sits at the bottom"),
    Rule("unmask.budget", EVERYTHING, ("unmask.errors",), why="budgets sit at the bottom, below the formats"),
    Rule("unmask.formats", EVERYTHING, ("unmask.formats", "unmask.errors", "unmask.timeutil", "unmask.budget"),
         why="format readers sit below acquisitions and parsers"),
    Rule("unmask.observables", EVERYTHING, ("unmask.model",), why="observables sit just above model"),
    Rule("unmask.acquisition", EVERYTHING,
         ("unmask.acquisition", "unmask.formats", "unmask.model", "unmask.errors", "unmask.timeutil",
          "unmask.observables", "unmask.budget"),
         why="acquisitions sit below parsers, detectors and writers"),
    Rule("unmask.parsers",
         ("unmask.detect", "unmask.report", "unmask.api", "unmask.recheck", "unmask.results", "unmask.cli",
          "unmask.intel", "unmask.store", "unmask.many"),
         why="parsers yield facts: never detect, report or orchestrate"),
    Rule("unmask.detect", ("unmask.report", "unmask.api", "unmask.recheck", "unmask.results", "unmask.cli",
                           "unmask.store", "unmask.many"),
         why="detectors never reach the writers or the orchestrator"),
    Rule("unmask.results", ("unmask.report", "unmask.api", "unmask.recheck", "unmask.cli", "unmask.store",
                            "unmask.many"),
         why="results sit below the writers and the orchestrator"),
    Rule("unmask.report", ("unmask.api", "unmask.recheck", "unmask.cli", "unmask.store", "unmask.many"),
         why="report never imports the orchestrator"),
    Rule("unmask.api", ("unmask.cli", "unmask.recheck", "unmask.many"), why="the CLI sits on the library, not under it"),
    Rule("unmask.recheck", ("unmask.store", "unmask.many"), why="recheck sits below the case store that re-hunts with it"),
    Rule("unmask.store", ("unmask.api", "unmask.cli", "unmask.many"),
         why="the case store sits above results and writers, below the orchestrator and the CLI"),
    Rule("unmask.many", ("unmask.cli",), why="check-many sits on the orchestrator, below the CLI"),
)
