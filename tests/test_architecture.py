"""Layers the code keeps: imports point down, never in a cycle; only adapters name a chat library.

core → data → scheduler → handlers → bot → bot/platforms → composition root (the CLIs and
bot/app.py). Every import counts, wherever it sits: a function-level import is still a
dependency, and hiding a cycle inside a function does not remove it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "data", "scheduler", "handlers", "bot")
LAYERS = ("core", "data", "scheduler", "handlers", "bot", "bot.platforms", "composition root")
COMPOSITION_ROOT = frozenset(
    {
        "bot.cli",
        "bot.app",
        "bot.admin_cli",
        "bot.backup_cli",
        "bot.config_cli",
        "bot.report_cli",
        "bot.remind_cli",
        "bot.runner",
    }
)
# Chat-platform libraries and HTTP clients (our Zalo client is built on httpx).
CHAT_LIBRARIES = frozenset({"telegram", "aiogram", "httpx", "aiohttp", "zalo", "zalo_bot"})
MAX_LINES = 500  # a module longer than this holds more than one job


def module_name(path: Path) -> str:
    """The dotted module name of a file under ROOT (a package is named by its __init__)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages (migrations are Alembic's, not ours)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def layer_of(module: str) -> int:
    """The layer index of a project module."""
    if module in COMPOSITION_ROOT:
        return LAYERS.index("composition root")
    if module == "bot.platforms" or module.startswith("bot.platforms."):
        return LAYERS.index("bot.platforms")
    return LAYERS.index(module.split(".")[0])


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Absolute names a file imports, wherever the statement sits (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def project_imports(path: Path, module: str, known: Mapping[str, Path]) -> set[str]:
    """The project modules a file depends on (`from pkg import mod` counts as mod)."""
    found = set()
    for name in imported_names(path, module):
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def import_graph(known: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports."""
    return {module: project_imports(path, module, known) for module, path in known.items()}


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import that points from a lower layer to a higher one."""
    return sorted(
        f"{module} ({LAYERS[layer_of(module)]}) imports {target} ({LAYERS[layer_of(target)]})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def chat_library_imports(path: Path, module: str) -> list[str]:
    """Chat libraries imported by a module that is not a platform adapter."""
    if layer_of(module) >= LAYERS.index("bot.platforms"):
        return []
    return sorted(
        name for name in imported_names(path, module) if name.split(".")[0] in CHAT_LIBRARIES
    )


MODULES = project_modules()


def test_every_package_has_modules_to_check() -> None:
    layers = {LAYERS[layer_of(module)] for module in MODULES}
    assert layers == set(LAYERS)
    assert {"core.model", "bot.router", "handlers.lookup", "data.store.repositories"} <= set(
        MODULES
    )


def test_imports_point_down_the_layers() -> None:
    assert upward_imports(import_graph(MODULES)) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph(MODULES)) == []


def test_no_module_is_over_the_line_limit() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_adapters_import_a_chat_library(module: str) -> None:
    assert chat_library_imports(MODULES[module], module) == []


def _write(root: Path, files: Mapping[str, str]) -> dict[str, Path]:
    known = {}
    for name, text in files.items():
        path = root / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        known[name] = path
    return known


def test_the_checks_catch_violations(tmp_path: Path) -> None:
    known = _write(
        tmp_path,
        {
            "core.model": "def f():\n    from data.store import rows\n",
            "data.store.rows": "from core import model\n",
            "data.search.engine": "from . import facts\n",
            "data.search.facts": "def g():\n    from data.search.engine import X\n",
            "handlers.lookup": "def h():\n    import telegram\n    from aiogram import Bot\n",
            "scheduler.delivery": "from bot.platforms.telegram import send\n",
            "bot.platforms.telegram": "from telegram import Bot\nfrom bot import router\n",
            "bot.router": "",
        },
    )
    graph = import_graph(known)
    assert upward_imports(graph) == [
        "core.model (core) imports data.store.rows (data)",
        "scheduler.delivery (scheduler) imports bot.platforms.telegram (bot.platforms)",
    ]
    assert cycles(graph) == [
        ["core.model", "data.store.rows"],
        ["data.search.engine", "data.search.facts"],
    ]
    lookup = chat_library_imports(known["handlers.lookup"], "handlers.lookup")
    assert lookup == ["aiogram", "aiogram.Bot", "telegram"]
    adapter = chat_library_imports(known["bot.platforms.telegram"], "bot.platforms.telegram")
    assert adapter == []
