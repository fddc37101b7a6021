"""Build the configured Understander from a knowledge base, reusing the cached model of an unchanged KB."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from pathlib import Path

from handlers.knowledge import KnowledgeBase
from handlers.understanding.background import background_for
from handlers.understanding.cache import cache_path, knowledge_hash, load_or_build
from handlers.understanding.calibration import OOS
from handlers.understanding.features import Featurizer, TfidfFeaturizer
from handlers.understanding.model import Classifier, IntentModel, train
from handlers.understanding.types import Understander
from handlers.understanding.understander import ModelUnderstander

log = logging.getLogger(__name__)

# Bump when features, classifier or calibration change, so old caches are not reused.
ENGINE_VERSION = "7"
ENGINES = ("default", "embeddings")
# The linear SVM per engine: one-vs-rest, C=1. Measured for TF-IDF on CLINC150 (closed-set accuracy,
# val.csv / 3-fold cross-validation of train.csv): C=1 93.20 / 94.95%, C=2 93.43 / 95.06%, Crammer-Singer
# 93.53 / 95.31%. Neither alternative is kept: on the demo knowledge base (the size a shop writes) they
# cross-validate one and four examples worse (65.0% at C=1), Crammer-Singer trains five times slower and
# its sharper scores stop flagging real close calls ("password refund"), and on CLINC150's test.csv,
# looked at only after choosing them, they scored 92.89% and 92.91% against 92.98%.
ENGINE_CLASSIFIER = {"default": Classifier(1.0, "ovr"), "embeddings": Classifier(1.0, "ovr")}


def classifier_for(engine: str) -> Classifier:
    """Return the SVM settings for `engine`."""
    return ENGINE_CLASSIFIER.get(engine, Classifier())


def make_featurizer(engine: str, model: str = "all-MiniLM-L6-v2") -> Featurizer:
    """Return an unfitted featurizer for `engine`."""
    if engine == "default":
        return TfidfFeaturizer()
    if engine == "embeddings":
        from handlers.understanding.embeddings import EmbeddingFeaturizer

        # Embeddings weigh twice the TF-IDF block: best of 1, 2 and 3 on CLINC150's validation split.
        return EmbeddingFeaturizer(model, with_tfidf=True, weight=2.0)
    raise ValueError(f"unknown understanding engine {engine!r}; choose one of {', '.join(ENGINES)}")


def training_rows(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """Return (texts, labels): the KB's intent examples, then `oos` for its and generic off-topic phrases."""
    texts: list[str] = []
    labels: list[str] = []
    for intent in kb.intents:
        texts.extend(intent.examples)
        labels.extend([intent.name] * len(intent.examples))
    # Generic off-topic phrases join the KB's own, so "none of these" is a class the model knows.
    oos = list(dict.fromkeys([*kb.out_of_scope_examples, *background_for(texts)]))
    texts.extend(oos)
    labels.extend([OOS] * len(oos))
    return texts, labels


def train_for_kb(kb: KnowledgeBase, engine: str = "default", model: str = "all-MiniLM-L6-v2") -> IntentModel:
    """Train and calibrate a model on the knowledge base (no cache)."""
    texts, labels = training_rows(kb)
    if not texts:
        raise ValueError("the knowledge base has no intent examples to learn from")
    started = time.perf_counter()
    trained = train(make_featurizer(engine, model), texts, labels, classifier=classifier_for(engine))
    log.info(
        "trained %s understanding on %d examples in %.1fs", engine, len(texts), time.perf_counter() - started
    )
    return trained


def build_understander(
    kb: KnowledgeBase,
    *,
    engine: str = "default",
    cache_dir: Path,
    model: str = "all-MiniLM-L6-v2",
    oos_threshold: float | None = None,
    close_call_margin: float = 0.12,
) -> Understander:
    """Return an Understander for `kb`, loaded from `cache_dir` or trained and cached there."""
    if engine not in ENGINES:
        raise ValueError(f"unknown understanding engine {engine!r}; choose one of {', '.join(ENGINES)}")
    path = cache_path(Path(cache_dir), knowledge_hash(kb), cache_key(engine, model))
    trained = load_or_build(path, lambda: train_for_kb(kb, engine, model))
    return ModelUnderstander(
        trained, close_call_margin=close_call_margin, threshold=oos_threshold, engine=engine
    )


def cache_key(engine: str, model: str) -> str:
    """Return the part of the cache key that names the engine, its code and (for embeddings) the model."""
    return f"{engine}|v{ENGINE_VERSION}|{engine_source_hash()}|{model if engine != 'default' else ''}"


@functools.cache
def engine_source_hash() -> str:
    """Hash this package's source, so a changed engine never loads a model pickled by the old code."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]
