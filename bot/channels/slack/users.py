"""Display names from `users.info`, fetched once per user and kept in memory."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class DisplayNames:
    """Cache of user id -> display name; concurrent first lookups of one user share one call."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._names: dict[str, str | None] = {}
        self._pending: dict[str, asyncio.Task[str | None]] = {}

    async def get(self, user_id: str) -> str | None:
        """Return the user's display name, or None when Slack will not say."""
        if user_id in self._names:
            return self._names[user_id]
        task = self._pending.get(user_id)
        if task is None:
            task = asyncio.create_task(self._fetch(user_id))
            self._pending[user_id] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._pending.pop(user_id, None)

    def remember(self, user_id: str, name: str | None) -> None:
        """Store a name learnt another way."""
        self._names[user_id] = name

    async def _fetch(self, user_id: str) -> str | None:
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as error:
            # Not cached: a user we may not see today (missing scope, deleted) can be looked up later.
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        except (aiohttp.ClientError, TimeoutError) as error:
            # A name is a nicety; the message still goes through without one.
            log.warning("users.info unreachable for %s: %s", user_id, type(error).__name__)
            return None
        user: dict[str, Any] = response.get("user") or {}
        name = _best_name(user)
        self._names[user_id] = name
        return name


def _best_name(user: dict[str, Any]) -> str | None:
    profile: dict[str, Any] = user.get("profile") or {}
    for candidate in (profile.get("display_name"), profile.get("real_name"), user.get("name")):
        if candidate:
            return str(candidate)
    return None
