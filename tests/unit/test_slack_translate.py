"""Slack payloads -> Inbound: what the Slack adapter passes to the core, and what it drops."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.slack.translate import (
    action_inbound,
    command_inbound,
    mention_inbound,
    message_inbound,
    plain_text,
)


def _dm(**event: object) -> dict[str, object]:
    base = {"type": "message", "channel_type": "im", "user": "U1", "text": "hi", "channel": "D1",
            "ts": "1700000000.000100"}
    return {"event_id": "Ev1", "event": {**base, **event}}


@pytest.mark.parametrize(("raw", "plain"), [
    ("<@UBOT> help me", "help me"),
    ("ask <@U2|bob> and <@U3>", "ask @bob and @U3"),
    ("see <#C1|general>", "see #general"),
    ("<!channel> hello", "@channel hello"),
    ("<!subteam^S1|@support> ping", "@support ping"),
    ("go to <https://example.com/x|example> or <https://plain.org>", "go to example or https://plain.org"),
    ("a &lt;b&gt; &amp;amp; c", "a <b> &amp; c"),
    ("  lots   of\n space ", "lots of space"),
])
def test_plain_text_decodes_slack_markup(raw: str, plain: str) -> None:
    assert plain_text(raw, bot_user_id="UBOT") == plain


def test_direct_message() -> None:
    inbound = message_inbound(_dm(text="my bike <@UBOT> won't start"), "UBOT")
    assert inbound is not None
    assert (inbound.platform, inbound.user_id, inbound.text) == ("slack", "U1", "my bike won't start")
    assert (inbound.event_id, inbound.channel_id, inbound.thread_id) == ("Ev1", "D1", None)
    assert inbound.received_at == datetime(2023, 11, 14, 22, 13, 20, 100, tzinfo=UTC)


def test_direct_message_in_a_thread_keeps_the_thread() -> None:
    inbound = message_inbound(_dm(thread_ts="1699999999.000001"))
    assert inbound is not None and inbound.thread_id == "1699999999.000001"


@pytest.mark.parametrize("event", [
    {"bot_id": "B1"},
    {"subtype": "bot_message", "bot_id": "B2"},
    {"subtype": "message_changed"},
    {"subtype": "message_deleted"},
    {"subtype": "channel_join"},
    {"channel_type": "channel"},
    {"text": "   "},
    {"user": None},
])
def test_messages_nobody_wrote_to_us_are_dropped(event: dict[str, object]) -> None:
    assert message_inbound(_dm(**event), "UBOT") is None


def test_file_share_and_thread_broadcast_still_count() -> None:
    assert message_inbound(_dm(subtype="file_share", text="photo of the damage")) is not None
    assert message_inbound(_dm(subtype="thread_broadcast")) is not None


def test_mention_replies_in_thread() -> None:
    body = {"event_id": "Ev2", "event": {"type": "app_mention", "user": "U1", "text": "<@UBOT> refund?",
                                         "channel": "C1", "ts": "1700000001.000200"}}
    inbound = mention_inbound(body, "UBOT")
    assert inbound is not None
    assert (inbound.text, inbound.channel_id, inbound.thread_id) == ("refund?", "C1", "1700000001.000200")
    body["event"]["thread_ts"] = "1700000000.000001"  # type: ignore[index]
    threaded = mention_inbound(body, "UBOT")
    assert threaded is not None and threaded.thread_id == "1700000000.000001"


def test_a_bare_mention_says_nothing() -> None:
    body = {"event": {"type": "app_mention", "user": "U1", "text": "<@UBOT>", "channel": "C1", "ts": "1.2"}}
    assert mention_inbound(body, "UBOT") is None


def _press(**container: object) -> dict[str, object]:
    return {"type": "block_actions", "user": {"id": "U1"},
            "container": {"type": "message", "message_ts": "1700000000.000300", "channel_id": "D1",
                          **container},
            "message": {"ts": "1700000000.000300", "thread_ts": "1699.1"},
            "actions": [{"action_id": "concierge:4", "value": "rate:c12:5", "action_ts": "1700000005.0"}]}


def test_button_press() -> None:
    inbound = action_inbound(_press())
    assert inbound is not None
    assert (inbound.user_id, inbound.button_id, inbound.text) == ("U1", "rate:c12:5", "")
    assert inbound.event_id is not None and inbound.event_id.startswith("action:1700000000.000300:concierge:4:")
    assert "U1" not in inbound.event_id.rpartition(":")[2], "the key kept after forget must not name the user"
    assert (inbound.channel_id, inbound.thread_id) == ("D1", "1699.1")


def test_the_same_button_pressed_by_another_user_is_another_event() -> None:
    mine, theirs = action_inbound(_press()), action_inbound(_press() | {"user": {"id": "U2"}})
    assert mine is not None and theirs is not None
    assert mine.event_id != theirs.event_id, "another user's press would use up the owner's"
    assert mine.event_id == action_inbound(_press()).event_id  # type: ignore[union-attr]


def test_a_press_names_whom_the_buttons_were_sent_to() -> None:
    body = _press()
    body["actions"][0]["block_id"] = "concierge_actions_0_for_UOWNER"  # type: ignore[index]
    assert action_inbound(body).button_owner == "UOWNER"  # type: ignore[union-attr]
    body["actions"][0]["block_id"] = "concierge_actions_0"  # type: ignore[index]  # a desk card, or an older message
    assert action_inbound(body).button_owner is None  # type: ignore[union-attr]


def test_foreign_buttons_are_not_ours() -> None:
    body = _press()
    body["actions"] = [{"action_id": "someone_else", "value": "x"}]
    assert action_inbound(body) is None


@pytest.mark.parametrize(("text", "command", "args"), [
    ("stats 7d", "stats", ("7d",)),
    ("  OPTOUT ", "optout", ()),
    ("", "help", ()),
    ("take 42 now", "take", ("42", "now")),
])
def test_slash_command(text: str, command: str, args: tuple[str, ...]) -> None:
    body = {"user_id": "U9", "channel_id": "C5", "text": text, "trigger_id": "t.1", "command": "/concierge"}
    inbound = command_inbound(body)
    assert inbound is not None
    assert (inbound.command, inbound.args, inbound.user_id, inbound.channel_id) == (command, args, "U9", "C5")
    assert inbound.event_id == "command:t.1"
