"""Chat commands that are not about the speaker's own conversation: help, stats, the agent desk."""

from __future__ import annotations

from datetime import datetime

from handlers import audit, desk, stats
from handlers.messages import Attachment, Inbound, Kind, Reply
from handlers.stats_chart import render_chart
from handlers.turn import Services
from storage.unit_of_work import UnitOfWorkFactory


async def run(inbound: Inbound, unit_of_work: UnitOfWorkFactory, services: Services, now: datetime) -> list[Reply]:
    """Run a command for whoever sent it, checking their role on every call."""
    command = (inbound.command or "").lower()
    roles = services.policy.roles
    templates = services.templates
    if desk.is_desk_command(command):
        return await desk.run(inbound, unit_of_work, services, now)
    if command == "help":
        text = templates.render("help", is_manager=roles.is_manager(inbound.user_key),
                                is_agent=roles.is_agent(inbound.user_key))
        return [_reply(inbound, Kind.NOTICE, text, ephemeral=True)]
    if command == "stats":
        if not roles.is_manager(inbound.user_key):
            await audit.record_alone(unit_of_work, inbound.user_key, "stats_refused", now=now)
            refusal = templates.render("not_allowed", command="stats", role="managers")
            return [_reply(inbound, Kind.NOTICE, refusal, ephemeral=True)]
        period = inbound.args[0] if inbound.args else "7d"
        min_rating = services.policy.selling.min_rating
        try:
            async with unit_of_work() as uow:
                figures = await stats.compute(uow, period, now, min_rating)
                daily = await stats.daily(uow, stats.period_start(period, now), None, min_rating)
                await audit.record(uow, inbound.user_key, "stats", {"period": period}, now=now)
                await uow.commit()
        except stats.PeriodError as error:
            return [_reply(inbound, Kind.NOTICE, str(error), ephemeral=True)]
        chart = Attachment("concierge-stats.png", render_chart(daily), "image/png")
        return [_reply(inbound, Kind.STATS, stats.as_text(figures), attachments=(chart,))]
    text = templates.render("unknown_command", command=command[:50])
    return [_reply(inbound, Kind.NOTICE, text, ephemeral=True)]


def _reply(inbound: Inbound, kind: Kind, text: str, *, ephemeral: bool = False,
           attachments: tuple[Attachment, ...] = ()) -> Reply:
    return Reply(inbound.platform, inbound.user_id, kind, text, channel_id=inbound.channel_id,
                 thread_id=inbound.thread_id, attachments=attachments, ephemeral=ephemeral)
