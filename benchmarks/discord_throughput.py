"""Discord throughput: messages/s and reply latency of `concierge run discord` next to a bare echo bot.

Beside them: the echo bot storing each message as one row first (and also understanding it first: the
floor of any helpdesk turn, stored_row.py), and Concierge's adapter over an instant core. All run as
subprocesses against the fake Discord (gateway + REST on 127.0.0.1, in this process), driven by 1 and 8
closed-loop senders: each sender DMs the bot as a new customer, waits for the first reply, then sends
the next. Messages/s counts messages fully handled (every reply posted), from the first send to the last
reply; latency is from the gateway dispatch to the first reply's REST call arriving.

    .venv/bin/python benchmarks/discord_throughput.py [--messages 200] [--repeats 3] [--senders 1 8] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from discord_report import (  # noqa: E402
    ADAPTER,
    APPS,
    CORE,
    ECHO,
    FLOOR,
    FULL,
    STORED,
    Result,
    table,
    write_docs,
)
from stored_row import StoreRow, message_rows  # noqa: E402

from tests.e2e.discord.harness import Bot  # noqa: E402
from tests.fakes.discord_fake import FakeDiscord, Posted  # noqa: E402

QUESTIONS = (
    "how far can I go on one charge?",
    "my battery won't charge",
    "where is my order?",
    "how do I book a repair?",
    "I have a flat tyre",
)
CACHE = ROOT / ".concierge-cache"  # the understanding model, trained once and shared with the other benchmarks
# The --apps names, as in the Slack benchmark, for the table's labels.
APP_NAMES = {"echo": ECHO, "stored": STORED, "floor": FLOOR, "adapter": ADAPTER, "concierge": FULL, "core": CORE}


def serve_echo(api_base: str, gateway_url: str, rows: Path | None = None, understand_in: Path | None = None) -> None:
    """The baseline: a bare discord.py client with the same intents that echoes every DM.

    With `rows`, each DM is first stored as one message row in that SQLite file, and with
    `understand_in` (a model cache) also understood: the floor of any helpdesk turn (stored_row.py).
    """
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    intents = discord.Intents.none()
    intents.guilds = intents.dm_messages = intents.guild_messages = True

    class Echo(discord.Client):
        def __init__(self, store: StoreRow | None) -> None:
            super().__init__(intents=intents, max_messages=None, chunk_guilds_at_startup=False)
            self.store = store

        async def on_message(self, message: discord.Message) -> None:
            if not message.author.bot:
                if self.store is not None:
                    await self.store(message.content)
                await message.channel.send(message.content, allowed_mentions=discord.AllowedMentions.none())

    async def main() -> None:
        # What `Client.run` does, inside the rows' context: the engine must live on the client's loop.
        async with contextlib.AsyncExitStack() as stack:
            store = await stack.enter_async_context(message_rows(rows, understand_in=understand_in)) if rows else None
            async with Echo(store) as client:
                await client.start("fake-token")

    with contextlib.suppress(KeyboardInterrupt):  # the harness stops the bot with SIGINT, as `Client.run` expects
        asyncio.run(main())


def serve_adapter(api_base: str, gateway_url: str) -> None:
    """Concierge's Discord adapter and hub over an instant core that echoes: the adapter's own cost."""
    from bot.channels.discord import DiscordChannel
    from bot.config import DiscordConfig
    from bot.hub import Hub
    from handlers.messages import Inbound, Kind, Reply

    class InstantCore:
        async def handle(self, inbound: Inbound) -> list[Reply]:
            return [Reply("discord", inbound.user_id, Kind.ANSWER, inbound.text, channel_id=inbound.channel_id)]

        async def fire_due_followups(self) -> list[Reply]:
            return []

    channel = DiscordChannel(DiscordConfig(token="fake-token", api_base=api_base, gateway_url=gateway_url))
    asyncio.run(channel.run(Hub(InstantCore(), [channel])))


async def drive(fake: FakeDiscord, senders: int, messages: int, first_user: int) -> tuple[float, list[float], int]:
    """Send `messages` DMs from `senders` closed-loop senders; return (seconds, latencies, replies)."""
    waiting: dict[int, asyncio.Future[float]] = {}

    def on_post(posted: Posted) -> None:
        future = waiting.get(posted.user_id or 0)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    fake.on_post = on_post
    queue = list(range(messages))
    latencies: list[float] = []
    mark = len(fake.posted)

    async def sender() -> None:
        while queue:
            n = queue.pop()
            user = first_user + n
            waiting[user] = asyncio.get_running_loop().create_future()
            sent = time.perf_counter()
            await fake.send_dm(user, QUESTIONS[n % len(QUESTIONS)])
            replied = await asyncio.wait_for(waiting[user], 60)
            latencies.append((replied - sent) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(senders)))
    # Fully handled: every turn's later replies (Concierge's resolution check) are posted too.
    await fake.wait_quiet(0.5, within=120)
    last = max(p.at for p in fake.posted[mark:])
    fake.on_post = None
    return last - started, latencies, len(fake.posted) - mark


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(app: str, fake: FakeDiscord, pid: int, senders: int, messages: int, base: int) -> Result:
    await drive(fake, senders, max(20, messages // 10), base)  # warm up
    used = cpu_seconds(pid)
    seconds, latencies, replies = await drive(fake, senders, messages, base + 1_000_000)
    cpu_ms = (cpu_seconds(pid) - used) * 1000 / messages
    return Result(app, senders, messages, seconds, latencies, replies, cpu_ms)


async def core_alone(directory: Path, senders: int, messages: int, base: int) -> Result:
    """The same messages straight into `Concierge.handle` in this process: the core's cost without Discord."""
    from bot.config import load_config
    from bot.wiring import open_runtime
    from handlers.messages import Inbound

    config_path = directory / f"core-{base}.toml"
    config_path.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{directory / f"core-{base}.db"}"\n'
        f'[understanding]\ncache_dir = "{directory / "cache"}"\n'
    )
    async with open_runtime(load_config(config_path)) as runtime:

        async def drive_core(count: int, first: int) -> tuple[float, list[float], int]:
            queue, latencies, replies = list(range(count)), [], 0

            async def sender() -> None:
                nonlocal replies
                while queue:
                    n = queue.pop()
                    inbound = Inbound(
                        "discord",
                        str(first + n),
                        QUESTIONS[n % len(QUESTIONS)],
                        event_id=f"message:{first + n}",
                        channel_id=str(first + n),
                    )
                    sent = time.perf_counter()
                    answered = await runtime.core.handle(inbound)
                    # Add after the await: `replies += len(await …)` would read `replies` before suspending.
                    replies += len(answered)
                    latencies.append((time.perf_counter() - sent) * 1000)

            started = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(senders)))
            return time.perf_counter() - started, latencies, replies

        await drive_core(max(20, messages // 10), base)
        used = time.process_time()
        seconds, latencies, replies = await drive_core(messages, base + 1_000_000)
        cpu_ms = (time.process_time() - used) * 1000 / messages
    return Result(CORE, senders, messages, seconds, latencies, replies, cpu_ms)


def server_argv(app: str, fake: FakeDiscord, workdir: Path) -> list[str] | None:
    """The command line of this benchmark's own bots; None for `concierge run discord`."""
    rows = ["--rows", str(workdir / "rows.db")] if app in (STORED, FLOOR) else []
    rows += ["--understand-in", str(CACHE)] if app == FLOOR else []
    serve = {ECHO: "--serve-echo", STORED: "--serve-echo", FLOOR: "--serve-echo", ADAPTER: "--serve-adapter"}.get(app)
    return [sys.executable, __file__, serve, fake.api_base, fake.gateway_url, *rows] if serve else None


async def run(args: argparse.Namespace) -> list[Result]:
    """Start the bots, each on its own fake, and measure them in turns; keep each one's median run."""
    # The echo bot always runs: every other row is compared to it, turn by turn.
    apps = [app for app in APPS if app == ECHO or app in {APP_NAMES[name] for name in args.apps}]
    runs: dict[tuple[str, int], list[Result]] = {}
    async with contextlib.AsyncExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        bots: dict[str, tuple[FakeDiscord, Bot]] = {}
        for app in apps:
            if app == CORE:
                continue
            fake = await stack.enter_async_context(FakeDiscord())
            workdir = directory / str(len(bots))
            workdir.mkdir()
            argv = server_argv(app, fake, workdir)
            bot = Bot(fake, workdir, directory / "cache", verbose=False, argv=argv)
            await bot.start()
            stack.push_async_callback(bot.stop)
            bots[app] = (fake, bot)
        # Turns rather than one bot after the other, so a busy moment on the machine hits all alike.
        for senders in args.senders:
            for repeat in range(args.repeats):
                for app in apps:
                    index = APPS.index(app)  # a fixed offset per app keeps every run's users new to its bot
                    base = 10**15 * (index + 1) + senders * 10**9 + repeat * 10**7
                    if app == CORE:
                        result = await core_alone(directory, senders, args.messages, base)
                    else:
                        fake, bot = bots[app]
                        assert bot.process is not None
                        result = await measure(app, fake, bot.process.pid, senders, args.messages, base)
                    runs.setdefault((app, senders), []).append(result)
                    print(table([result]).splitlines()[-1], flush=True)
    ordered = sorted(runs.items(), key=lambda item: (item[0][1], APPS.index(item[0][0])))
    medians = []
    for (app, senders), results in ordered:
        median = sorted(results, key=lambda r: r.per_second)[len(results) // 2]
        if app != ECHO:
            # Ratios within a turn: the machine's load drifts between turns more than within one.
            echo = runs[(ECHO, senders)]
            pairs = list(zip(results, echo, strict=True))
            median.vs_echo = statistics.median(r.per_second / e.per_second for r, e in pairs)
            median.cpu_vs_echo = statistics.median(e.cpu_ms / max(r.cpu_ms, 1e-9) for r, e in pairs)
        medians.append(median)
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs per bot and sender count (median kept)")
    parser.add_argument("--senders", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--write-docs", action="store_true", help="update the ## Discord section of docs/benchmarks.md")
    parser.add_argument(
        "--apps",
        nargs="+",
        choices=APP_NAMES,
        default=list(APP_NAMES),
        help="the bots to measure (the echo bot always runs: the others are compared to it)",
    )
    parser.add_argument("--serve-echo", nargs=2, metavar=("API_BASE", "GATEWAY_URL"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--understand-in", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve-adapter", nargs=2, metavar=("API_BASE", "GATEWAY_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo:
        api_base, gateway_url = args.serve_echo
        serve_echo(api_base, gateway_url, args.rows, args.understand_in)
        return
    if args.serve_adapter:
        serve_adapter(*args.serve_adapter)
        return
    load = os.getloadavg()[0]
    results = asyncio.run(run(args))
    print(table(results))
    print(
        json.dumps(
            [
                {
                    "app": r.app,
                    "senders": r.senders,
                    "messages_per_second": round(r.per_second, 1),
                    "latency_p50_ms": round(r.percentile(0.5), 2),
                    "latency_p99_ms": round(r.percentile(0.99), 2),
                }
                for r in results
            ]
        )
    )
    if args.write_docs:
        write_docs(results, args.messages, args.repeats, load)


if __name__ == "__main__":
    main()
