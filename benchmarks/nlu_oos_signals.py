"""Compare out-of-scope signals of the embeddings engine on held-out data only (val.csv, cross-validated train.csv).

Usage: python benchmarks/nlu_oos_signals.py /path/to/clinc150 [--cache /tmp/clinc-embeddings]
Encodes train/val/test once (kept as .npy under --cache), fits the embeddings engine on train.csv, and
for each signal prints its AUROC for "is out of scope" and the oos recall at in-scope floors of 3-6
points under closed-set accuracy (val.csv: temperature fitted on val; CV: 3-fold cross-validation of
train.csv with fold centroids, as the bot calibrates a knowledge base). test.csv is never scored.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.understanding.calibration import (  # noqa: E402
    OOS,
    Decisions,
    FloatArray,
    choose_threshold,
    fit_temperature,
    rates,
    softmax,
)
from handlers.understanding.embeddings import EmbeddingFeaturizer  # noqa: E402
from handlers.understanding.evaluation import Labelled, read_labelled  # noqa: E402
from handlers.understanding.factory import classifier_for, make_featurizer  # noqa: E402
from handlers.understanding.model import cross_val_scores, fit_model  # noqa: E402

FLOORS = (0.03, 0.04, 0.05, 0.06)
K_NEAREST = 10


def encoded(featurizer: EmbeddingFeaturizer, name: str, rows: Labelled, cache: Path) -> NDArray[np.float32]:
    """Return the split's embeddings, from the .npy cache when present, and remember them for training."""
    path = cache / f"{name}.npy"
    if path.exists():
        vectors: NDArray[np.float32] = np.load(path)
    else:
        vectors = featurizer.embed(rows.texts)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    featurizer._encoder.memo.update(zip(rows.texts, vectors, strict=True))
    return vectors


class Held:
    """One held-out set: labels, calibrated probabilities, resemblance and embeddings per row."""

    def __init__(self, classes: list[str], labels: tuple[str, ...], scores: FloatArray, near: FloatArray) -> None:
        index = {name: i for i, name in enumerate(classes)}
        truth = np.array([index[label] for label in labels], dtype=np.int64)
        probs = softmax(scores, fit_temperature(scores, truth))
        self.in_scope = np.array(classes) != OOS
        in_probs = probs[:, self.in_scope]
        self.best = in_probs.argmax(axis=1)
        rows = np.arange(len(labels))
        self.confidence = in_probs[rows, self.best]
        self.resemblance = near[:, self.in_scope][rows, self.best]
        self.nearest_centroid = near[:, self.in_scope].max(axis=1)
        self.k_nearest: FloatArray = np.zeros(len(labels))
        self.says_oos = probs[:, ~self.in_scope].max(axis=1) > self.confidence
        self.correct = np.array(classes)[self.in_scope][self.best] == np.array(labels)
        self.is_oos = np.array(labels) == OOS

    def recall_at(self, signal: FloatArray, loss: float) -> float:
        """Return oos recall at the highest threshold keeping in-scope accuracy >= closed-set - loss."""
        d = Decisions(signal, self.says_oos, self.correct, self.is_oos)
        floor = float(self.correct[~self.is_oos].mean()) - loss  # as tune_threshold: closed-set minus loss
        return rates(d, choose_threshold(d, min_in_scope=floor))[1]


def auroc(held: Held, signal: FloatArray) -> float:
    """Return the chance that an in-scope row scores above an out-of-scope row."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(~held.is_oos, signal))


def k_nearest(vectors: NDArray[np.float32], pool: NDArray[np.float32]) -> FloatArray:
    """Return the mean cosine to the K_NEAREST most similar pool rows."""
    similarities = vectors @ pool.T
    return np.asarray(np.sort(similarities, axis=1)[:, -K_NEAREST:].mean(axis=1), dtype=np.float64)


SIGNALS: dict[str, Callable[[Held], FloatArray]] = {
    "confidence": lambda h: h.confidence,
    "resemblance (answered intent)": lambda h: h.resemblance,
    "resemblance (nearest centroid)": lambda h: h.nearest_centroid,
    f"mean cosine to {K_NEAREST} nearest examples": lambda h: h.k_nearest,
    "confidence x resemblance": lambda h: h.confidence * np.clip(h.resemblance, 0, 1),
    "confidence x resemblance^2": lambda h: h.confidence * np.clip(h.resemblance, 0, 1) ** 2,
    "confidence x nearest centroid": lambda h: h.confidence * np.clip(h.nearest_centroid, 0, 1),
}


def main() -> int:
    """Fit once, score every signal on val and cross-validated train, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.csv and val.csv")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/clinc-embeddings"), help="where .npy go")
    args = parser.parse_args()
    train, val = (read_labelled(args.data / f"{name}.csv") for name in ("train", "val"))
    featurizer = make_featurizer("embeddings")
    assert isinstance(featurizer, EmbeddingFeaturizer)
    train_vectors = encoded(featurizer, "train", train, args.cache)
    val_vectors = encoded(featurizer, "val", val, args.cache)
    model = fit_model(featurizer, train.texts, train.labels, classifier_for("embeddings"))
    scores, near = model.raw_read(val.texts)
    assert near is not None
    on_val = Held(model.classes, val.labels, scores, near)
    labels = np.array(train.labels)
    on_val.k_nearest = k_nearest(val_vectors, train_vectors[labels != OOS])
    cv = cross_val_scores(featurizer.fresh(), train.texts, train.labels, model.classes, classifier_for("embeddings"))
    assert cv.resemblance is not None and cv.usable.all()
    on_cv = Held(model.classes, train.labels, cv.scores, cv.resemblance)
    from sklearn.model_selection import StratifiedKFold

    # The same folds as cross_val_scores: each row's neighbours come from the other folds only.
    for fold_train, fold_test in StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(labels, labels):
        pool = fold_train[labels[fold_train] != OOS]
        on_cv.k_nearest[fold_test] = k_nearest(train_vectors[fold_test], train_vectors[pool])
    losses = "/".join(f"-{loss * 100:.0f}" for loss in FLOORS)
    print(f"| signal | AUROC val | AUROC CV | val recall at {losses} points | CV recall at {losses} points |")
    print("|---|---:|---:|---|---|")
    for name, signal in SIGNALS.items():
        val_recall = " / ".join(f"{on_val.recall_at(signal(on_val), loss):.0%}" for loss in FLOORS)
        cv_recall = " / ".join(f"{on_cv.recall_at(signal(on_cv), loss):.0%}" for loss in FLOORS)
        print(f"| {name} | {auroc(on_val, signal(on_val)):.4f} | {auroc(on_cv, signal(on_cv)):.4f} | "
              f"{val_recall} | {cv_recall} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
