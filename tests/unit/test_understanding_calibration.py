"""Threshold choice and temperature scaling on hand-made held-out scores."""

from __future__ import annotations

import numpy as np

from handlers.understanding.calibration import Decisions, choose_threshold, fit_temperature, rates, softmax


def held_out(confidences: list[float], correct: list[bool], oos: list[bool]) -> Decisions:
    return Decisions(
        top_confidence=np.array(confidences),
        says_oos=np.zeros(len(confidences), dtype=bool),
        correct=np.array(correct),
        is_oos=np.array(oos),
    )


def test_threshold_catches_oos_while_keeping_the_in_scope_floor() -> None:
    # Ten in-scope rows (all right) with confidences 0.5..0.95, four oos rows at 0.2..0.55.
    ins = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    oos = [0.2, 0.3, 0.4, 0.55]
    d = held_out(ins + oos, [True] * 10 + [False] * 4, [False] * 10 + [True] * 4)
    strict = choose_threshold(d, min_in_scope=1.0)
    assert rates(d, strict) == (1.0, 0.75)  # everything under 0.5 goes, no right answer is lost
    looser = choose_threshold(d, min_in_scope=0.8)
    assert rates(d, looser) == (0.8, 1.0)  # giving up two right answers also catches the 0.55 oos row


def test_without_oos_rows_the_threshold_keeps_most_right_answers() -> None:
    confidences = [*np.linspace(0.3, 0.99, 40).tolist(), 0.1, 0.15]
    d = held_out(confidences, [True] * 40 + [False] * 2, [False] * 42)
    threshold = choose_threshold(d)
    in_acc, _ = rates(d, threshold)
    assert 0.1 < threshold < 0.99
    assert in_acc >= 0.9 * 40 / 42  # the two wrong low-confidence guesses are the first to go


def test_temperature_scaling_sharpens_underconfident_scores() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, size=300)
    scores = rng.normal(0, 0.1, size=(300, 3))
    scores[np.arange(300), truth] += 0.5  # always right, but raw softmax says ~0.4
    temperature = fit_temperature(scores, truth)
    assert temperature > 5
    assert softmax(scores, temperature).max(axis=1).mean() > 0.9
