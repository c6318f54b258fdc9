"""The `daumoi` command: chat, run, import, search, export (heavy imports stay lazy)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.app import App
    from core.settings import Settings
    from data.search.types import SearchOutcome

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daumoi",
        description="Trợ lý tra cứu Chương trình hành động (Quyết định 1731/QĐ-UBND).",
    )
    sub = parser.add_subparsers(dest="command", metavar="LỆNH")
    sub.add_parser("chat", help="trò chuyện với bot ngay trong cửa sổ dòng lệnh")
    run = sub.add_parser("run", help="chạy bot trên các nền tảng (console, telegram, zalo)")
    run.add_argument(
        "--platform",
        help="danh sách nền tảng, cách nhau bởi dấu phẩy, ví dụ telegram,zalo "
        "(mặc định: DAUMOI_PLATFORMS hoặc console)",
    )
    sub.add_parser("web", help="chỉ chạy trang theo dõi trên web (DAUMOI_WEB_LISTEN)")
    imp = sub.add_parser("import", help="nhập một quyết định (.docx, .pdf, .txt, .md, .csv, .xlsx)")
    imp.add_argument("path", help="đường dẫn tới tệp")
    imp.add_argument("--decision", metavar="SỐ", help="số hiệu quyết định, ví dụ 1731/QĐ-UBND")
    search = sub.add_parser("search", help="tìm kiếm (mỗi dòng vào là một truy vấn)")
    search.add_argument("--json", action="store_true", help="in kết quả dạng JSON, mỗi dòng một")
    search.add_argument("query", nargs="*", help="truy vấn; bỏ trống để đọc từ stdin")
    export = sub.add_parser("export", help="xuất dữ liệu chương trình")
    export.add_argument("--json", action="store_true", help="xuất dạng JSON (mặc định)")
    from bot.backup_cli import add_export_options
    from bot.backup_cli import add_parser as add_backup_parser

    add_export_options(export)
    add_backup_parser(sub)
    from bot.remind_cli import add_parser as add_remind_parser

    add_remind_parser(sub)
    from bot.admin_cli import add_parser as add_admin_parser

    add_admin_parser(sub)
    from bot.report_cli import add_parser as add_report_parser

    add_report_parser(sub)
    from bot.config_cli import add_parser as add_config_parser

    add_config_parser(sub)
    return parser


EXIT_BROKEN_PIPE = 128 + 13  # what a program killed by SIGPIPE reports (`cmd | head`)
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `daumoi` script."""
    _utf8_streams()
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`daumoi export --json | head`): nothing more to say to it.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    from core.config import ConfigError
    from core.settings import Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:  # the operator's setting: one line naming it, no traceback
        _error(str(exc))
        return EXIT_USAGE
    _configure_logging(settings, args)
    from bot.config_cli import run as _config
    from bot.config_cli import warn_unknown

    warn_unknown(settings)
    commands: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "chat": _chat,
        "run": _run,
        "web": _web,
        "import": _import,
        "search": _search,
        "export": _export,
        "remind": _remind,
        "admin": _admin,
        "report": _report,
        "config": _config,
        "backup": _backup,
        "restore": _restore,
    }
    from data.store.db import DatabaseUnavailable

    try:
        return commands[args.command](settings, args)
    except DatabaseUnavailable as exc:  # the operator's setting, not a bug: one line, no traceback
        _error(f"Lỗi cấu hình DAUMOI_DATABASE_URL: {exc}.")
        return 1


def _configure_logging(settings: Settings, args: argparse.Namespace) -> None:
    """Log to stderr with every secret masked: INFO when serving chat platforms, else WARNING."""
    from bot import logsafe

    serving = args.command == "run" and any(
        name != "console" for name in _platform_names(getattr(args, "platform", None), settings)
    )

    level = settings.config.log_level or ("INFO" if serving else "WARNING")
    logsafe.configure(settings, level)


def _utf8_streams() -> None:
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")


def _build(settings: Settings) -> App:
    from bot.app import build_app

    return build_app(settings)


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console import run_console

    app = _build(settings)
    try:
        return run_console(app.router, sys.stdin, sys.stdout)
    finally:
        app.close()


# --- run ----------------------------------------------------------------------------------------


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms import ADAPTERS

    names = _platform_names(args.platform, settings)
    unknown = [name for name in names if name not in ADAPTERS]
    if unknown or not names:
        source = "--platform" if args.platform else "DAUMOI_PLATFORMS"
        _error(
            f"Không hỗ trợ nền tảng: {', '.join(unknown) or '(trống)'} (trong {source}). "
            f"Các nền tảng có thể dùng: {', '.join(ADAPTERS)}."
        )
        return EXIT_USAGE
    for name in names:
        problem = _not_ready(name, settings)
        if problem:
            _error(problem)
            return EXIT_USAGE
    from bot.runner import run, web_service

    app = _build(settings)
    web = web_service(settings, app.router) if settings.config.web_listen else None
    try:
        return run(
            settings,
            app.router,
            names,
            app.database,
            app.rebuild_search,
            app.tasks_loaded,
            web=web,
        )
    finally:
        app.close()


def _web(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.config.web_listen:
        _error("Chưa đặt DAUMOI_WEB_LISTEN (máy:cổng của trang web), ví dụ 127.0.0.1:8090.")
        return EXIT_USAGE
    from bot.runner import run_web, web_service

    app = _build(settings)
    try:
        return run_web(
            settings, web_service(settings, app.router), app.database, app.rebuild_search
        )
    finally:
        app.close()


def _remind(settings: Settings, args: argparse.Namespace) -> int:
    from bot.remind_cli import main as remind_main

    return remind_main(settings, args)


def _admin(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin_cli import run

    return run(settings, args)


def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.report_cli import run

    return run(settings, args)


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup_cli import run_backup

    return run_backup(settings, args)


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.backup_cli import run_restore

    return run_restore(settings, args)


def _platform_names(option: str | None, settings: Settings) -> list[str]:
    if option:
        return [part.strip().lower() for part in option.split(",") if part.strip()]
    return list(settings.platforms) or ["console"]


def _not_ready(name: str, settings: Settings) -> str:
    """A Vietnamese reason the platform cannot start, or "" when it can."""
    from bot.platforms import ADAPTERS

    try:
        module = importlib.import_module(ADAPTERS[name])
    except ModuleNotFoundError as exc:
        return f"Nền tảng {name} chưa sẵn sàng trong bản cài đặt này (thiếu {exc.name})."
    if not module.configured(settings):
        return (
            f"Chưa cấu hình mã truy cập cho {name}: đặt biến môi trường "
            f"{module.TOKEN_VARIABLE} (trong môi trường hoặc tệp .env) rồi chạy lại."
        )
    return ""


# --- import -------------------------------------------------------------------------------------


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import connect_database
    from data.importing.decision_text import DecisionFormatError
    from data.importing.importer import import_file

    database = connect_database(settings.database_url)
    try:
        with database.unit_of_work() as session:
            report = import_file(session, args.path, args.decision)
    except DecisionFormatError as exc:
        _error(f"Không nhập được tệp {args.path}: {exc}")
        return 1
    except SQLAlchemyError as exc:  # the importer checks first; this is the last line of defence
        _error(
            f"Không nhập được tệp {args.path}: cơ sở dữ liệu từ chối dữ liệu "
            f"({type(exc).__name__}); chưa có thay đổi nào được ghi."
        )
        return 1
    finally:
        database.engine.dispose()
    for line in report.lines():
        print(line)
    return 0


# --- search -------------------------------------------------------------------------------------


def _search(settings: Settings, args: argparse.Namespace) -> int:
    from core.model import clean_text

    app = _build(settings)
    try:
        queries: Sequence[str] = [" ".join(args.query)] if args.query else _lines(sys.stdin)
        for query in queries:
            # Cleaned as a chat message is, so both find the same for the same text.
            outcome = app.router.search.search(clean_text(query).strip(), limit=5)
            if args.json:
                print(json.dumps(search_json(outcome), ensure_ascii=False), flush=True)
            else:
                print(_search_text(outcome), flush=True)
    finally:
        app.close()
    return 0


def _lines(stream: TextIO) -> list[str]:
    return [line.rstrip("\r\n") for line in stream if line.strip()]


def search_json(outcome: SearchOutcome) -> dict[str, Any]:
    """The JSON object `daumoi search --json` prints for one query."""
    from data.search.types import HitKind

    results: list[dict[str, Any]] = []
    if outcome.found:
        for hit in outcome.hits[:5]:
            score = round(hit.score, 2)
            if hit.kind is HitKind.TASK:
                results.append(
                    {"kind": "task", "code": hit.key, "title": hit.label, "score": score}
                )
            else:
                results.append(
                    {"kind": "agency", "name": hit.key, "current_name": hit.label, "score": score}
                )
    return {
        "query": outcome.query,
        "confidence": outcome.confidence.value,
        "results": results,
        "answer": outcome.answer,
    }


def _search_text(outcome: SearchOutcome) -> str:
    if not outcome.found:
        suffix = f" — {outcome.answer}" if outcome.answer else ""
        return f"{outcome.query}: không tìm thấy{suffix}"
    lines = [f"{outcome.query} ({outcome.confidence.value}):"]
    if outcome.answer:
        lines.append(f"  → {outcome.answer}")
    lines += [f"  {hit.score:5.1f}  {hit.key} — {hit.label}" for hit in outcome.hits[:5]]
    return "\n".join(lines)


# --- export -------------------------------------------------------------------------------------


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import connect_database
    from data.importing.importer import ensure_seed
    from data.reports.export import export_programmes

    if args.people or args.history:
        from bot.backup_cli import export_records

        return export_records(settings, args)
    database = connect_database(settings.database_url)
    try:
        ensure_seed(database)
        with database.unit_of_work() as session:
            data = export_programmes(session)
    finally:
        database.engine.dispose()
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def _error(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
