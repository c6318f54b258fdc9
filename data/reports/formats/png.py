"""The chart: each sector's tasks by official category, as stacked bars."""

from __future__ import annotations

from typing import IO

from data.reports.formats.base import ReportData, ReportFormat


def write(data: ReportData, out: IO[bytes]) -> None:
    """Draw the chart (matplotlib, an optional extra, is imported only to draw one)."""
    from data.reports.chart import write_chart

    write_chart(data.tasks, data.summary, out)


FORMAT = ReportFormat(
    name="png",
    extension="png",
    mime_type="image/png",
    label="Biểu đồ tiến độ theo lĩnh vực",
    write=write,
    stem="bieu_do",
    aliases=("bieudo", "bieu do", "chart", "png", "hinh"),
    offer="biểu đồ",
    requires="matplotlib",  # the optional extra daumoi[charts]
    missing=(
        "Xin lỗi, biểu đồ chưa được cài trên máy chủ này (thiếu gói matplotlib; quản trị viên cài "
        "bằng lệnh pip install 'daumoi[charts]'). Các báo cáo khác vẫn dùng được: bảng Excel, "
        "dự thảo Word và bản tóm tắt."
    ),
)
