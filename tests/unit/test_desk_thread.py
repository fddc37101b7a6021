"""A ticket claimed from its card lives in the card's thread: the holder's words there reach the customer."""

from __future__ import annotations

from handlers.messages import DESK, Inbound, Kind, Reply
from tests.unit.test_desk_rules import make_core, send

CARD = ("CDESK", "1700000000.000100")


def desk_posts(replies: list[Reply]) -> list[tuple[str | None, str | None, str]]:
    return [(r.channel_id, r.thread_id, r.text) for r in replies if r.to == DESK]


def in_thread(user: str, text: str, event: str, thread: str = CARD[1]) -> Inbound:
    return Inbound("slack", user, text=text, command="thread", channel_id=CARD[0], thread_id=thread, event_id=event)


async def test_the_holders_words_in_the_cards_thread_reach_the_customer_and_are_confirmed_there() -> None:
    core, uow, clock = make_core()
    await send(core, clock, Inbound("slack", "UCUST", command="handoff"))
    claimed = await send(core, clock, Inbound("slack", "UAGENT", button_id="claim:1:go", channel_id=CARD[0],
                                              thread_id=CARD[1]))
    assert [(c, t) for c, t, _ in desk_posts(claimed)] == [CARD]

    sent = await send(core, clock, in_thread("UAGENT", "Hi, I'm on it.\nOne moment.", "Ev1"))
    [words] = [r for r in sent if r.to == "UCUST"]
    assert (words.kind, words.text) == (Kind.AGENT, "Hi, I'm on it.\nOne moment.")
    [(channel, thread, confirmation)] = desk_posts(sent)
    assert (channel, thread) == CARD and confirmation.startswith("Sent to slack:UCUST (ticket 1)")

    # The same delivery again (a platform retry) is not sent twice.
    assert await send(core, clock, in_thread("UAGENT", "Hi, I'm on it.\nOne moment.", "Ev1")) == []

    # The customer's words come to the thread; so do notes and the release.
    relayed = await send(core, clock, Inbound("slack", "UCUST", text="thanks, waiting"))
    assert [(c, t) for c, t, _ in desk_posts(relayed)] == [CARD]
    noted = await send(core, clock, Inbound("slack", "UAGENT", command="note", args=("1", "vip"), channel_id="CDESK"))
    assert [(c, t) for c, t, _ in desk_posts(noted)] == [CARD]
    released = await send(core, clock, Inbound("slack", "UAGENT", command="release", args=("1",)))
    assert [(c, t) for c, t, _ in desk_posts(released)] == [CARD]
    assert [m.author for m in uow.conversations.messages if m.kind == "agent"] == ["slack:UAGENT"]


async def test_other_talk_in_desk_threads_reaches_no_customer() -> None:
    core, _, clock = make_core()
    await send(core, clock, Inbound("slack", "UCUST", command="handoff"))
    # Before anyone claims from the card, the thread is nobody's ticket.
    assert await send(core, clock, in_thread("UAGENT", "who takes this one?", "Ev1")) == []
    await send(core, clock, Inbound("slack", "UAGENT", button_id="claim:1:go", channel_id=CARD[0], thread_id=CARD[1]))
    # Another agent, a colleague who is not an agent, and another thread: nothing is sent.
    assert await send(core, clock, in_thread("UBOSS", "nice work", "Ev2")) == []
    assert await send(core, clock, in_thread("UCUST", "hello?", "Ev3")) == []
    assert await send(core, clock, in_thread("UAGENT", "lunch?", "Ev4", thread="1700000000.000999")) == []
    # Released: the thread no longer reaches the customer.
    await send(core, clock, Inbound("slack", "UAGENT", command="release", args=("1",)))
    assert await send(core, clock, in_thread("UAGENT", "bye", "Ev5")) == []


async def test_a_transferred_ticket_stays_in_its_thread_and_the_new_holder_speaks_there() -> None:
    core, _, clock = make_core()
    await send(core, clock, Inbound("slack", "UCUST", command="handoff"))
    await send(core, clock, Inbound("slack", "UAGENT", button_id="claim:1:go", channel_id=CARD[0], thread_id=CARD[1]))
    moved = await send(core, clock, Inbound("slack", "UAGENT", command="transfer", args=("1", "UBOSS")))
    assert [(c, t) for c, t, _ in desk_posts(moved)] == [CARD]
    assert await send(core, clock, in_thread("UAGENT", "still me?", "Ev1")) == []
    sent = await send(core, clock, in_thread("UBOSS", "I'll take it from here.", "Ev2"))
    assert [(r.to, r.text) for r in sent if r.to == "UCUST"] == [("UCUST", "I'll take it from here.")]
