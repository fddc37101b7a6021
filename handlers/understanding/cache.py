"""On-disk cache of trained models, keyed by the knowledge base's content and the engine version."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from handlers.knowledge import KnowledgeBase

log = logging.getLogger(__name__)
T = TypeVar("T")


def knowledge_hash(kb: KnowledgeBase) -> str:
    """Return the KB's content hash, or a hash of its intents and examples when it has none."""
    if kb.content_hash:
        return kb.content_hash
    payload = {
        "intents": [[i.name, list(i.examples)] for i in kb.intents],
        "oos": list(kb.out_of_scope_examples),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_path(cache_dir: Path, kb_hash: str, key: str) -> Path:
    """Return the file for one (knowledge base, engine settings) pair."""
    digest = hashlib.sha256(f"{kb_hash}|{key}".encode()).hexdigest()[:24]
    return cache_dir / f"understanding-{digest}.joblib"


def load_or_build(path: Path, build: Callable[[], T]) -> T:
    """Load the object at `path`, or build it and store it there atomically."""
    import joblib

    if path.exists():
        try:
            loaded: T = joblib.load(path)
            return loaded
        except Exception as error:  # a truncated or foreign file must never stop the bot from starting
            log.warning("ignoring unreadable understanding cache %s: %s", path, error)
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a second process starting at the same time never reads half a file.
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".joblib")
    os.close(handle)
    try:
        joblib.dump(value, tmp, compress=3)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return value
