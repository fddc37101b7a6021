"""The Slack adapter in-process against the fake Slack API, with a scripted inbox instead of the core."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.channels.slack import SlackChannel
from bot.config import ConfigError, SlackConfig
from handlers.messages import Attachment, Button, Inbound, Kind, Reply
from tests.fakes.slack_api import APP_TOKEN, BOT_ID, BOT_TOKEN, BOT_USER_ID, SIGNING_SECRET, FakeSlack
from tests.fakes.slack_requests import (
    button_press,
    command_form,
    dm,
    free_port,
    interactive_form,
    mention,
    signed_post,
)

Script = Callable[[Inbound], list[Reply]]


def echo(inbound: Inbound) -> list[Reply]:
    """Answer every message with its own text, in the place it came from."""
    return [Reply("slack", inbound.user_id, Kind.ANSWER, f"echo: {inbound.text}",
                  channel_id=inbound.channel_id, thread_id=inbound.thread_id, conversation_id=7)]


@dataclass
class ScriptedInbox:
    """Stands in for the hub: records what arrives and delivers the script's replies."""

    channel: SlackChannel | None = None
    script: Script = echo
    received: list[Inbound] = field(default_factory=list)

    async def receive(self, inbound: Inbound) -> None:
        self.received.append(inbound)
        assert self.channel is not None
        for reply in self.script(inbound):
            await self.channel.deliver(reply)

    async def wait(self, count: int = 1, within: float = 10.0) -> list[Inbound]:
        deadline = time.monotonic() + within
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"only {self.received} arrived"
            await asyncio.sleep(0.01)
        return self.received


@dataclass
class Running:
    channel: SlackChannel
    inbox: ScriptedInbox
    url: str

    async def post(self, body: str, *, form: bool = False, **kwargs: object) -> tuple[int, str]:
        return await asyncio.to_thread(signed_post, self.url, body, SIGNING_SECRET, form=form, **kwargs)  # type: ignore[arg-type]


def settings(fake: FakeSlack, port: int, **extra: object) -> SlackConfig:
    values: dict[str, object] = {"bot_token": SecretStr(BOT_TOKEN), "api_url": fake.api_url, "port": port,
                                 "signing_secret": SecretStr(SIGNING_SECRET), **extra}
    return SlackConfig.model_validate(values)


@pytest.fixture
async def running(fake_slack: FakeSlack) -> AsyncIterator[Running]:
    port = free_port()
    channel = SlackChannel(settings(fake_slack, port))
    inbox = ScriptedInbox(channel)
    task = asyncio.create_task(channel.run(inbox))
    await asyncio.wait_for(channel.ready.wait(), 10)
    yield Running(channel, inbox, f"http://127.0.0.1:{port}/slack/events")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_dm_reaches_the_inbox_and_the_reply_is_posted(running: Running, fake_slack: FakeSlack) -> None:
    fake_slack.names["UCUST"] = "Ada"
    status, _ = await running.post(json.dumps(dm("UCUST", "my &lt;battery&gt; died", event_id="Ev1")))
    assert status == 200
    [inbound] = await running.inbox.wait()
    assert (inbound.user_id, inbound.text, inbound.event_id) == ("UCUST", "my <battery> died", "Ev1")
    assert (inbound.channel_id, inbound.thread_id, inbound.display_name) == ("DCUST", None, "Ada")
    [call] = await fake_slack.await_for("chat.postMessage")
    assert call.params["channel"] == "DCUST"
    assert call.params["text"] == "echo: my &lt;battery&gt; died"
    assert call.params["metadata"] == {"event_type": "concierge_reply",
                                       "event_payload": {"kind": "answer", "conversation_id": 7}}


async def test_mention_is_answered_in_its_thread_without_the_mention(
    running: Running, fake_slack: FakeSlack
) -> None:
    await running.post(json.dumps(mention("UCUST", "where is my order?", channel="CHELP")))
    [inbound] = await running.inbox.wait()
    assert inbound.text == "where is my order?"
    [call] = await fake_slack.await_for("chat.postMessage")
    assert call.params["channel"] == "CHELP"
    assert call.params["thread_ts"] == inbound.thread_id is not None


async def test_bots_edits_and_deletions_are_ignored(running: Running, fake_slack: FakeSlack) -> None:
    await running.post(json.dumps(dm(BOT_USER_ID, "my own words", bot_id=BOT_ID)))
    await running.post(json.dumps(dm("UOTHERBOT", "beep", bot_id="BOTHER", subtype="bot_message")))
    await running.post(json.dumps(dm("UCUST", "edited", subtype="message_changed")))
    await running.post(json.dumps(dm("UCUST", "", subtype="message_deleted")))
    await running.post(json.dumps(dm("UCUST", "the real one")))
    received = await running.inbox.wait()
    await asyncio.sleep(0.2)
    assert [i.text for i in received] == ["the real one"]


@pytest.mark.parametrize("tamper", ["signature", "stale"])
async def test_unsigned_or_stale_requests_are_refused(
    running: Running, fake_slack: FakeSlack, tamper: str
) -> None:
    body = json.dumps(dm("UCUST", "hello"))
    if tamper == "signature":
        status, _ = await running.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    else:
        status, _ = await running.post(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    await asyncio.sleep(0.3)
    assert running.inbox.received == []
    assert fake_slack.of("chat.postMessage") == []


async def test_button_press_is_acked_updates_the_message_and_arrives(
    running: Running, fake_slack: FakeSlack
) -> None:
    running.inbox.script = lambda i: [] if i.button_id else [Reply(
        "slack", i.user_id, Kind.RESOLUTION_CHECK, "Did that solve it?", channel_id=i.channel_id,
        buttons=(Button("res:yes", "Yes"), Button("res:no", "No")))]
    await running.post(json.dumps(dm("UCUST", "hi")))
    [posted] = await fake_slack.await_for("chat.postMessage")
    actions = [b for b in posted.params["blocks"] if b["type"] == "actions"]
    assert [e["value"] for e in actions[0]["elements"]] == ["res:yes", "res:no"]
    press = button_press("UCUST", posted.message, "DCUST", "res:yes")
    started = time.monotonic()
    status, _ = await running.post(interactive_form(press), form=True)
    assert status == 200 and time.monotonic() - started < 1.0
    received = await running.inbox.wait(2)
    assert received[1].button_id == "res:yes"
    # One press of one button by one person: the presser is part of the key (hashed, never named).
    event_id = received[1].event_id
    assert event_id is not None
    assert event_id.startswith(f"action:{posted.message['ts']}:concierge:0:")
    assert "UCUST" not in event_id
    [update] = await fake_slack.await_for("chat.update")
    assert update.params["ts"] == posted.message["ts"]
    assert all(b["type"] != "actions" for b in update.params["blocks"])
    assert update.params["blocks"][-1]["elements"][0]["text"] == "You chose: *Yes*"


async def test_slash_command_with_ephemeral_refusal(running: Running, fake_slack: FakeSlack) -> None:
    running.inbox.script = lambda i: [Reply("slack", i.user_id, Kind.NOTICE, "Only managers can see stats.",
                                            channel_id=i.channel_id, ephemeral=True)]
    status, text = await running.post(command_form("UCUST", "stats 7d", channel="CGENERAL"), form=True)
    assert status == 200 and text == ""
    [inbound] = await running.inbox.wait()
    assert (inbound.command, inbound.args, inbound.channel_id) == ("stats", ("7d",), "CGENERAL")
    [call] = await fake_slack.await_for("chat.postEphemeral")
    assert (call.params["channel"], call.params["user"]) == ("CGENERAL", "UCUST")
    assert fake_slack.of("chat.postMessage") == []


async def test_stats_reply_posts_figures_and_uploads_the_chart(
    running: Running, fake_slack: FakeSlack
) -> None:
    chart = b"\x89PNG\r\n\x1a\nfake-chart"
    running.inbox.script = lambda i: [Reply(
        "slack", i.user_id, Kind.STATS, "Last 7 days\nConversations: 12\nSatisfied: 92%",
        attachments=(Attachment("stats.png", chart),))]
    await running.post(command_form("UMANAGER", "stats 7d"), form=True)
    [post] = await fake_slack.await_for("chat.postMessage")
    fields = [f["text"] for b in post.params["blocks"] for f in b.get("fields", [])]
    assert fields == ["*Conversations*\n12", "*Satisfied*\n92%"]
    await fake_slack.await_for("files.completeUploadExternal")
    [url_call] = fake_slack.of("files.getUploadURLExternal")
    assert url_call.params["filename"] == "stats.png"
    [upload] = fake_slack.of("upload")
    assert upload.body == chart
    [complete] = fake_slack.of("files.completeUploadExternal")
    assert complete.params["channel_id"] == "DMANAGER"
    assert complete.params["files"][0]["id"] == url_call.response["file_id"]


async def test_files_of_an_ephemeral_reply_go_to_the_dm(running: Running, fake_slack: FakeSlack) -> None:
    await running.channel.deliver(Reply("slack", "UCUST", Kind.NOTICE, "Your data", channel_id="CGENERAL",
                                        ephemeral=True, attachments=(Attachment("my-data.json", b"{}"),)))
    [ephemeral] = fake_slack.of("chat.postEphemeral")
    assert ephemeral.params["channel"] == "CGENERAL"
    [complete] = fake_slack.of("files.completeUploadExternal")
    assert complete.params["channel_id"] == "DCUST"


async def test_rate_limited_post_is_retried(running: Running, fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit_once("chat.postMessage")
    await running.post(json.dumps(dm("UCUST", "hello")))
    [call] = await fake_slack.await_for("chat.postMessage", within=10)
    limited = fake_slack.of("chat.postMessage", status=429)
    assert len(limited) == 1 and call.at - limited[0].at >= 0.9


async def test_display_name_is_looked_up_once(running: Running, fake_slack: FakeSlack) -> None:
    for text in ("one", "two", "three"):
        await running.post(json.dumps(dm("UCUST", text)))
    await running.inbox.wait(3)
    assert len(fake_slack.of("users.info")) == 1


async def test_unreachable_channel_falls_back_to_the_dm(running: Running, fake_slack: FakeSlack) -> None:
    fake_slack.fail_once("chat.postMessage", "not_in_channel")
    await running.channel.deliver(Reply("slack", "UCUST", Kind.NOTICE, "hi", channel_id="CSECRET"))
    assert [p["channel"] for p in fake_slack.posts()] == ["CSECRET", "UCUST"]


async def test_ephemeral_where_the_bot_is_not_a_member_goes_to_the_dm(
    running: Running, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_once("chat.postEphemeral", "not_in_channel")
    await running.channel.deliver(Reply("slack", "UCUST", Kind.NOTICE, "Only managers", channel_id="CX",
                                        ephemeral=True))
    assert [p["channel"] for p in fake_slack.posts()] == ["UCUST"]


async def test_url_verification_is_answered(running: Running) -> None:
    status, text = await running.post(json.dumps({"type": "url_verification", "challenge": "c-123",
                                                  "token": "legacy"}))
    assert status == 200 and "c-123" in text


async def test_healthz(running: Running) -> None:
    status, text = await asyncio.to_thread(_get, running.url.replace("/slack/events", "/healthz"))
    assert status == 200 and json.loads(text) == {"ok": True, "mode": "http"}


async def test_socket_mode_event_is_acked_and_answered(fake_slack: FakeSlack) -> None:
    channel = SlackChannel(settings(fake_slack, free_port(), app_token=SecretStr(APP_TOKEN),
                                    signing_secret=None))
    inbox = ScriptedInbox(channel)
    task = asyncio.create_task(channel.run(inbox))
    try:
        await asyncio.wait_for(channel.ready.wait(), 10)
        assert channel.mode == "socket"
        envelope = await asyncio.to_thread(fake_slack.send_socket, dm("UCUST", "over the socket"))
        [inbound] = await inbox.wait()
        assert inbound.text == "over the socket"
        [call] = await fake_slack.await_for("chat.postMessage")
        assert call.params["text"] == "echo: over the socket"
        assert {"envelope_id": envelope} in fake_slack.socket_acks
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@dataclass
class GatedJournal:
    """A journal whose store waits for `open` and then fails while `failing` is set (a database that is down)."""

    open: asyncio.Event = field(default_factory=asyncio.Event)
    failing: bool = True
    stored: list[Inbound] = field(default_factory=list)

    async def store(self, inbound: Inbound) -> int | None:
        await self.open.wait()
        if self.failing:
            raise ConnectionError("database is down")
        self.stored.append(inbound)
        return len(self.stored)

    async def done(self, event_id: int) -> None:
        return None

    async def pending(self, older_than: timedelta) -> list[tuple[int, Inbound]]:
        return []


async def test_socket_mode_acks_only_what_was_stored(fake_slack: FakeSlack) -> None:
    journal = GatedJournal()
    channel = SlackChannel(settings(fake_slack, free_port(), app_token=SecretStr(APP_TOKEN), signing_secret=None),
                           journal=journal)
    inbox = ScriptedInbox(channel)
    task = asyncio.create_task(channel.run(inbox))
    try:
        await asyncio.wait_for(channel.ready.wait(), 10)
        event = dm("UCUST", "stored before the ack", event_id="EvSocket1")
        first = await asyncio.to_thread(fake_slack.send_socket, event)
        await asyncio.sleep(0.5)
        assert fake_slack.socket_acks == [], "acknowledged before the event was stored"
        journal.open.set()  # the store now fails: no ack, so Slack delivers the event again
        await asyncio.sleep(0.5)
        assert fake_slack.socket_acks == [] and inbox.received == []

        journal.failing = False
        retry = await asyncio.to_thread(fake_slack.send_socket, event)  # Slack's retry: a new envelope
        [inbound] = await inbox.wait()
        assert inbound.event_id == "EvSocket1" and [i.event_id for i in journal.stored] == ["EvSocket1"]
        assert fake_slack.socket_acks == [{"envelope_id": retry}]
        assert {"envelope_id": first} not in fake_slack.socket_acks
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_bad_tokens_and_a_taken_port_are_one_line_errors(fake_slack: FakeSlack) -> None:
    inbox = ScriptedInbox()
    with pytest.raises(ConfigError, match="bot token: invalid_auth"):
        await SlackChannel(settings(fake_slack, free_port(), bot_token=SecretStr("xoxb-wrong"))).run(inbox)
    socket_settings = settings(fake_slack, free_port(), app_token=SecretStr("xapp-wrong"), signing_secret=None)
    with pytest.raises(ConfigError, match="app token: invalid_auth"):
        await asyncio.wait_for(SlackChannel(socket_settings).run(inbox), 10)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            await SlackChannel(settings(fake_slack, port)).run(inbox)


def test_missing_secrets_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="bot_token"):
        SlackChannel(SlackConfig())
    with pytest.raises(ConfigError, match="signing_secret"):
        SlackChannel(SlackConfig(bot_token=SecretStr("xoxb-1")))


def _get(url: str) -> tuple[int, str]:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.status, response.read().decode()
