"""The Discord throughput benchmark's results: one run's figures, the table, and its `## Discord` docs section."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from docs_section import replace_section

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
ECHO = "discord.py echo"
STORED = "discord.py echo + one stored row"
FLOOR = "discord.py echo + understanding + one stored row"
ADAPTER = "Concierge adapter, instant core"
FULL = "concierge run discord"
CORE = "core alone, no Discord"
APPS = (ECHO, STORED, FLOOR, ADAPTER, FULL, CORE)  # the table's order
TARGET = 0.60


@dataclass
class Result:
    app: str
    senders: int
    messages: int
    seconds: float
    latency_ms: list[float]
    replies: int
    cpu_ms: float  # CPU time the bot's process used per message: robust to a busy machine, unlike rates
    vs_echo: float | None = None  # median over turns of this run's rate / the echo bot's in the same turn
    cpu_vs_echo: float | None = None  # median over turns of the echo bot's CPU per message / this one's

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latency_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(results: list[Result]) -> str:
    """The results as a Markdown table, one row per app and sender count."""
    lines = [
        "| app | senders | messages | messages/s | vs echo | CPU ms/message | CPU vs echo | replies/message "
        "| latency p50 ms | latency p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = "–" if r.vs_echo is None else f"{r.vs_echo:.0%}"
        cpu = "–" if r.cpu_vs_echo is None else f"{r.cpu_vs_echo:.0%}"
        lines.append(
            f"| {r.app} | {r.senders} | {r.messages} | {r.per_second:.0f} | {ratio} | {r.cpu_ms:.2f} | {cpu} | "
            f"{r.replies / r.messages:.1f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} |"
        )
    return "\n".join(lines)


def verdict(results: list[Result]) -> list[str]:
    """Say in words what the table shows: the floor and the adapter against the target, and where the rest goes."""

    def shares(app: str, cpu: bool = False) -> str:
        picked = [r.cpu_vs_echo if cpu else r.vs_echo for r in results if r.app == app]
        return " / ".join(f"{value:.0%}" for value in picked if value is not None)

    core = [r for r in results if r.app == CORE]
    full = [r for r in results if r.app == FULL]
    senders = " / ".join(str(r.senders) for r in core)
    met = all((r.vs_echo or 0) >= TARGET for r in full)
    return [
        f"With {senders} senders: the echo bot that also stores each message as one row runs at {shares(STORED)} "
        f"of the plain echo bot's messages/s, and with the understanding call added at {shares(FLOOR)}: "
        "what a bot that does only that, one transaction per message, reaches here. "
        f"The Discord adapter itself (Concierge's client and hub over an instant core) "
        f"runs at {shares(ADAPTER)} of the echo bot's messages/s, and its CPU vs echo is {shares(ADAPTER, cpu=True)} "
        "(the echo bot's CPU per message divided by this one's: the share of the echo rate it would reach on an "
        "idle machine; CPU is read from /proc in 10 ms ticks). "
        f"`concierge run discord` as a whole runs at {shares(FULL)} of the echo bot: "
        + (
            "the target is met."
            if met
            else "below the target, and the last rows show why: the core alone, called in-process with no "
            f"Discord at all, handles {' / '.join(f'{r.per_second:.0f}' for r in core)} messages/s "
            f"({' / '.join(f'{r.cpu_ms:.0f}' for r in core)} ms of CPU per first message of a new customer, "
            "SQLite), so the full run is bound by the core, not by Discord. Closing the gap is core and storage "
            "work: fewer statements and flushes per turn, and one SQLite writer instead of connections "
            "busy-waiting on each other, which is where the multi-second p99 at 8 senders comes from."
        ),
        "",
    ]


def write_docs(results: list[Result], messages: int, repeats: int, load: float) -> None:
    """Replace only the `## Discord` section of docs/benchmarks.md (other sections belong to others)."""
    section = "\n".join(
        [
            "## Discord",
            "",
            "`benchmarks/discord_throughput.py`: `concierge run discord` (SQLite, demo knowledge base), a bare",
            "discord.py client with the same intents that only echoes, the same client storing each message as",
            "one committed row first (and understanding it first too: the floor of any helpdesk turn,",
            "`benchmarks/stored_row.py`), and Concierge's Discord adapter and hub over",
            "an instant echoing core, all as subprocesses against their own fake Discord (gateway websocket and",
            "REST on 127.0.0.1) in the same run. Each closed-loop sender DMs the bot as",
            f"a new customer and waits for the first reply before the next ({messages} messages per run, after a",
            f"warm-up; the bots take turns, {repeats} runs each: median run shown, `vs echo` is the median of the",
            "ratios to the echo bot's run in the same turn); messages/s counts messages fully",
            "handled, from the first send to the last reply posted",
            "(Concierge posts an answer and a resolution check per message, the echo bot one message). Latency is",
            "from the gateway dispatch to the first reply reaching the REST API.",
            f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPUs (load average {load:.1f} "
            f"at the start, shared with other work), Python {sys.version.split()[0]}.",
            "",
            table(results),
            "",
            f"Target: messages/s at least {TARGET:.0%} of the echo bot's.",
            "",
            *verdict(results),
        ]
    )
    replace_section(DOCS, "Discord", section)
