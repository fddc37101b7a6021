"""Text featurizers: TF-IDF word and character n-grams (default) and, lazily, sentence embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion


class Featurizer(Protocol):
    """Maps texts to a feature matrix; `fresh` returns an unfitted copy for cross-validation."""

    def fit(self, texts: Sequence[str]) -> None: ...

    def transform(self, texts: Sequence[str]) -> Any: ...

    def fresh(self) -> Featurizer: ...


class TfidfFeaturizer:
    """Word 1-2 grams plus char_wb 2-5 grams, each TF-IDF weighted with sublinear term frequency."""

    def __init__(self, min_df: int = 1) -> None:
        self.min_df = min_df
        self.union = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)),
                (
                    "char",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df),
                ),
            ]
        )

    def fit(self, texts: Sequence[str]) -> None:
        """Learn vocabularies and IDF weights."""
        self.union.fit(list(texts))
        for _, vectorizer in self.union.transformer_list:
            # The pruned-terms set is only for introspection and can dwarf the model on disk.
            if hasattr(vectorizer, "stop_words_"):
                vectorizer.stop_words_ = None

    def transform(self, texts: Sequence[str]) -> Any:
        """Return a sparse TF-IDF matrix."""
        return self.union.transform(list(texts))

    def fresh(self) -> TfidfFeaturizer:
        """Return an unfitted copy with the same settings."""
        return TfidfFeaturizer(self.min_df)
