"""Sending to Slack: replies as Block Kit (ephemeral, threaded, with files) and the outbox's history check."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.render import outbox_id, render
from bot.config import SlackConfig
from handlers.messages import DESK, Reply

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3
# Slack answers these when the bot cannot post where a command was typed; the user's DM always works.
_UNREACHABLE_CHANNEL = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


def make_client(settings: SlackConfig) -> AsyncWebClient:
    """A Web API client for the configured API URL that waits out 429s and retries dropped connections."""
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


class SlackSender:
    """Post the core's replies through one Web API client."""

    def __init__(self, client: AsyncWebClient, settings: SlackConfig) -> None:
        self.client = client
        self.settings = settings

    async def deliver(self, reply: Reply) -> None:
        """Post one reply: ephemeral when asked, with buttons as Block Kit and files uploaded after."""
        if reply.to == DESK and reply.channel_id is None:
            if not self.settings.desk_channel:
                log.warning("a desk message for conversation %s was not sent: no [slack] desk_channel",
                            reply.conversation_id)
                return
            reply = replace(reply, channel_id=self.settings.desk_channel)
        rendered = render(reply)
        blocks = rendered.blocks or None
        if reply.ephemeral and reply.channel_id:
            try:
                await self.client.chat_postEphemeral(
                    channel=reply.channel_id, user=reply.to, text=rendered.text, blocks=blocks,
                    thread_ts=reply.thread_id,
                )
            except SlackApiError as error:
                if error.response.get("error") not in _UNREACHABLE_CHANNEL:
                    raise
                # A command typed where the bot is not a member: the user's DM is just as private.
                await self._post(replace(reply, channel_id=None, thread_id=None), rendered.text, blocks,
                                 rendered.metadata)
                return
            if reply.attachments:
                # Files cannot be ephemeral; the user's DM is the private place for them.
                opened = await self.client.conversations_open(users=reply.to)
                await self._upload(reply, str(opened["channel"]["id"]), None)
            return
        posted = await self._post(reply, rendered.text, blocks, rendered.metadata)
        if reply.attachments:
            # The posted message's channel is the DM's id even when we posted to a user id.
            await self._upload(reply, posted["channel"], posted.get("thread_ts"))

    async def delivered(self, reply: Reply) -> bool:
        """Tell whether Slack already shows this stored message: its metadata names the outbox id.

        Asked before the outbox sends a message again, so a crash between Slack accepting a message and
        its row being marked sent does not post it twice. Reads the latest 200 messages of the
        conversation (needs the `im:history` / `channels:history` scopes); on any error, says no.
        """
        if reply.message_id is None:
            return False
        try:
            channel = reply.channel_id
            if channel is None:
                channel = str((await self.client.conversations_open(users=reply.to))["channel"]["id"])
            if reply.thread_id:
                found = await self.client.conversations_replies(
                    channel=channel, ts=reply.thread_id, include_all_metadata=True, limit=200)
            else:
                found = await self.client.conversations_history(channel=channel, include_all_metadata=True, limit=200)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.warning("could not read Slack history to check message %s: %s", reply.message_id, error)
            return False
        return any(outbox_id(message) == reply.message_id for message in found.get("messages") or ())

    async def _upload(self, reply: Reply, channel: str, thread_ts: str | None) -> None:
        """Upload the reply's files (getUploadURLExternal, POST, completeUploadExternal)."""
        await self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            file_uploads=[
                {"content": item.content, "filename": item.filename, "title": item.filename}
                for item in reply.attachments
            ],
        )

    async def _post(
        self, reply: Reply, text: str, blocks: list[dict[str, Any]] | None, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        channel = reply.channel_id or reply.to
        try:
            response = await self.client.chat_postMessage(
                channel=channel, thread_ts=reply.thread_id, text=text, blocks=blocks,
                metadata=metadata, unfurl_links=False,
            )
            return {"channel": response.get("channel", channel), "thread_ts": reply.thread_id}
        except SlackApiError as error:
            if error.response.get("error") not in _UNREACHABLE_CHANNEL or channel == reply.to:
                raise
            log.info("cannot post in %s (%s); sending to the user's DM", channel, error.response.get("error"))
        response = await self.client.chat_postMessage(
            channel=reply.to, text=text, blocks=blocks, metadata=metadata, unfurl_links=False
        )
        return {"channel": response.get("channel", reply.to), "thread_ts": None}
