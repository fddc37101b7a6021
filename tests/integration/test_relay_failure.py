"""A person's words the platform refuses: tried again at once, and if still refused, the agent is told in the thread."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.hub import Hub
from bot.outbox import OutboxTiming, SqlOutbox
from handlers.app import Concierge
from handlers.messages import DESK, Inbound, Kind, Reply
from handlers.policy import Roles
from handlers.turn import Services
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import StepClock
from tests.support.outbox import unsent_texts

TIMING = OutboxTiming(retry_after=timedelta(seconds=30), give_up_after=timedelta(hours=24))
DESK_CHANNEL, THREAD = "CDESK", "T100"
WORDS = "Hi Ana, I'm checking with the courier now."


class FlakyChannel:
    """A console channel whose platform refuses the next `refusals` messages of one kind, and keeps the rest."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.sent: list[Reply] = []
        self.attempts: list[Reply] = []
        self.refusals = 0
        self.refused_kind = Kind.AGENT

    async def run(self, inbox: object) -> None:
        await asyncio.Event().wait()

    async def deliver(self, reply: Reply) -> None:
        self.attempts.append(reply)
        if reply.kind is self.refused_kind and self.refusals > 0:
            self.refusals -= 1
            raise ConnectionError("platform refused the message")
        self.sent.append(reply)

    def desk_notices(self) -> list[Reply]:
        return [r for r in self.sent if r.to == DESK and r.text.startswith("Not delivered yet")]


async def _claimed_ticket(unit_of_work: UnitOfWorkFactory, services: Services, clock: StepClock,
                          channel: FlakyChannel) -> Hub:
    """Ana asks for a person; the agent claims her ticket from its card, whose thread is then the ticket's."""
    hub = Hub(Concierge(unit_of_work, services, clock), [channel], outbox=SqlOutbox(unit_of_work, clock, TIMING),
              relay_retries=(0.01, 0.02))
    await hub.receive(Inbound("console", "ana", text="where is my order", display_name="Ana"))
    await hub.receive(Inbound("console", "ana", text="can I talk to a person"))
    await hub.receive(Inbound("console", "agent", button_id="claim:1:go", channel_id=DESK_CHANNEL, thread_id=THREAD))
    assert any("claimed ticket 1" in r.text and r.thread_id == THREAD for r in channel.sent)
    return hub


async def test_words_refused_twice_reach_the_customer_on_a_retry_and_the_desk_hears_nothing_more(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    channel = FlakyChannel()
    hub = await _claimed_ticket(unit_of_work, demo_services, clock, channel)
    channel.refusals = 2

    await hub.receive(Inbound("console", "agent", command="reply", args=("1", *WORDS.split())))

    assert [r.text for r in channel.attempts if r.kind is Kind.AGENT] == [WORDS] * 3
    assert [(r.to, r.text) for r in channel.sent if r.kind is Kind.AGENT] == [("ana", WORDS)]
    assert channel.desk_notices() == []
    assert await unsent_texts(unit_of_work) == []


async def test_words_still_refused_are_reported_in_the_ticket_thread_and_sent_by_the_sweep_later(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    channel = FlakyChannel()
    hub = await _claimed_ticket(unit_of_work, demo_services, clock, channel)
    channel.refusals = 3  # the first try and both retries

    await hub.receive(Inbound("console", "agent", text=WORDS, command="thread", channel_id=DESK_CHANNEL,
                              thread_id=THREAD, event_id="ev-1"))

    assert [r for r in channel.sent if r.kind is Kind.AGENT] == []
    [notice] = channel.desk_notices()
    assert (notice.channel_id, notice.thread_id) == (DESK_CHANNEL, THREAD)
    for part in ("ticket 1", "console:agent", "Ana (console:ana)", WORDS, "sent again automatically"):
        assert part in notice.text, part
    assert await unsent_texts(unit_of_work) == [WORDS]

    # The platform is back: the outbox sweep delivers the words once, and tells the desk nothing new.
    clock.advance(timedelta(minutes=1))
    assert await hub.sweep() == 1
    assert [(r.to, r.text) for r in channel.sent if r.kind is Kind.AGENT] == [("ana", WORDS)]
    assert len(channel.desk_notices()) == 1
    assert await unsent_texts(unit_of_work) == []


async def test_a_refused_bot_reply_is_left_to_the_outbox_without_retries_or_a_desk_notice(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    channel = FlakyChannel()
    hub = Hub(Concierge(unit_of_work, demo_services, clock), [channel], outbox=SqlOutbox(unit_of_work, clock, TIMING),
              relay_retries=(0.01, 0.02))
    channel.refused_kind, channel.refusals = Kind.ANSWER, 5

    await hub.receive(Inbound("console", "ben", text="where is my order"))

    assert [r.kind for r in channel.attempts].count(Kind.ANSWER) == 1
    assert [r for r in channel.sent if r.to == DESK] == []
    assert len(await unsent_texts(unit_of_work)) == 1


async def test_without_a_thread_the_notice_goes_to_the_desk_channel(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    channel = FlakyChannel()
    hub = Hub(Concierge(unit_of_work, demo_services, clock), [channel], outbox=SqlOutbox(unit_of_work, clock, TIMING),
              relay_retries=())
    await hub.receive(Inbound("console", "ana", text="can I talk to a person"))
    await hub.receive(Inbound("console", "agent", command="claim", args=("1",)))  # claimed by command: no thread
    channel.refusals = 1

    await hub.receive(Inbound("console", "agent", command="reply", args=("1", *WORDS.split())))

    assert [r.text for r in channel.attempts if r.kind is Kind.AGENT] == [WORDS]  # no retries configured
    [notice] = channel.desk_notices()
    assert (notice.platform, notice.channel_id, notice.thread_id) == ("console", None, None)
    assert "ticket 1" in notice.text and WORDS in notice.text


async def test_a_discord_customer_served_from_the_slack_desk_the_notice_reaches_the_slack_thread(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    policy = replace(demo_services.policy, desk_platforms=("slack", "console"),
                     roles=Roles(agents=frozenset({"slack:UAGENT"})))
    core = Concierge(unit_of_work, replace(demo_services, policy=policy), clock)
    slack, discord = FlakyChannel("slack"), FlakyChannel("discord")
    hub = Hub(core, [slack, discord], outbox=SqlOutbox(unit_of_work, clock, TIMING), relay_retries=(0.01,))
    await hub.receive(Inbound("discord", "555", text="can I talk to a person"))
    await hub.receive(Inbound("slack", "UAGENT", button_id="claim:1:go", channel_id=DESK_CHANNEL, thread_id=THREAD))
    discord.refusals = 2

    await hub.receive(Inbound("slack", "UAGENT", text=WORDS, command="thread", channel_id=DESK_CHANNEL,
                              thread_id=THREAD, event_id="ev-2"))

    assert [r.to for r in discord.attempts if r.kind is Kind.AGENT] == ["555", "555"]
    assert not any(r.kind is Kind.AGENT for r in discord.sent)
    [notice] = slack.desk_notices()
    assert (notice.channel_id, notice.thread_id) == (DESK_CHANNEL, THREAD)
    assert "Discord refused slack:UAGENT's message to discord:555" in notice.text
