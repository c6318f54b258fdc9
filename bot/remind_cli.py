"""`daumoi remind preview|run-once`: list upcoming reminders, or deliver what is due now."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, timedelta
from typing import Any

from core.model import ChatEvent, Incoming, Reply
from core.settings import Settings
from scheduler.config import ReminderConfig
from scheduler.horizon import horizon

SenderFactory = Any  # placeholder: the composition root (h1) passes ChatClients instead

EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    """Add the `remind` command to the `daumoi` argument parser."""
    remind = sub.add_parser("remind", help="nhắc việc: xem trước hoặc gửi các nhắc việc đến hạn")
    actions = remind.add_subparsers(dest="remind_command", metavar="VIỆC")
    preview = actions.add_parser(
        "preview", help="liệt kê các nhắc việc các quy tắc sẽ tạo trong một khoảng ngày (không gửi)"
    )
    preview.add_argument(
        "--from", dest="start", metavar="YYYY-MM-DD", help="từ ngày (mặc định: hôm nay)"
    )
    preview.add_argument(
        "--to", dest="end", metavar="YYYY-MM-DD", help="đến ngày (mặc định: +30 ngày)"
    )
    preview.add_argument(
        "--json", action="store_true", help="in dạng JSON (một đối tượng mỗi lần nhắc)"
    )
    once = actions.add_parser("run-once", help="gửi ngay các nhắc việc đã đến hạn rồi thoát")
    once.add_argument(
        "--now",
        metavar="ISO",
        help="coi thời điểm hiện tại là ISO (kiểm thử), ví dụ 2026-12-01T08:30+07:00",
    )


class _NoCore:
    """Stands in for the router where a sender needs one but no message is handled."""

    def handle(self, incoming: Incoming) -> list[Reply]:
        return []

    def handle_event(self, event: ChatEvent) -> list[Reply]:
        return []


def main(settings: Settings, args: argparse.Namespace, open_senders: SenderFactory) -> int:
    """Run `daumoi remind <action>`."""
    if args.remind_command == "preview":
        return _preview(settings, args)
    if args.remind_command == "run-once":
        return _run_once(settings, args, open_senders)
    print("Dùng: daumoi remind preview|run-once (gõ --help để xem tùy chọn).", file=sys.stderr)
    return EXIT_USAGE


def _day(text: str | None, default: date) -> date:
    return date.fromisoformat(text) if text else default


def _open(settings: Settings) -> Any:
    from bot.app import connect_database
    from data.importing.importer import ensure_seed

    database = connect_database(settings.database_url)
    ensure_seed(database)
    return database


def _preview(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler.preview import as_json, as_text, preview

    config = ReminderConfig.from_settings(settings)
    try:
        start = _day(args.start, config.calendar().today(datetime.now().astimezone()))
        end = _day(args.end, start + timedelta(days=30))
    except ValueError as exc:
        print(f"Ngày chưa đúng dạng YYYY-MM-DD: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if end < start:
        print("Ngày kết thúc (--to) phải sau ngày bắt đầu (--from).", file=sys.stderr)
        return EXIT_USAGE
    database = _open(settings)
    try:
        with database.session() as session:
            span = horizon(session)
            if start not in span or end not in span:
                print(f"Chỉ xem trước được các ngày {span.describe()}.", file=sys.stderr)
                return EXIT_USAGE
            found = preview(session, settings, start, end, config=config)
            session.rollback()  # a preview never writes (default rules stay virtual)
    finally:
        database.engine.dispose()
    if args.json:
        print(json.dumps(as_json(found, config), ensure_ascii=False, indent=1))
    else:
        print(as_text(found, config))
    return 0


def _run_once(settings: Settings, args: argparse.Namespace, open_senders: SenderFactory) -> int:
    from scheduler.service import run_once

    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError as exc:
            print(f"Thời điểm --now chưa đúng dạng ISO: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if now.tzinfo is None:
            now = now.replace(tzinfo=ReminderConfig.from_settings(settings).calendar().tz)
    database = _open(settings)
    try:
        if now is not None:
            with database.session() as session:
                span = horizon(session)
            if now.date() not in span:
                print(f"Thời điểm --now phải trong khoảng {span.describe()}.", file=sys.stderr)
                return EXIT_USAGE
        # placeholder until the composition root (h1) opens the platforms' ChatClients
        report = asyncio.run(run_once(settings, database, {}, now=now))
    finally:
        database.engine.dispose()
    delivery = report.delivery
    print(
        f"Đã tạo {report.materialised} nhắc việc mới; đã gửi {delivery.messages} tin nhắn "
        f"({delivery.rows} nhắc việc); chờ gửi lại {delivery.retried + delivery.rate_limited}; "
        f"không gửi được {delivery.dead}."
    )
    return 0
