"""Threshold tuning on a validation file, measured by what the bot decides for each message."""

from __future__ import annotations

import pytest

from handlers.understanding.calibration import OOS
from handlers.understanding.features import TfidfFeaturizer
from handlers.understanding.model import IntentModel, calibrate, fit_model
from handlers.understanding.tuning import STEPS, VAL_IN_SCOPE_LOSS, tune_threshold
from handlers.understanding.understander import ModelUnderstander

# Label names unlike any knowledge base's, to show nothing depends on them.
TRAIN = {
    "Zone-7": ["feed the cat", "the cat is hungry", "cat food please", "give the cat dinner", "cat wants to eat"],
    "42": ["water the plants", "the plants are dry", "plants need water", "give the ferns a drink", "soak the pots"],
    "λ": ["lock the door", "is the door locked", "door lock please", "bolt the front door", "secure the door"],
}  # fmt: skip
OOS_TRAIN = ["what is the capital of peru", "who wrote hamlet", "how tall is everest", "play some jazz"]
VAL = [
    ("the cat needs food", "Zone-7"), ("feed my cat now", "Zone-7"), ("cat breakfast", "Zone-7"),
    ("the ferns are thirsty", "42"), ("water my plants", "42"), ("are the plants watered", "42"),
    ("lock up the door", "λ"), ("did you bolt the door", "λ"), ("door secure?", "λ"),
    ("feed the dog", "Zone-7"),  # a near miss: a confident wrong answer or a low right one
    ("who painted the mona lisa", OOS), ("how far is the moon", OOS), ("what is the capital of chile", OOS),
    ("play a song", OOS), ("book a flight to rome", OOS),
]  # fmt: skip


@pytest.fixture(scope="module")
def model() -> IntentModel:
    texts = [t for texts in TRAIN.values() for t in texts] + OOS_TRAIN
    labels = [label for label, texts in TRAIN.items() for _ in texts] + [OOS] * len(OOS_TRAIN)
    fitted = fit_model(TfidfFeaturizer(), texts, labels)
    return calibrate(fitted, fitted.raw_scores([t for t, _ in VAL]), [label for _, label in VAL])


def in_scope_accuracy(model: IntentModel, threshold: float) -> float:
    understander = ModelUnderstander(model, threshold=threshold)
    in_scope = [(t, label) for t, label in VAL if label != OOS]
    right = 0
    for text, label in in_scope:
        result = understander.understand(text)
        right += not result.out_of_scope and result.best is not None and result.best.intent == label
    return right / len(in_scope)


def oos_recall(model: IntentModel, threshold: float) -> float:
    understander = ModelUnderstander(model, threshold=threshold)
    rows = [t for t, label in VAL if label == OOS]
    return sum(understander.understand(t).out_of_scope for t in rows) / len(rows)


def test_the_threshold_is_the_highest_that_keeps_the_floor(model: IntentModel) -> None:
    texts, labels = [t for t, _ in VAL], [label for _, label in VAL]
    for floor in (1.0, 0.8, 0.5):
        threshold = tune_threshold(model, texts, labels, min_in_scope=floor)
        assert in_scope_accuracy(model, threshold) >= floor
        step = 1 / 2**STEPS
        if threshold < 1 - step:
            assert in_scope_accuracy(model, threshold + 2 * step) < floor, "a higher threshold kept the floor"


def test_a_lower_floor_catches_at_least_as_much_out_of_scope(model: IntentModel) -> None:
    texts, labels = [t for t, _ in VAL], [label for _, label in VAL]
    strict = tune_threshold(model, texts, labels, min_in_scope=1.0)
    loose = tune_threshold(model, texts, labels, min_in_scope=0.6)
    assert loose >= strict
    assert oos_recall(model, loose) >= oos_recall(model, strict)


def test_the_default_floor_is_closed_set_accuracy_minus_the_allowed_loss(model: IntentModel) -> None:
    texts, labels = [t for t, _ in VAL], [label for _, label in VAL]
    in_scope = [(t, label) for t, label in VAL if label != OOS]
    ranked = ModelUnderstander(model).rank([t for t, _ in in_scope])
    right = [guesses[0].intent == label for (guesses, _), (_, label) in zip(ranked, in_scope, strict=True)]
    closed = sum(right) / len(in_scope)
    assert closed > VAL_IN_SCOPE_LOSS
    assert tune_threshold(model, texts, labels) == tune_threshold(
        model, texts, labels, min_in_scope=closed - VAL_IN_SCOPE_LOSS
    )
