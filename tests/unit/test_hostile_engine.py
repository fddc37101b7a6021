"""Hostile input over the conversation engine on fakes: no crash, no template execution, words stored intact."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.app import _CONTROL, Concierge
from handlers.messages import Inbound, Reply
from handlers.redaction import redact
from tests.fakes.storage import FakeUnitOfWork
from tests.support.driver import StepClock
from tests.unit.test_engine_with_fakes import make_core

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INJECTIONS = [
    "{{ 7*7 }}", "{{7*7}} where is my order", "{{ ''.__class__.__mro__ }}", "{{ config }}", "{{ self }}",
    "{% for x in range(3) %}xyz{% endfor %}", "{% raw %}", "{# comment", "{{", "}}", "{%", "${7*7}", "#{7*7}",
    "<!channel> where is my order", "<@U123> <!here>", "<!subteam^S1|@team>", "@everyone @here <@&1>",
    "<script>alert(1)</script> flat tyre", "<img src=x onerror=alert(1)>", "&lt;&gt;&amp;", "**bold** `code`",
    "\x00\x1b[31mred\x07", "\u202eevil\u202c", "\ufeff\u200b", "💥" * 50, "a\r\nb\rc", "'; DROP TABLE messages; --",
]
LEAKS = ("49", "<class", "xyzxyz", "jinja", "Traceback", "Undefined", "__mro__")
hostile_text = st.sampled_from(INJECTIONS) | st.text(max_size=400) | st.builds(
    lambda a, b: a + b, st.sampled_from(INJECTIONS), st.text(max_size=60)
)
garbage_buttons = st.text(max_size=120) | st.sampled_from([
    "", ":", ":::", "rate::", "rate:x:5", "rate:1:99", "offer:-1:accept", "followup:1e9:yes", "resolved:1:yes",
    "person:0:yes", "forget:1:confirm", "clarify:1:{{ 7*7 }}", "x" * 5000, "rate:1:5\x00", "\x00", "a\x00b",
])
actions = st.lists(st.one_of(st.tuples(st.just("say"), hostile_text), st.tuples(st.just("press"), garbage_buttons)),
                   min_size=1, max_size=6)


def _stored(text: str) -> str:
    return redact(_CONTROL.sub("", text).strip()[:20_000])


def _assert_harmless(replies: list[Reply], typed: str) -> None:
    for reply in replies:
        for leak in LEAKS:
            assert leak not in reply.text or leak in typed, (leak, reply.text[:200])


async def _send(core: Concierge, clock: StepClock, inbound: Inbound) -> list[Reply]:
    clock.advance(timedelta(seconds=5))
    return await core.handle(inbound)


@FAST
@given(hostile_text, hostile_text)
async def test_any_text_is_answered_without_running_it_and_stored_as_typed(text: str, name: str) -> None:
    core, uow, clock = make_core()
    replies = await _send(core, clock, Inbound("console", "ana", text=text, display_name=name))
    _assert_harmless(replies, text + name)
    inbound = [m.text for m in uow.conversations.messages if m.direction == "in"]
    assert inbound == ([_stored(text)] if _CONTROL.sub("", text).strip() else [])


@FAST
@given(actions)
async def test_any_sequence_of_texts_and_garbage_buttons_never_crashes(steps: list[tuple[str, str]]) -> None:
    core, uow, clock = make_core()
    typed = ""
    for action, value in steps:
        typed += value
        if action == "say":
            replies = await _send(core, clock, Inbound("console", "ana", text=value))
        else:
            replies = await _send(core, clock, Inbound("console", "ana", button_id=value))
        _assert_harmless(replies, typed)
        assert all(reply.to == "ana" for reply in replies)
    assert uow.committed <= len(steps)


@settings(max_examples=5, deadline=None)
@given(st.sampled_from(INJECTIONS), st.characters())
async def test_a_100k_character_message_is_answered_and_stored_capped(prefix: str, filler: str) -> None:
    core, uow, clock = make_core()
    text = prefix + " where is my order " + filler * 100_000
    replies = await _send(core, clock, Inbound("console", "ana", text=text))
    _assert_harmless(replies, prefix + filler)
    [stored] = [m.text for m in uow.conversations.messages if m.direction == "in"]
    assert stored == _stored(text) and len(stored) <= 20_000


async def test_a_button_on_a_fresh_fake_store_is_a_notice_not_a_crash() -> None:
    core, uow, clock = make_core()
    assert isinstance(uow, FakeUnitOfWork)
    for button in ("rate:1:5", "offer:1:accept", "followup:1:yes", "resolved:1:yes"):
        replies = await _send(core, clock, Inbound("console", "ana", button_id=button))
        assert [str(r.kind) for r in replies] in (["notice"], []), button
