"""The shipped demo knowledge base is rich enough to train on and to sell from."""

from __future__ import annotations

import pytest

from handlers.knowledge import KnowledgeBase
from handlers.knowledge_loader import demo_knowledge_path, load_knowledge

# The core answers these with rules, so the knowledge base must not compete with them.
RULE_TOPICS = ("greet", "hello", "thank", "human", "agent", "opt", "stop", "yes", "no_")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(demo_knowledge_path())


def test_demo_is_packaged_inside_prompts() -> None:
    path = demo_knowledge_path()
    assert path.is_file()
    assert path.parent.parent.name == "prompts"


def test_enough_intents_with_enough_examples(kb: KnowledgeBase) -> None:
    rich = [i for i in kb.intents if len(i.examples) >= 10]
    assert len(rich) >= 15


def test_every_intent_has_an_answer_label_and_need(kb: KnowledgeBase) -> None:
    for intent in kb.intents:
        assert intent.answer.strip(), intent.name
        assert intent.label, intent.name
        assert intent.needs, intent.name


def test_no_intent_for_rule_handled_topics(kb: KnowledgeBase) -> None:
    for intent in kb.intents:
        assert not intent.name.startswith(RULE_TOPICS), intent.name


def test_products_each_serve_a_real_need(kb: KnowledgeBase) -> None:
    needs = {tag for intent in kb.intents for tag in intent.needs}
    assert len(kb.products) >= 6
    for product in kb.products:
        assert set(product.serves) <= needs, product.sku
        assert product.url.startswith("https://")


def test_a_customer_with_a_battery_problem_can_be_offered_something(kb: KnowledgeBase) -> None:
    battery = kb.intent("battery_charging")
    assert battery is not None
    assert kb.products_serving(set(battery.needs))


def test_referral_and_out_of_scope_examples_present(kb: KnowledgeBase) -> None:
    assert kb.referral is not None and kb.referral.text
    assert len(kb.out_of_scope_examples) >= 20


def test_short_order_question_is_an_example(kb: KnowledgeBase) -> None:
    order = kb.intent("order_status")
    assert order is not None
    assert "where is my order" in order.examples
