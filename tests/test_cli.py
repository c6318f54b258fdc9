"""The `daumoi` command, run as users run it (subprocess, temporary SQLite database)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data.store.db import Database
from data.store.models import Programme, Task

pytest_plugins = ("tests.bot_harness",)

DAUMOI = Path(sys.executable).with_name("daumoi")


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env["DAUMOI_DATABASE_URL"] = url
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def daumoi(
    *args: str, url: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point."""
    if not DAUMOI.exists():
        pytest.fail(f"{DAUMOI} is missing: install the project (pip install -e .)")
    return subprocess.run(
        [str(DAUMOI), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(url),
        # Away from the checkout, so a developer's .env cannot change the outcome.
        cwd=cwd or Path(url.removeprefix("sqlite:///")).parent,
        timeout=120,
    )


@pytest.fixture
def db_url(seeded_file: Path, tmp_path: Path) -> str:
    """A seeded database file of this test's own."""
    target = tmp_path / "cli.sqlite3"
    shutil.copy(seeded_file, target)
    return f"sqlite:///{target}"


def _count(url: str, model: type[Programme] | type[Task]) -> int:
    database = Database.connect(url)
    try:
        with database.unit_of_work() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        database.engine.dispose()


def test_chat_reads_piped_lines(db_url: str) -> None:
    result = daumoi("chat", url=db_url, stdin="/tim san bay chu lai\n1\n")
    assert result.returncode == 0, result.stderr
    assert "2.4 — " in result.stdout and "5.3 — " in result.stdout
    assert "Anh/chị: " not in result.stdout
    assert "\nNhiệm vụ " in result.stdout


def test_chat_seeds_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    result = daumoi("chat", url=url, stdin="/nhiemvu 9.1\n")
    assert result.returncode == 0, result.stderr
    assert "Chủ trì: Sở Kế hoạch và Đầu tư — nay là Sở Tài chính" in result.stdout


def test_search_json_over_stdin(db_url: str) -> None:
    result = daumoi("search", "--json", url=db_url, stdin="san bay chu lai\nskhdt\nzzqx vvkw\n")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["query"] for o in objects] == ["san bay chu lai", "skhdt", "zzqx vvkw"]
    airport, agency, nothing = objects
    assert {r["code"] for r in airport["results"]} >= {"2.4", "5.3"}
    assert all(r["kind"] == "task" and r["title"] and r["score"] > 0 for r in airport["results"])
    assert agency["results"][0] == {
        "kind": "agency",
        "name": "Sở Kế hoạch và Đầu tư",
        "current_name": "Sở Tài chính",
        "score": agency["results"][0]["score"],
    }
    assert nothing["results"] == []
    assert all(len(o["results"]) <= 5 for o in objects)
    assert "Sở" in result.stdout  # ensure_ascii=False


def test_search_single_query_argument(db_url: str) -> None:
    result = daumoi("search", "--json", "nv", "6.1", url=db_url)
    assert json.loads(result.stdout)["results"][0]["code"] == "6.1"


def test_export_json_has_all_tasks(db_url: str) -> None:
    result = daumoi("export", "--json", url=db_url)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    tasks = [task for programme in data["programmes"] for task in programme["tasks"]]
    assert len(tasks) == 44
    assert all(task["code"] and task["lead"] for task in tasks)
    assert {"1.1", "5.3", "9.2"} <= {task["code"] for task in tasks}


def test_import_junk_fails_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    junk = tmp_path / "junk.txt"
    junk.write_text("Đây không phải là một quyết định.\nChỉ là vài dòng chữ.\n", encoding="utf-8")
    result = daumoi("import", str(junk), url=url)
    assert result.returncode == 1
    assert "Không nhập được" in result.stderr
    assert _count(url, Programme) == 0 and _count(url, Task) == 0


def test_import_seed_prints_the_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.sqlite3"
    seed = Path(__file__).parents[1] / "data" / "seed" / "qd_1731_2021.txt"
    result = daumoi("import", str(seed), "--decision", "1731/QĐ-UBND", url=url)
    assert result.returncode == 0, result.stderr
    assert "1731/QĐ-UBND" in result.stdout and "44 nhiệm vụ" in result.stdout
    assert _count(url, Task) == 44


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        ("fax", "Không hỗ trợ nền tảng: fax"),
        ("telegram", "DAUMOI_TELEGRAM_TOKEN"),
        ("console,zalo", "zalo"),
    ],
)
def test_run_refuses_unavailable_platforms(db_url: str, platform: str, message: str) -> None:
    result = daumoi("run", "--platform", platform, url=db_url)
    assert result.returncode == 2
    assert message in result.stderr


def test_run_console_by_default(db_url: str) -> None:
    result = daumoi("run", url=db_url, stdin="/linhvuc\n")
    assert result.returncode == 0, result.stderr
    assert "44 nhiệm vụ" in result.stdout


def test_search_cleans_its_query_as_chat_does(db_url: str) -> None:
    """Control characters are spaces in `daumoi search` as in chat (core.model.clean_text)."""
    controls = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
    lines = ["so y te abc", *(f"so y te{char}abc" for char in controls), "\x00so y te\x07"]
    result = daumoi("search", "--json", url=db_url, stdin="".join(f"{line}\n" for line in lines))
    assert result.returncode == 0, result.stderr
    # Split on "\n" only: str.splitlines would also split a raw U+0085 left in a query.
    plain, *dirty, edged = [json.loads(line) for line in result.stdout.split("\n") if line]
    assert plain["query"] == "so y te abc" and plain["results"][0]["name"] == "Sở Y tế"
    assert dirty == [plain] * len(controls)
    assert edged["query"] == "so y te" and edged["results"][0]["name"] == "Sở Y tế"
