"""The reporting years of a programme: its stated period, else a decade from its issue."""

from __future__ import annotations

from datetime import date

import pytest

from data.reports.years import YearRange, programme_period


@pytest.mark.parametrize(
    ("title", "issued_on", "expected"),
    [
        ("Chương trình thời kỳ 2021-2030, tầm nhìn đến năm 2050", date(2021, 11, 4), (2021, 2030)),
        ("giai đoạn 2021 – 2025", None, (2021, 2025)),
        ("giai đoạn 2021—2025", date(2022, 3, 1), (2022, 2025)),  # issued after the start
        ("", date(2023, 5, 2), (2023, 2032)),
        ("Bảng nhiệm vụ", None, None),
        ("thời kỳ 2030-2021", None, None),
    ],
)
def test_programme_period(title: str, issued_on: date | None, expected: object) -> None:
    assert programme_period(title, issued_on) == expected


def test_year_range() -> None:
    years = YearRange(2021, 2030)
    assert 2021 in years and 2030 in years and 2020 not in years and 2031 not in years
    assert (years.clamp(2040), years.clamp(2010), years.label) == (2030, 2021, "2021–2030")
