"""The outbox: a reply committed but never sent (a crash, a platform outage) is sent after a restart, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.hub import Hub
from bot.outbox import OutboxTiming, SqlOutbox
from handlers.app import Concierge
from handlers.messages import Inbound, Reply
from handlers.turn import Services
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import StepClock
from tests.support.outbox import unsent_texts

TIMING = OutboxTiming(retry_after=timedelta(seconds=30), give_up_after=timedelta(hours=24))


class Recorder:
    """A console-like channel that keeps what it was asked to send; it can fail or confirm on demand."""

    platform = "console"

    def __init__(self, *, failing: bool = False, confirms: set[int] | None = None) -> None:
        self.sent: list[Reply] = []
        self.failing = failing
        self.confirms = confirms

    async def run(self, inbox: object) -> None:
        await asyncio.Event().wait()

    async def deliver(self, reply: Reply) -> None:
        if self.failing:
            raise ConnectionError("platform down")
        self.sent.append(reply)


class ConfirmingRecorder(Recorder):
    """A channel whose platform remembers what it accepted (as Slack's history does)."""

    async def delivered(self, reply: Reply) -> bool:
        return reply.message_id in (self.confirms or set())


def _hub(core: Concierge, unit_of_work: UnitOfWorkFactory, clock: StepClock, channel: Recorder) -> Hub:
    return Hub(core, [channel], outbox=SqlOutbox(unit_of_work, clock, TIMING))


async def test_delivered_replies_are_marked_sent_and_never_sent_again(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """Replies the channel accepted are marked sent; a later sweep (any process) sends none of them again."""
    core = Concierge(unit_of_work, demo_services, clock)
    channel = Recorder()
    hub = _hub(core, unit_of_work, clock, channel)
    await hub.receive(Inbound("console", "ana", text="where is my order?"))
    assert channel.sent and all(reply.message_id is not None for reply in channel.sent)
    assert await unsent_texts(unit_of_work) == []

    clock.advance(timedelta(minutes=5))
    later = Recorder()
    assert await _hub(Concierge(unit_of_work, demo_services, clock), unit_of_work, clock, later).sweep() == 0
    assert later.sent == []


async def test_a_reply_committed_but_never_sent_is_sent_once_after_a_restart(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """The process dies between commit and send: the next process sends the stored reply, exactly once."""
    crashed = Concierge(unit_of_work, demo_services, clock)
    replies = await crashed.handle(Inbound("console", "ben", text="my battery only lasts 15 km"))
    assert len(await unsent_texts(unit_of_work)) == len(replies) > 0

    restarted, channel = Concierge(unit_of_work, demo_services, clock), Recorder()
    hub = _hub(restarted, unit_of_work, clock, channel)
    assert await hub.sweep() == 0, "a reply younger than retry_after may still be in flight elsewhere"
    clock.advance(timedelta(seconds=31))
    assert await hub.sweep() == len(replies)
    assert [(r.to, r.kind, r.text, r.buttons) for r in channel.sent] == [
        (r.to, r.kind, r.text, r.buttons) for r in replies
    ]
    assert await unsent_texts(unit_of_work) == []
    assert await hub.sweep() == 0
    assert len(channel.sent) == len(replies)


async def test_a_failed_send_is_retried_by_the_sweep(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """The platform refuses a send: the reply stays unsent and goes out on the next sweep."""
    core = Concierge(unit_of_work, demo_services, clock)
    channel = Recorder(failing=True)
    hub = _hub(core, unit_of_work, clock, channel)
    await hub.receive(Inbound("console", "cleo", text="hello"))
    stuck = await unsent_texts(unit_of_work)
    assert stuck and channel.sent == []

    channel.failing = False
    clock.advance(timedelta(minutes=1))
    assert await hub.sweep() == len(stuck)
    assert [r.text for r in channel.sent] == stuck


async def test_a_message_the_platform_already_has_is_not_sent_twice(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """Killed after the platform accepted a send but before marking it: the sweep asks, and only marks it."""
    replies = await Concierge(unit_of_work, demo_services, clock).handle(Inbound("console", "dan", text="hi"))
    ids = {r.message_id for r in replies if r.message_id is not None}
    assert ids
    channel = ConfirmingRecorder(confirms=ids)
    clock.advance(timedelta(minutes=1))
    assert await _hub(Concierge(unit_of_work, demo_services, clock), unit_of_work, clock, channel).sweep() == len(ids)
    assert channel.sent == []
    assert await unsent_texts(unit_of_work) == []


async def test_two_processes_sweeping_at_once_send_each_message_once(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """Two hubs (processes) sweep the same outbox together: every stuck reply goes out exactly once."""
    core = Concierge(unit_of_work, demo_services, clock)
    for user in ("eve", "fay", "gus", "hal"):
        await core.handle(Inbound("console", user, text="where is my order?"))
    stuck = await unsent_texts(unit_of_work)
    clock.advance(timedelta(minutes=1))
    first, second = Recorder(), Recorder()
    await asyncio.gather(_hub(core, unit_of_work, clock, first).sweep(),
                         _hub(core, unit_of_work, clock, second).sweep())
    assert sorted(r.text for r in first.sent + second.sent) == sorted(stuck)


async def test_an_unsent_reply_older_than_the_limit_is_left_alone(
    unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock
) -> None:
    """A reply that could not be sent for a day is not sent out of the blue."""
    await Concierge(unit_of_work, demo_services, clock).handle(Inbound("console", "ivy", text="hello"))
    clock.advance(timedelta(hours=25))
    channel = Recorder()
    assert await _hub(Concierge(unit_of_work, demo_services, clock), unit_of_work, clock, channel).sweep() == 0
    assert channel.sent == []
