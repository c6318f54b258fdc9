"""Platform code stays in bot/platforms: the core never imports a chat library."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("bot", "handlers", "data", "scheduler")
PLATFORM_DIR = ROOT / "bot" / "platforms"
# Chat-platform libraries and HTTP clients (our Zalo client is built on httpx).
FORBIDDEN = ("telegram", "aiogram", "httpx", "aiohttp", "zalo", "zalo_bot", "pyzalo")
# The composition root may name adapters; nothing else may.
COMPOSITION_ROOT = {ROOT / "bot" / "cli.py", ROOT / "bot" / "app.py"}


def core_modules() -> Iterator[Path]:
    """Every Python file of the core packages outside bot/platforms."""
    for package in CORE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if PLATFORM_DIR not in path.parents and "migrations" not in path.parts:
                yield path


def imported_modules(path: Path) -> Iterator[str]:
    """Absolute module names a file imports, wherever the import statement sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _violations(path: Path) -> list[str]:
    found = []
    for module in imported_modules(path):
        top = module.split(".")[0]
        if top in FORBIDDEN or (
            module.startswith("bot.platforms.")
            and path not in COMPOSITION_ROOT
            and module.split(".")[2] != "__init__"
        ):
            found.append(module)
    return found


def test_there_are_core_modules_to_check() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in core_modules()}
    assert {"bot/router.py", "handlers/lookup.py", "data/store/repositories.py"} <= names


@pytest.mark.parametrize("path", list(core_modules()), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_core_module_imports_no_platform_code(path: Path) -> None:
    assert _violations(path) == []


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f():\n    from telegram import Bot\n    import httpx\n"
        "from bot.platforms.telegram_common import prepare\n"
    )
    assert sorted(_violations(bad)) == [
        "bot.platforms.telegram_common",
        "bot.platforms.telegram_common.prepare",
        "httpx",
        "telegram",
        "telegram.Bot",
    ]
