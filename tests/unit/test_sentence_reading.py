"""A request next to a complaint or compliment is still understood; praise alone is not a request."""

import pytest

from handlers.turn import Services


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("WHERE IS MY ORDER?? This is the third time I'm asking!!!", "order_status"),
        ("Where is my order? I've been waiting for ages.", "order_status"),
        ("Great service last time. Where do I return a helmet?", "return_item"),
    ],
)
def test_a_request_beside_a_complaint_or_compliment_is_answered(
    demo_services: Services, text: str, intent: str
) -> None:
    understood = demo_services.understander.understand(text)
    assert not understood.out_of_scope
    assert understood.best is not None and understood.best.intent == intent


@pytest.mark.parametrize(
    "text", ["I love your shop. What's the weather on Mars?", "Thanks so much. Can you recommend a good pizza place?"]
)
def test_a_kind_word_does_not_make_an_off_topic_question_answerable(demo_services: Services, text: str) -> None:
    assert demo_services.understander.understand(text).out_of_scope


def test_a_request_inside_a_complaint_sentence_is_answered(demo_services: Services) -> None:
    understood = demo_services.understander.understand("THIS IS THE THIRD TIME I ASK WHERE MY ORDER IS!!!")
    assert not understood.out_of_scope
    assert understood.best is not None and understood.best.intent == "order_status"
    assert understood.feeling.frustrated
