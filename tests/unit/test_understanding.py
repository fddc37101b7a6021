"""The default understanding engine: intents, out-of-scope, close calls and the model cache."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from handlers.knowledge import Intent, KnowledgeBase
from handlers.understanding import factory
from handlers.understanding.cache import knowledge_hash
from handlers.understanding.factory import build_understander
from handlers.understanding.model import IntentModel
from handlers.understanding.understander import ModelUnderstander

INTENTS = {
    "order_status": [
        "where is my order",
        "track my package",
        "has my order shipped yet",
        "when will my parcel arrive",
        "my delivery hasn't arrived",
        "order tracking number please",
        "what's the status of my order",
        "is my package on its way",
    ],
    "refund": [
        "i want my money back",
        "how do i get a refund",
        "refund my purchase please",
        "when will i get my refund",
        "can i be reimbursed",
        "give me a refund for the order",
        "request a refund",
        "money back for my payment",
    ],
    "reset_password": [
        "i forgot my password",
        "reset my password",
        "can't log in to my account",
        "how do i change my password",
        "password reset link not working",
        "locked out of my account",
        "my login doesn't work",
        "help me sign in",
    ],
    "opening_hours": [
        "what time do you open",
        "when are you open",
        "opening hours on sunday",
        "are you open on saturday",
        "what are your business hours",
        "when does the shop close",
        "are you open today",
        "closing time tonight",
    ],
    "battery_charging": [
        "my battery won't charge",
        "the charger light is blinking",
        "battery is not charging",
        "charging takes forever",
        "charger doesn't work",
        "battery stuck at 50 percent",
        "how long does charging take",
        "the battery does not charge fully",
    ],
}
OUT_OF_SCOPE = (
    "what's the weather tomorrow",
    "tell me a joke",
    "who is the president of france",
    "play my favourite song",
    "how many calories in an apple",
    "what is the capital of spain",
    "set an alarm for six",
    "recommend a good movie",
)


def make_kb(intents: dict[str, list[str]] = INTENTS, oos: tuple[str, ...] = OUT_OF_SCOPE) -> KnowledgeBase:
    return KnowledgeBase(
        business_name="Test Shop",
        intents=tuple(
            Intent(name=name, examples=tuple(examples), answer=f"About {name}.", needs=(name,))
            for name, examples in intents.items()
        ),
        products=(),
        referral=None,
        out_of_scope_examples=oos,
    )


@pytest.fixture(scope="module")
def understander(tmp_path_factory: pytest.TempPathFactory) -> ModelUnderstander:
    built = build_understander(make_kb(), cache_dir=tmp_path_factory.mktemp("cache"))
    assert isinstance(built, ModelUnderstander)
    return built


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where's my package?", "order_status"),
        ("I'd like a refund", "refund"),
        ("I forgot the password for my account", "reset_password"),
        ("are you open on sunday", "opening_hours"),
        ("the battery will not charge", "battery_charging"),
    ],
)
def test_in_scope_messages_get_their_intent(
    understander: ModelUnderstander, text: str, intent: str
) -> None:
    result = understander.understand(text)
    assert result.best is not None and result.best.intent == intent
    assert not result.out_of_scope
    assert 0.0 <= result.best.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather in paris",
        "tell me a funny joke",
        "who won the football match",
        "recipe for pancakes",
    ],
)
def test_out_of_scope_text_is_never_answered(understander: ModelUnderstander, text: str) -> None:
    assert understander.understand(text).out_of_scope


@pytest.mark.parametrize("text", ["", "   ", "???", "👍"])
def test_wordless_messages_are_out_of_scope(understander: ModelUnderstander, text: str) -> None:
    assert understander.understand(text).out_of_scope


def test_ranked_holds_only_in_scope_intents_best_first(understander: ModelUnderstander) -> None:
    ranked = understander.understand("refund for my order").ranked
    assert all(g.intent in INTENTS for g in ranked)
    confidences = [g.confidence for g in ranked]
    assert confidences == sorted(confidences, reverse=True)


def test_a_message_between_two_intents_is_a_close_call(understander: ModelUnderstander) -> None:
    mixed = understander.understand("password refund")
    assert not mixed.out_of_scope
    assert mixed.close_call
    assert {g.intent for g in mixed.ranked[:2]} == {"reset_password", "refund"}
    assert not understander.understand("how do i get a refund").close_call


def test_close_call_margin_is_configurable(tmp_path: Path) -> None:
    wide = build_understander(make_kb(), cache_dir=tmp_path, close_call_margin=0.5)
    assert wide.understand("when are you open and where is my order").close_call
    assert not wide.understand("are you open on saturday").close_call
    narrow = build_understander(make_kb(), cache_dir=tmp_path, close_call_margin=0.0)
    assert not narrow.understand("password refund").close_call


def test_configured_threshold_overrides_the_learned_one(tmp_path: Path) -> None:
    strict = build_understander(make_kb(), cache_dir=tmp_path, oos_threshold=1.0)
    assert strict.understand("track my order please").out_of_scope
    lax = build_understander(make_kb(), cache_dir=tmp_path, oos_threshold=0.0)
    assert not lax.understand("track my order please").out_of_scope
    assert lax.understand("tell me a joke").out_of_scope  # the explicit oos class still wins


def test_feeling_is_reported_with_the_intent(understander: ModelUnderstander) -> None:
    result = understander.understand("THIS IS THE THIRD TIME, WHERE IS MY ORDER???")
    assert result.best is not None and result.best.intent == "order_status"
    assert result.feeling.frustrated


def test_a_feeling_already_read_for_the_text_is_reused(understander: ModelUnderstander) -> None:
    text = "THIS IS THE THIRD TIME, WHERE IS MY ORDER???"
    felt = understander.feel(text, failed_attempts=2)
    result = understander.understand(text, failed_attempts=2, feeling=felt)
    assert result.feeling is felt
    assert result.best is not None and result.best.intent == "order_status"


def test_kb_without_out_of_scope_examples_still_rejects_unrelated_text(tmp_path: Path) -> None:
    built = build_understander(make_kb(oos=()), cache_dir=tmp_path)
    assert built.understand("what is the airspeed velocity of a swallow").out_of_scope
    assert not built.understand("where is my order").out_of_scope


def test_single_intent_kb_does_not_answer_everything(tmp_path: Path) -> None:
    built = build_understander(make_kb({"refund": INTENTS["refund"]}, oos=()), cache_dir=tmp_path)
    assert not built.understand("I want a refund").out_of_scope
    assert built.understand("tell me a joke").out_of_scope


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown understanding engine"):
        build_understander(make_kb(), cache_dir=tmp_path, engine="magic")


@pytest.fixture
def training_counter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = factory.train_for_kb

    def counting(kb: KnowledgeBase, engine: str = "default", model: str = "") -> IntentModel:
        calls.append(engine)
        return real(kb, engine, model)

    monkeypatch.setattr(factory, "train_for_kb", counting)
    return calls


def test_second_build_loads_the_cache_instead_of_retraining(
    tmp_path: Path, training_counter: list[str]
) -> None:
    first = build_understander(make_kb(), cache_dir=tmp_path)
    second = build_understander(make_kb(), cache_dir=tmp_path)
    assert training_counter == ["default"]
    assert len(list(tmp_path.glob("*.joblib"))) == 1
    assert second.understand("track my parcel") == first.understand("track my parcel")


def test_changed_kb_retrains_and_learns_the_new_intent(tmp_path: Path, training_counter: list[str]) -> None:
    build_understander(make_kb(), cache_dir=tmp_path)
    grown = make_kb({**INTENTS, "gift_card": ["buy a gift card", "gift voucher", "do you sell gift cards"]})
    result = build_understander(grown, cache_dir=tmp_path).understand("can I buy a gift card")
    assert training_counter == ["default", "default"]
    assert result.best is not None and result.best.intent == "gift_card"


def test_content_hash_keys_the_cache(tmp_path: Path, training_counter: list[str]) -> None:
    build_understander(replace(make_kb(), content_hash="abc"), cache_dir=tmp_path)
    build_understander(replace(make_kb(), content_hash="abc"), cache_dir=tmp_path)
    build_understander(replace(make_kb(), content_hash="def"), cache_dir=tmp_path)
    assert len(training_counter) == 2


def test_unreadable_cache_is_rebuilt(tmp_path: Path, training_counter: list[str]) -> None:
    build_understander(make_kb(), cache_dir=tmp_path)
    (cached,) = tmp_path.glob("*.joblib")
    cached.write_bytes(b"not a model")
    result = build_understander(make_kb(), cache_dir=tmp_path).understand("reset my password")
    assert result.best is not None and result.best.intent == "reset_password"
    assert len(training_counter) == 2


def test_computed_hash_follows_examples() -> None:
    kb = make_kb()
    edited = make_kb({**INTENTS, "refund": [*INTENTS["refund"], "refund please"]})
    assert knowledge_hash(kb) == knowledge_hash(make_kb())
    assert knowledge_hash(kb) != knowledge_hash(edited)


def test_loading_from_cache_imports_neither_torch_nor_sklearn(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, 'tests/unit')\n"
        "from test_understanding import make_kb\n"
        "from handlers.understanding.factory import build_understander\n"
        f"u = build_understander(make_kb(), cache_dir=Path({str(tmp_path)!r}))\n"
        "print(u.understand('where is my order').best.intent, 'torch' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    root = Path(__file__).parents[2]
    trained = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert trained.stdout.split() == ["order_status", "False", "True"]  # training needs scikit-learn
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert loaded.stdout.split() == ["order_status", "False", "False"]


WEATHER_KB = {
    "weather": ["will it rain today", "weather forecast for tomorrow", "is it sunny outside",
                "what's the temperature", "do i need an umbrella", "weather this weekend"],
    "alarm": ["set an alarm for 7am", "wake me up at six", "cancel my alarm", "set a wake up call",
              "change my alarm to 8", "turn off the alarm"],
}  # fmt: skip


def test_generic_off_topic_phrases_do_not_shadow_a_kb_that_covers_them(tmp_path: Path) -> None:
    built = build_understander(make_kb(WEATHER_KB, oos=()), cache_dir=tmp_path)
    for text in ("what's the weather like today", "will it rain tomorrow in london"):
        result = built.understand(text)
        assert not result.out_of_scope and result.best is not None and result.best.intent == "weather"
    assert built.understand("who painted the sistine chapel").out_of_scope
