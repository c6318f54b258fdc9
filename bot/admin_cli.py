"""`daumoi admin …`: manage administrators from the command line (no chat needed)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings

EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    """Register the `admin` subcommand on the main parser's subparsers."""
    admin = sub.add_parser("admin", help="quản lý quản trị viên (thêm, liệt kê)")
    actions = admin.add_subparsers(dest="admin_command", metavar="VIỆC")
    add = actions.add_parser("add", help="thêm một quản trị, ví dụ: daumoi admin add telegram:123")
    add.add_argument("account", help="tài khoản dạng nền_tảng:mã_người_dùng, ví dụ telegram:123")
    add.add_argument("--name", default="", help="tên hiển thị")
    actions.add_parser("list", help="liệt kê người dùng đang hoạt động")


def parse_account(text: str) -> tuple[str, str] | None:
    """ "telegram:123" as ("telegram", "123"); None when malformed."""
    platform, sep, user_id = text.strip().partition(":")
    platform, user_id = platform.strip().lower(), user_id.strip()
    if not sep or not platform or not user_id or len(platform) > 16 or len(user_id) > 64:
        return None
    return platform, user_id


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Carry out `daumoi admin add|list`."""
    if args.admin_command == "add":
        return _add(settings, args)
    if args.admin_command == "list":
        return _list(settings)
    print("Dùng: daumoi admin add <nền_tảng:mã> [--name TÊN] | daumoi admin list", file=sys.stderr)
    return EXIT_USAGE


def _add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import connect_database
    from data.store import people

    account = parse_account(args.account)
    if account is None:
        print(
            f"Tài khoản “{args.account}” không đúng dạng nền_tảng:mã, ví dụ telegram:123456789.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    platform, user_id = account
    database = connect_database(settings.database_url)
    try:
        with database.unit_of_work() as session:
            person = people.add_admin(
                session, platform, user_id, name=args.name, now=datetime.now(UTC)
            )
            number = person.id
    finally:
        database.engine.dispose()
    print(f"Đã thêm quản trị {platform}:{user_id} (người dùng #{number}).")
    return 0


def _list(settings: Settings) -> int:
    from bot.app import connect_database
    from data.store import people

    database = connect_database(settings.database_url)
    try:
        with database.unit_of_work() as session:
            for person in people.people(session):
                accounts = ", ".join(f"{i.platform}:{i.user_id}" for i in person.identities)
                agency = person.agency.name if person.agency is not None else "—"
                print(f"#{person.id}\t{person.role}\t{person.display_name}\t{agency}\t{accounts}")
    finally:
        database.engine.dispose()
    return 0
