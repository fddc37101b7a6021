"""Run engine_throughput.py for two commits in turn, so the machine's drift weighs on both alike.

On this shared machine one run's ratio to the bare insert moves by several points from one minute to
the next, more than most changes do; only many alternating runs tell two commits apart. Each commit
runs from a git worktree of its own, with this virtualenv's Python; every run's engine row is printed
as it comes, then each side's means.

    .venv/bin/python benchmarks/engine_pairs.py BEFORE AFTER [--rounds 15] [--backends sqlite] [--messages 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE_ROW = re.compile(
    r"\| engine, (\w+) \(CPU ([\d.]+) ms/msg\) \| \d+ \| (\d+) \| (\d+)% \| ([\d.]+) \| ([\d.]+) \|"
)
UNDERSTANDING_ROW = re.compile(r"\| understanding alone \| \d+ \| \d+ \| – \| ([\d.]+) \|")


def run_once(worktree: Path, backends: list[str], messages: int) -> str:
    """One engine_throughput.py run of the worktree's code; its output."""
    command = [sys.executable, "benchmarks/engine_throughput.py", "--messages", str(messages), "--backends", *backends]
    environment = {**os.environ, "PYTHONPATH": str(worktree)}
    return subprocess.run(command, cwd=worktree, env=environment, capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--backends", nargs="+", default=["sqlite"])
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    # (commit, backend) -> ratios to the bare insert in %, CPU ms/msg; commit -> understanding p50 ms
    ratios: dict[tuple[str, str], list[int]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    understanding: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        trees = {rev: Path(folder) / f"side{n}" for n, rev in enumerate((args.before, args.after))}
        for rev, tree in trees.items():
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True,
                           capture_output=True)
        try:
            print("| round | commit | backend | CPU ms/msg | msg/s | vs bare insert | p50 ms | p99 ms |")
            print("|---:|---|---|---:|---:|---:|---:|---:|")
            for round_number in range(1, args.rounds + 1):
                for rev, tree in trees.items():
                    output = run_once(tree, args.backends, args.messages)
                    for backend, cpu_ms, rate, ratio, p50, p99 in ENGINE_ROW.findall(output):
                        ratios.setdefault((rev, backend), []).append(int(ratio))
                        cpu.setdefault((rev, backend), []).append(float(cpu_ms))
                        print(f"| {round_number} | {rev} | {backend} | {cpu_ms} | {rate} | {ratio}% | {p50} | {p99} |",
                              flush=True)
                    understanding.setdefault(rev, []).extend(float(p50) for p50 in UNDERSTANDING_ROW.findall(output))
        finally:
            for tree in trees.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    print("\n| commit | backend | runs | vs bare insert, mean (min–max) | CPU ms/msg, mean "
          "| understanding p50 ms, mean |")
    print("|---|---|---:|---:|---:|---:|")
    for (rev, backend), values in ratios.items():
        print(f"| {rev} | {backend} | {len(values)} | {statistics.fmean(values):.1f}% ({min(values)}–{max(values)}%) "
              f"| {statistics.fmean(cpu[(rev, backend)]):.2f} | {statistics.fmean(understanding[rev]):.3f} |")


if __name__ == "__main__":
    main()
