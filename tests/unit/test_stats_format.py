"""How the stats figures read in chat and flatten into CSV rows, and how a --from/--to range is bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from handlers import stats

FIGURES: dict[str, Any] = {
    "period": "30d", "conversations": 12, "customers": 9, "resolved_by_bot": 8, "handed_off": 2,
    "unmet_needs": 1, "csat_responses": 10, "csat_average": 4.2, "satisfied_rate": 0.8, "followups_sent": 5,
    "followups_positive": 4, "offers_made": 6, "offers_accepted": 3, "offer_conversion": 0.5,
    "offers_to_unsatisfied": 0, "referrals_given": 2, "referrals_redeemed": 1,
    "top_needs": [{"need": "battery", "count": 5}, {"need": "brakes", "count": 2}],
    "handoff_wait_seconds_p50": 90.0, "handoff_wait_seconds_p90": 300.0,
    "per_agent": [{"agent": "slack:U1", "handled": 2}], "csat_with_offer": 4.75, "csat_without_offer": 3.5,
    "repeat_customers": 3,
}


def test_text_shows_the_new_figures() -> None:
    text = stats.as_text(FIGURES)
    assert text.startswith("Stats for 30d:")
    assert "(3 came back)" in text
    assert "4.75 with an offer, 3.5 without" in text
    assert "median 90 s, 90th percentile 300 s" in text
    assert "slack:U1 (2)" in text
    assert "battery (5), brakes (2)" in text


def test_text_says_na_when_there_is_nothing_to_average() -> None:
    empty = {**FIGURES, "csat_with_offer": None, "csat_without_offer": None, "handoff_wait_seconds_p50": None,
             "handoff_wait_seconds_p90": None, "per_agent": [], "top_needs": []}
    text = stats.as_text(empty)
    assert "n/a with an offer, n/a without" in text
    assert "median n/a, 90th percentile n/a; by agent: none yet" in text


def test_rows_flatten_lists_and_keep_every_scalar_field() -> None:
    rows = stats.as_rows(FIGURES)
    assert ("top_needs.battery", "5") in rows
    assert ("top_needs.brakes", "2") in rows
    assert ("per_agent.slack:U1", "2") in rows
    assert ("csat_with_offer", "4.75") in rows
    assert ("repeat_customers", "3") in rows
    names = {name.split(".")[0] for name, _ in rows}
    assert names == set(FIGURES)


def test_rows_keep_empty_lists_and_none_as_empty_values() -> None:
    rows = dict(stats.as_rows({**FIGURES, "per_agent": [], "csat_average": None}))
    assert rows["per_agent"] == ""
    assert rows["csat_average"] == ""


def test_date_range_covers_whole_days_including_the_last() -> None:
    label, start, end = stats.date_range(date(2026, 11, 1), date(2026, 11, 20))
    assert label == "2026-11-01..2026-11-20"
    assert start == datetime(2026, 11, 1, tzinfo=UTC)
    assert end == datetime(2026, 11, 21, tzinfo=UTC)
    assert stats.date_range(None, date(2026, 11, 20))[:2] == ("start..2026-11-20", None)
    assert stats.date_range(date(2026, 11, 1), None)[2] is None


def test_date_range_backwards_is_an_error() -> None:
    with pytest.raises(stats.PeriodError):
        stats.date_range(date(2026, 11, 20), date(2026, 11, 1))
