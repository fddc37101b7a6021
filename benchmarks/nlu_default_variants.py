"""Closed-set accuracy on val.csv of linear classifiers over the default engine's TF-IDF features.

Usage: python benchmarks/nlu_default_variants.py /path/to/clinc150
Trains on train.csv, scores the in-scope rows of val.csv only (test.csv is not read). The engine's
classifier (LinearSVC, squared hinge, C=1) comes first as the reference.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.understanding.calibration import OOS  # noqa: E402
from handlers.understanding.evaluation import read_labelled  # noqa: E402
from handlers.understanding.features import TfidfFeaturizer  # noqa: E402


def nb_svm_scores(train: Any, labels: NDArray[Any], val: Any, classes: list[str]) -> NDArray[np.float64]:
    """NBSVM (Wang & Manning 2012): one-vs-rest SVMs over features scaled by naive Bayes log-count ratios."""
    from sklearn.svm import LinearSVC

    present = (train > 0).astype(np.float64).tocsr()
    scores = np.zeros((val.shape[0], len(classes)))
    for j, name in enumerate(classes):
        mine = labels == name
        p = 1.0 + np.asarray(present[mine].sum(axis=0)).ravel()
        q = 1.0 + np.asarray(present[~mine].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        svm = LinearSVC(C=1.0, dual="auto", max_iter=5000, random_state=0).fit(train.multiply(ratio).tocsr(), mine)
        scores[:, j] = val.multiply(ratio).tocsr() @ svm.coef_.ravel() + svm.intercept_[0]
    return scores


def main() -> int:
    """Fit each variant on train.csv and print its closed-set accuracy on val.csv."""
    from sklearn.linear_model import RidgeClassifier, SGDClassifier
    from sklearn.svm import LinearSVC

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.csv and val.csv")
    args = parser.parse_args()
    train, val = (read_labelled(args.data / f"{name}.csv") for name in ("train", "val"))
    featurizer = TfidfFeaturizer()
    featurizer.fit(train.texts)
    x_train, x_val = featurizer.transform(train.texts), featurizer.transform(val.texts)
    y_train, y_val = np.array(train.labels), np.array(val.labels)
    classes = sorted(set(train.labels))
    in_scope = np.array(classes) != OOS
    rows = y_val != OOS
    variants: dict[str, Any] = {
        "LinearSVC squared hinge C=1 (engine)": LinearSVC(C=1.0, dual="auto", max_iter=5000, random_state=0),
        "LinearSVC hinge C=1": LinearSVC(C=1.0, loss="hinge", dual=True, max_iter=20000, random_state=0),
        "LinearSVC hinge C=2": LinearSVC(C=2.0, loss="hinge", dual=True, max_iter=20000, random_state=0),
        "SGD modified Huber, averaged": SGDClassifier(
            loss="modified_huber", alpha=2e-5, average=True, max_iter=50, random_state=0
        ),
        "RidgeClassifier alpha=1": RidgeClassifier(alpha=1.0, solver="sparse_cg"),
        "NBSVM": None,
    }
    print("| classifier | closed-set val | fit s |\n|---|---:|---:|")
    for name, estimator in variants.items():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if estimator is None:
                scores = nb_svm_scores(x_train, y_train, x_val, classes)
            else:
                scores = estimator.fit(x_train, y_train).decision_function(x_val)
        guesses = np.array(classes)[in_scope][scores[:, in_scope].argmax(axis=1)]
        accuracy = float((guesses[rows] == y_val[rows]).mean())
        print(f"| {name} | {accuracy:.2%} | {time.perf_counter() - started:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
