"""Run every benchmark and write bench/RESULTS.md with the machine they ran on."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

# Each module exposes run() -> str (a Markdown section); missing ones are skipped.
BENCH_MODULES = (
    "bench.search_bench",
    "bench.backend_bench",
    "bench.startup_bench",
    "bench.telegram_bench",
    "bench.delivery_bench",
    "bench.report_bench",
    "bench.reminder_bench",
    "bench.fuzz_bench",
)


def machine_description() -> str:
    """Describe the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str]) -> int:
    """Run the selected (default: all) benchmarks and write the results file."""
    selected = [m for m in BENCH_MODULES if not argv or any(a in m for a in argv)]
    sections = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine_description()}.",
        "Produced by `make bench`; targets are compared with baselines measured in the same run.",
        "",
    ]
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"== {name}", flush=True)
        section = module.run()
        print(section, flush=True)
        sections += [section, ""]
    if not argv:
        Path(__file__).with_name("RESULTS.md").write_text("\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
