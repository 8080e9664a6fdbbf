"""The apps depend one way: reviews -> governance -> portfolio, and the pure modules import no ORM.

Read from the source (ast), not from what happens to be imported at run time, so a lazy import inside a function
counts as much as one at the top: the only exception is a function that enqueues a task of another app (`.tasks`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import REPO

APPS = ("portfolio", "governance", "reviews")
# Which apps each app may import; everything else (the reverse direction) would make a cycle possible.
MAY_IMPORT = {"portfolio": set(), "governance": {"portfolio"}, "reviews": {"governance", "portfolio"}}
PURE = (
    "portfolio/calculations.py",
    "portfolio/costs/calculations.py",
    "portfolio/costs/forecasting.py",
    "governance/calculations.py",
    "reviews/calculations.py",
    "governance/sprawl/engine/*.py",
    "governance/signals/rules/*.py",
)
# What a pure module may not reach: the database layer, models, and the reads and writes built on them.
ORM_PARTS = {"models", "selectors", "services", "tasks"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the file
    target: str  # dotted module imported
    lazy: bool  # inside a function body
    type_only: bool  # under `if TYPE_CHECKING:`
    line: int

    @property
    def lazy_task(self) -> bool:
        return self.lazy and self.target.rsplit(".", 1)[-1] == "tasks"


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(
    source: str, module: str, *, is_package: bool = False, known: frozenset[str] = frozenset()
) -> list[Import]:
    """Every import in `source`, resolved to absolute dotted names; `from a import b` also names `a.b` when b is a
    module of the project (`known`)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(module, alias.name, lazy, type_only, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)] if child.level > 1 else anchor
                    base = ".".join([*anchor, base] if base else anchor)
                found.append(Import(module, base, lazy, type_only, child.lineno))
                for alias in child.names:
                    if f"{base}.{alias.name}" in known:
                        found.append(Import(module, f"{base}.{alias.name}", lazy, type_only, child.lineno))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for branch in child.body:
                    visit(ast.Module(body=[branch], type_ignores=[]), lazy, True)
                for branch in child.orelse:
                    visit(ast.Module(body=[branch], type_ignores=[]), lazy, type_only)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True, type_only)
            else:
                visit(child, lazy, type_only)

    visit(ast.parse(source), False, False)
    return found


def _project_files() -> list[Path]:
    return sorted(p for app in (*APPS, "tollgate") for p in (REPO / app).rglob("*.py") if "migrations" not in p.parts)


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    files = _project_files()
    known = frozenset(module_name(p) for p in files)
    found: list[Import] = []
    for path in files:
        found += imports_of(path.read_text(), module_name(path), is_package=path.name == "__init__.py", known=known)
    return found


def app_of(module: str) -> str:
    return module.split(".", 1)[0]


def describe(imports: list[Import]) -> list[str]:
    return [f"{i.importer}:{i.line} imports {i.target}" + (" (lazily)" if i.lazy else "") for i in imports]


# The parser itself ---------------------------------------------------------------------------------------------------


def test_the_parser_resolves_relative_lazy_and_type_only_imports():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import selectors\n"
        "from ..portfolio.models import Initiative\n"
        "if TYPE_CHECKING:\n"
        "    from reviews.models import ValueReport\n"
        "def enqueue():\n"
        "    from governance.sprawl.tasks import recompute\n"
        "    import reviews.services\n"
    )
    found = imports_of(source, "governance.views", known=frozenset({"governance.selectors"}))
    by_target = {i.target: i for i in found}
    assert by_target["governance.selectors"].lazy is False
    assert "portfolio.models" in by_target
    assert by_target["reviews.models"].type_only and not by_target["reviews.models"].lazy
    assert by_target["governance.sprawl.tasks"].lazy_task
    assert by_target["reviews.services"].lazy and not by_target["reviews.services"].lazy_task


def test_the_graph_sees_the_apps(graph):
    """A guard against a vacuous pass: the known one-way dependencies are found."""
    edges = {(app_of(i.importer), app_of(i.target)) for i in graph}
    assert ("reviews", "governance") in edges and ("governance", "portfolio") in edges


# The rules -----------------------------------------------------------------------------------------------------------


def test_governance_never_imports_reviews(graph):
    wrong = [i for i in graph if app_of(i.importer) == "governance" and app_of(i.target) == "reviews"]
    assert not wrong, describe(wrong)


def test_apps_depend_one_way(graph):
    """reviews -> governance -> portfolio, lazy imports included; only a lazy import of a `.tasks` module (enqueueing
    another app's task after commit) may point back."""
    wrong = [i for i in graph if app_of(i.importer) in APPS and app_of(i.target) in APPS
             and app_of(i.target) != app_of(i.importer) and app_of(i.target) not in MAY_IMPORT[app_of(i.importer)]
             and not i.lazy_task]
    assert not wrong, describe(wrong)


def test_no_cycle_between_apps_at_module_level(graph):
    edges: dict[str, set[str]] = {app: set() for app in APPS}
    for i in graph:
        source, target = app_of(i.importer), app_of(i.target)
        if source in APPS and target in APPS and source != target and not i.lazy and not i.type_only:
            edges[source].add(target)

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in edges[start])

    assert [app for app in APPS if reaches(app, app)] == []


def test_shared_ui_imports_no_app(graph):
    """tollgate.ui serves every app, so it may depend on none of them."""
    wrong = [i for i in graph if i.importer.startswith("tollgate.ui") and app_of(i.target) in APPS]
    assert not wrong, describe(wrong)


def test_the_lifecycle_table_is_data(graph):
    wrong = [i for i in graph if i.importer == "governance.lifecycle"
             and (i.target.startswith("django.db") or set(i.target.split(".")) & (ORM_PARTS | {"guards"}))]
    assert not wrong, describe(wrong)


def _pure_modules() -> list[str]:
    return sorted(module_name(p) for pattern in PURE for p in REPO.glob(pattern) if p.name != "__init__.py")


def test_pure_modules_exist():
    assert len(_pure_modules()) >= 7


@pytest.mark.parametrize("module", _pure_modules())
def test_pure_modules_import_no_orm(graph, module):
    wrong = [i for i in graph if i.importer == module
             and (i.target.startswith("django.db") or set(i.target.split(".")) & ORM_PARTS)]
    assert not wrong, describe(wrong)
