"""Out-of-scope by resemblance: a message unlike every intent's examples is refused even when confident."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from numpy.typing import NDArray

from handlers.understanding.calibration import OOS
from handlers.understanding.model import IntentModel, train
from handlers.understanding.understander import ModelUnderstander


def _unit(*values: float) -> NDArray[np.float32]:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


_rng = np.random.default_rng(0)
# A made-up embedding space: the cat intent points along x, the plants intent along y, off-topic along z.
SPACE = {
    **{f"cat {i}": _unit(1, *(_rng.normal(0, 0.15, 2))) for i in range(12)},
    **{f"plants {i}": _unit(_rng.normal(0, 0.15), 1, _rng.normal(0, 0.15)) for i in range(12)},
    **{f"chat {i}": _unit(*(_rng.normal(0, 0.15, 2)), 1) for i in range(12)},
    "near the cat examples": _unit(1, 0.05, 0.05),
    # Leans to the cat side of every boundary (y and z negative) yet points away from all the examples.
    "unlike anything": _unit(0.35, -0.65, -0.65),
}
LABELS = {"cat": "feed_cat", "plants": "water_plants", "chat": OOS}


class TableEmbedder:
    """Looks embeddings up in SPACE; the features are the embeddings themselves."""

    def fit(self, texts: Sequence[str]) -> None:
        """Nothing to learn: the space is fixed."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return each text's vector from the table."""
        return np.stack([SPACE[t] for t in texts])

    def transform_embedded(self, texts: Sequence[str], vectors: NDArray[np.float32]) -> Any:
        """Return the vectors as the features."""
        return vectors

    def transform(self, texts: Sequence[str]) -> Any:
        """Return the vectors as the features."""
        return self.embed(texts)

    def fresh(self) -> TableEmbedder:
        """Return a copy for a cross-validation fold."""
        return TableEmbedder()


def _trained(featurizer: Any) -> IntentModel:
    texts = [t for t in SPACE if t.split()[0] in LABELS]
    return train(featurizer, texts, [LABELS[t.split()[0]] for t in texts], oos_threshold=0.5)


def test_a_confident_guess_unlike_every_intent_is_out_of_scope() -> None:
    understander = ModelUnderstander(_trained(TableEmbedder()))
    far = understander.understand("unlike anything")
    assert far.best is not None and far.best.intent == "feed_cat"
    assert far.best.confidence > 0.9  # confidence alone would answer it
    assert far.out_of_scope
    near = understander.understand("near the cat examples")
    assert near.best is not None and near.best.intent == "feed_cat" and not near.out_of_scope


def test_a_cached_model_keeps_refusing_what_resembles_no_intent(tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(_trained(TableEmbedder()), path)
    reloaded = ModelUnderstander(joblib.load(path))
    assert reloaded.understand("unlike anything").out_of_scope
    assert not reloaded.understand("near the cat examples").out_of_scope

