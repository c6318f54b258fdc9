"""The benchmarks run on a fresh clone, where ../shared (the dev query set) is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import fuzz_bench, search_bench


def test_search_bench_skips_the_missing_dev_set_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(search_bench, "DEV_SET", tmp_path / "shared" / "eval" / "missing.tsv")
    result = search_bench.scale_run(20)
    assert result["tasks"] > 20 and result["p99_ms"] > 0
    assert "skipping the dev query set" in capsys.readouterr().err


def test_fuzz_bench_runs_and_counts_nothing_wrong() -> None:
    section = fuzz_bench.run(count=150)
    assert "150 generated messages" in section
    assert "| exceptions escaping the router | 0 |" in section
    assert "| messages with a bad reply (internal error, English, too long, unsendable) | 0 |" in (
        section
    )
