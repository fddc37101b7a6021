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

    # Measured on CLINC150 and the demo KB: words count a little less than character n-grams.
    WORD_WEIGHT = 0.7
    # From this many training texts on, n-grams seen once are dropped: they barely help there and
    # would double the cached model. Small knowledge bases need every n-gram they have.
    PRUNE_FROM = 3000

    def __init__(self) -> None:
        self.union: FeatureUnion | None = None

    def fit(self, texts: Sequence[str]) -> None:
        """Learn vocabularies and IDF weights."""
        min_df = 2 if len(texts) >= self.PRUNE_FROM else 1
        self.union = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)),
                (
                    "char",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df),
                ),
            ],
            transformer_weights={"word": self.WORD_WEIGHT, "char": 1.0},
        )
        self.union.fit(list(texts))
        for _, vectorizer in self.union.transformer_list:
            # The pruned-terms set is only for introspection and can dwarf the model on disk.
            if hasattr(vectorizer, "stop_words_"):
                vectorizer.stop_words_ = None

    def transform(self, texts: Sequence[str]) -> Any:
        """Return a sparse TF-IDF matrix."""
        if self.union is None:
            raise RuntimeError("TfidfFeaturizer.transform called before fit")
        return self.union.transform(list(texts))

    def fresh(self) -> TfidfFeaturizer:
        """Return an unfitted copy."""
        return TfidfFeaturizer()
