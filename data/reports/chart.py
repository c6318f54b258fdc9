"""A PNG chart of progress by sector (matplotlib's Agg canvas, no pyplot global state)."""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from data.reports import text as rt
from data.reports.summary import Summary
from data.reports.task_reports import CLASS_KEYS, TaskReport

# DejaVu Sans ships with matplotlib and covers every precomposed Vietnamese letter.
FONT = "DejaVu Sans"
COLOURS = {
    "done_on_time": "#2e7d32",
    "done_late": "#9ccc65",
    "on_time": "#42a5f5",
    "overdue": "#e53935",
    "unreported": "#bdbdbd",
}
WIDTH_INCHES = 11.0
DPI = 110


def _label(text: str, width: int = 34) -> str:
    text = text.replace("$", r"\$")  # matplotlib reads $…$ as mathematics (and fails on it)
    return "\n".join(textwrap.wrap(unicodedata.normalize("NFC", text), width)) or text


def write_chart(
    tasks: Iterable[TaskReport], summary: Summary, target: str | Path | IO[bytes]
) -> Summary:
    """Draw each sector's tasks split by official category as stacked horizontal bars."""
    for _ in summary.observe(tasks):
        pass
    sectors = list(summary.sectors.values())
    several = summary.several_programmes
    labels = [
        _label(rt.sector_title(s.number, s.name, s.programme if several else "")) for s in sectors
    ]
    height = 1.6 + 0.62 * max(len(sectors), 1)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rows = list(range(len(sectors)))[::-1]  # first sector on top
    left = [0.0] * len(sectors)
    for key in CLASS_KEYS:
        shares = [
            100 * s.tally.by_class[key] / s.tally.total if s.tally.total else 0.0 for s in sectors
        ]
        bars = axes.barh(
            rows, shares, left=left, color=COLOURS[key], label=rt.class_label(key), height=0.62
        )
        for bar, sector in zip(bars, sectors, strict=True):
            count = sector.tally.by_class[key]
            if count and bar.get_width() >= 7:
                axes.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if key in ("done_on_time", "overdue") else "black",
                    fontfamily=FONT,
                )
        left = [a + b for a, b in zip(left, shares, strict=True)]
    axes.set_yticks(rows, labels, fontfamily=FONT, fontsize=9)
    for row, sector in zip(rows, sectors, strict=True):
        axes.text(
            101,
            row,
            f"{sector.tally.total} NV, xong {sector.tally.percent(sector.tally.done)}%",
            va="center",
            fontsize=8.5,
            fontfamily=FONT,
        )
    axes.set_xlim(0, 122)
    axes.set_xticks(range(0, 101, 20), [f"{x}%" for x in range(0, 101, 20)], fontfamily=FONT)
    axes.set_xlabel("Tỷ lệ nhiệm vụ (%), đánh giá theo báo cáo của đơn vị chủ trì", fontfamily=FONT)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_bounds(0, 100)
    overall = summary.overall
    axes.set_title(
        f"Tiến độ thực hiện nhiệm vụ theo lĩnh vực, năm {summary.scope.year}\n"
        f"{overall.total} nhiệm vụ — hoàn thành {overall.done} ({overall.percent(overall.done)}%)"
        f", quá hạn {overall.by_class['overdue']}, có vướng mắc {overall.blocked} · "
        f"{rt.as_of(summary.scope).lower()}",
        fontfamily=FONT,
        fontsize=11,
        loc="left",
    )
    figure.legend(
        loc="outside lower center",
        ncol=len(CLASS_KEYS),
        frameon=False,
        prop={"family": FONT, "size": 8.5},
    )
    figure.savefig(target, format="png", dpi=DPI, facecolor="white")
    return summary
