"""Malformed platform payloads (missing keys, wrong types) are ignored by the adapters, never raised on."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.discord.translate import (
    CUSTOM_ID_TEMPLATE,
    MAX_CONTENT,
    inbound_from_message,
    reply_parts,
    should_serve,
    strip_mention,
)
from bot.channels.slack.render import render, split_for_sections
from bot.channels.slack.translate import (
    action_inbound,
    command_inbound,
    mention_inbound,
    message_inbound,
)
from handlers.messages import Inbound, Kind, Reply

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BOT = 999

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Real key names with values of any type, so the translators meet the keys they read with the wrong shapes.
SLACK_KEYS = ["event", "event_id", "channel_type", "user", "text", "subtype", "bot_id", "bot_profile", "ts",
              "thread_ts", "channel", "actions", "action_id", "value", "action_ts", "container", "message",
              "message_ts", "channel_id", "id", "user_id", "trigger_id"]
slack_payloads = st.recursive(
    st.dictionaries(st.sampled_from(SLACK_KEYS), json_values, max_size=6),
    lambda inner: st.dictionaries(st.sampled_from(SLACK_KEYS), inner | json_values | st.lists(inner, max_size=2),
                                  max_size=6),
    max_leaves=20,
)
hostile_text = st.text(max_size=300) | st.sampled_from([
    "<!channel>", "<!here|here>", "<@U123>", "<!subteam^S1|@team>", "<https://evil.test|click>", "@everyone",
    "{{ 7*7 }}", "{% for x in y %}", "<script>alert(1)</script>", "&lt;!channel&gt;", "\x00\u202e\ufeff", "<" * 500,
])


def _inbound_or_none(result: object) -> None:
    assert result is None or isinstance(result, Inbound)


@FAST
@given(slack_payloads)
def test_slack_translators_never_raise_on_malformed_payloads(body: dict[str, Any]) -> None:
    _inbound_or_none(message_inbound(body, "UBOT"))
    _inbound_or_none(mention_inbound(body, "UBOT"))
    _inbound_or_none(action_inbound(body))
    _inbound_or_none(command_inbound(body))


@FAST
@given(json_values)
def test_slack_translators_ignore_payloads_that_are_not_objects_inside(value: Any) -> None:
    for key in ("event", "actions", "user", "container", "message", "channel"):
        body = {key: value, "event_id": value, "user_id": value, "text": value}
        _inbound_or_none(message_inbound(body))
        _inbound_or_none(mention_inbound(body))
        _inbound_or_none(action_inbound(body))
        _inbound_or_none(command_inbound(body))


@FAST
@given(hostile_text)
def test_slack_customer_text_reaches_slack_escaped(text: str) -> None:
    inbound = message_inbound({"event": {"channel_type": "im", "user": "U1", "text": text, "ts": "1.0"}})
    decoded = inbound.text if inbound else text
    rendered = render(Reply(platform="slack", to="U1", kind=Kind.ANSWER, text=f"You said: {decoded}"))
    assert "<" not in rendered.text and ">" not in rendered.text
    for piece in split_for_sections(decoded):
        assert "<" not in piece and ">" not in piece


def test_slack_channel_ping_from_a_customer_is_escaped_on_the_way_back() -> None:
    inbound = message_inbound({"event": {"channel_type": "im", "user": "U1", "text": "&lt;!channel&gt; hi"}})
    assert inbound is not None and inbound.text == "<!channel> hi"
    assert render(Reply(platform="slack", to="U1", kind=Kind.AGENT, text=inbound.text)).text == "&lt;!channel&gt; hi"


def _discord_message(content: str, *, guild: bool, author_id: int = 1, bot: bool = False) -> Any:
    author = SimpleNamespace(id=author_id, bot=bot, display_name=content[:40])
    channel = SimpleNamespace(id=5, parent_id=None)
    return SimpleNamespace(
        id=77, content=content, author=author, channel=channel, guild=object() if guild else None,
        type=discord.MessageType.default, mentions=[], raw_mentions=[],
    )


@FAST
@given(hostile_text, st.booleans())
def test_discord_messages_with_any_text_translate_without_raising(content: str, guild: bool) -> None:
    message = _discord_message(content, guild=guild)
    if should_serve(message, BOT, support_channel_id=5, content_intent=True):
        inbound = inbound_from_message(message, BOT)
        assert inbound.platform == "discord" and inbound.user_id == "1"
    assert f"<@{BOT}>" not in strip_mention(content + f" <@{BOT}>", BOT)


@FAST
@given(st.text(max_size=150))
def test_discord_custom_ids_from_anyone_match_only_our_prefix(custom_id: str) -> None:
    match = re.fullmatch(CUSTOM_ID_TEMPLATE, custom_id)
    if match is not None:
        assert custom_id.startswith("concierge") and match["id"] and "\n" not in match["id"]
        assert match["owner"] is None or match["owner"].isdigit()
    # Ours, with or without an owner, always read back as what was sent.
    text = custom_id.replace("\n", " ") or "x"
    assert re.fullmatch(CUSTOM_ID_TEMPLATE, f"concierge:{text}")["id"] == text  # type: ignore[index]
    owned = re.fullmatch(CUSTOM_ID_TEMPLATE, f"concierge@123:{text}")
    assert owned is not None and (owned["owner"], owned["id"]) == ("123", text)


@FAST
@given(hostile_text | st.text(min_size=1900, max_size=4500))
def test_discord_replies_with_any_text_ping_nobody_and_fit(text: str) -> None:
    for part in reply_parts(Reply(platform="discord", to="1", kind=Kind.AGENT, text=f"@everyone {text}")):
        assert part.kwargs(None)["allowed_mentions"].to_dict() == {"parse": []}
        assert len(part.content or "") <= MAX_CONTENT


def test_slack_unhashable_subtype_is_ignored() -> None:
    assert message_inbound({"event": {"channel_type": "im", "user": "U1", "text": "hi", "subtype": ["x"]}}) is None
    assert message_inbound({"event": {"channel_type": "im", "user": "U1", "text": "hi", "subtype": {}}}) is None
