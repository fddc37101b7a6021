"""A person's words relayed from the desk are visibly marked as a person's on Slack and Discord."""

from __future__ import annotations

from bot.channels.discord.translate import MAX_CONTENT, reply_parts
from bot.channels.slack.render import PERSON_MARK, render
from handlers.messages import Kind, Reply


def test_slack_shows_a_persons_words_under_a_mark_and_keeps_the_text_their_own() -> None:
    rendered = render(Reply("slack", "U1", Kind.AGENT, "I'm checking with the courier <now>."))
    assert rendered.text == "I'm checking with the courier &lt;now&gt;."
    mark, words = rendered.blocks
    assert mark["type"] == "context" and PERSON_MARK in mark["elements"][0]["text"]
    assert words["text"]["text"] == "I'm checking with the courier &lt;now&gt;."


def test_slack_bot_answers_carry_no_mark() -> None:
    assert render(Reply("slack", "U1", Kind.ANSWER, "Charge it overnight.")).blocks == []


def test_discord_puts_the_mark_before_a_persons_words_and_still_fits() -> None:
    [part] = reply_parts(Reply("discord", "1", Kind.AGENT, "On it."))
    assert part.content is not None and part.content.endswith(" On it.") and "person" in part.content
    long = reply_parts(Reply("discord", "1", Kind.AGENT, "word " * 500))
    assert len(long) == 2 and all(len(p.content or "") <= MAX_CONTENT for p in long)
    [answer] = reply_parts(Reply("discord", "1", Kind.ANSWER, "On it."))
    assert answer.content == "On it."
