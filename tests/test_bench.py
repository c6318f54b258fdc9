"""The benchmarks run on a fresh clone, where ../shared (the dev query set) is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import search_bench


def test_search_bench_skips_the_missing_dev_set_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(search_bench, "DEV_SET", tmp_path / "shared" / "eval" / "missing.tsv")
    result = search_bench.scale_run(20)
    assert result["tasks"] > 20 and result["p99_ms"] > 0
    assert "skipping the dev query set" in capsys.readouterr().err
