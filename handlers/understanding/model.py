"""A linear intent classifier over any featurizer, calibrated by temperature scaling on held-out scores."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from handlers.understanding.calibration import (
    OOS,
    Decisions,
    FloatArray,
    choose_threshold,
    decisions,
    fit_temperature,
    softmax,
)
from handlers.understanding.features import Featurizer

# Large training sets get fewer folds: three already give thousands of held-out rows.
LARGE_TRAINING_SET = 3000


@dataclass(frozen=True)
class Classifier:
    """The linear SVM's settings: regularisation, and one-vs-rest or one joint multi-class problem."""

    c: float = 1.0
    multi_class: Literal["ovr", "crammer_singer"] = "ovr"


@dataclass
class IntentModel:
    """Featurizer + linear scores per class + inverse temperature + out-of-scope threshold."""

    featurizer: Featurizer
    classes: list[str]
    weights: NDArray[np.float32]  # (features, classes), C-contiguous so a sparse row times it never copies
    intercept: NDArray[np.float32]
    temperature: float = 1.0
    threshold: float = 0.0
    held_out: Decisions | None = field(default=None, repr=False)

    def raw_scores(self, texts: Sequence[str]) -> FloatArray:
        """Return the linear decision scores, one column per class."""
        # Both sides float32: a mixed product would upcast (copy) the whole weight matrix per call.
        features = self.featurizer.transform(texts).astype(np.float32)
        scores = np.asarray(features @ self.weights, dtype=np.float64) + self.intercept
        return scores

    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        """Return calibrated class probabilities, one column per class."""
        return softmax(self.raw_scores(texts), self.temperature)

    @property
    def in_scope_classes(self) -> list[str]:
        """Return the intents the model may answer (every class but `oos`)."""
        return [c for c in self.classes if c != OOS]


def _fit_linear(
    features: Any, labels: Sequence[str], settings: Classifier
) -> tuple[list[str], NDArray[np.float32], NDArray[np.float32]]:
    from sklearn.svm import LinearSVC

    classifier = LinearSVC(
        C=settings.c, multi_class=settings.multi_class, dual="auto", max_iter=5000, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(features, list(labels))
    classes = [str(x) for x in classifier.classes_]
    coef = np.asarray(classifier.coef_, dtype=np.float32)
    intercept = np.asarray(classifier.intercept_, dtype=np.float32)
    if len(classes) == 2 and coef.shape[0] == 1:
        # A binary LinearSVC keeps one weight row (for the second class); give the first a zero row.
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros(1, dtype=np.float32), intercept])
    return classes, np.ascontiguousarray(coef.T), intercept


def fit_model(
    featurizer: Featurizer,
    texts: Sequence[str],
    labels: Sequence[str],
    classifier: Classifier = Classifier(),
) -> IntentModel:
    """Fit the featurizer and a linear SVM on all rows, uncalibrated (temperature 1, threshold 0)."""
    if len(set(labels)) < 2:
        raise ValueError("the intent classifier needs at least two distinct labels")
    featurizer.fit(texts)
    classes, weights, intercept = _fit_linear(featurizer.transform(texts), labels, classifier)
    return IntentModel(featurizer, classes, weights, intercept)


def cross_val_scores(
    featurizer: Featurizer,
    texts: Sequence[str],
    labels: Sequence[str],
    classes: list[str],
    classifier: Classifier,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Score every row with a model that never saw it; also say which rows got a usable score."""
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(labels)
    folds = 3 if len(texts) > LARGE_TRAINING_SET else 5
    folds = max(2, min(folds, max(counts.values())))
    scores = np.full((len(texts), len(classes)), np.nan)
    usable = np.zeros(len(texts), dtype=bool)
    text_arr, label_arr = np.array(texts, dtype=object), np.array(labels, dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes with fewer rows than folds are expected in small KBs
        splits = list(splitter.split(text_arr, label_arr))
    for train_idx, test_idx in splits:
        if len(set(label_arr[train_idx])) < 2:
            continue
        fold = fit_model(
            featurizer.fresh(), list(text_arr[train_idx]), list(label_arr[train_idx]), classifier
        )
        fold_scores = fold.raw_scores(list(text_arr[test_idx]))
        # Classes absent from this fold's training rows score far below anything the fold saw.
        floor = float(fold_scores.min()) - 10.0
        full = np.full((len(test_idx), len(classes)), floor)
        for j, name in enumerate(fold.classes):
            full[:, classes.index(name)] = fold_scores[:, j]
        scores[test_idx] = full
        seen = set(fold.classes)
        usable[test_idx] = [label in seen for label in label_arr[test_idx]]
    return scores, usable


def calibrate(
    model: IntentModel,
    scores: FloatArray,
    labels: Sequence[str],
    *,
    oos_threshold: float | None = None,
    min_in_scope: float | None = None,
) -> IntentModel:
    """Set the model's temperature and threshold from held-out scores and their true labels."""
    index = {name: i for i, name in enumerate(model.classes)}
    known = np.array([label in index for label in labels], dtype=bool) & ~np.isnan(scores).any(axis=1)
    if known.sum() >= 2:
        truth = np.array(
            [index[label] for label, ok in zip(labels, known, strict=True) if ok], dtype=np.int64
        )
        model.temperature = fit_temperature(scores[known], truth)
    valid = [bool(v) for v in np.asarray(~np.isnan(scores).any(axis=1))]
    probs = softmax(np.nan_to_num(scores[valid]), model.temperature)
    held = decisions(probs, model.classes, [label for label, ok in zip(labels, valid, strict=True) if ok])
    model.held_out = held
    model.threshold = oos_threshold if oos_threshold is not None else choose_threshold(held, min_in_scope)
    return model


def train(
    featurizer: Featurizer,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    val: tuple[Sequence[str], Sequence[str]] | None = None,
    oos_threshold: float | None = None,
    min_in_scope: float | None = None,
    classifier: Classifier = Classifier(),
) -> IntentModel:
    """Train and calibrate: on `val` when given, else on cross-validated scores of the training rows."""
    model = fit_model(featurizer, texts, labels, classifier)
    if val is not None and len(val[0]) > 0:
        return calibrate(
            model, model.raw_scores(val[0]), val[1], oos_threshold=oos_threshold, min_in_scope=min_in_scope
        )
    scores, usable = cross_val_scores(featurizer.fresh(), texts, labels, model.classes, classifier)
    scores[~usable] = np.nan
    return calibrate(model, scores, labels, oos_threshold=oos_threshold, min_in_scope=min_in_scope)
