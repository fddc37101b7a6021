"""Manager stats: what customers experienced next to what was sold, for a period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.unit_of_work import UnitOfWork

PERIODS = {"7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}


class PeriodError(ValueError):
    """A stats period that is not 7d, 30d or all."""


def period_start(period: str, now: datetime) -> datetime | None:
    """Return when the period starts (None: all time)."""
    if period not in PERIODS:
        raise PeriodError(f"unknown period {period!r}: use 7d, 30d or all")
    length = PERIODS[period]
    return now - length if length is not None else None


async def compute(uow: UnitOfWork, period: str, now: datetime, min_rating: int) -> dict[str, Any]:
    """Return the stats figures for the period, keyed as in DESIGN.md, plus the period itself."""
    figures = await uow.stats(period_start(period, now), min_rating).figures()
    return {"period": period, **figures}


def as_text(figures: dict[str, Any]) -> str:
    """Format the figures for a chat message, service first, then selling."""
    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    top = ", ".join(f"{item['need']} ({item['count']})" for item in figures["top_needs"]) or "none yet"
    wait = figures["handoff_wait_seconds_p50"]
    lines = [
        f"Stats for {figures['period']}:",
        f"Service: {figures['conversations']} conversations with {figures['customers']} customers; "
        f"{figures['resolved_by_bot']} needs resolved by the bot, {figures['handed_off']} handed to a person, "
        f"{figures['unmet_needs']} unmet.",
        f"Satisfaction: {figures['csat_responses']} ratings, average "
        f"{figures['csat_average'] if figures['csat_average'] is not None else 'n/a'}, "
        f"{share(figures['satisfied_rate'])} satisfied; follow-ups {figures['followups_sent']} sent, "
        f"{figures['followups_positive']} positive.",
        f"Selling: {figures['offers_made']} offers, {figures['offers_accepted']} accepted "
        f"({share(figures['offer_conversion'])}); {figures['offers_to_unsatisfied']} made against the rules; "
        f"referral codes {figures['referrals_given']} given, {figures['referrals_redeemed']} redeemed.",
        f"Top needs: {top}.",
        f"Handoff wait (median): {'n/a' if wait is None else f'{wait:.0f} s'}.",
    ]
    return "\n".join(lines)
