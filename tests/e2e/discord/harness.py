"""Run `concierge run discord` as a subprocess against the fake Discord (used by e2e tests and benchmarks)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from tests.fakes.discord_fake import FakeDiscord

CUSTOMER = 111000000000000001
OTHER_CUSTOMER = 333000000000000003
MANAGER = 222000000000000002
AGENT = 444000000000000004
# The first start trains the understanding model; later starts load it from the shared cache.
FIRST_START_SECONDS = 180.0


def concierge_command() -> list[str]:
    """The installed `concierge` script next to this Python, else `python -m bot`."""
    script = Path(sys.executable).with_name("concierge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def discord_section(fake: FakeDiscord, *, desk: bool = False) -> str:
    """The `[discord]` config section pointing at the fake, with its desk channel when asked."""
    desk_line = f"desk_channel_id = {fake.desk_channel_id}\n" if desk else ""
    return (
        "[discord]\n"
        'token = "fake-token"\n'
        f'api_base = "{fake.api_base}"\n'
        f'gateway_url = "{fake.gateway_url}"\n'
        f"{desk_line}"
    )


class Bot:
    """`concierge run discord` in a subprocess, pointed at the fake; its stderr goes to a log file."""

    def __init__(
        self, fake: FakeDiscord, workdir: Path, cache_dir: Path, *, verbose: bool = True, argv: list[str] | None = None,
        agents: tuple[int, ...] = (), desk: bool = False,
    ) -> None:
        self.fake = fake
        self.verbose = verbose
        self.argv = argv  # another program to run instead (the benchmark's echo bot)
        self.config = workdir / "concierge.toml"
        self.log = workdir / "bot.log"
        self.config.write_text(
            discord_section(fake, desk=desk)
            + "[database]\n"
            f'url = "sqlite+aiosqlite:///{workdir / "c.db"}"\n'
            "[roles]\n"
            f'managers = ["discord:{MANAGER}"]\n'
            f"agents = {json.dumps([f'discord:{agent}' for agent in agents])}\n"
            "[understanding]\n"
            f'cache_dir = "{cache_dir}"\n'
        )
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process and wait until it has identified on the fake gateway."""
        identified = len(self.fake.identifies)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "CONCIERGE_"))}
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=self.config.parent,
            )
        waiting = asyncio.ensure_future(self.fake.wait_identified(identified + 1, within=FIRST_START_SECONDS))
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            waiting.cancel()
            raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log_text()}")
        exited.cancel()
        waiting.result()
        await self.fake.wait_connected()

    def command(self) -> list[str]:
        """The command line this bot runs."""
        if self.argv is not None:
            return self.argv
        verbose = ["--verbose"] if self.verbose else []
        return [*concierge_command(), "run", "discord", "--config", str(self.config), *verbose]

    async def stop(self) -> int | None:
        """Interrupt the process like Ctrl-C and wait for it to end."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            return await process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
