"""A close call asks with both intents as buttons; the customer's pick is stored and exported as training data."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from handlers.messages import Kind
from handlers.turn import Services
from handlers.understanding.evaluation import read_labelled
from storage.unit_of_work import UnitOfWorkFactory
from tests.support.driver import ChatDriver

# Messages that name two of the demo's topics at once; the model may find some of them clear enough.
MIXED = ["delivery cost refund", "refund or return", "return shipping", "password refund", "battery or tyre"]


def a_close_call(services: Services) -> tuple[str, str, str]:
    for text in MIXED:
        understanding = services.understander.understand(text)
        if understanding.close_call:
            first, second = understanding.ranked[:2]
            return text, first.intent, second.intent
    raise AssertionError(f"none of {MIXED} is a close call for the demo model")


async def test_a_close_call_asks_and_the_choice_becomes_a_training_example(
    chat: ChatDriver, demo_services: Services, unit_of_work: UnitOfWorkFactory, database_url: str,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    text, first, second = a_close_call(demo_services)
    replies = await chat.say("ana", text)
    assert [r.kind for r in replies] == [Kind.CLARIFY], "a close call asks instead of guessing"
    offered = [b.id.split(":", 2)[2] for b in replies[0].buttons]
    assert first in offered and second in offered, offered
    assert Kind.ANSWER not in chat.kinds("ana")

    picked = next(b.id for b in replies[0].buttons if b.id.endswith(f":{second}"))  # the runner-up, on purpose
    answered = await chat.press("ana", picked)
    assert Kind.ANSWER in [r.kind for r in answered]
    async with unit_of_work() as uow:
        customer = await uow.customers.by_key("console:ana")
        assert customer is not None
        assert [need.topic for need in await uow.needs.for_customer(customer.id)] == [second]

    monkeypatch.setenv("CONCIERGE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["nlu", "choices"]) == 0
    exported = capsys.readouterr().out
    assert list(csv.reader(io.StringIO(exported))) == [["text", "label"], [text, second]]
    # The export is a file `nlu eval --train` reads as it is.
    (tmp_path / "choices.csv").write_text(exported)
    assert read_labelled(tmp_path / "choices.csv").labels == (second,)
    async with unit_of_work() as uow:
        assert [e.action for e in await uow.audit.latest()] == ["export_choices"]
