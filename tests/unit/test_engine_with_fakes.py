"""The conversation engine on fakes only: no database, no network, no trained model; runs in milliseconds."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import cast

from handlers.app import Concierge
from handlers.knowledge import Intent, KnowledgeBase, Product, ReferralProgram
from handlers.messages import Inbound, Kind
from handlers.policy import Policy
from handlers.replies import Templates
from handlers.turn import Services
from handlers.understanding import Feeling, IntentGuess, Understanding
from storage.unit_of_work import UnitOfWork
from tests.fakes.storage import FakeUnitOfWork
from tests.support.driver import StepClock

KNOWLEDGE = KnowledgeBase(
    business_name="Test Bikes",
    intents=(
        Intent("flat_tyre", ("flat tyre",), "Pump it up, then check for thorns.", ("tyres",), "Flat tyre"),
        Intent("order_status", ("where is my order",), "It ships in two days.", ("delivery",), "Order status"),
    ),
    products=(Product("TYRE-1", "Armoured tyres", "No more flats.", ("tyres",), "https://example.test/t"),),
    referral=ReferralProgram("Tell a friend!", "You both get 10 off."),
)


def scripted_feeling(text: str) -> Feeling:
    angry = text.isupper() or "!!!" in text
    return Feeling("frustrated" if angry else "neutral", -0.8 if angry else 0.0, 0.9 if angry else 0.0)


class ScriptedUnderstander:
    """Understand by keyword, so the engine is tested without any model."""

    def feel(self, text: str, *, failed_attempts: int = 0) -> Feeling:
        return scripted_feeling(text)

    def understand(self, text: str, *, failed_attempts: int = 0, feeling: Feeling | None = None) -> Understanding:
        feeling = feeling or scripted_feeling(text)
        if "tyre" in text.lower():
            ranked = (IntentGuess("flat_tyre", 0.9), IntentGuess("order_status", 0.05))
        elif "order" in text.lower():
            ranked = (IntentGuess("order_status", 0.9), IntentGuess("flat_tyre", 0.05))
        else:
            return Understanding(text, (IntentGuess("flat_tyre", 0.2),), True, False, feeling)
        return Understanding(text, ranked, False, False, feeling)


def make_core() -> tuple[Concierge, FakeUnitOfWork, StepClock]:
    uow = FakeUnitOfWork()
    clock = StepClock()
    services = Services(KNOWLEDGE, ScriptedUnderstander(), Templates(seed=1), Policy())
    return Concierge(lambda: cast(UnitOfWork, uow), services, clock), uow, clock


async def say(core: Concierge, clock: StepClock, text: str = "", button: str | None = None) -> list[Kind]:
    clock.advance(timedelta(seconds=5))
    return [r.kind for r in await core.handle(Inbound("console", "ana", text=text, button_id=button))]


async def test_satisfied_customer_gets_offer_for_their_need_in_milliseconds() -> None:
    core, uow, clock = make_core()
    started = time.perf_counter()
    assert await say(core, clock, "I have a flat tyre") == [Kind.ANSWER, Kind.RESOLUTION_CHECK]
    assert await say(core, clock, "yes") == [Kind.SATISFACTION_CHECK]
    assert await say(core, clock, button="rate:1:5") == [Kind.NOTICE, Kind.OFFER]
    elapsed = time.perf_counter() - started
    offer = uow.offers.rows[0]
    assert (offer.sku, offer.need_id) == ("TYRE-1", uow.needs.rows[0].id)
    assert "flat_tyre" in offer.reason
    assert uow.committed == 3
    assert elapsed < 0.5, "fakes only: the whole conversation should take milliseconds"


async def test_frustrated_customer_is_never_offered_anything() -> None:
    core, uow, clock = make_core()
    await say(core, clock, "MY TYRE IS FLAT AGAIN!!!")
    await say(core, clock, "yes")
    assert await say(core, clock, button="rate:1:5") == [Kind.NOTICE]
    assert uow.offers.rows == []


async def test_out_of_scope_is_recorded_unmet_and_not_answered() -> None:
    core, uow, clock = make_core()
    assert await say(core, clock, "what's the weather on mars") == [Kind.FALLBACK]
    assert [n.status for n in uow.needs.rows] == ["unmet"]


class CountingUnderstander(ScriptedUnderstander):
    """The scripted engine, counting which texts the intent model read and which were only felt."""

    def __init__(self) -> None:
        self.read: list[str] = []
        self.felt: list[str] = []

    def feel(self, text: str, *, failed_attempts: int = 0) -> Feeling:
        self.felt.append(text)
        return super().feel(text, failed_attempts=failed_attempts)

    def understand(self, text: str, *, failed_attempts: int = 0, feeling: Feeling | None = None) -> Understanding:
        self.read.append(text)
        return super().understand(text, failed_attempts=failed_attempts, feeling=feeling)


async def test_answers_to_the_bots_questions_are_felt_but_not_read_for_an_intent() -> None:
    understander = CountingUnderstander()
    uow, clock = FakeUnitOfWork(), StepClock()
    core = Concierge(lambda: cast(UnitOfWork, uow), Services(KNOWLEDGE, understander, Templates(seed=1), Policy()),
                     clock)
    assert await say(core, clock, "I have a flat tyre") == [Kind.ANSWER, Kind.RESOLUTION_CHECK]
    assert await say(core, clock, "yes") == [Kind.SATISFACTION_CHECK]
    assert await say(core, clock, "5") == [Kind.NOTICE, Kind.OFFER]
    assert understander.read == ["I have a flat tyre"]
    assert understander.felt == ["I have a flat tyre", "yes", "5"]
