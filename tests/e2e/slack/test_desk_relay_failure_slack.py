"""Over Slack: an agent's words that Slack keeps refusing are reported in the ticket's thread, then sent later."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.slack.slack_harness import (
    BotProcess,
    kind_of,
    post_with,
    settle,
    start_bot,
    thread_message,
    write_config,
)
from tests.fakes.slack_api import Call, FakeSlack
from tests.fakes.slack_requests import dm, free_port

pytestmark = pytest.mark.e2e

DESK = "CDESK"
AGENT = "UAGENT"
WORDS = "Hi, the courier has your parcel; it arrives tomorrow."
# Short pauses and a quick sweep, so the test sees both the desk notice and the later delivery.
OUTBOX = "[outbox]\nretry_after_seconds = 1\nsweep_seconds = 0.5\nrelay_retry_seconds = [0.2, 0.5]\n"


@pytest.fixture
def bot(fake_slack: FakeSlack, understanding_cache: Path, tmp_path: Path) -> Iterator[BotProcess]:
    port = free_port()
    config = write_config(tmp_path, fake_slack, port=port, cache_dir=understanding_cache, agents=(f"slack:{AGENT}",),
                          desk_channel=DESK, extra=OUTBOX)
    process = start_bot(config, port)
    yield process
    process.stop()


def accepted(predicate: Callable[[Call], bool]) -> Callable[[Call], bool]:
    """Only posts Slack accepted (a refused post is recorded with `ok: false`)."""
    return lambda c: bool((c.response or {}).get("ok")) and predicate(c)


def test_the_agent_is_told_in_the_thread_when_slack_refuses_their_words(bot: BotProcess, fake_slack: FakeSlack) -> None:
    customer, dm_channel = "UCUST7", "DCUST7"
    bot.post_event(dm(customer, "can I talk to a person"))
    card = post_with(fake_slack, DESK, lambda c: c.params["text"].startswith("Ticket 1"))
    card_ts = card.response["ts"]
    bot.press(AGENT, card, "claim:1:go")

    def in_thread(text: str) -> Callable[[Call], bool]:
        return accepted(lambda c: c.params.get("thread_ts") == card_ts and text in c.params["text"])

    post_with(fake_slack, DESK, in_thread("claimed ticket 1"))
    fake_slack.refuse_posts_to(dm_channel, 3)  # the first try and both retries
    bot.post_event(thread_message(AGENT, WORDS, DESK, card_ts))

    notice = post_with(fake_slack, DESK, in_thread("Not delivered yet"))
    for part in ("ticket 1", f"slack:{AGENT}", WORDS, "sent again automatically"):
        assert part in notice.params["text"], part
    refused = [c for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == dm_channel
               and kind_of(c) == "agent" and c.at < notice.at]
    assert len(refused) == 3 and not any((c.response or {}).get("ok") for c in refused)

    # Slack takes messages again: the outbox sweep delivers the words once, marked as a person's.
    words = post_with(fake_slack, dm_channel, accepted(lambda c: kind_of(c) == "agent"))
    assert words.params["text"] == WORDS
    settle(fake_slack)
    delivered = [c for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == dm_channel
                 and kind_of(c) == "agent" and (c.response or {}).get("ok")]
    assert len(delivered) == 1
    assert len([c for c in fake_slack.of("chat.postMessage") if in_thread("Not delivered yet")(c)]) == 1
