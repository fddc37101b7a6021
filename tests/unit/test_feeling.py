"""Sentiment and frustration: the mood that picks the empathy opener."""

from __future__ import annotations

import pytest

from handlers.understanding.feeling import feel, shouting


@pytest.mark.parametrize(
    "text",
    [
        "WHERE IS MY ORDER I PAID TWO WEEKS AGO",
        "This is the third time I'm asking about my refund",
        "still not delivered, this is ridiculous",
        "what a waste of time, nobody answers",
        "Why is it broken again?!?!",
        "I'm so fed up with this bike",
        "I am not happy at all",
        "Why does this keep happening?",
    ],
)
def test_frustrated_customers_are_detected(text: str) -> None:
    feeling = feel(text)
    assert feeling.mood == "frustrated"
    assert feeling.frustrated
    assert feeling.frustration >= 0.5


def test_failed_attempts_raise_frustration_on_the_same_words() -> None:
    calm = feel("it didn't work")
    after_two = feel("it didn't work", failed_attempts=2)
    assert after_two.frustration > calm.frustration
    assert after_two.mood == "frustrated"
    assert calm.mood != "frustrated"


@pytest.mark.parametrize(
    "text",
    [
        "I'm worried my package is lost",
        "I haven't received my bike yet and I need it urgently",
        "my card was charged twice, I'm afraid",
        "please help asap, I'm locked out",
    ],
)
def test_anxious_customers_are_worried(text: str) -> None:
    assert feel(text).mood == "worried"


@pytest.mark.parametrize("text", ["Thanks so much, that was great!", "Perfect, love the new bike :)"])
def test_pleased_customers_are_happy(text: str) -> None:
    feeling = feel(text)
    assert feeling.mood == "happy"
    assert feeling.compound > 0.4
    assert feeling.frustration == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "where is my order",
        "what are your opening hours?",
        "Is the SKU EB-200 in stock?",
        "can you help me please?",
        "no",
    ],
)
def test_plain_questions_are_neutral(text: str) -> None:
    feeling = feel(text)
    assert feeling.mood == "neutral"
    assert feeling.frustration < 0.5


def test_an_acronym_is_not_shouting() -> None:
    assert not shouting("Can I pay with a VISA card?")
    assert shouting("I WANT MY MONEY BACK NOW")


def test_scores_stay_in_range() -> None:
    feeling = feel("THIRD TIME!!! RIDICULOUS, USELESS, WASTE OF TIME, STILL NOT HERE", failed_attempts=9)
    assert feeling.frustration == 1.0
    assert -1.0 <= feeling.compound <= 1.0
