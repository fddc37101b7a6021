"""Slack throughput: events/s and ack latency of `concierge run slack` next to a bare echoing Bolt app.

Every server runs as its own process in HTTP mode against the fake Slack Web API (also its own process,
so it does not steal the load generator's CPU), driven by 1 and 8 concurrent senders posting signed
Events API requests back to back, each event the first message of a new customer. Events/s counts
events fully handled (every reply posted), from the first send to the last reply; ack latency is the
time until the HTTP response, which is what Slack's 3-second deadline measures.

    .venv/bin/python benchmarks/slack_throughput.py [--events 400] [--senders 1 8] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docs_section import replace_section  # noqa: E402
from stored_row import StoreRow, message_rows  # noqa: E402

from tests.e2e.slack.slack_harness import BotProcess, launch  # noqa: E402
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack  # noqa: E402
from tests.fakes.slack_requests import dm, free_port, sign  # noqa: E402

QUESTIONS = ("how far can I go on one charge?", "my battery won't charge", "where is my order?",
             "how do I book a repair?", "I have a flat tyre")
DOCS = ROOT / "docs" / "benchmarks.md"
CACHE = ROOT / ".concierge-cache"  # the understanding model, trained once and shared with the engine benchmarks
ENV = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Result:
    app: str
    senders: int
    events: int
    events_per_second: float
    ack_p50_ms: float
    ack_p99_ms: float
    errors: int


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median_of(runs: list[Result]) -> Result:
    """One row from several rounds: the median of each figure (the machine may be shared)."""
    first = runs[0]
    return Result(first.app, first.senders, first.events,
                  statistics.median(r.events_per_second for r in runs),
                  statistics.median(r.ack_p50_ms for r in runs), statistics.median(r.ack_p99_ms for r in runs),
                  sum(r.errors for r in runs))


class RemoteFake:
    """The fake Slack API in a child process, asked about what it saw over HTTP."""

    def __init__(self, port: int) -> None:
        self.port = port

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def summary(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(f"http://127.0.0.1:{self.port}/_fake/summary") as response:
            result: dict[str, Any] = await response.json()
            return result

    async def clear(self, session: aiohttp.ClientSession) -> None:
        async with session.post(f"http://127.0.0.1:{self.port}/_fake/clear") as response:
            await response.read()


def serve_fake(port: int) -> None:
    """Child process: run the fake Slack API until killed."""
    with FakeSlack(port=port):
        while True:
            time.sleep(3600)


def serve_echo(port: int, api_url: str, rows: Path | None = None, understand_in: Path | None = None) -> None:
    """Child process, the baseline: a bare Bolt app on the same aiohttp adapter that echoes each DM.

    With `rows`, each DM is first stored as one message row in that SQLite file, and with
    `understand_in` (a model cache) also understood: the floor of any helpdesk turn (stored_row.py).
    """
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def main() -> None:
        async with AsyncExitStack() as stack:
            store = await stack.enter_async_context(message_rows(rows, understand_in=understand_in)) if rows else None
            await serve_app(store)

    async def serve_app(store: StoreRow | None) -> None:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url, session=aiohttp.ClientSession())
        app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

        async def echo(event: dict[str, Any], say: Callable[..., Any]) -> None:
            if store is not None:
                await store(event["text"])
            await say(text=event["text"])

        app.event("message")(echo)

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

        async def health(_: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        web_app = web.Application()
        web_app.router.add_post("/slack/events", events)
        web_app.router.add_get("/healthz", health)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_adapter(port: int, api_url: str) -> None:
    """Child process: Concierge's Slack adapter and hub with a core that only echoes (the adapter's cost)."""
    from pydantic import SecretStr

    from bot.channels.slack import SlackChannel
    from bot.config import SlackConfig
    from bot.hub import Hub
    from handlers.messages import Inbound, Kind, Reply

    class EchoCore:
        async def handle(self, inbound: Inbound) -> list[Reply]:
            return [Reply("slack", inbound.user_id, Kind.ANSWER, inbound.text, channel_id=inbound.channel_id)]

        async def fire_due_followups(self) -> list[Reply]:
            return []

    async def main() -> None:
        channel = SlackChannel(SlackConfig(bot_token=SecretStr(BOT_TOKEN), api_url=api_url, port=port,
                                           signing_secret=SecretStr(SIGNING_SECRET)))
        await channel.run(Hub(EchoCore(), [channel]))

    asyncio.run(main())


def child(kind: str, port: int, log: Path, api_url: str = "") -> subprocess.Popen[bytes]:
    rows = ["--rows", str(log.with_suffix(".db"))] if kind in ("stored", "floor") else []
    rows += ["--understand-in", str(CACHE)] if kind == "floor" else []
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--port", str(port), "--api-url", api_url, *rows],
            stdout=sink, stderr=subprocess.STDOUT, env=ENV)


def start_server(kind: str, fake: RemoteFake, directory: Path) -> BotProcess:
    port = free_port()
    log = directory / f"{kind}.log"
    bot = BotProcess(child(kind, port, log, fake.api_url), port, log)
    deadline = time.monotonic() + 30
    while bot.health() != 200:
        if bot.process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{kind} server did not start:\n{bot.log_tail()}")
        time.sleep(0.1)
    return bot


@contextmanager
def remote_fake(directory: Path) -> Iterator[RemoteFake]:
    port = free_port()
    process = child("fake", port, directory / "fake.log")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with _NO_PROXY.open(f"http://127.0.0.1:{port}/_fake/summary", timeout=1) as response:
                    response.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the fake Slack API did not start") from None
                time.sleep(0.1)
        yield RemoteFake(port)
    finally:
        process.terminate()
        process.wait(10)


async def drive(
    bot: BotProcess, fake: RemoteFake, senders: int, events: int, tag: str
) -> tuple[float, list[float], int]:
    """Send `events` DMs from `senders` closed-loop senders; return (seconds to the last reply, acks, errors)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(events):
        queue.put_nowait(n)
    acks: list[float] = []
    errors = 0
    users = [f"U{tag}{n:05d}" for n in range(events)]

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while not queue.empty():
            n = queue.get_nowait()
            body = json.dumps(dm(users[n], QUESTIONS[n % len(QUESTIONS)]))
            headers = {"Content-Type": "application/json", **sign(body, SIGNING_SECRET)}
            started = time.perf_counter()
            async with session.post(bot.events_url, data=body, headers=headers) as response:
                await response.read()
                errors += response.status != 200
            acks.append((time.perf_counter() - started) * 1000)

    wanted = {f"D{user[1:]}" for user in users}
    async with aiohttp.ClientSession() as control:
        await fake.clear(control)
        started = time.monotonic()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:
            await asyncio.gather(*(sender(session) for _ in range(senders)))
        # Handled: every customer has a reply, and no reply came for half a second (turns finished).
        while True:
            summary = await fake.summary(control)
            quiet = time.monotonic() - summary["last_at"] > 0.5
            if wanted <= set(summary["channels"]) and quiet:
                return summary["last_at"] - started, acks, errors
            if time.monotonic() - started > 900:
                raise SystemExit("replies never arrived")
            await asyncio.sleep(0.1)


def measure(app: str, bot: BotProcess, fake: RemoteFake, senders: int, events: int, round_: int) -> Result:
    tag = "".join(word[0].upper() for word in app.split() if word[0].isalpha()) + f"{round_}R{senders}"
    asyncio.run(drive(bot, fake, senders, max(20, events // 10), f"W{tag}"))  # warm up
    seconds, acks, errors = asyncio.run(drive(bot, fake, senders, events, tag))
    return Result(app, senders, events, events / seconds, percentile(acks, 0.5), percentile(acks, 0.99), errors)


def measure_core(config_dir: Path, cache_dir: Path, senders: int, events: int, round_: int) -> Result:
    """The core alone, in this process, no Slack: the ceiling `concierge run slack` can reach."""
    from bot.config import load_config
    from bot.wiring import open_runtime
    from handlers.messages import Inbound

    directory = config_dir / f"core-{round_}-{senders}"
    directory.mkdir()
    (directory / "c.toml").write_text(f'[database]\nurl = "sqlite+aiosqlite:///{directory / "c.db"}"\n'
                                      f'[understanding]\ncache_dir = "{cache_dir}"\n')

    async def run() -> float:
        async with open_runtime(load_config(directory / "c.toml", environ={})) as runtime:
            async def one(n: int, tag: str) -> None:
                user = f"U{tag}{n:05d}"
                await runtime.core.handle(Inbound("slack", user, QUESTIONS[n % len(QUESTIONS)],
                                                  event_id=f"E{user}", channel_id=f"D{user[1:]}"))

            async def flood(count: int, tag: str) -> float:
                queue = list(range(count))
                started = time.perf_counter()

                async def sender() -> None:
                    while queue:
                        await one(queue.pop(), tag)

                await asyncio.gather(*(sender() for _ in range(senders)))
                return time.perf_counter() - started

            await flood(max(20, events // 10), "WARM")
            return await flood(events, "CORE")

    seconds = asyncio.run(run())
    return Result("core alone, no Slack", senders, events, events / seconds, float("nan"), float("nan"), 0)


def table(results: list[Result]) -> str:
    echo = {r.senders: r.events_per_second for r in results if r.app == "bolt echo"}
    lines = ["| app | senders | events | events/s | vs echo | ack p50 ms | ack p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = f"{r.events_per_second / echo[r.senders]:.0%}" if r.senders in echo else "–"
        p50, p99 = ("–", "–") if math.isnan(r.ack_p50_ms) else (f"{r.ack_p50_ms:.1f}", f"{r.ack_p99_ms:.1f}")
        lines.append(f"| {r.app} | {r.senders} | {r.events} | {r.events_per_second:.0f} | {ratio} | "
                     f"{p50} | {p99} | {r.errors} |")
    return "\n".join(lines)


def write_docs(results: list[Result], events: int, repeat: int, notes: str) -> None:
    """Replace only the `## Slack` section of docs/benchmarks.md (other sections belong to others)."""
    section = "\n".join([
        "## Slack", "",
        "`benchmarks/slack_throughput.py`: servers, each its own process in HTTP mode against the fake",
        "Slack Web API (a process of its own too) on 127.0.0.1, measured in the same run: a bare slack-bolt",
        "app that only echoes; the same app storing each event as one message row first, and also running it",
        "through the default understanding engine (the floor of any turn that understands and keeps the",
        "message, `benchmarks/stored_row.py`); Concierge's Slack adapter and hub with a core that only echoes",
        "(the adapter's own cost); and `concierge run slack` (SQLite, demo knowledge base). The last rows",
        "call the core in-process with no Slack at all, the ceiling for the full run. Senders post signed `message.im`",
        f"events back to back ({events} per run after a warm-up, each from a new customer; median of {repeat}",
        "interleaved rounds). Events/s counts",
        "events fully handled, from the first send to the last reply posted (Concierge answers each with an",
        "answer and a resolution check). Ack latency is the HTTP response time Slack's 3-second deadline",
        f"applies to. Measured {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}.",
        "", table(results), "",
        "Targets: events/s at least 60% of the echo app's; ack p99 under 100 ms.", "",
        *([notes, ""] if notes else []),
    ])
    replace_section(DOCS, "Slack", section)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--senders", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--apps", nargs="+", default=["echo", "stored", "floor", "adapter", "concierge", "core"])
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the table shows each figure's median")
    parser.add_argument("--write-docs", action="store_true", help="update the ## Slack section of docs/benchmarks.md")
    parser.add_argument("--notes", default="", help="a paragraph to add under the table")
    parser.add_argument("--serve", choices=("fake", "echo", "stored", "floor", "adapter"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--understand-in", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve = {"fake": lambda: serve_fake(args.port), "echo": lambda: serve_echo(args.port, args.api_url),
                 "stored": lambda: serve_echo(args.port, args.api_url, args.rows),
                 "floor": lambda: serve_echo(args.port, args.api_url, args.rows, args.understand_in),
                 "adapter": lambda: serve_adapter(args.port, args.api_url)}
        serve[args.serve]()
        return
    with tempfile.TemporaryDirectory() as tmp, remote_fake(Path(tmp)) as fake:
        directory = Path(tmp)
        servers: dict[str, tuple[str, Callable[[], BotProcess]]] = {
            "echo": ("bolt echo", lambda: start_server("echo", fake, directory)),
            "stored": ("bolt echo + one stored row", lambda: start_server("stored", fake, directory)),
            "floor": ("bolt echo + understanding + one stored row", lambda: start_server("floor", fake, directory)),
            "adapter": ("adapter + echo core", lambda: start_server("adapter", fake, directory)),
            "concierge": ("concierge", lambda: launch(directory, fake, directory / "cache")),
            "core": ("core alone, no Slack", lambda: running["concierge"]),
        }
        running: dict[str, BotProcess] = {}
        runs: dict[tuple[str, int], list[Result]] = {}
        try:
            for key in args.apps:
                if key != "core":
                    running[key] = servers[key][1]()
            # Rounds interleave the apps, so a busy spell on a shared machine hits all of them alike.
            for round_ in range(args.repeat):
                for key in args.apps:
                    for senders in args.senders:
                        app = servers[key][0]
                        if key == "core":
                            result = measure_core(directory, directory / "cache", senders, args.events, round_)
                        else:
                            result = measure(app, running[key], fake, senders, args.events, round_)
                        runs.setdefault((app, senders), []).append(result)
                        print(f"round {round_ + 1}: " + table([result]).splitlines()[-1], flush=True)
        finally:
            for bot in running.values():
                bot.stop()
    results = [median_of(group) for group in runs.values()]
    print(table(results))
    print(json.dumps([{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in vars(r).items()}
                      for r in results]))
    if args.write_docs:
        write_docs(results, args.events, args.repeat, args.notes)


if __name__ == "__main__":
    main()
