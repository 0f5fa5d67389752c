"""The shape of the code: modules small enough to read, and core's modules free of import cycles.
(The layers and who may write audit entries and outbox messages are import-linter contracts in
pyproject.toml, checked by `make lint` and `make test`.)"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
CHECKED = ("core", "portal", "admin", "api")


def modules_over(limit: int, root: Path = ROOT) -> list[str]:
    too_long = []
    for package in CHECKED:
        for path in sorted((root / package).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines >= limit:
                too_long.append(f"{path.relative_to(root)}: {lines} lines")
    return too_long


def test_every_module_is_under_400_lines():
    assert modules_over(MAX_LINES) == [], "split these by responsibility"


def test_the_line_count_sees_a_long_module(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "long.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "core" / "short.py").write_text("x = 1\n" * (MAX_LINES - 1))
    for package in CHECKED[1:]:
        (tmp_path / package).mkdir()
    assert modules_over(MAX_LINES, tmp_path) == [f"core/long.py: {MAX_LINES} lines"]


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), imports inside functions included."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not (imported == package or imported.startswith(package + ".")):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for module in modules:
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def core_graph() -> grimp.ImportGraph:
    # The models' relationship annotations import each other under TYPE_CHECKING only.
    return grimp.build_graph("core", cache_dir=None, exclude_type_checking_imports=True)


def test_core_modules_import_each_other_without_cycles():
    assert import_cycles(core_graph(), "core") == [], "move the shared code to where it belongs"


def test_the_cycle_search_finds_a_cycle():
    graph = core_graph()
    graph.add_import(importer="core.config", imported="core.services.orders.lifecycle")
    assert any({"core.config", "core.services.orders.lifecycle"} <= set(cycle)
               for cycle in import_cycles(graph, "core"))
