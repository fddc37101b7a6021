"""The agent desk: a ticket card, one owner, words relayed both ways, notes kept inside, then back to the bot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.messages import DESK, Kind, Reply
from storage.models import DeskNote, Handoff, Message
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

AGENT = "agent"


def to(replies: list[Reply], user: str) -> list[Reply]:
    return [r for r in replies if r.to == user]


async def test_a_full_desk_cycle(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    await chat.say("ana", "where is my order")
    handed = await chat.say("ana", "can I talk to a person")
    assert [r.kind for r in to(handed, "ana")] == [Kind.HANDOFF]
    [card] = to(handed, DESK)
    assert card.platform == "console"
    for part in ("Ticket 1", "console:ana", "console", "Needs on record:", "Sentiment:", "Summary:",
                 "where is my order", "Agent assist:", "Selling now: not allowed"):
        assert part in card.text, part
    claim_button = chat.button([card], "claim:")
    assert claim_button == "claim:1:go"

    # Only agents may use the desk; the refusal goes to the asker alone.
    refused = await chat.press("ben", claim_button)
    assert [(r.to, r.kind, r.ephemeral) for r in refused] == [("ben", Kind.NOTICE, True)]
    assert (await chat.command("ben", "queue"))[0].ephemeral

    queue = await chat.command(AGENT, "queue")
    assert "ticket 1" in queue[0].text and queue[0].to == AGENT
    claimed = await chat.press(AGENT, claim_button)
    assert [(r.to, r.kind) for r in claimed] == [(DESK, Kind.NOTICE)]
    assert "claimed ticket 1" in claimed[0].text
    again = await chat.command("manager", "claim", "1")
    assert to(again, "manager") and "already held by console:agent" in again[0].text

    # The customer's words reach the desk; the bot says nothing to them.
    relayed = await chat.say("ana", "it was due on Monday")
    assert to(relayed, "ana") == []
    assert [r.to for r in relayed] == [DESK] and "it was due on Monday" in relayed[0].text

    sent = await chat.command(AGENT, "reply", "1", "Hi Ana, I'm checking with the courier now.")
    [words] = to(sent, "ana")
    assert words.kind == Kind.AGENT and words.text == "Hi Ana, I'm checking with the courier now."
    assert [r.text for r in to(sent, DESK)] == [
        "Sent to console:ana (ticket 1) by console:agent: Hi Ana, I'm checking with the courier now."
    ]
    noted = await chat.command(AGENT, "note", "1", "courier says Tuesday")
    assert to(noted, "ana") == [] and "courier says Tuesday" in noted[0].text and noted[0].to == DESK

    released = await chat.command(AGENT, "release", "1")
    [back] = to(released, "ana")
    assert back.kind == Kind.SATISFACTION_CHECK and "back with the assistant" in back.text
    rating_ids = [b.id for b in back.buttons]
    assert rating_ids[-1].startswith("rate:") and rating_ids[-1].endswith(":5")
    thanked = to(await chat.press("ana", rating_ids[-1]), "ana")
    assert thanked[0].kind == Kind.NOTICE

    async with unit_of_work() as uow:
        session = uow.session  # type: ignore[attr-defined]
        [ticket] = (await session.scalars(select(Handoff))).all()
        assert (ticket.status, ticket.agent_key) == ("released", "console:agent")
        assert ticket.claimed_at is not None and ticket.first_reply_at is not None and ticket.ended_at is not None
        assert ticket.claimed_at <= ticket.first_reply_at <= ticket.ended_at
        [stored_note] = (await session.scalars(select(DeskNote))).all()
        assert stored_note.text == "courier says Tuesday"
        messages = (await session.scalars(select(Message).where(Message.direction == "out"))).all()
        assert [m.author for m in messages if m.kind == "agent"] == ["console:agent"]
        assert not any("courier says Tuesday" in m.text for m in messages), "a note reached the customer"
        assert not any(m.text.startswith("Ticket 1") for m in messages), "desk cards are not customer messages"


async def test_transfer_and_close(chat: ChatDriver) -> None:
    await chat.command("cai", "handoff")
    await chat.command(AGENT, "claim")
    refused = await chat.command(AGENT, "transfer", "1", "nobody")
    assert "not an agent" in refused[0].text
    moved = await chat.command(AGENT, "transfer", "1", "manager")
    assert "transferred ticket 1" in moved[0].text and moved[0].to == DESK
    not_yours = await chat.command(AGENT, "reply", "1", "hello")
    assert to(not_yours, "cai") == [] and "held by console:manager" in not_yours[0].text
    closed = await chat.command("manager", "close", "1")
    assert [r.kind for r in to(closed, "cai")] == [Kind.NOTICE]
    # Back with the bot: the next request is answered again.
    assert to(await chat.say("cai", "where is my order"), "cai")


async def test_a_long_wait_in_the_queue_does_not_hand_the_customer_back_to_the_bot(chat: ChatDriver) -> None:
    await chat.say("ana", "can I talk to a person")
    chat.clock.advance(timedelta(days=2))
    replies = await chat.say("ana", "hello? is anyone there?")
    assert [r for r in replies if r.to == "ana"] == [], "the bot answered a customer who is waiting for a person"
    assert any(r.to == DESK and "anyone there" in r.text for r in replies), "the desk did not see the message"
