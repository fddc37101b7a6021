"""Rule 1: the answer opens with empathy that fits the mood, and the opener varies per customer."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

from handlers.messages import Kind, Reply
from tests.support.driver import ChatDriver

OPENERS_FILE = Path(__file__).resolve().parents[2] / "prompts" / "templates" / "openers.toml"
FRUSTRATED = "THIS IS THE THIRD TIME I ASK WHERE MY ORDER IS!!!"
CALM_REQUESTS = [
    "where is my order",
    "my card was declined",
    "how much is shipping",
    "I need a VAT invoice",
    "can I pay monthly",
    "is my bike ready",
    "what time do you open on sunday",
]


def opener_patterns() -> dict[str, list[re.Pattern[str]]]:
    """One regex per opener of each mood; `{{ topic }}` parts match any topic."""
    with OPENERS_FILE.open("rb") as handle:
        table = tomllib.load(handle)
    patterns: dict[str, list[re.Pattern[str]]] = {}
    for mood, sources in table.items():
        compiled = []
        for source in sources:
            pieces = re.split(r"\{\{.*?\}\}", source.strip())
            compiled.append(re.compile("^" + ".+?".join(re.escape(p) for p in pieces)))
        patterns[mood] = compiled
    return patterns


def opener_of(reply: Reply) -> tuple[str, str] | None:
    """Return (mood, opener text) if the reply starts with a known opener."""
    for mood, patterns in opener_patterns().items():
        for pattern in patterns:
            match = pattern.match(reply.text)
            if match:
                return mood, match.group(0)
    return None


async def _frustrated_customer_gets_a_frustrated_opener_before_the_answer(chat: ChatDriver) -> None:
    replies = await chat.say("ana", FRUSTRATED)
    answer = next(r for r in replies if r.kind == Kind.ANSWER)
    found = opener_of(answer)
    assert found is not None, answer.text
    mood, opener = found
    assert mood == "frustrated"
    assert "hillside-ebikes.example/track" in answer.text[len(opener):], "the answer follows the opener"
    check = next(r for r in replies if r.kind == Kind.RESOLUTION_CHECK)
    assert any(b.id.startswith("person:") for b in check.buttons), "strong frustration offers a person"


async def _calm_customer_gets_a_calm_opener(chat: ChatDriver) -> None:
    replies = await chat.say("ben", "where is my order")
    answer = next(r for r in replies if r.kind == Kind.ANSWER)
    found = opener_of(answer)
    assert found is not None and found[0] in ("neutral", "worried", "happy"), answer.text


async def _worried_customer_gets_a_worried_opener(chat: ChatDriver) -> None:
    replies = await chat.say("cai", "my bike was stolen")
    answer = next(r for r in replies if r.kind == Kind.ANSWER)
    found = opener_of(answer)
    assert found is not None and found[0] == "worried", answer.text


async def _same_customer_never_gets_the_same_opener_twice_in_a_row(chat: ChatDriver) -> None:
    openers = []
    for text in CALM_REQUESTS:
        replies = await chat.say("dee", text)
        answer = next(r for r in replies if r.kind == Kind.ANSWER)
        found = opener_of(answer)
        assert found is not None, answer.text
        openers.append(found[1])
    assert all(a != b for a, b in pairwise(openers)), openers
    assert len(set(openers)) >= 2


async def _frustrated_openers_vary_over_repeated_complaints(chat: ChatDriver) -> None:
    openers = []
    for _ in range(4):
        replies = await chat.say("eli", FRUSTRATED)
        answer = next(r for r in replies if r.kind == Kind.ANSWER)
        found = opener_of(answer)
        assert found is not None and found[0] == "frustrated", answer.text
        openers.append(found[1])
    assert all(a != b for a, b in pairwise(openers)), openers


async def _fallback_also_opens_with_empathy(chat: ChatDriver) -> None:
    replies = await chat.say("fay", "what's the weather on mars")
    fallback = next(r for r in replies if r.kind == Kind.FALLBACK)
    assert opener_of(fallback) is not None, fallback.text


async def test_opener_fits_the_mood(chat: ChatDriver) -> None:
    """Frustrated, calm and worried customers each get an opener of their mood, fallbacks too."""
    await _frustrated_customer_gets_a_frustrated_opener_before_the_answer(chat)
    await _calm_customer_gets_a_calm_opener(chat)
    await _worried_customer_gets_a_worried_opener(chat)
    await _fallback_also_opens_with_empathy(chat)


async def test_opener_never_repeats_for_the_same_customer(chat: ChatDriver) -> None:
    """Over several requests, no customer gets the same opener twice in a row."""
    await _same_customer_never_gets_the_same_opener_twice_in_a_row(chat)
    await _frustrated_openers_vary_over_repeated_complaints(chat)


async def test_opener_differs_from_the_last_one_across_conversations(chat: ChatDriver) -> None:
    """A customer back with a new request, after rating the last one, is not greeted the way it ended."""
    openers = []
    # Four openers a mood: a store that forgot the last one would repeat one within 16 rounds but 1% of the time.
    for _ in range(16):
        chat.clock.advance(timedelta(hours=2))  # back later, each time: no flood control
        replies = await chat.say("gus", "where is my order")
        answer = next(r for r in replies if r.kind == Kind.ANSWER)
        found = opener_of(answer)
        assert found is not None, answer.text
        openers.append(found[1])
        check = await chat.press("gus", chat.button(replies, "resolved:").replace(":no", ":yes"))
        rated = await chat.press("gus", chat.button(check, "rate:").rsplit(":", 1)[0] + ":4")
        assert not any(b.id.startswith("resolved:") for r in rated for b in r.buttons), "the conversation closed"
    assert all(a != b for a, b in pairwise(openers)), openers
