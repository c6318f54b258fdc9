"""Benchmarks: each module's run() returns a Markdown section for bench/RESULTS.md."""
