"""Slack payloads in the desk channel: a reply in a thread is the desk's thread command, a card press answers there."""

from __future__ import annotations

from typing import Any

from bot.channels.slack.translate import action_inbound, desk_thread_inbound
from handlers.desk import THREAD_COMMAND

DESK = "CDESK"
CARD_TS = "1700000000.000100"


def message(**event: Any) -> dict[str, Any]:
    base = {"type": "message", "channel_type": "channel", "user": "UAGENT", "text": "On it &amp; more",
            "channel": DESK, "ts": "1700000001.000200", "thread_ts": CARD_TS}
    return {"event_id": "Ev1", "event": {**base, **event}}


def test_a_persons_reply_in_a_desk_thread_becomes_the_thread_command() -> None:
    inbound = desk_thread_inbound(message(), DESK)
    assert inbound is not None
    assert (inbound.command, inbound.text, inbound.channel_id, inbound.thread_id, inbound.event_id) == (
        THREAD_COMMAND, "On it & more", DESK, CARD_TS, "Ev1")


def test_other_desk_channel_messages_are_not_relayed() -> None:
    assert desk_thread_inbound(message(), None) is None, "no desk configured"
    assert desk_thread_inbound(message(channel="CGENERAL"), DESK) is None
    assert desk_thread_inbound(message(thread_ts=None), DESK) is None, "top level of the desk"
    assert desk_thread_inbound(message(ts=CARD_TS), DESK) is None, "the thread's own parent"
    assert desk_thread_inbound(message(bot_id="BBOT"), DESK) is None, "the bot's own posts"
    assert desk_thread_inbound(message(subtype="message_changed"), DESK) is None


def test_a_press_on_a_desk_card_answers_in_the_cards_thread_and_elsewhere_as_before() -> None:
    def press(channel: str) -> dict[str, Any]:
        return {"user": {"id": "UAGENT"}, "container": {"channel_id": channel, "message_ts": CARD_TS},
                "message": {"ts": CARD_TS}, "actions": [{"action_id": "concierge:0", "value": "claim:1:go"}]}

    in_desk = action_inbound(press(DESK), DESK)
    assert in_desk is not None and in_desk.thread_id == CARD_TS
    in_dm = action_inbound(press("DCUST"), DESK)
    assert in_dm is not None and in_dm.thread_id is None
