"""A model cached by one version of the engine's code is never loaded by another."""

from pathlib import Path

import pytest

from handlers.knowledge import Intent, KnowledgeBase
from handlers.understanding import factory

KNOWLEDGE = KnowledgeBase(
    business_name="Test",
    intents=(
        Intent("order_status", ("where is my order", "track my parcel", "has my order shipped"), "A.", ("d",)),
        Intent("flat_tyre", ("my tyre is flat", "puncture on my bike", "fix a flat tire"), "B.", ("t",)),
    ),
    products=(),
    referral=None,
)


def test_changed_engine_code_trains_anew_instead_of_loading_the_old_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory.build_understander(KNOWLEDGE, cache_dir=tmp_path)
    first = set(tmp_path.glob("*.joblib"))
    factory.build_understander(KNOWLEDGE, cache_dir=tmp_path)
    assert set(tmp_path.glob("*.joblib")) == first, "unchanged code reuses its cache"
    monkeypatch.setattr(factory, "engine_source_hash", lambda: "edited-code")
    factory.build_understander(KNOWLEDGE, cache_dir=tmp_path)
    assert len(set(tmp_path.glob("*.joblib")) - first) == 1, "edited code must not load the old model"
