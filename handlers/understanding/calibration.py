"""Turn raw classifier scores into calibrated confidences, and pick the out-of-scope threshold from data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

OOS = "oos"
# Without out-of-scope examples the threshold keeps this share of held-out answers that were right.
KEEP_CORRECT = 0.95
# With out-of-scope examples, give up at most this much in-scope accuracy to catch them.
MAX_IN_SCOPE_LOSS = 0.03
# A threshold estimated from a few dozen held-out examples is noisy and tends to come out high with a
# sharp model; above this, paraphrases the KB did not foresee would be refused. Explicit floors
# (`min_in_scope`) and configured thresholds are not capped.
AUTO_THRESHOLD_CAP = 0.75

FloatArray = NDArray[np.float64]


def softmax(scores: FloatArray, temperature: float) -> FloatArray:
    """Return row-wise softmax of scores scaled by the inverse temperature."""
    scaled = scores * temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    result: FloatArray = exp / exp.sum(axis=1, keepdims=True)
    return result


def fit_temperature(scores: FloatArray, truth: NDArray[np.int64]) -> float:
    """Find the inverse temperature that minimises held-out log loss (temperature scaling)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        probs = softmax(scores, float(np.exp(log_t)))
        return float(-np.log(np.clip(probs[rows, truth], 1e-12, None)).mean())

    found = minimize_scalar(loss, bounds=(np.log(0.05), np.log(500.0)), method="bounded")
    return float(np.exp(found.x))


def in_scope_score(confidence: FloatArray, resemblance: FloatArray | None) -> FloatArray:
    """Return what the out-of-scope threshold applies to: confidence, times resemblance when known.

    Resemblance is the cosine between a message's sentence embedding and the centroid of the intent it
    would get (resemblance.py); negative cosines count as zero.
    """
    if resemblance is None:
        return confidence
    result: FloatArray = confidence * np.clip(resemblance, 0.0, 1.0)
    return result


@dataclass(frozen=True)
class Decisions:
    """Held-out predictions summarised for threshold search: top in-scope score and correctness."""

    top_confidence: FloatArray  # best in-scope probability per row (times its resemblance, if known)
    says_oos: NDArray[np.bool_]  # the explicit `oos` class won outright
    correct: NDArray[np.bool_]  # best in-scope intent equals the truth (False for oos rows)
    is_oos: NDArray[np.bool_]  # the truth is out of scope


def decisions(
    probs: FloatArray, classes: list[str], truth: list[str], resemblance: FloatArray | None = None
) -> Decisions:
    """Summarise probabilities over `classes` (and each row's resemblance to them) against true labels."""
    names = np.array(classes)
    in_scope = names != OOS
    in_probs = probs[:, in_scope]
    best_at = in_probs.argmax(axis=1)
    best = names[in_scope][best_at]
    rows = np.arange(len(truth))
    near = resemblance[:, in_scope][rows, best_at] if resemblance is not None else None
    truth_arr = np.array(truth)
    says_oos = np.zeros(len(truth), dtype=bool)
    if not in_scope.all():
        says_oos = probs[:, ~in_scope].max(axis=1) > in_probs.max(axis=1)
    return Decisions(
        top_confidence=in_scope_score(in_probs[rows, best_at], near),
        says_oos=says_oos,
        correct=best == truth_arr,
        is_oos=truth_arr == OOS,
    )


def rates(d: Decisions, threshold: float) -> tuple[float, float]:
    """Return (in-scope accuracy, oos recall) when rows under `threshold` are declared out of scope."""
    rejected = d.says_oos | (d.top_confidence < threshold)
    ins = ~d.is_oos
    in_acc = float((d.correct & ~rejected)[ins].mean()) if ins.any() else 0.0
    recall = float(rejected[d.is_oos].mean()) if d.is_oos.any() else 0.0
    return in_acc, recall


def choose_threshold(d: Decisions, min_in_scope: float | None = None) -> float:
    """Pick the out-of-scope threshold from held-out decisions.

    With out-of-scope rows: the highest threshold, hence the best oos recall, whose in-scope accuracy
    stays >= `min_in_scope` (default: closed-set accuracy minus MAX_IN_SCOPE_LOSS). A higher threshold
    also turns away low-confidence guesses at off-topic text unlike any held-out example.
    Without out-of-scope rows: keep KEEP_CORRECT of the right answers. Automatic choices stop at
    AUTO_THRESHOLD_CAP.
    """
    ins = ~d.is_oos
    if not ins.any():
        return 0.5
    if not d.is_oos.any():
        right = np.sort(d.top_confidence[ins & d.correct & ~d.says_oos])
        if len(right) == 0:
            return 0.0
        return min(AUTO_THRESHOLD_CAP, float(right[int(np.floor((1 - KEEP_CORRECT) * len(right)))]) - 1e-9)
    cap = 1.0 if min_in_scope is not None else AUTO_THRESHOLD_CAP
    if min_in_scope is None:
        min_in_scope = rates(d, 0.0)[0] - MAX_IN_SCOPE_LOSS
    best = 0.0
    # In-scope accuracy only falls as the threshold rises, so stop at the first one that breaks the floor.
    for t in np.unique(d.top_confidence + 1e-9):
        if rates(d, float(t))[0] + 1e-12 < min_in_scope:
            break
        best = float(t)
    return min(best, cap)
