"""The compiled TF-IDF featurizer computes what scikit-learn computes, without importing it to answer."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from handlers.understanding.features import TfidfFeaturizer

TEXTS = [
    "Where is my order #12345?",
    "where   is my    ORDER",
    "I want a refund!!! NOW",
    "a b c",  # one-letter words are not word tokens but are char n-grams
    "Café crème, s'il vous plaît — ça coûte 3€",
    "ünïcödé wörds and emoji 🚲 bike",
    "tab\tseparated\nand newline",
    "x",
    "",
    "refund refund refund refund",
]


def sklearn_union(texts: list[str], min_df: int = 1) -> FeatureUnion:
    union = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)),
            (
                "char",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df),
            ),
        ],
        transformer_weights={"word": TfidfFeaturizer.WORD_WEIGHT, "char": 1.0},
    )
    return union.fit(texts)


def test_compiled_features_equal_scikit_learn() -> None:
    featurizer = TfidfFeaturizer()
    featurizer.fit(TEXTS)
    unseen = ["where's my parcel?", "REFUND", "completely new words", "   "]
    ours = featurizer.transform(TEXTS + unseen).toarray()
    theirs = sklearn_union(TEXTS).transform(TEXTS + unseen).toarray()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_large_training_sets_drop_singleton_ngrams() -> None:
    texts = [f"order {i} is late" for i in range(40)]
    featurizer = TfidfFeaturizer()
    featurizer.PRUNE_FROM = 10
    featurizer.fit(texts)
    np.testing.assert_allclose(
        featurizer.transform(texts).toarray(),
        sklearn_union(texts, min_df=2).transform(texts).toarray(),
        atol=1e-6,
    )


def test_a_pickled_featurizer_answers_without_importing_sklearn(tmp_path: Path) -> None:
    featurizer = TfidfFeaturizer()
    featurizer.fit(TEXTS)
    (tmp_path / "f.pkl").write_bytes(pickle.dumps(featurizer))
    code = (
        "import pickle, sys\n"
        f"f = pickle.loads(open({str(tmp_path / 'f.pkl')!r}, 'rb').read())\n"
        "print(f.transform(['where is my order']).nnz > 0, 'sklearn' in sys.modules)\n"
    )
    root = Path(__file__).parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.split() == ["True", "False"]


def test_a_turns_few_texts_score_as_through_the_sparse_matrix() -> None:
    # A turn's message and its sentences take the gathering path; batches (evaluation, training) the matrix.
    from handlers.understanding.model import GATHER_AT_MOST, fit_model

    labels = ["order", "order", "refund", "other", "other", "other", "other", "other", "other", "refund"]
    model = fit_model(TfidfFeaturizer(), TEXTS, labels)
    texts = ["where's my parcel?", "REFUND refund now", "zzz qqq", "", "Café order 🚲"]
    assert len(texts) <= GATHER_AT_MOST
    through_matrix = model.featurizer.transform(texts).toarray() @ model.weights + model.intercept
    np.testing.assert_allclose(model.raw_scores(texts), through_matrix, atol=1e-5)
    for n, text in enumerate(texts):
        np.testing.assert_allclose(model.raw_scores([text])[0], through_matrix[n], atol=1e-5)
