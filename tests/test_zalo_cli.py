"""`daumoi run --platform zalo` and `telegram,zalo` end to end: a real process, fake servers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests import fake_telegram as ft
from tests import fake_zalo as fz
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo

DAUMOI = Path(sys.executable).with_name("daumoi")


@contextmanager
def daumoi_run(platforms: str, tmp_path: Path, seed: Path, **env: str) -> Iterator[list[str]]:
    """Run `daumoi run --platform <platforms>` until the with block ends; yields its output."""
    database = tmp_path / "daumoi.sqlite3"
    shutil.copy(seed, database)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    clean.update(DAUMOI_DATABASE_URL=f"sqlite:///{database}", DAUMOI_REMINDERS="0", **env)
    process = subprocess.Popen(
        [str(DAUMOI), "run", "--platform", platforms],
        env=clean,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        yield output
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            text, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            text, _ = process.communicate()
        output.append(text)
    assert process.returncode == 0, text


def test_daumoi_run_zalo_answers_private_and_group(seeded_file: Path, tmp_path: Path) -> None:
    with FakeZalo(repeat=1).running() as fake:
        env = {
            "DAUMOI_ZALO_TOKEN": fake.token,
            "DAUMOI_ZALO_API_URL": fake.base_url,
            "DAUMOI_ADMINS": f"zalo:{fz.user()['id']}",  # only admins may link a group
        }
        with daumoi_run("zalo", tmp_path, seeded_file, **env) as output:
            fake.wait_for_polls(1, timeout=60)
            private = fz.private_chat(fz.user())
            fake.push_message(private, "/tim san bay chu lai")
            text = fake.wait_for_message(private["id"], 30)[0].text
            assert "2.4" in text and "5.3" in text and "Trả lời bằng số" in text
            fake.push_message(private, "2")
            assert "Nhiệm vụ 5.3" in fake.wait_for_message(private["id"], 20, count=2)[1].text
            group = fz.group_chat("g-so-y-te")
            fake.push_message(group, f"@{fake.bot_name} /lienket so y te")
            assert "Đã liên kết" in fake.wait_for_message(group["id"], 20)[0].text
    assert fake.token not in output[0] and fake.token.split(":")[1] not in output[0]


def test_one_process_serves_telegram_and_zalo(seeded_file: Path, tmp_path: Path) -> None:
    with FakeZalo().running() as zalo_fake, FakeTelegram().running() as telegram_fake:
        env = {
            "DAUMOI_ZALO_TOKEN": zalo_fake.token,
            "DAUMOI_ZALO_API_URL": zalo_fake.base_url,
            "DAUMOI_TELEGRAM_TOKEN": telegram_fake.token,
            "DAUMOI_TELEGRAM_API_URL": telegram_fake.base_url,
        }
        with daumoi_run("telegram,zalo", tmp_path, seeded_file, **env):
            telegram_fake.wait_for_method("setMyCommands", timeout=60)
            zalo_fake.wait_for_polls(1, timeout=60)
            on_zalo = fz.private_chat(fz.user())
            on_telegram = ft.private_chat(ft.user())
            zalo_fake.push_message(on_zalo, "/nhiemvu 2.4")
            telegram_fake.push_message(on_telegram, "/nhiemvu 2.4")
            assert "Chu Lai" in zalo_fake.wait_for_message(on_zalo["id"], 30)[0].text
            assert "Chu Lai" in telegram_fake.wait_for_message(on_telegram["id"], 30)[0].text
