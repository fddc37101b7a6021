"""The HTTP side of the Slack adapter: Events API endpoint and a readiness probe on aiohttp."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.config import ConfigError

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_web_app(
    bolt_app: AsyncApp | None, healthy: Callable[[], Awaitable[bool]], mode: str
) -> web.Application:
    """Routes: POST /slack/events through bolt (signature checked there), GET /healthz."""

    async def events(request: web.Request) -> web.Response:
        assert bolt_app is not None
        bolt_response = await bolt_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def health(_: web.Request) -> web.Response:
        ok = await healthy()
        return web.json_response({"ok": ok, "mode": mode}, status=200 if ok else 503)

    app = web.Application()
    app.router.add_get(HEALTH_PATH, health)
    if bolt_app is not None:
        app.router.add_post(EVENTS_PATH, events)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start listening; the caller cleans the returned runner up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port} ([slack] host/port): {error.strerror}") from None
    except BaseException:
        await runner.cleanup()
        raise
    return runner
