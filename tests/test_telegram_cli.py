"""`daumoi run --platform telegram` end to end: a real process, a Bot API server, SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import fake_telegram as ft
from tests.fake_telegram import FakeTelegram

DAUMOI = Path(sys.executable).with_name("daumoi")


# aiogram takes ~10 s just to import in a fresh process; its serve path is covered by the
# conformance suite, and run() is the same for both libraries. Add "aiogram" here to check it.
@pytest.mark.parametrize("library", ["ptb"])
def test_daumoi_run_answers_private_and_group(
    library: str, seeded_file: Path, tmp_path: Path
) -> None:
    database = tmp_path / "daumoi.sqlite3"
    shutil.copy(seeded_file, database)
    with FakeTelegram().running() as fake:
        env = {
            **os.environ,
            "DAUMOI_TELEGRAM_TOKEN": fake.token,
            "DAUMOI_TELEGRAM_LIBRARY": library,
            "DAUMOI_TELEGRAM_API_URL": fake.base_url,
            "DAUMOI_DATABASE_URL": f"sqlite:///{database}",
            "DAUMOI_REMINDERS": "0",
        }
        process = subprocess.Popen(
            [str(DAUMOI), "run", "--platform", "telegram"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            commands = fake.wait_for_method("setMyCommands", timeout=60)
            assert "tim" in {c["command"] for c in commands[0].params["commands"]}
            private = ft.private_chat(ft.user())
            fake.push_message(private, "/start")
            assert fake.wait_for_message(private["id"], 20)[0].text.startswith("Xin chào")
            fake.push_message(private, "/tim san bay chu lai")
            text = fake.wait_for_message(private["id"], 20, count=2)[1].text
            assert "2.4" in text and "5.3" in text
            group = ft.group_chat()
            fake.push_message(group, f"/tim@{fake.me['username']} so y te")
            assert "Sở Y tế" in fake.wait_for_message(group["id"], 20)[0].text
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                output, _ = process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
        assert process.returncode == 0, output
        assert fake.token not in output  # HTTP request logs would leak the token
