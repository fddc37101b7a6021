"""`concierge run CHANNEL…`: run any set of channels in one process, with follow-ups on a timer."""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import timedelta

from bot.channels.base import Channel
from bot.channels.console import ConsoleChannel
from bot.config import Config
from bot.hub import Hub
from bot.wiring import Runtime, open_runtime

log = logging.getLogger(__name__)


def run(args: argparse.Namespace, config: Config) -> int:
    """Start the named channels and serve until one stops or the process is interrupted."""
    asyncio.run(_serve(args, config))
    return 0


async def _serve(args: argparse.Namespace, config: Config) -> None:
    async with open_runtime(config) as runtime:
        hub = Hub(runtime.core, outbox=runtime.outbox, unavailable=runtime.services.templates.render("unavailable"),
                  relay_retries=config.outbox.relay_retry_seconds)
        channels = [_build(name, args, config, runtime, hub) for name in dict.fromkeys(args.channels)]
        for channel in channels:
            hub.attach(channel)
        tasks = [asyncio.create_task(channel.run(hub), name=channel.platform) for channel in channels]
        tasks.append(asyncio.create_task(hub.run_followups(), name="followups"))
        tasks.append(asyncio.create_task(hub.run_outbox(config.outbox.sweep_seconds), name="outbox"))
        log.info("running %s", ", ".join(channel.platform for channel in channels))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _build(name: str, args: argparse.Namespace, config: Config, runtime: Runtime, hub: Hub) -> Channel:
    if name == "slack":
        from bot.channels.slack import SlackChannel

        # Over HTTP each event is stored before its ack and handled again if a crash left it.
        return SlackChannel(config.slack, journal=runtime.journal, replay_after=config.outbox.retry_after_seconds)
    if name == "discord":
        from bot.channels.discord import DiscordChannel

        return DiscordChannel(config.discord, shard_ids=args.shard_ids, shard_count=args.shard_count)

    async def advance(delta: timedelta) -> None:
        runtime.clock.advance(delta)
        await hub.deliver(await runtime.core.fire_due_followups())

    return ConsoleChannel("you", json_lines=False, advance=advance)
