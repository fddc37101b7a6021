"""Closed-set accuracy on val.csv of linear classifiers over the default engine's TF-IDF features.

Usage: python benchmarks/nlu_default_variants.py /path/to/clinc150 [--views [--cv] [--only PREFIX]]
Trains on train.csv, scores the in-scope rows of val.csv only (test.csv is not read). The engine's
classifier (LinearSVC, squared hinge, C=1) comes first as the reference. `--views` instead compares
feature views added to the engine's TF-IDF (LSA, co-occurring word pairs, an ensemble of views),
and `--cv` adds 3-fold cross-validation of train.csv for each view.
"""

from __future__ import annotations

import argparse
import re
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

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern, as the engine's word block

VIEWS = (
    "engine",
    "+LSA of all n-grams 300 x0.5",
    "+LSA of all n-grams 300 x1",
    "+LSA of words 300 x0.5",
    "+LSA of words 300 x0.3",
    "+LSA of words 300 x0.7",
    "+LSA of words 200 x0.5",
    "+word pairs window 4 x0.5",
    "+word pairs window 4 x0.7",
    "ensemble: words, chars, engine",
)


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


def word_pairs(text: str, window: int = 4) -> list[str]:
    """Return the unordered pairs of distinct words at most `window - 1` positions apart."""
    tokens = TOKEN.findall(text.lower())
    return ["|".join(sorted((a, b))) for i, a in enumerate(tokens) for b in tokens[i + 1 : i + window] if a != b]


def _tfidf(analyzer: Any, ngram_range: tuple[int, int] = (1, 1)) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True, min_df=2)


def _lsa(fitted: Any, applied: Any, dims: int, weight: float) -> tuple[Any, Any]:
    """Project both matrices on the top `dims` singular directions of `fitted`, L2-normalised and weighted."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    svd = TruncatedSVD(n_components=dims, n_iter=5, random_state=0).fit(fitted)
    return weight * normalize(svd.transform(fitted)), weight * normalize(svd.transform(applied))


def view_members(view: str, fit_texts: list[str], eval_texts: list[str]) -> list[tuple[Any, Any]]:
    """Return (fit, eval) feature matrices of each linear model the view averages (one unless an ensemble)."""
    from scipy.sparse import csr_matrix, hstack

    engine = TfidfFeaturizer()
    engine.fit(fit_texts)
    base = engine.transform(fit_texts), engine.transform(eval_texts)
    if view == "engine":
        return [base]
    if view.startswith("ensemble"):
        words, chars = _tfidf("word", (1, 2)), _tfidf("char_wb", (2, 5))
        members = [(v.fit_transform(fit_texts), v.transform(eval_texts)) for v in (words, chars)]
        return [*members, base]
    size, weight = int(view.split()[-2]), float(view.rsplit("x", 1)[1])  # LSA dimensions or pair window
    if view.startswith("+LSA of words"):
        words = _tfidf("word", (1, 2))
        extra = _lsa(words.fit_transform(fit_texts), words.transform(eval_texts), size, weight)
    elif view.startswith("+LSA"):
        extra = _lsa(base[0], base[1], size, weight)
    else:
        pairs = _tfidf(lambda text: word_pairs(text, size))
        extra = (weight * pairs.fit_transform(fit_texts), weight * pairs.transform(eval_texts))
    return [tuple(csr_matrix(hstack([b, csr_matrix(e)])) for b, e in zip(base, extra, strict=True))]


def view_accuracy(view: str, fit: tuple[list[str], list[str]], held: tuple[list[str], list[str]]) -> float:
    """Fit the view on `fit` and return its closed-set accuracy on the in-scope rows of `held`."""
    from sklearn.svm import LinearSVC

    total: NDArray[np.float64] | None = None
    classes: list[str] = []
    for fit_x, held_x in view_members(view, fit[0], held[0]):
        svm = LinearSVC(C=1.0, dual="auto", max_iter=5000, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = svm.fit(fit_x, fit[1]).decision_function(held_x)
        classes = [str(c) for c in svm.classes_]
        total = scores if total is None else total + scores
    assert total is not None
    in_scope = np.array(classes) != OOS
    guesses = np.array(classes)[in_scope][total[:, in_scope].argmax(axis=1)]
    truth = np.array(held[1])
    rows = truth != OOS
    return float((guesses[rows] == truth[rows]).mean())


def _rows(data: Any, picked: NDArray[np.int64]) -> tuple[list[str], list[str]]:
    return [data.texts[i] for i in picked], [data.labels[i] for i in picked]


def compare_views(train: Any, val: Any, cross_validate: bool, only: str) -> None:
    """Print each view's closed-set accuracy on val.csv and, with `cross_validate`, on 3 folds of train.csv."""
    from sklearn.model_selection import StratifiedKFold

    texts, labels = list(train.texts), list(train.labels)
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(texts, labels))
    print("| view | closed-set val | closed-set 3-fold CV | s |\n|---|---:|---:|---:|")
    for view in [v for v in VIEWS if v.startswith(only)]:
        started = time.perf_counter()
        on_val = view_accuracy(view, (texts, labels), (list(val.texts), list(val.labels)))
        on_cv = "–"
        if cross_validate:
            fold_scores = [view_accuracy(view, _rows(train, a), _rows(train, b)) * len(b) for a, b in folds]
            on_cv = f"{sum(fold_scores) / len(texts):.2%}"
        print(f"| {view} | {on_val:.2%} | {on_cv} | {time.perf_counter() - started:.0f} |", flush=True)


def main() -> int:
    """Fit each variant on train.csv and print its closed-set accuracy on val.csv."""
    from sklearn.linear_model import RidgeClassifier, SGDClassifier
    from sklearn.svm import LinearSVC

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.csv and val.csv")
    parser.add_argument("--views", action="store_true", help="compare feature views instead of classifiers")
    parser.add_argument("--cv", action="store_true", help="with --views, also cross-validate train.csv")
    parser.add_argument("--only", default="", help="with --views, only the views whose name starts with this")
    args = parser.parse_args()
    train, val = (read_labelled(args.data / f"{name}.csv") for name in ("train", "val"))
    if args.views:
        compare_views(train, val, args.cv, args.only)
        return 0
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
