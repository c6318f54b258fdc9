"""`daumoi config`: the effective configuration (secrets masked), or its reference table."""

from __future__ import annotations

import argparse
import importlib
import logging
from typing import Any

from core.config import Config, unknown_variables
from core.settings import Settings

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    """Register `daumoi config` on the CLI's subparsers."""
    config = sub.add_parser("config", help="in cấu hình đang dùng (ẩn mã bí mật)")
    config.add_argument(
        "--markdown", action="store_true", help="in bảng mọi biến DAUMOI_* (cho README)"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Print every setting as VARIABLE=value, or the Markdown reference table."""
    if args.markdown:
        print(reference_table())
        return 0
    for name, value in settings.config.shown():
        print(f"{name}={value}")
    return 0


def reference_table() -> str:
    """The README's table of every DAUMOI_* variable: name, default, meaning."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    defaults = dict(Config.model_construct().shown())
    for name, info in Config.model_fields.items():
        variable = "DAUMOI_" + name.upper()
        default = f"`{defaults[variable]}`" if defaults[variable] else "—"
        lines.append(f"| `{variable}` | {default} | {info.description or ''} |")
    return "\n".join(lines)


def warn_unknown(settings: Settings) -> None:
    """Log a warning for each DAUMOI_* variable nothing reads (a typo, most likely)."""
    if not unknown_variables(settings.extra, frozenset()):
        return
    from bot.platforms import ADAPTERS  # adapters may read their own variables (a token)

    known = frozenset(
        getattr(importlib.import_module(module), "TOKEN_VARIABLE", "")
        for module in ADAPTERS.values()
    )
    for line in unknown_variables(settings.extra, known):
        log.warning("%s", line)
