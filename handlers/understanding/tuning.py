"""Choose the out-of-scope threshold on a validation file by what the bot does with each of its messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from handlers.understanding.calibration import OOS, FloatArray
from handlers.understanding.model import IntentModel
from handlers.understanding.understander import ModelUnderstander

# With a validation file that holds `oos` rows, out-of-scope handling may cost at most this much of the
# validation file's closed-set accuracy: the trade-off the CLINC150 targets ask of both engines
# (93% -> 88% and 96% -> 91%). Cross-validation on a knowledge base is noisier and gives up less
# (calibration.MAX_IN_SCOPE_LOSS).
VAL_IN_SCOPE_LOSS = 0.05
# Bisection steps over [0, 1]: the threshold to within 1/4096.
STEPS = 12


@dataclass
class _Remembered(IntentModel):
    """The same model, scoring each distinct text once: the search re-reads the validation file many times."""

    memo: dict[str, FloatArray] = field(default_factory=dict, repr=False)
    near_memo: dict[str, FloatArray] = field(default_factory=dict, repr=False)

    def read(self, texts: Sequence[str]) -> tuple[FloatArray, FloatArray | None]:
        """Return calibrated probabilities and resemblance, computing only texts not seen before."""
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            probs, near = super().read(missing)
            self.memo.update(zip(missing, probs, strict=True))
            if near is not None:
                self.near_memo.update(zip(missing, near, strict=True))
        known_near = np.stack([self.near_memo[t] for t in texts]) if self.near_memo else None
        return np.stack([self.memo[t] for t in texts]), known_near


def _decided(understander: ModelUnderstander, texts: Sequence[str]) -> list[str]:
    decided = []
    for text in texts:
        result = understander.understand(text)
        decided.append(OOS if result.out_of_scope or result.best is None else result.best.intent)
    return decided


def _accuracy(decided: Sequence[str], labels: Sequence[str]) -> float:
    pairs = [(d, label) for d, label in zip(decided, labels, strict=True) if label != OOS]
    return sum(d == label for d, label in pairs) / len(pairs) if pairs else 0.0


def tune_threshold(
    model: IntentModel,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    min_in_scope: float | None = None,
) -> float:
    """Return the highest threshold whose in-scope accuracy on (texts, labels) stays >= the floor.

    Accuracy is measured through `understand`, as the bot decides (a request rescued from a longer
    message included). The floor defaults to the rows' closed-set accuracy minus VAL_IN_SCOPE_LOSS.
    """
    remembered = _Remembered(**{f.name: getattr(model, f.name) for f in fields(IntentModel)})
    remembered.read(list(dict.fromkeys(texts)))  # one batch: far faster than one text at a time
    if min_in_scope is None:
        closed = [guesses[0].intent for guesses, _ in ModelUnderstander(remembered).rank(texts)]
        min_in_scope = _accuracy(closed, labels) - VAL_IN_SCOPE_LOSS

    def keeps_floor(threshold: float) -> bool:
        decided = _decided(ModelUnderstander(remembered, threshold=threshold), texts)
        return _accuracy(decided, labels) >= min_in_scope

    low, high = 0.0, 1.0
    if not keeps_floor(low):
        return low
    # In-scope accuracy falls as the threshold rises: bisect for the last threshold at the floor.
    for _ in range(STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if keeps_floor(middle) else (low, middle)
    return low
