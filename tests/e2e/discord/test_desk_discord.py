"""The agent desk over Discord: `concierge run discord` as a subprocess, a customer's DM, agents in the desk channel."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.e2e.discord.harness import AGENT, CUSTOMER, MANAGER, OTHER_CUSTOMER, Bot
from tests.fakes.discord_fake import EPHEMERAL, FakeDiscord, Posted

pytestmark = pytest.mark.e2e

WITHIN = 30.0
WORDS = "Hi, I'm checking with the courier now."
NOTE = "courier says Tuesday"


@pytest.fixture
async def desk_bot(fake: FakeDiscord, tmp_path: Path, understanding_cache: Path) -> AsyncIterator[Bot]:
    runner = Bot(fake, tmp_path, understanding_cache, agents=(AGENT,), desk=True)
    await runner.start()
    try:
        yield runner
    finally:
        with contextlib.suppress(ProcessLookupError):
            await runner.stop()


def in_desk(fake: FakeDiscord, text: str) -> Callable[[Posted], bool]:
    """A predicate: a message in the desk channel or one of its threads, containing `text`."""
    return lambda p: (p.channel_id == fake.desk_channel_id or p.channel_id in fake.threads) and text in p.content


def to_customer(fake: FakeDiscord, user: int = CUSTOMER) -> list[Posted]:
    return [p for p in fake.posted if p.channel_id == fake.dm_channels.get(user)]


async def test_a_customer_is_served_by_a_person_in_the_desk_and_handed_back(desk_bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_dm(CUSTOMER, "where is my order")
    await fake.wait_posted(where=lambda p: p.channel_id == fake.dm_channels[CUSTOMER], within=WITHIN)
    mark = len(fake.posted)
    await fake.send_dm(CUSTOMER, "can I talk to a person")
    handoff = await fake.wait_posted(after=mark, where=lambda p: "person" in p.content
                                     and p.channel_id == fake.dm_channels[CUSTOMER], within=WITHIN)

    card = await fake.wait_posted(where=in_desk(fake, "Ticket 1"), within=WITHIN)
    for part in (f"discord:{CUSTOMER}", "on discord", "Needs on record:", "Sentiment:", "Summary:",
                 "where is my order", "Agent assist:", "Selling now:"):
        assert part in card.content, part
    assert card.custom_ids == ["concierge:claim:1:go"]
    assert card.body["allowed_mentions"] == {"parse": []}

    pressed = await fake.press(AGENT, card, "concierge:claim:1:go")
    ack = await fake.wait_call("POST", rf"/interactions/{pressed['id']}/", within=WITHIN)
    assert all(b["disabled"] for row in ack.body["data"]["components"] for b in row["components"])
    claimed = await fake.wait_posted(where=in_desk(fake, "claimed ticket 1"), within=WITHIN)
    assert claimed.content.startswith(f"discord:{AGENT}")

    # The customer's words reach the desk; the bot itself says nothing to them while a person has them.
    await fake.send_dm(CUSTOMER, "it was due on Monday")
    relayed = await fake.wait_posted(where=in_desk(fake, "it was due on Monday"), within=WITHIN)
    assert "ticket 1" in relayed.content

    # The agent's words reach the customer marked as a person's, and are confirmed in the desk.
    await fake.slash(AGENT, "reply", {"text": f"1 {WORDS}"})
    words = await fake.wait_posted(where=lambda p: p.channel_id == fake.dm_channels[CUSTOMER] and WORDS in p.content,
                                   within=WITHIN)
    assert "person" in words.content.removesuffix(WORDS)
    await fake.wait_posted(where=lambda p: in_desk(fake, WORDS)(p) and p.content.startswith("Sent to"), within=WITHIN)

    await fake.slash(AGENT, "note", {"text": f"1 {NOTE}"})
    await fake.wait_posted(where=in_desk(fake, NOTE), within=WITHIN)

    mark = len(fake.posted)
    await fake.slash(AGENT, "release", {"ticket": "1"})
    back = await fake.wait_posted(after=mark, where=lambda p: p.channel_id == fake.dm_channels[CUSTOMER], within=WITHIN)
    assert "back with the assistant" in back.content
    assert back.button_ids[-1].startswith("rate:") and back.button_ids[-1].endswith(":5")
    await fake.wait_posted(where=in_desk(fake, "released ticket 1"), within=WITHIN)

    mark = len(fake.posted)
    await fake.press(CUSTOMER, back, back.custom_ids[-1])
    await fake.wait_posted(after=mark, where=lambda p: p.channel_id == fake.dm_channels[CUSTOMER], within=WITHIN)
    await fake.wait_quiet()
    seen = to_customer(fake)
    assert not any(NOTE in p.content for p in seen), "a note reached the customer"
    assert not any(p.content.startswith("Ticket 1") for p in seen), "the card reached the customer"
    # Between the handoff and the release only the person spoke to the customer.
    held = seen[seen.index(handoff) + 1: seen.index(back)]
    assert held == [words]


async def test_only_agents_can_work_the_desk(desk_bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_dm(CUSTOMER, "can I talk to a person")
    await fake.wait_posted(where=in_desk(fake, "Ticket 1"), within=WITHIN)
    mark = len(fake.posted)
    await fake.slash(OTHER_CUSTOMER, "claim", {"ticket": "1"})
    refusal = await fake.wait_posted(after=mark, within=WITHIN)
    assert refusal.via in ("callback", "followup") and refusal.flags & EPHEMERAL
    assert "agents" in refusal.content
    await fake.slash(AGENT, "claim")
    claimed = await fake.wait_posted(where=in_desk(fake, "claimed ticket 1"), within=WITHIN)
    assert claimed.content.startswith(f"discord:{AGENT}")


async def test_a_ticket_claimed_from_its_card_is_worked_in_its_thread(desk_bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_dm(CUSTOMER, "can I talk to a person")
    card = await fake.wait_posted(where=in_desk(fake, "Ticket 1"), within=WITHIN)
    card_id = int(card.message["id"])
    await fake.press(AGENT, card, "concierge:claim:1:go")
    await fake.wait_call("POST", rf"/channels/{fake.desk_channel_id}/messages/{card_id}/threads", within=WITHIN)

    def in_thread(text: str) -> Callable[[Posted], bool]:
        return lambda p: p.channel_id == card_id and text in p.content

    await fake.wait_posted(where=in_thread("claimed ticket 1"), within=WITHIN)
    # A second press finds the thread already there and the ticket taken, and says so privately.
    mark = len(fake.posted)
    await fake.press(MANAGER, card, "concierge:claim:1:go")
    taken = await fake.wait_posted(after=mark, within=WITHIN)
    assert taken.flags & EPHEMERAL and f"held by discord:{AGENT}" in taken.content
    assert len(fake.threads) == 1
    # A colleague's remark in the thread stays there; the holder's plain message reaches the customer.
    await fake.send_guild_message(MANAGER, "she is a VIP, be quick", channel_id=card_id)
    await fake.send_guild_message(AGENT, WORDS, channel_id=card_id)
    words = await fake.wait_posted(where=lambda p: p.channel_id == fake.dm_channels[CUSTOMER] and WORDS in p.content,
                                   within=WITHIN)
    assert "person" in words.content.removesuffix(WORDS)
    await fake.wait_posted(where=in_thread("Sent to"), within=WITHIN)

    await fake.send_dm(CUSTOMER, "thanks, I'll wait")
    await fake.wait_posted(where=in_thread("thanks, I'll wait"), within=WITHIN)
    await fake.slash(AGENT, "release", {"ticket": "1"})
    await fake.wait_posted(where=in_thread("released ticket 1"), within=WITHIN)
    await fake.wait_posted(where=lambda p: p.channel_id == fake.dm_channels[CUSTOMER]
                           and "back with the assistant" in p.content, within=WITHIN)
    await fake.wait_quiet()
    seen = to_customer(fake)
    assert not any("VIP" in p.content for p in seen), "a colleague's remark reached the customer"
    assert [p for p in seen if WORDS in p.content] == [words]
