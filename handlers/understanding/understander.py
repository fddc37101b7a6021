"""The Understander built on a calibrated IntentModel: ranking, out-of-scope, close calls and feeling."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from handlers.understanding.calibration import OOS
from handlers.understanding.feeling import feel
from handlers.understanding.model import IntentModel
from handlers.understanding.types import IntentGuess, Understanding

TOP_K = 5
_WORD = re.compile(r"\w")


class ModelUnderstander:
    """Understand messages with a trained model; out-of-scope text never gets an in-scope answer."""

    def __init__(
        self,
        model: IntentModel,
        *,
        close_call_margin: float = 0.12,
        threshold: float | None = None,
        engine: str = "default",
    ) -> None:
        self.model = model
        self.threshold = model.threshold if threshold is None else threshold
        self.close_call_margin = close_call_margin
        self.engine = engine
        self._in_scope = np.array([c != OOS for c in model.classes], dtype=bool)
        self._names = [c for c in model.classes if c != OOS]

    def rank(self, texts: Sequence[str]) -> list[tuple[tuple[IntentGuess, ...], bool]]:
        """Rank in-scope intents for each text and say whether it is out of scope."""
        probs = self.model.probabilities(texts)
        results = []
        for text, row in zip(texts, probs, strict=True):
            in_probs = row[self._in_scope]
            order = np.argsort(-in_probs)[:TOP_K]
            ranked = tuple(IntentGuess(self._names[i], round(float(in_probs[i]), 4)) for i in order)
            oos_prob = float(row[~self._in_scope].max()) if (~self._in_scope).any() else 0.0
            top = float(in_probs[order[0]])
            # Text without a single word character ("", "??", an emoji) asks for nothing we could answer.
            wordless = _WORD.search(text) is None
            results.append((ranked, wordless or oos_prob > top or top < self.threshold))
        return results

    def understand(self, text: str, *, failed_attempts: int = 0) -> Understanding:
        """Return ranked intents, the out-of-scope and close-call flags, and the customer's feeling."""
        ranked, out_of_scope = self.rank([text])[0]
        close_call = (
            not out_of_scope
            and len(ranked) >= 2
            and ranked[0].confidence - ranked[1].confidence < self.close_call_margin
        )
        return Understanding(
            text=text,
            ranked=ranked,
            out_of_scope=out_of_scope,
            close_call=close_call,
            feeling=feel(text, failed_attempts=failed_attempts),
        )
