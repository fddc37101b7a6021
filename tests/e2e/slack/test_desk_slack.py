"""The agent desk over Slack: `concierge run slack` as a subprocess, a customer's DM, agents in the desk channel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.slack.slack_harness import (
    BotProcess,
    buttons_of,
    kind_of,
    launch,
    post_with,
    posts_to,
    settle,
    thread_message,
)
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_requests import dm

pytestmark = pytest.mark.e2e

DESK = "CDESK"
AGENT = "UAGENT"
WORDS = "Hi, I'm checking with the courier now."
NOTE = "courier says Tuesday"


@pytest.fixture
def bot(fake_slack: FakeSlack, understanding_cache: Path, tmp_path: Path) -> Iterator[BotProcess]:
    process = launch(tmp_path, fake_slack, understanding_cache, agents=(f"slack:{AGENT}",), desk_channel=DESK)
    yield process
    process.stop()


def after(call: Call, text: str) -> Callable[[Call], bool]:
    """A predicate: a post made after `call` whose text contains `text`."""
    return lambda c: c.at > call.at and text in c.params.get("text", "")


def test_a_customer_is_served_by_a_person_in_the_desk_and_handed_back(bot: BotProcess, fake_slack: FakeSlack) -> None:
    customer, dm_channel = "UCUST1", "DCUST1"
    bot.post_event(dm(customer, "where is my order"))
    post_with(fake_slack, dm_channel)
    bot.post_event(dm(customer, "can I talk to a person"))
    handoff = post_with(fake_slack, dm_channel, lambda c: kind_of(c) == "handoff")
    assert "person" in handoff.params["text"]

    # The ticket card: who, the needs on record, how they feel, the last messages, and agent assist.
    card = post_with(fake_slack, DESK, lambda c: c.params["text"].startswith("Ticket 1"))
    for part in ("slack:UCUST1", "on slack", "Needs on record:", "Sentiment:", "Summary:", "where is my order",
                 "Agent assist:", "Selling now:"):
        assert part in card.params["text"], part
    [claim] = [b["value"] for b in buttons_of(card)]
    assert claim == "claim:1:go"

    status, _ = bot.press(AGENT, card, claim)
    assert status == 200
    claimed = post_with(fake_slack, DESK, lambda c: "claimed ticket 1" in c.params["text"])
    assert claimed.params["text"].startswith(f"slack:{AGENT}")
    fake_slack.wait_for("chat.update", lambda c: c.params.get("ts") == card.message["ts"])

    # The customer's words reach the desk; the bot itself says nothing to them while a person has them.
    bot.post_event(dm(customer, "it was due on Monday"))
    relayed = post_with(fake_slack, DESK, lambda c: "it was due on Monday" in c.params["text"])
    assert "ticket 1" in relayed.params["text"]

    # The agent's words reach the customer marked as a person's, and are confirmed in the desk.
    bot.command(AGENT, f"reply 1 {WORDS}", channel=DESK)
    words = post_with(fake_slack, dm_channel, lambda c: kind_of(c) == "agent")
    assert words.params["text"] == WORDS
    assert "person" in words.params["blocks"][0]["elements"][0]["text"]
    post_with(fake_slack, DESK, lambda c: c.params["text"].startswith("Sent to") and WORDS in c.params["text"])

    # A note stays in the desk.
    bot.command(AGENT, f"note 1 {NOTE}", channel=DESK)
    post_with(fake_slack, DESK, lambda c: NOTE in c.params["text"] and "not sent to the customer" in c.params["text"])

    bot.command(AGENT, "release 1", channel=DESK)
    back = post_with(fake_slack, dm_channel, lambda c: kind_of(c) == "satisfaction_check")
    assert "back with the assistant" in back.params["text"]
    five = next(b["value"] for b in buttons_of(back) if b["value"].startswith("rate:") and b["value"].endswith(":5"))
    post_with(fake_slack, DESK, lambda c: "released ticket 1" in c.params["text"])

    bot.press(customer, back, five)
    post_with(fake_slack, dm_channel, after(back, ""))
    settle(fake_slack)
    to_customer = [c.params["text"] for c in posts_to(fake_slack, dm_channel)]
    assert not any(NOTE in text for text in to_customer), "a note reached the customer"
    assert not any(text.startswith("Ticket 1") for text in to_customer), "the card reached the customer"
    # Between the handoff and the release only the person spoke to the customer.
    held = [c for c in posts_to(fake_slack, dm_channel) if handoff.at < c.at < back.at]
    assert [kind_of(c) for c in held] == ["agent"]


def test_only_agents_can_work_the_desk(bot: BotProcess, fake_slack: FakeSlack) -> None:
    bot.post_event(dm("UCUST2", "can I talk to a person"))
    post_with(fake_slack, DESK, lambda c: c.params["text"].startswith("Ticket 1"))
    status, _ = bot.command("UCUST3", "claim 1", channel=DESK)
    assert status == 200
    [refusal] = fake_slack.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "UCUST3")
    assert refusal.params["channel"] == DESK and "agents" in refusal.params["text"]
    bot.command(AGENT, "claim", channel=DESK)
    post_with(fake_slack, DESK, lambda c: "claimed ticket 1" in c.params["text"])
    settle(fake_slack)
    assert not any("claimed" in c.params["text"] and "UCUST3" in c.params["text"] for c in posts_to(fake_slack, DESK))


def test_a_ticket_claimed_from_its_card_is_worked_in_the_cards_thread(bot: BotProcess, fake_slack: FakeSlack) -> None:
    customer, dm_channel = "UCUST4", "DCUST4"
    bot.post_event(dm(customer, "can I talk to a person"))
    card = post_with(fake_slack, DESK, lambda c: c.params["text"].startswith("Ticket 1"))
    card_ts = card.response["ts"]
    bot.press(AGENT, card, "claim:1:go")

    def in_thread(text: str) -> Callable[[Call], bool]:
        return lambda c: c.params.get("thread_ts") == card_ts and text in c.params["text"]

    post_with(fake_slack, DESK, in_thread("claimed ticket 1"))
    # A colleague's remark in the thread stays there; the holder's plain reply reaches the customer.
    bot.post_event(thread_message("UMANAGER", "she is a VIP, be quick", DESK, card_ts))
    bot.post_event(thread_message(AGENT, WORDS, DESK, card_ts))
    words = post_with(fake_slack, dm_channel, lambda c: kind_of(c) == "agent")
    assert words.params["text"] == WORDS
    post_with(fake_slack, DESK, in_thread(f"Sent to name-{customer}"))

    bot.post_event(dm(customer, "thanks, I'll wait"))
    post_with(fake_slack, DESK, in_thread("thanks, I'll wait"))
    bot.command(AGENT, "release 1", channel=DESK)
    post_with(fake_slack, DESK, in_thread("released ticket 1"))
    post_with(fake_slack, dm_channel, lambda c: kind_of(c) == "satisfaction_check")
    settle(fake_slack)
    to_customer = [c.params["text"] for c in posts_to(fake_slack, dm_channel)]
    assert not any("VIP" in text for text in to_customer), "a colleague's remark reached the customer"
    assert [kind_of(c) for c in posts_to(fake_slack, dm_channel)].count("agent") == 1
