"""A linear intent classifier over any featurizer, calibrated by temperature scaling on held-out scores."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

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
from handlers.understanding.features import Featurizer, TfidfFeaturizer
from handlers.understanding.resemblance import Embedder, Resemblance

# Large training sets get fewer folds: three already give thousands of held-out rows.
LARGE_TRAINING_SET = 3000
# Up to this many texts (a turn's message and its sentences), TF-IDF scores skip the sparse matrix.
GATHER_AT_MOST = 8


@dataclass(frozen=True)
class Classifier:
    """The linear SVM's settings: regularisation, and one-vs-rest or one joint multi-class problem."""

    c: float = 1.0
    multi_class: Literal["ovr", "crammer_singer"] = "ovr"


@dataclass
class IntentModel:
    """Featurizer + linear scores per class + inverse temperature + out-of-scope threshold.

    With an embedding featurizer the model also keeps each intent's centroid (`resemblance`), and the
    threshold applies to confidence x resemblance.
    """

    featurizer: Featurizer
    classes: list[str]
    weights: NDArray[np.float32]  # (features, classes), C-contiguous so a sparse row times it never copies
    intercept: NDArray[np.float32]
    temperature: float = 1.0
    threshold: float = 0.0
    held_out: Decisions | None = field(default=None, repr=False)
    resemblance: Resemblance | None = field(default=None, repr=False)

    def _linear(self, features: Any) -> FloatArray:
        # Both sides float32: a mixed product would upcast (copy) the whole weight matrix per call. The
        # featurizers' rows are float32 already: not copied again (the copy was most of this call).
        scores = np.asarray(features.astype(np.float32, copy=False) @ self.weights, dtype=np.float64) + self.intercept
        return scores

    def raw_scores(self, texts: Sequence[str]) -> FloatArray:
        """Return the linear decision scores, one column per class."""
        if len(texts) <= GATHER_AT_MOST and isinstance(self.featurizer, TfidfFeaturizer):
            return np.asarray(self.featurizer.times(texts, self.weights), dtype=np.float64) + self.intercept
        return self._linear(self.featurizer.transform(texts))

    def raw_read(self, texts: Sequence[str]) -> tuple[FloatArray, FloatArray | None]:
        """Return the linear scores and, when the model keeps centroids, each text's cosine to every class."""
        if self.resemblance is None or not isinstance(self.featurizer, Embedder):
            return self.raw_scores(texts), None
        vectors = self.featurizer.embed(texts)  # one forward pass serves both the features and the cosines
        return self._linear(self.featurizer.transform_embedded(texts, vectors)), self.resemblance.to_each(vectors)

    def read(self, texts: Sequence[str]) -> tuple[FloatArray, FloatArray | None]:
        """Return calibrated class probabilities and the resemblance to each class (None without one)."""
        scores, near = self.raw_read(texts)
        return softmax(scores, self.temperature), near

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
    if not isinstance(featurizer, Embedder):
        classes, weights, intercept = _fit_linear(featurizer.transform(texts), labels, classifier)
        return IntentModel(featurizer, classes, weights, intercept)
    vectors = featurizer.embed(texts)
    features = featurizer.transform_embedded(texts, vectors)
    classes, weights, intercept = _fit_linear(features, labels, classifier)
    resemblance = Resemblance.fit(vectors, labels, classes)
    return IntentModel(featurizer, classes, weights, intercept, resemblance=resemblance)


class HeldOut(NamedTuple):
    """Cross-validated scores of the training rows, which rows got one, and their resemblance to each class."""

    scores: FloatArray
    usable: NDArray[np.bool_]
    resemblance: FloatArray | None


def cross_val_scores(
    featurizer: Featurizer,
    texts: Sequence[str],
    labels: Sequence[str],
    classes: list[str],
    classifier: Classifier,
) -> HeldOut:
    """Score every row with a model that never saw it; also say which rows got a usable score."""
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(labels)
    folds = 3 if len(texts) > LARGE_TRAINING_SET else 5
    folds = max(2, min(folds, max(counts.values())))
    scores = np.full((len(texts), len(classes)), np.nan)
    usable = np.zeros(len(texts), dtype=bool)
    resemblance: FloatArray | None = None
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
        fold_scores, fold_near = fold.raw_read(list(text_arr[test_idx]))
        # Classes absent from this fold's training rows score far below anything the fold saw.
        floor = float(fold_scores.min()) - 10.0
        full = np.full((len(test_idx), len(classes)), floor)
        columns = [classes.index(name) for name in fold.classes]
        full[:, columns] = fold_scores
        scores[test_idx] = full
        if fold_near is not None:
            resemblance = np.zeros_like(scores) if resemblance is None else resemblance
            resemblance[np.ix_(test_idx, columns)] = fold_near
        seen = set(fold.classes)
        usable[test_idx] = [label in seen for label in label_arr[test_idx]]
    return HeldOut(scores, usable, resemblance)


def calibrate(
    model: IntentModel,
    scores: FloatArray,
    labels: Sequence[str],
    *,
    resemblance: FloatArray | None = None,
    oos_threshold: float | None = None,
    min_in_scope: float | None = None,
) -> IntentModel:
    """Set the model's temperature and threshold from held-out scores (and resemblance) and true labels."""
    index = {name: i for i, name in enumerate(model.classes)}
    known = np.array([label in index for label in labels], dtype=bool) & ~np.isnan(scores).any(axis=1)
    if known.sum() >= 2:
        truth = np.array(
            [index[label] for label, ok in zip(labels, known, strict=True) if ok], dtype=np.int64
        )
        model.temperature = fit_temperature(scores[known], truth)
    valid = [bool(v) for v in np.asarray(~np.isnan(scores).any(axis=1))]
    probs = softmax(np.nan_to_num(scores[valid]), model.temperature)
    kept = [label for label, ok in zip(labels, valid, strict=True) if ok]
    held = decisions(probs, model.classes, kept, resemblance[valid] if resemblance is not None else None)
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
        scores, near = model.raw_read(val[0])
        return calibrate(
            model, scores, val[1], resemblance=near, oos_threshold=oos_threshold, min_in_scope=min_in_scope
        )
    held = cross_val_scores(featurizer.fresh(), texts, labels, model.classes, classifier)
    held.scores[~held.usable] = np.nan
    return calibrate(
        model,
        held.scores,
        labels,
        resemblance=held.resemblance,
        oos_threshold=oos_threshold,
        min_in_scope=min_in_scope,
    )
