"""Start-up time to ready: `concierge chat --json` on a pipe, one message in, time to the first reply.

The understanding model comes from the cache (a first untimed run fills it); each timed run uses a new
SQLite database, so schema creation is part of the figure, as on a first start. Target: under 3 s.

    .venv/bin/python benchmarks/engine_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from engine_common import CACHE, load_average  # noqa: E402

MESSAGE = "how far can I go on one charge?\n"


def concierge() -> list[str]:
    script = Path(sys.executable).with_name("concierge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def one_start(folder: Path, n: int) -> float:
    """Seconds from launching `concierge chat --json` to its first reply line on stdout."""
    config = folder / f"c{n}.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{folder / f"c{n}.db"}"\n\n'
                      f'[understanding]\ncache_dir = "{CACHE}"\n')
    started = time.perf_counter()
    process = subprocess.Popen([*concierge(), "chat", "--json", "--config", str(config)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=folder)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(MESSAGE.encode())
    process.stdin.flush()
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.wait(30)
    json.loads(line)  # a reply, not an error
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        one_start(Path(folder), 0)  # fills the model cache if it is empty
        print(f"load average at start: {load_average()}")
        times = [one_start(Path(folder), n) for n in range(1, args.runs + 1)]
    print("| runs | median s | min s | max s | load average |")
    print("|---:|---:|---:|---:|---|")
    print(f"| {args.runs} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {load_average()} |")


if __name__ == "__main__":
    main()
