"""Rule 3: ask whether it solved the problem; "no" gets another try, two "no"s offer a person; "yes" asks a rating."""

from __future__ import annotations

from handlers.messages import Kind
from tests.support.driver import ChatDriver

FRUSTRATED = "THIS IS THE THIRD TIME I ASK WHERE MY ORDER IS!!!"


async def _answer_is_followed_by_a_resolution_check_with_yes_and_no(chat: ChatDriver) -> None:
    replies = await chat.say("ana", "where is my order")
    assert [r.kind for r in replies] == [Kind.ANSWER, Kind.RESOLUTION_CHECK]
    ids = [b.id for b in replies[-1].buttons]
    assert any(i.endswith(":yes") for i in ids) and any(i.endswith(":no") for i in ids)


async def _yes_leads_to_a_one_tap_rating(chat: ChatDriver) -> None:
    await chat.say("ana", "where is my order")
    replies = await chat.press_label("ana", 1)
    assert [r.kind for r in replies] == [Kind.SATISFACTION_CHECK]
    assert sorted(b.id.rsplit(":", 1)[1] for b in replies[0].buttons) == ["1", "2", "3", "4", "5"]


async def _typed_yes_also_leads_to_the_rating(chat: ChatDriver) -> None:
    await chat.say("ana", "my card was declined")
    replies = await chat.say("ana", "yes")
    assert [r.kind for r in replies] == [Kind.SATISFACTION_CHECK]


async def _first_no_gets_a_clarifying_question_or_second_answer(chat: ChatDriver) -> None:
    await chat.say("ben", "my card was declined")
    replies = await chat.say("ben", "no")
    assert replies and replies[0].kind in (Kind.ANSWER, Kind.CLARIFY)
    assert Kind.SATISFACTION_CHECK not in [r.kind for r in replies]


async def _two_nos_always_offer_a_person(chat: ChatDriver) -> None:
    for user, text in [("dee", "my card was declined"), ("eli", FRUSTRATED), ("fay", "how much is shipping")]:
        await chat.say(user, text)
        await chat.say(user, "no")
        replies = await chat.say(user, "no")
        assert chat.button(replies, "person:"), (user, [r.kind for r in replies])
        handed = await chat.press(user, chat.button(replies, "person:"))
        assert [r.kind for r in handed if r.to == user] == [Kind.HANDOFF]


async def _two_no_buttons_offer_a_person(chat: ChatDriver) -> None:
    await chat.say("gus", "is my bike ready")
    await chat.press_label("gus", 2)  # no, not yet
    replies = await chat.say("gus", "no")
    assert any(b.id.startswith("person:") for r in replies for b in r.buttons)


async def test_yes_path(chat: ChatDriver) -> None:
    """An answer asks whether it solved the problem; yes asks for a one-tap rating."""
    await _answer_is_followed_by_a_resolution_check_with_yes_and_no(chat)
    await _yes_leads_to_a_one_tap_rating(chat)
    await _typed_yes_also_leads_to_the_rating(chat)


async def test_no_path(chat: ChatDriver) -> None:
    """No gets another attempt; two nos always offer a person."""
    await _first_no_gets_a_clarifying_question_or_second_answer(chat)
    await _two_nos_always_offer_a_person(chat)
    await _two_no_buttons_offer_a_person(chat)
