"""`nlu check`: a cross-validated health report on a knowledge base's intents and examples."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from handlers.knowledge import KnowledgeBase
from handlers.understanding.calibration import OOS, rates, softmax
from handlers.understanding.factory import classifier_for, make_featurizer, training_rows
from handlers.understanding.model import calibrate, cross_val_scores, fit_model

# Fewer examples than this per intent and cross-validated accuracy gets noisy and weak.
MIN_EXAMPLES = 8
TOP_PAIRS = 5


@dataclass(frozen=True)
class ConfusedPair:
    """Held-out examples of `intent` that the model took for `mistaken_for`."""

    intent: str
    mistaken_for: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class CheckReport:
    """What an operator should fix in a knowledge base before trusting the bot with it."""

    n_intents: int
    n_examples: int
    n_out_of_scope_examples: int
    accuracy: float  # cross-validated, best in-scope intent, in-scope examples only
    suggested_threshold: float
    in_scope_kept: float  # share of held-out in-scope examples still answered right at that threshold
    thin_intents: tuple[tuple[str, int], ...]
    confused: tuple[ConfusedPair, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        """Render the report for a terminal."""
        out = [
            f"{self.n_intents} intents, {self.n_examples} examples, "
            f"{self.n_out_of_scope_examples} out-of-scope examples",
            f"cross-validated accuracy: {self.accuracy:.1%}",
            f"suggested oos_threshold: {self.suggested_threshold:.3f} "
            f"(keeps {self.in_scope_kept:.1%} of in-scope examples answered right)",
        ]
        if self.n_out_of_scope_examples == 0:
            out.append("hint: add out_of_scope examples so unrelated questions are recognised, not guessed")
        if self.thin_intents:
            out.append(f"intents with fewer than {MIN_EXAMPLES} examples:")
            out.extend(f"  {name}: {count}" for name, count in self.thin_intents)
        if self.confused:
            out.append("most confused intents (held-out example -> predicted):")
            for pair in self.confused:
                out.append(f"  {pair.intent} -> {pair.mistaken_for} ({pair.count}x)")
                out.extend(f"    {example!r}" for example in pair.examples)
        else:
            out.append("no held-out example was mistaken for another intent")
        return out


def check_knowledge(
    kb: KnowledgeBase, *, engine: str = "default", model: str = "all-MiniLM-L6-v2"
) -> CheckReport:
    """Cross-validate the engine on the KB's examples and report accuracy, gaps and confusions."""
    texts, labels = training_rows(kb)
    featurizer = make_featurizer(engine, model)
    svm = classifier_for(engine)
    fitted = fit_model(featurizer, texts, labels, svm)
    scores, usable, resemblance = cross_val_scores(featurizer.fresh(), texts, labels, fitted.classes, svm)
    scores[~usable] = np.nan
    calibrate(fitted, scores, labels, resemblance=resemblance)
    in_scope = np.array([c != OOS for c in fitted.classes])
    names = [c for c in fitted.classes if c != OOS]
    mistakes: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = {}
    right = total = 0
    for text, label, row, ok in zip(texts, labels, scores, usable, strict=True):
        if not ok or label == OOS:
            continue
        probs = softmax(row[None, :], fitted.temperature)[0]
        guess = names[int(np.argmax(probs[in_scope]))]
        total += 1
        if guess == label:
            right += 1
            continue
        mistakes[(label, guess)] += 1
        examples.setdefault((label, guess), []).append(text)
    counts = Counter(label for label in labels if label != OOS)
    kept = rates(fitted.held_out, fitted.threshold)[0] if fitted.held_out is not None else 0.0
    return CheckReport(
        n_intents=len(kb.intents),
        n_examples=sum(len(i.examples) for i in kb.intents),
        n_out_of_scope_examples=len(kb.out_of_scope_examples),
        accuracy=right / total if total else 0.0,
        suggested_threshold=fitted.threshold,
        in_scope_kept=kept,
        thin_intents=tuple(sorted((n, c) for n, c in counts.items() if c < MIN_EXAMPLES)),
        confused=tuple(
            ConfusedPair(a, b, n, tuple(examples[(a, b)][:2]))
            for (a, b), n in mistakes.most_common(TOP_PAIRS)
        ),
    )
