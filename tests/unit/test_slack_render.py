"""Reply -> Slack message: escaping, Block Kit buttons, figures and the pressed-button update."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.slack.render import (
    SECTION_LIMIT,
    chosen_blocks,
    escape,
    render,
    split_for_sections,
)
from handlers.messages import Button, Kind, Reply


def _reply(text: str = "Hello", kind: Kind = Kind.ANSWER, **extra: object) -> Reply:
    values: dict[str, object] = {"to": "U1", **extra}
    return Reply(platform="slack", kind=kind, text=text, **values)  # type: ignore[arg-type]


def test_customer_markup_never_pings() -> None:
    rendered = render(_reply("You said: <!channel> & <@U2> <https://evil|click>"))
    assert rendered.text == "You said: &lt;!channel&gt; &amp; &lt;@U2&gt; &lt;https://evil|click&gt;"
    assert "<" not in rendered.text and ">" not in rendered.text


def test_plain_reply_is_text_only_with_its_kind_in_metadata() -> None:
    rendered = render(_reply(kind=Kind.OFFER, conversation_id=3))
    assert rendered.blocks == []
    assert rendered.metadata == {"event_type": "concierge_reply",
                                 "event_payload": {"kind": "offer", "conversation_id": 3}}


def test_buttons_become_an_actions_block_under_the_text() -> None:
    buttons = tuple(Button(f"rate:c1:{n}", str(n)) for n in range(1, 6))
    rendered = render(_reply("How did we do? <3", kind=Kind.SATISFACTION_CHECK, buttons=buttons))
    section, actions = rendered.blocks
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": "How did we do? &lt;3"}}
    assert actions["type"] == "actions"
    assert [e["action_id"] for e in actions["elements"]] == [f"concierge:{i}" for i in range(5)]
    assert [e["value"] for e in actions["elements"]] == [b.id for b in buttons]
    assert actions["elements"][4]["text"] == {"type": "plain_text", "text": "5", "emoji": True}
    assert rendered.text == "How did we do? &lt;3"


def test_a_customers_buttons_name_them_and_desk_cards_nobody() -> None:
    [customer] = render(_reply(buttons=(Button("resolved:3:yes", "Yes"),))).blocks[1:]
    assert customer["block_id"] == "concierge_actions_0_for_U1"
    [card] = render(_reply(to="desk", buttons=(Button("claim:3:go", "Claim"),))).blocks[1:]
    assert card["block_id"] == "concierge_actions_0"  # any agent may claim


def test_buttons_without_text_have_no_empty_section() -> None:
    rendered = render(_reply("  ", buttons=(Button("a", "A"),)))
    assert [b["type"] for b in rendered.blocks] == ["actions"]


def test_many_buttons_split_into_blocks_of_25_with_unique_ids() -> None:
    rendered = render(_reply(buttons=tuple(Button(str(n), "x" * 100) for n in range(30))))
    actions = [b for b in rendered.blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert len(set(ids)) == 30
    assert all(len(e["text"]["text"]) <= 75 for b in actions for e in b["elements"])


def test_stats_figures_are_fields() -> None:
    long = "Service: 12 conversations with 9 customers; 7 needs resolved by the bot, 1 handed to a person."
    text = f"Last 7 days\nConversations: 12\nCSAT average: 4.6\n{long}\n\nTop needs\n- battery <dead>"
    rendered = render(_reply(text, kind=Kind.STATS))
    kinds = [b["type"] for b in rendered.blocks]
    assert kinds == ["header", "section", "section", "section"]
    assert rendered.blocks[0]["text"] == {"type": "plain_text", "text": "Last 7 days", "emoji": True}
    assert rendered.blocks[1]["fields"] == [{"type": "mrkdwn", "text": "*Conversations*\n12"},
                                            {"type": "mrkdwn", "text": "*CSAT average*\n4.6"}]
    assert rendered.blocks[2]["text"]["text"].startswith("*Service:* 12 conversations with 9 customers;")
    assert rendered.blocks[3]["text"]["text"] == "Top needs\n- battery &lt;dead&gt;"


def test_pressed_message_loses_its_buttons_and_says_what_was_chosen() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "Solved?"}}
    message = {"text": "Solved?", "blocks": [section, {"type": "actions", "elements": []}]}
    chosen = {"type": "mrkdwn", "text": "You chose: *Yes &lt;b&gt;*"}
    assert chosen_blocks(message, "Yes <b>") == [section, {"type": "context", "elements": [chosen]}]


def test_long_text_is_split_into_sections_without_breaking_entities() -> None:
    pieces = split_for_sections("&" * 2000 + "\n" + "word " * 1000)
    assert all(len(p) <= SECTION_LIMIT for p in pieces)
    assert all(not p.endswith(("&", "&a", "&am", "&amp")) for p in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == escape(
        "&" * 2000 + "word " * 1000).replace(" ", "")


@given(st.text(max_size=7000))
def test_sections_always_fit_and_keep_every_character(text: str) -> None:
    pieces = split_for_sections(text, limit=300)
    assert all(0 < len(p) <= 300 for p in pieces)
    joined = "".join(pieces)
    squash = escape(text).replace("\n", "").replace(" ", "")
    assert joined.replace("\n", "").replace(" ", "") == squash
