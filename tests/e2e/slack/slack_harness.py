"""Start `concierge run slack` as a subprocess against the fake Slack API and talk to it like Slack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, Call, FakeSlack
from tests.fakes.slack_requests import (
    button_press,
    command_form,
    event_body,
    free_port,
    interactive_form,
    signed_post,
)

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Variables that would override the test's config file (the environment wins over the file).
_OVERRIDES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
              "CONCIERGE_DATABASE_URL")


def concierge_command() -> list[str]:
    """The installed `concierge` script next to this interpreter, else `python -m bot`."""
    script = Path(sys.executable).with_name("concierge")
    if script.exists():
        return [str(script)]
    found = shutil.which("concierge")
    return [found] if found else [sys.executable, "-m", "bot"]


class SlackApi(Protocol):
    """Anything serving the Slack Web API, in this process or another."""

    @property
    def api_url(self) -> str: ...


def write_config(
    directory: Path, fake: SlackApi, *, port: int, cache_dir: Path, socket_mode: bool = False,
    managers: tuple[str, ...] = ("slack:UMANAGER",), agents: tuple[str, ...] = (), desk_channel: str | None = None,
    extra: str = "",
) -> Path:
    """A concierge.toml for one bot process: its own SQLite file, the fake's API, a shared model cache.

    `extra` is appended as is (another platform's section, say).
    """
    slack = [f'api_url = "{fake.api_url}"', f'bot_token = "{BOT_TOKEN}"', 'host = "127.0.0.1"',
             f"port = {port}"]
    if desk_channel:
        slack.append(f'desk_channel = "{desk_channel}"')
    slack.append(f'app_token = "{APP_TOKEN}"' if socket_mode else f'signing_secret = "{SIGNING_SECRET}"')
    text = "\n".join([
        "[database]", f'url = "sqlite+aiosqlite:///{directory / "c.db"}"', "",
        "[roles]", f"managers = {json.dumps(list(managers))}", f"agents = {json.dumps(list(agents))}", "",
        "[understanding]", f'cache_dir = "{cache_dir}"', "",
        "[slack]", *slack, "", extra,
    ])
    path = directory / "concierge.toml"
    path.write_text(text)
    return path


@dataclass
class BotProcess:
    """A running `concierge run slack` and the way to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    def post_event(self, body: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        """Send an Events API payload, signed unless told otherwise."""
        return signed_post(self.events_url, json.dumps(body), SIGNING_SECRET, **kwargs)

    def command(self, user: str, text: str, channel: str | None = None) -> tuple[int, str]:
        """Run `/concierge <text>` as `user`."""
        body = command_form(user, text, channel=channel)
        return signed_post(self.events_url, body, SIGNING_SECRET, form=True)

    def press(self, user: str, posted: Call, value: str) -> tuple[int, str]:
        """Press the button with `value` on a message the bot posted."""
        channel = str(posted.response.get("channel"))
        payload = button_press(user, posted.message, channel, value)
        return signed_post(self.events_url, interactive_form(payload), SIGNING_SECRET, form=True)

    def health(self) -> int:
        try:
            with _NO_PROXY.open(f"{self.base_url}/healthz", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def bot_environment() -> dict[str, str]:
    """This environment without the variables that would override the test's config file."""
    env = {k: v for k, v in os.environ.items() if k not in _OVERRIDES}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def start_bot(
    config: Path, port: int, *, timeout: float = 120.0, channels: tuple[str, ...] = ("slack",), verbose: bool = False
) -> BotProcess:
    """Start the bot (with `--verbose` when asked) and wait until /healthz answers 200."""
    log = config.with_suffix(".log")  # one per config: several bots may share a folder
    flags = ["--verbose"] if verbose else []
    with log.open("wb") as sink:
        process = subprocess.Popen([*concierge_command(), "run", *channels, "--config", str(config), *flags],
                                   stdout=sink, stderr=subprocess.STDOUT, env=bot_environment(), cwd=config.parent)
    bot = BotProcess(process, port, log)
    deadline = time.monotonic() + timeout
    while bot.health() != 200:
        if process.poll() is not None:
            raise AssertionError(f"concierge run slack exited with {process.returncode}:\n{bot.log_tail()}")
        if time.monotonic() > deadline:
            bot.stop()
            raise AssertionError(f"no /healthz after {timeout}s:\n{bot.log_tail()}")
        time.sleep(0.1)
    return bot


def launch(
    directory: Path, fake: SlackApi, cache_dir: Path, *, socket_mode: bool = False, agents: tuple[str, ...] = (),
    desk_channel: str | None = None,
) -> BotProcess:
    """Write a config for a fresh port and start the bot with it."""
    port = free_port()
    config = write_config(directory, fake, port=port, cache_dir=cache_dir, socket_mode=socket_mode, agents=agents,
                          desk_channel=desk_channel)
    return start_bot(config, port)


def thread_message(user: str, text: str, channel: str, thread_ts: str) -> dict[str, Any]:
    """Someone replying in a thread of a channel (the `message.channels` event), without mentioning the bot."""
    event = {"type": "message", "channel_type": "channel", "user": user, "text": text, "channel": channel,
             "ts": f"{time.time():.6f}", "thread_ts": thread_ts, "team": "T0TEST"}
    return event_body(event)


def kind_of(call: Call) -> str | None:
    """The reply kind the adapter stores in the message metadata."""
    metadata = call.params.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return payload.get("kind")


def buttons_of(call: Call) -> list[dict[str, Any]]:
    """The buttons (value and label) of a posted message."""
    return [{"value": e["value"], "label": e["text"]["text"]}
            for block in call.params.get("blocks") or [] if block.get("type") == "actions"
            for e in block["elements"]]


def posts_to(fake: FakeSlack, channel: str) -> list[Call]:
    """Messages posted in a DM channel, whether addressed by its id or by the user's id."""
    user = "U" + channel[1:]
    return [c for c in fake.of("chat.postMessage") if c.params.get("channel") in (channel, user)]


def post_with(
    fake: FakeSlack, channel: str, predicate: Callable[[Call], bool] = lambda _: True, timeout: float = 20.0
) -> Call:
    """Wait for the first message posted in `channel` that satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = next((c for c in posts_to(fake, channel) if predicate(c)), None)
        if found is not None:
            return found
        time.sleep(0.05)
    seen = [(kind_of(c), c.params.get("text"), buttons_of(c)) for c in posts_to(fake, channel)]
    raise AssertionError(f"no matching post in {channel}; saw {seen}")


def settle(fake: FakeSlack, quiet: float = 0.7, timeout: float = 20.0) -> None:
    """Wait until the fake has seen no call for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = max((c.at for c in fake.calls), default=0.0)
        if time.monotonic() - latest >= quiet:
            return
        time.sleep(0.05)
