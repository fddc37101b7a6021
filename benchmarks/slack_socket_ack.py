"""Slack Socket Mode ack latency of `concierge run slack`, which stores each event before acknowledging it.

The bot runs as its own process in Socket Mode against the fake Slack (Web API and Socket Mode server, in
this process). Each event is the first message of a new customer. Closed loop (default): the next
envelope goes out once the previous one was acknowledged, so the figure is the ack's own latency while
the core works through the earlier events. `--rate N`: N envelopes a second regardless of acks (open
loop), which adds the event loop's queueing when the bot is near its capacity. Latency runs from the
envelope's push to its ack arriving at the fake.

    .venv/bin/python benchmarks/slack_socket_ack.py [--events 200] [--rate 50]

To compare with another version of the code, run it with that tree first on PYTHONPATH (the bot is
started with this environment), e.g. `git archive COMMIT | tar -x -C /tmp/old` then
`PYTHONPATH=/tmp/old .venv/bin/python benchmarks/slack_socket_ack.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.slack.slack_harness import launch  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.fakes.slack_requests import dm  # noqa: E402

QUESTION = "how far can I go on one charge?"
WARM_UP = 20


class TimedAcks(list[dict[str, Any]]):
    """The fake's list of acks, stamping each with the moment it arrived."""

    def append(self, ack: dict[str, Any]) -> None:
        super().append({**ack, "at": time.perf_counter()})


def acked(fake: FakeSlack, envelopes: set[str]) -> dict[str, float]:
    """When each of `envelopes` was acknowledged, for those that were."""
    return {a["envelope_id"]: a["at"] for a in list(fake.socket_acks) if a["envelope_id"] in envelopes}


def wait_until(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the bot")
        time.sleep(0.0005)


def measure(events: int, rate: float | None) -> list[float]:
    """Send `events` DMs over the socket; return each ack's latency in ms."""
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        fake.socket_acks = TimedAcks()
        bot = launch(Path(folder), fake, Path(folder) / "cache", socket_mode=True)
        try:
            wait_until(fake.socket_connected, 120)
            warm = {fake.send_socket(dm(f"UWARM{n}", QUESTION)) for n in range(WARM_UP)}
            wait_until(lambda: len(acked(fake, warm)) == WARM_UP, 60)
            time.sleep(3)  # let the warm-up's turns finish
            sent: dict[str, float] = {}
            for n in range(events):
                envelope = fake.send_socket(dm(f"UBENCH{n}", QUESTION))
                sent[envelope] = time.perf_counter()
                if rate is None:
                    wait_until(lambda pushed=envelope: pushed in acked(fake, {pushed}), 30)
                else:
                    time.sleep(1 / rate)
            wait_until(lambda: len(acked(fake, set(sent))) == events, 60)
            return sorted((at - sent[envelope]) * 1000 for envelope, at in acked(fake, set(sent)).items())
        finally:
            bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=None, help="envelopes a second (open loop)")
    args = parser.parse_args()
    latencies = measure(args.events, args.rate)
    with open("/proc/loadavg") as load:
        load_1m = load.read().split()[0]
    p99 = latencies[round(0.99 * (len(latencies) - 1))]
    mode = f"open loop {args.rate:g}/s" if args.rate else "closed loop"
    print(f"{mode}: {len(latencies)} acks, p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
          f"max {latencies[-1]:.1f} ms (load {load_1m})")


if __name__ == "__main__":
    main()
