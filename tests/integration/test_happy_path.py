"""The service-then-sell path of a satisfied customer, end to end through the core."""

from datetime import timedelta

from handlers.messages import Kind
from tests.support.driver import ChatDriver


async def test_satisfied_customer_is_served_then_offered_and_followed_up(chat: ChatDriver) -> None:
    await chat.say("ana", "My battery only lasts about 15 km now, it used to do 60")
    await chat.press_label("ana", 1)  # yes, solved
    rating = await chat.say("ana", "5")
    assert chat.kinds("ana")[:3] == [Kind.ANSWER, Kind.RESOLUTION_CHECK, Kind.SATISFACTION_CHECK]
    assert Kind.OFFER in [r.kind for r in rating]
    followups = await chat.advance(timedelta(days=4))
    assert [r.kind for r in followups] == [Kind.FOLLOWUP]
    assert followups[0].to == "ana"
