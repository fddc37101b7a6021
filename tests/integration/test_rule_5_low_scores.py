"""Rule 5: a low rating starts recovery: an apology, a person offered, and the next words kept as feedback."""

from __future__ import annotations

from sqlalchemy import select

from handlers.messages import Kind
from storage.models import Feedback, Handoff
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver


async def feedback_texts(unit_of_work: UnitOfWorkFactory, user: str) -> list[str]:
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key(f"console:{user}")
        assert customer is not None
        rows = await uow.session.scalars(  # type: ignore[attr-defined]
            select(Feedback).where(Feedback.customer_id == customer.id).order_by(Feedback.id)
        )
        return [row.text for row in rows]


async def _rating_one_starts_recovery_and_stores_the_feedback(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ana", "where is my order")
    await chat.press_label("ana", 1)  # yes, solved
    replies = await chat.press_label("ana", 1)  # rating 1
    assert [r.kind for r in replies] == [Kind.RECOVERY]
    assert "sorry" in replies[0].text.lower()
    assert chat.button(replies, "person:")
    assert not any(r.kind in (Kind.OFFER, Kind.REFERRAL) for r in replies)

    thanks = await chat.say("ana", "The tracking link was dead, write to me at ana@example.com")
    assert thanks and thanks[0].kind == Kind.RECOVERY
    assert chat.button(thanks, "person:"), "a person stays on offer"
    assert await feedback_texts(unit_of_work, "ana") == ["The tracking link was dead, write to me at [email]"]

    handed = await chat.press("ana", chat.button(thanks, "person:"))
    assert [r.kind for r in handed if r.to == "ana"] == [Kind.HANDOFF]
    async with unit_of_work() as uow:
        [ticket] = (await uow.session.scalars(select(Handoff))).all()  # type: ignore[attr-defined]
        assert ticket.priority > 0, "a low rating is handled with priority"


async def _typed_rating_two_also_recovers_and_a_high_rating_does_not(
    chat: ChatDriver, unit_of_work: UnitOfWorkFactory
) -> None:
    await chat.say("ben", "my card was declined")
    await chat.say("ben", "yes")
    replies = await chat.say("ben", "2")
    assert [r.kind for r in replies] == [Kind.RECOVERY]
    await chat.say("ben", "too slow")
    assert await feedback_texts(unit_of_work, "ben") == ["too slow"]

    await chat.say("cai", "my card was declined")
    await chat.say("cai", "yes")
    replies = await chat.say("cai", "4")
    assert Kind.RECOVERY not in [r.kind for r in replies]
    await chat.say("cai", "how much is shipping")
    assert await feedback_texts(unit_of_work, "cai") == []


async def test_low_scores_start_recovery(chat: ChatDriver, unit_of_work: UnitOfWorkFactory) -> None:
    """Ratings 1 and 2 start recovery and keep the feedback; 4 does not."""
    await _rating_one_starts_recovery_and_stores_the_feedback(chat, unit_of_work)
    await _typed_rating_two_also_recovers_and_a_high_rating_does_not(chat, unit_of_work)
