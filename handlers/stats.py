"""Manager stats: what customers experienced next to what was sold, for a period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from storage.stats_queries import DailyPoint
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


def date_range(first: date | None, last: date | None) -> tuple[str, datetime | None, datetime | None]:
    """Return a label, start and exclusive end for whole UTC days from `first` to `last` (both included)."""
    if first is not None and last is not None and last < first:
        raise PeriodError(f"--to {last} is before --from {first}")
    start = datetime.combine(first, time(), UTC) if first is not None else None
    end = datetime.combine(last + timedelta(days=1), time(), UTC) if last is not None else None
    label = f"{first.isoformat() if first else 'start'}..{last.isoformat() if last else 'now'}"
    return label, start, end


async def compute(uow: UnitOfWork, period: str, now: datetime, min_rating: int) -> dict[str, Any]:
    """Return the stats figures for the period, keyed as in DESIGN.md, plus the period itself."""
    return await compute_between(uow, period, period_start(period, now), None, min_rating)


async def compute_between(uow: UnitOfWork, label: str, start: datetime | None, end: datetime | None,
                          min_rating: int) -> dict[str, Any]:
    """Return the stats figures from `start` (None: all time) to `end` (exclusive; None: open), labelled."""
    figures = await uow.stats(start, min_rating).before(end).figures()
    return {"period": label, **figures}


async def daily(uow: UnitOfWork, start: datetime | None, end: datetime | None, min_rating: int) -> list[DailyPoint]:
    """Return the day-by-day satisfaction and conversion points for the chart."""
    return await uow.stats(start, min_rating).before(end).daily()


def as_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """Flatten the figures into (field, value) rows; lists become one row per item, None an empty value."""
    rows: list[tuple[str, str]] = []
    for field, value in figures.items():
        if field in ("top_needs", "per_agent") and not value:
            rows.append((field, ""))
        elif field == "top_needs":
            rows.extend((f"top_needs.{item['need']}", str(item["count"])) for item in value)
        elif field == "per_agent":
            rows.extend((f"per_agent.{item['agent']}", str(item["handled"])) for item in value)
        else:
            rows.append((field, "" if value is None else str(value)))
    return rows


def as_text(figures: dict[str, Any]) -> str:
    """Format the figures for a chat message, service first, then selling."""
    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    def number(value: float | None, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:g}{unit}"

    top = ", ".join(f"{item['need']} ({item['count']})" for item in figures["top_needs"]) or "none yet"
    agents = ", ".join(f"{item['agent']} ({item['handled']})" for item in figures.get("per_agent", [])) or "none yet"
    wait = figures["handoff_wait_seconds_p50"]
    wait90 = figures.get("handoff_wait_seconds_p90")
    lines = [
        f"Stats for {figures['period']}:",
        f"Service: {figures['conversations']} conversations with {figures['customers']} customers "
        f"({figures.get('repeat_customers', 0)} came back); "
        f"{figures['resolved_by_bot']} needs resolved by the bot, {figures['handed_off']} handed to a person, "
        f"{figures['unmet_needs']} unmet.",
        f"Satisfaction: {figures['csat_responses']} ratings, average "
        f"{figures['csat_average'] if figures['csat_average'] is not None else 'n/a'}, "
        f"{share(figures['satisfied_rate'])} satisfied; follow-ups {figures['followups_sent']} sent, "
        f"{figures['followups_positive']} positive.",
        f"Selling: {figures['offers_made']} offers, {figures['offers_accepted']} accepted "
        f"({share(figures['offer_conversion'])}); {figures['offers_to_unsatisfied']} made against the rules; "
        f"referral codes {figures['referrals_given']} given, {figures['referrals_redeemed']} redeemed.",
        f"Does selling hurt service? Average rating {number(figures.get('csat_with_offer'))} with an offer, "
        f"{number(figures.get('csat_without_offer'))} without.",
        f"Top needs: {top}.",
        f"Handoff wait: median {'n/a' if wait is None else f'{wait:.0f} s'}, "
        f"90th percentile {'n/a' if wait90 is None else f'{wait90:.0f} s'}; by agent: {agents}.",
    ]
    return "\n".join(lines)
