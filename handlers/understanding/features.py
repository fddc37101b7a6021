"""Text featurizers: TF-IDF word and character n-grams (default) and, lazily, sentence embeddings.

scikit-learn learns the vocabularies and IDF weights; the fitted result is then "compiled" into plain
dicts and arrays with the same arithmetic, so a cached model loads and answers without importing
scikit-learn (whose import alone costs about a second).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
from numpy.typing import NDArray

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_WHITE_SPACES = re.compile(r"\s\s+")


class Featurizer(Protocol):
    """Maps texts to a feature matrix; `fresh` returns an unfitted copy for cross-validation."""

    def fit(self, texts: Sequence[str]) -> None: ...

    def transform(self, texts: Sequence[str]) -> Any: ...

    def fresh(self) -> Featurizer: ...


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """Return word n-grams exactly as scikit-learn's word analyzer (lowercase, default tokens)."""
    tokens = _TOKEN.findall(text.lower())
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Return padded in-word character n-grams exactly as scikit-learn's `char_wb` analyzer."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) <= n:
                grams.append(padded)  # a word shorter than n counts once, as itself
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


@dataclass
class TfidfBlock:
    """One fitted vectorizer: analyzer, vocabulary, IDF weights and its weight in the union."""

    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    weight: float

    def row(self, text: str) -> tuple[list[int], NDArray[np.float64]]:
        """Return (column indices, values): sublinear TF x IDF, L2-normalised, times the block weight."""
        grams = (word_ngrams if self.analyzer == "word" else char_wb_ngrams)(text, *self.ngram_range)
        found = Counter(map(self.vocabulary.get, grams))
        found.pop(None, None)  # n-grams outside the vocabulary
        counts = cast("Counter[int]", found)
        if not counts:
            return [], np.zeros(0)
        columns = sorted(counts)
        # Whole arrays at once: per-item `math.log` and a list index into `idf` cost a fifth of a long row.
        term_counts = np.fromiter(map(counts.__getitem__, columns), dtype=np.float64, count=len(columns))
        values = (1.0 + np.log(term_counts)) * self.idf[np.fromiter(columns, dtype=np.intp, count=len(columns))]
        return columns, values * (self.weight / float(np.sqrt(values @ values)))


class TfidfFeaturizer:
    """Word 1-2 grams plus char_wb 2-5 grams, each TF-IDF weighted with sublinear term frequency."""

    # Measured on CLINC150 and the demo KB: words count a little less than character n-grams.
    WORD_WEIGHT = 0.7
    # From this many training texts on, n-grams seen once are dropped: they barely help there and
    # would double the cached model. Small knowledge bases need every n-gram they have.
    PRUNE_FROM = 3000

    def __init__(self) -> None:
        self.blocks: list[TfidfBlock] = []
        self.n_features = 0

    def fit(self, texts: Sequence[str]) -> None:
        """Learn vocabularies and IDF weights with scikit-learn, then keep only what transform needs."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = 2 if len(texts) >= self.PRUNE_FROM else 1
        specs = (("word", (1, 2), self.WORD_WEIGHT), ("char_wb", (2, 5), 1.0))
        self.blocks = []
        for analyzer, ngram_range, weight in specs:
            vectorizer = TfidfVectorizer(
                analyzer=analyzer, ngram_range=ngram_range, sublinear_tf=True, min_df=min_df
            )
            vectorizer.fit(list(texts))
            vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            self.blocks.append(TfidfBlock(analyzer, ngram_range, vocabulary, idf, weight))
        self.n_features = sum(len(b.vocabulary) for b in self.blocks)

    def transform(self, texts: Sequence[str]) -> Any:
        """Return a sparse float32 TF-IDF matrix, one row per text."""
        from scipy.sparse import csr_matrix

        if not self.blocks:
            raise RuntimeError("TfidfFeaturizer.transform called before fit")
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[float] = []
        for text in texts:
            for columns, values in self._row(text):
                indices.extend(columns.tolist())
                data.extend(values.tolist())
            indptr.append(len(indices))
        return csr_matrix(
            (
                np.array(data, dtype=np.float32),
                np.array(indices, dtype=np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(texts), self.n_features),
        )

    def times(self, texts: Sequence[str], weights: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return `transform(texts) @ weights` without the sparse matrix: each row gathers its columns' weights.

        A turn reads one text or a few, and for those building the matrix cost more than the product.
        """
        product = np.zeros((len(texts), weights.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            for columns, values in self._row(text):
                product[row] += values.astype(np.float32) @ weights[columns]
        return product

    def _row(self, text: str) -> Iterator[tuple[NDArray[np.intp], NDArray[np.float64]]]:
        """Yield each block's non-empty part of the text's row: columns of the whole feature space, values."""
        offset = 0
        for block in self.blocks:
            columns, values = block.row(text)
            if columns:
                yield np.add(columns, offset), values
            offset += len(block.vocabulary)

    def fresh(self) -> TfidfFeaturizer:
        """Return an unfitted copy."""
        return TfidfFeaturizer()
