"""The knowledge base loader: good files load, bad files name the line and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.knowledge import KnowledgeError
from handlers.knowledge_loader import demo_knowledge_path, load_knowledge

GOOD = """\
[business]
name = "Test Shop"

[[intent]]
name = "order_status"
examples = ["where is my order", "track my parcel", "has it shipped"]
answer = "Track it at https://shop.example/track, {{ customer_name }}."
needs = ["delivery"]

[[intent]]
name = "book_repair"
label = "Fix my bike"
examples = ["fix my bike", "brakes squeak", "book a repair"]
answer_file = "answers/repair.md"
needs = ["repair"]

[[intent]]
name = "oos"
examples = ["tell me a joke", "weather tomorrow"]

[[product]]
sku = "CARE"
name = "Care plan"
summary = "Longer cover."
serves = ["repair"]
url = "https://shop.example/care"

[referral]
text = "Bring a friend."
reward = "A free check"
"""


def write(tmp_path: Path, text: str, answer: str | None = "Drop it in any day.\n") -> Path:
    if answer is not None:
        (tmp_path / "answers").mkdir(exist_ok=True)
        (tmp_path / "answers" / "repair.md").write_text(answer, encoding="utf-8")
    path = tmp_path / "kb.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert "\n" not in message
    return message


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]


def test_demo_loads() -> None:
    kb = load_knowledge(demo_knowledge_path())
    assert kb.business_name
    assert kb.intents and kb.products and kb.referral is not None
    assert len(kb.content_hash) == 64


def test_good_file_loads_everything(tmp_path: Path) -> None:
    kb = load_knowledge(write(tmp_path, GOOD))
    assert kb.business_name == "Test Shop"
    assert [i.name for i in kb.intents] == ["order_status", "book_repair"]
    order = kb.intent("order_status")
    assert order is not None
    assert order.label == "Order status"
    assert order.answer == "Track it at https://shop.example/track, {{ customer_name }}."  # not rendered
    assert kb.out_of_scope_examples == ("tell me a joke", "weather tomorrow")
    assert [p.sku for p in kb.products_serving({"repair"})] == ["CARE"]
    assert kb.referral is not None and kb.referral.reward == "A free check"


def test_answer_file_is_read_relative_to_the_kb(tmp_path: Path) -> None:
    kb = load_knowledge(write(tmp_path, GOOD))
    repair = kb.intent("book_repair")
    assert repair is not None
    assert repair.answer == "Drop it in any day."
    assert repair.label == "Fix my bike"


def test_missing_answer_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "kb.toml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(path)
    assert f":{line_of(GOOD, 'answer_file')}:" in str(caught.value)
    assert "repair.md" in str(caught.value)


def test_hash_changes_with_the_file_and_with_answer_files(tmp_path: Path) -> None:
    first = load_knowledge(write(tmp_path, GOOD)).content_hash
    assert load_knowledge(write(tmp_path, GOOD)).content_hash == first
    edited = load_knowledge(write(tmp_path, GOOD.replace("has it shipped", "has it left"))).content_hash
    assert edited != first
    new_answer = load_knowledge(write(tmp_path, GOOD, answer="Come on Tuesday.")).content_hash
    assert new_answer not in (first, edited)


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    text = GOOD.replace('name = "book_repair"', "name = book_repair")
    message = error_for(tmp_path, text)
    assert f":{line_of(text, 'name = book_repair')}:8: invalid TOML" in message


def test_missing_answer(tmp_path: Path) -> None:
    text = GOOD.replace('answer = "Track it at https://shop.example/track, {{ customer_name }}."\n', "")
    message = error_for(tmp_path, text)
    assert f":{line_of(text, '[[intent]]')}:" in message
    assert "order_status" in message and "answer" in message


def test_missing_examples(tmp_path: Path) -> None:
    text = GOOD.replace('examples = ["where is my order", "track my parcel", "has it shipped"]\n', "")
    message = error_for(tmp_path, text)
    assert "missing key 'examples'" in message


def test_too_few_examples(tmp_path: Path) -> None:
    text = GOOD.replace('"where is my order", "track my parcel", "has it shipped"', '"where is my order"')
    message = error_for(tmp_path, text)
    assert f":{line_of(text, 'where is my order')}:" in message
    assert "at least 3" in message


def test_empty_examples(tmp_path: Path) -> None:
    text = GOOD.replace('"where is my order", "track my parcel", "has it shipped"', "")
    assert "at least 3" in error_for(tmp_path, text)


def test_wrong_type(tmp_path: Path) -> None:
    text = GOOD.replace('needs = ["delivery"]', 'needs = "delivery"')
    line = line_of(text, 'needs = "delivery"')
    message = error_for(tmp_path, text)
    assert f":{line}:" in message
    assert "array of strings" in message


def test_duplicate_intent_name_points_at_the_second(tmp_path: Path) -> None:
    text = GOOD.replace('name = "book_repair"', 'name = "order_status"')
    line = line_of(text, 'name = "order_status"', occurrence=2)
    message = error_for(tmp_path, text)
    assert f":{line}:" in message
    assert "duplicate intent name 'order_status'" in message


def test_intent_name_must_be_snake_case(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace('name = "book_repair"', 'name = "Book Repair"'))
    assert "snake_case" in message


def test_same_example_in_two_intents(tmp_path: Path) -> None:
    text = GOOD.replace('"brakes squeak"', '"Track my parcel"')
    message = error_for(tmp_path, text)
    assert f":{line_of(text, 'Track my parcel')}:" in message
    assert "order_status" in message


def test_unknown_need_tag_in_product(tmp_path: Path) -> None:
    text = GOOD.replace('serves = ["repair"]', 'serves = ["repair", "teleport"]')
    message = error_for(tmp_path, text)
    assert f":{line_of(text, 'serves =')}:" in message
    assert "'teleport'" in message and "CARE" in message


def test_duplicate_sku(tmp_path: Path) -> None:
    text = GOOD + '\n[[product]]\nsku = "CARE"\nname = "X"\nsummary = "Y"\nserves = ["delivery"]\nurl = "u"\n'
    line = line_of(text, 'sku = "CARE"', occurrence=2)
    message = error_for(tmp_path, text)
    assert f":{line}:" in message
    assert "duplicate product sku" in message


def test_product_missing_url(tmp_path: Path) -> None:
    text = GOOD.replace('url = "https://shop.example/care"\n', "")
    message = error_for(tmp_path, text)
    assert f":{line_of(text, '[[product]]')}:" in message
    assert "missing key 'url'" in message


def test_unknown_key_catches_typos(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Fix my bike"', 'lable = "Fix my bike"')
    message = error_for(tmp_path, text)
    assert f":{line_of(text, 'lable')}:" in message
    assert "'lable'" in message


def test_referral_needs_text(tmp_path: Path) -> None:
    text = GOOD.replace('text = "Bring a friend."\n', "")
    message = error_for(tmp_path, text)
    assert f":{line_of(text, '[referral]')}:" in message
    assert "missing key 'text'" in message


def test_no_intents(tmp_path: Path) -> None:
    assert "no [[intent]]" in error_for(tmp_path, '[business]\nname = "Empty"\n')


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_knowledge(tmp_path / "nope.toml")
