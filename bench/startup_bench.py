"""Startup: time from launching `daumoi chat` to its first reply, against a bare Python start."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
TARGET_SECONDS = 2.0
DAUMOI = Path(sys.executable).with_name("daumoi")


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAUMOI_")}
    env["DAUMOI_DATABASE_URL"] = url
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def launch(url: str, line: str, cwd: Path) -> tuple[float, float]:
    """Wall seconds until `daumoi chat` starts replying to line, and CPU seconds of the run."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(DAUMOI), "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(url),
        cwd=cwd,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line.encode("utf-8") + b"\n")
    process.stdin.flush()
    first = process.stdout.read(1)
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.stdout.read()
    process.wait(timeout=60)
    if not first:
        raise RuntimeError(f"daumoi chat printed nothing for {line!r}")
    return elapsed, _children_cpu() - cpu_before


def time_python_pass() -> float:
    """Seconds to start and stop a bare interpreter (the floor)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def _medians(url: str, line: str, cwd: Path) -> tuple[float, float]:
    runs = [launch(url, line, cwd) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def run() -> str:
    """Measure and return a Markdown section."""
    with tempfile.TemporaryDirectory(prefix="daumoi-startup-") as folder:
        cwd = Path(folder)
        url = f"sqlite:///{cwd / 'bench.sqlite3'}"
        first_launch, _ = launch(url, "/start", cwd)  # migrates and imports the seed
        baseline = statistics.median(time_python_pass() for _ in range(RUNS))
        start, start_cpu = _medians(url, "/start", cwd)
        search, search_cpu = _medians(url, "/tim san bay chu lai", cwd)
        load = os.getloadavg()[0]
    verdict = "met" if max(start, search) <= TARGET_SECONDS else "NOT met"
    return "\n".join(
        [
            "## Startup: `daumoi chat` to first reply",
            "",
            f"Median of {RUNS} launches on a seeded SQLite database (reply read from a pipe); "
            f"load average {load:.1f} when done. CPU is the whole run's user+system time.",
            "",
            "| measurement | wall s | CPU s |",
            "|---|---|---|",
            f"| `python -c pass` (baseline) | {baseline:.2f} | |",
            f"| `daumoi chat` → first reply to `/start` | {start:.2f} | {start_cpu:.2f} |",
            f"| `daumoi chat` → first reply to `/tim san bay chu lai` | {search:.2f} | "
            f"{search_cpu:.2f} |",
            f"| first launch on an empty database (migrate + import seed), 1 run | "
            f"{first_launch:.2f} | |",
            "",
            f"Target ≤ {TARGET_SECONDS:.0f} s to first reply: {verdict} "
            f"({max(start, search) - baseline:.2f} s above the bare interpreter).",
        ]
    )


if __name__ == "__main__":
    print(run())
