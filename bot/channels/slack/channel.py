"""`SlackChannel`: a slack_bolt `AsyncApp` that feeds the hub and sends the core's replies."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.base import Apologising, Inbox
from bot.channels.slack import translate
from bot.channels.slack.render import chosen_blocks
from bot.channels.slack.sender import SlackSender, make_client
from bot.channels.slack.server import build_web_app, serve
from bot.channels.slack.users import DisplayNames
from bot.config import ConfigError, SlackConfig
from bot.inbox import Journal
from handlers.messages import Inbound, Reply

log = logging.getLogger(__name__)

# Enough turns in flight to cover Slack's round trips (two or three API calls per turn), few enough
# that a burst cannot crowd the event loop and delay the next ack past Slack's 3-second limit.
WORKERS = 64
BACKLOG_WARNING = 1000


class SlackChannel:
    """Slack over Socket Mode (when an app token is set) or the HTTP Events API."""

    platform = "slack"

    def __init__(
        self, settings: SlackConfig, *, client: AsyncWebClient | None = None, workers: int = WORKERS,
        journal: Journal | None = None, replay_after: float = 30.0,
    ) -> None:
        if not _secret(settings.bot_token):
            raise ConfigError("config key 'slack.bot_token' is required (or set SLACK_BOT_TOKEN)")
        self.socket_mode = bool(_secret(settings.app_token))
        if not self.socket_mode and not _secret(settings.signing_secret):
            raise ConfigError(
                "config key 'slack.signing_secret' is required in HTTP mode (or set SLACK_SIGNING_SECRET)"
            )
        self.settings = settings
        self.sender = SlackSender(client or make_client(settings), settings)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=_secret(settings.signing_secret) or "",
            name="concierge",
            logger=logging.getLogger("bot.channels.slack.bolt"),
            # The listener (which stores the event) runs before the acknowledgement in both modes. Over HTTP
            # an event that could not be stored is answered 500; over Socket Mode bolt sends no ack for a
            # failed listener (its socket handler acks only a 200). Either way Slack delivers it again.
            process_before_response=True,
        )
        self.names = DisplayNames(self.client)
        self.ready = asyncio.Event()
        self._inbox: Inbox | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._workers = workers
        self._backlog: asyncio.Queue[tuple[Inbound, int | None]] = asyncio.Queue()
        self._journal = journal
        self._replay_after = replay_after
        # Stored events this process has queued or is handling, so the replay leaves them alone.
        self._taken: set[int] = set()
        self._chores: set[asyncio.Task[None]] = set()
        self._register()

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client every call of this channel goes through."""
        return self.sender.client

    @client.setter
    def client(self, client: AsyncWebClient) -> None:
        self.sender.client = client

    @property
    def mode(self) -> str:
        return "socket" if self.socket_mode else "http"

    async def run(self, inbox: Inbox) -> None:
        """Receive Slack traffic and pass it to `inbox` until cancelled."""
        self._inbox = inbox
        session = aiohttp.ClientSession()
        # One pooled session for every Web API call instead of a new connection per call.
        self.client.session = session
        workers = [asyncio.create_task(self._work(), name=f"slack-worker-{n}") for n in range(self._workers)]
        if self._journal is not None:
            workers.append(asyncio.create_task(self._replay_forever(), name="slack-replay"))
        try:
            await self._check_token()
            if self.socket_mode:
                await self._run_socket_mode()
            else:
                await self._run_http()
        finally:
            self.ready.clear()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if not self._backlog.empty():
                log.warning("stopping with %d acknowledged Slack events not handled", self._backlog.qsize())
            self.client.session = None
            await session.close()

    async def deliver(self, reply: Reply) -> None:
        """Post one reply (see `SlackSender.deliver`)."""
        await self.sender.deliver(reply)

    async def delivered(self, reply: Reply) -> bool:
        """Tell whether Slack already shows this stored message (see `SlackSender.delivered`)."""
        return await self.sender.delivered(reply)

    # ---- receiving

    def _register(self) -> None:
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_mention)
        self.app.action(re.compile(f"^{re.escape(translate.ACTION_PREFIX)}"))(self._on_action)
        self.app.command(self.settings.command)(self._on_command)

    async def _on_message(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        inbound = translate.message_inbound(body, context.bot_user_id)
        await self._forward(inbound or translate.desk_thread_inbound(body, self.settings.desk_channel,
                                                                      context.bot_user_id))

    async def _on_mention(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        if self.settings.desk_channel and (body.get("event") or {}).get("channel") == self.settings.desk_channel:
            return  # agents talk to customers in the desk, not to the bot; the message event carries it
        await self._forward(translate.mention_inbound(body, context.bot_user_id))

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._forward(translate.command_inbound(body))  # stored before the ack, or an error status
        await ack()

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        inbound = translate.action_inbound(body, self.settings.desk_channel)
        await self._forward(inbound)  # stored before the ack, or an error status
        await ack()
        if inbound is not None and inbound.button_owner in (None, inbound.user_id):
            # Only the owner's press closes the buttons: in a shared channel someone else's leaves them
            # for the customer (the core tells that person privately the buttons are not theirs).
            # After the response: editing the pressed message is not worth delaying the ack for.
            chore = asyncio.create_task(self._close_buttons(body))
            self._chores.add(chore)
            chore.add_done_callback(self._chores.discard)

    async def _close_buttons(self, body: dict[str, Any]) -> None:
        """Replace the pressed message's buttons by what was chosen, so it cannot be pressed twice."""
        container = body.get("container") or {}
        message = body.get("message")
        action = (body.get("actions") or [{}])[0]
        label = str((action.get("text") or {}).get("text") or action.get("value") or "")
        if container.get("is_ephemeral") or not message:
            return  # chat.update cannot reach ephemeral messages; the core ignores a stale second press
        try:
            await self.client.chat_update(
                channel=str(container.get("channel_id") or (body.get("channel") or {}).get("id")),
                ts=str(container.get("message_ts") or message.get("ts")),
                text=message.get("text") or label,
                blocks=chosen_blocks(message, label),
            )
        except SlackApiError as error:
            log.warning("could not remove pressed buttons: %s", error.response.get("error"))

    async def _forward(self, inbound: Inbound | None) -> None:
        # Listeners store and queue: a fixed set of workers runs the core, so a burst becomes a queue
        # instead of hundreds of tasks crowding the event loop and delaying acks to Slack.
        if inbound is None:
            return
        event_id = await self._store(inbound)
        if self._journal is not None and event_id is None:
            log.info("Slack delivered event %s again while it waits; handled once", inbound.event_id)
            return
        self._queue(inbound, event_id)

    async def _store(self, inbound: Inbound) -> int | None:
        """Store the event before it is acknowledged; a failure propagates, so Slack gets an error status."""
        if self._journal is None:
            return None
        try:
            return await self._journal.store(inbound)
        except Exception as error:
            # One line: bolt logs the traceback when it turns the error into the 500.
            log.warning("could not store Slack event %s (%s); answering an error so Slack retries",
                        inbound.event_id, type(error).__name__)
            if isinstance(self._inbox, Apologising):
                await self._inbox.apologise(inbound)
            raise

    def _queue(self, inbound: Inbound, event_id: int | None) -> None:
        if event_id is not None:
            self._taken.add(event_id)
        self._backlog.put_nowait((inbound, event_id))
        if self._backlog.qsize() % BACKLOG_WARNING == 0:
            log.warning("%d Slack events waiting for the core", self._backlog.qsize())

    async def _work(self) -> None:
        while True:
            inbound, event_id = await self._backlog.get()
            try:
                await self._handle(inbound)
                if self._journal is not None and event_id is not None:
                    await self._journal.done(event_id)
            except Exception:
                # A stored event stays in the journal, and the replay hands it to the core again.
                log.exception("handling Slack event %s failed", inbound.event_id)
                if self._journal is not None and event_id is not None and isinstance(self._inbox, Apologising):
                    await self._inbox.apologise(inbound)
            finally:
                self._taken.discard(event_id or 0)

    async def _replay_forever(self) -> None:
        """Queue stored events nobody here is handling: at start (a crash left them), then every `replay_after`."""
        assert self._journal is not None
        await self.ready.wait()
        at_start = True
        while True:
            try:
                await self._replay(at_start)
            except Exception:
                log.exception("replaying stored Slack events failed; retrying later")
            at_start = False
            await asyncio.sleep(self._replay_after)

    async def _replay(self, at_start: bool) -> None:
        assert self._journal is not None
        # At start, everything stored so far was left by a process that is gone (or is slow: the core
        # drops a delivery it has handled already); later, only what has waited `replay_after`.
        wait = timedelta(0) if at_start else timedelta(seconds=self._replay_after)
        pending = [(event_id, inbound) for event_id, inbound in await self._journal.pending(wait)
                   if event_id not in self._taken]
        if pending:
            log.info("handling %d stored Slack events again", len(pending))
        for event_id, inbound in pending:
            self._queue(inbound, event_id)

    async def _handle(self, inbound: Inbound) -> None:
        """Run one event through the hub (with the sender's display name)."""
        assert self._inbox is not None
        if inbound.display_name is None:
            name = await self.names.get(inbound.user_id)
            if name is not None:
                inbound = _with_name(inbound, name)
        await self._inbox.receive(inbound)

    # ---- running

    async def _check_token(self) -> None:
        try:
            identity = await self.client.auth_test()
        except SlackApiError as error:
            raise ConfigError(f"Slack rejected the bot token: {error.response.get('error')}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ConfigError(f"cannot reach the Slack API at {self.settings.api_url}: {error}") from None
        log.info("Slack: connected as %s (%s mode)", identity.get("user_id"), self.mode)

    async def _run_http(self) -> None:
        web_app = build_web_app(self.app, self._healthy, self.mode)
        runner = await serve(web_app, self.settings.host, self.settings.port)
        self.ready.set()
        log.info("Slack: events on http://%s:%d/slack/events", self.settings.host, self.settings.port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def _run_socket_mode(self) -> None:
        app_token = _secret(self.settings.app_token)
        assert app_token is not None
        self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
        # bolt leaves these unannotated; naming their type keeps the calls checked.
        connect: Callable[[], Awaitable[None]] = self._socket.connect_async
        close: Callable[[], Awaitable[None]] = self._socket.close_async
        health_app = build_web_app(None, self._healthy, self.mode)
        runner = await serve(health_app, self.settings.host, self.settings.port)
        try:
            # The Socket Mode client retries a refused token forever; asking once first fails fast.
            try:
                await self.client.apps_connections_open(app_token=app_token)
            except SlackApiError as error:
                raise ConfigError(f"Slack rejected the app token: {error.response.get('error')}") from None
            await connect()
            self.ready.set()
            log.info("Slack: Socket Mode connected")
            await asyncio.Event().wait()
        finally:
            await close()
            self._socket = None
            await runner.cleanup()

    async def _healthy(self) -> bool:
        if not self.ready.is_set():
            return False
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return True


def _secret(value: Any) -> str | None:
    secret = value.get_secret_value() if value is not None else None
    return secret or None


def _with_name(inbound: Inbound, name: str) -> Inbound:
    return replace(inbound, display_name=name)
