"""`daumoi report`: write the yearly report as Excel, Word, a PNG chart or JSON."""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings

EXIT_USAGE = 2


def add_parser(sub: Any) -> None:
    """Register the `report` subcommand on the main parser's subparsers."""
    from data.reports.formats import DEFAULT_FORMAT, FORMATS  # light: no writer library

    report = sub.add_parser(
        "report",
        help=f"xuất báo cáo năm ({', '.join(FORMATS)}), ví dụ: --year 2026 -o r.xlsx",
    )
    report.add_argument("--year", type=int, help="năm báo cáo (mặc định: năm hiện tại)")
    report.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default=DEFAULT_FORMAT,
        help=f"định dạng (mặc định {DEFAULT_FORMAT})",
    )
    report.add_argument(
        "-o",
        "--output",
        metavar="TỆP",
        help="tệp ghi ra (mặc định bao_cao_<năm>.<đuôi>; - là stdout)",
    )
    report.add_argument("--decision", metavar="SỐ", help="chỉ một quyết định, ví dụ 1731/QĐ-UBND")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Write the report file; print a one-line summary to stderr."""
    from bot.app import connect_database
    from data.importing.importer import ensure_seed
    from data.reports.files import write_report
    from data.reports.formats import FORMATS
    from data.reports.task_reports import Scope
    from data.reports.years import report_years
    from data.store import status as st
    from data.store.repositories import programme_by_number

    missing = FORMATS[args.format].unavailable()  # e.g. the chart without matplotlib
    if missing is not None:
        print(missing, file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    this_year = st.reporting_year(now, settings.timezone)
    year = this_year if args.year is None else args.year
    if not 2000 <= year <= 2100:
        print(f"Năm báo cáo không hợp lệ: {year}.", file=sys.stderr)
        return EXIT_USAGE
    database = connect_database(settings.database_url)
    try:
        ensure_seed(database)
        with database.unit_of_work() as session:
            programme_id = None
            if args.decision:
                found = programme_by_number(session, args.decision)
                if found is None:
                    print(f"Không có quyết định {args.decision} trong dữ liệu.", file=sys.stderr)
                    return EXIT_USAGE
                programme_id = found.id
            years = report_years(session, this_year, programme_id)
            if year not in years:
                print(
                    f"Năm báo cáo {year} nằm ngoài thời gian thực hiện chương trình "
                    f"({years.label}); hãy chọn --year từ {years.first} đến {years.last}.",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            scope = Scope(year, now, settings.timezone, programme_id)
            output = args.output or FORMATS[args.format].filename(year)
            if output == "-":
                # Built whole first: a zip writer meeting a closed pipe half-way leaves errors
                # behind; one write then fails cleanly when the reader has gone (`| head`).
                content = io.BytesIO()
                summary = write_report(session, scope, args.format, content)
                sys.stdout.buffer.write(content.getvalue())
                sys.stdout.flush()
            else:
                summary = write_report(session, scope, args.format, output)
    except BrokenPipeError:
        raise  # the reader went away: bot.cli.main ends quietly with status 141
    except OSError as exc:
        print(f"Không ghi được tệp báo cáo: {exc}", file=sys.stderr)
        return 1
    finally:
        database.engine.dispose()
    overall = summary.overall
    where = "stdout" if output == "-" else output
    print(
        f"Đã ghi báo cáo năm {year} ({args.format}) vào {where}: {overall.total} nhiệm vụ, "
        f"{len(summary.sectors)} lĩnh vực, {len(summary.agencies)} đơn vị; hoàn thành "
        f"{overall.done}, quá hạn {overall.by_class['overdue']}, vướng mắc {overall.blocked}.",
        file=sys.stderr,
    )
    return 0
