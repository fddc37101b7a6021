"""`concierge run slack` as a subprocess, driven like Slack drives it, against the fake Slack Web API."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.slack.slack_harness import (
    BotProcess,
    bot_environment,
    buttons_of,
    concierge_command,
    kind_of,
    launch,
    post_with,
    posts_to,
    settle,
    write_config,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import dm, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlack, understanding_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    process = launch(tmp_path_factory.mktemp("slack-http"), fake, understanding_cache)
    yield process
    process.stop()


def test_a_customer_dm_is_answered(bot: BotProcess, fake: FakeSlack) -> None:
    status, _ = bot.post_event(dm("UCUST1", "how far can I go on one charge?"))
    assert status == 200
    answer = post_with(fake, "DCUST1", lambda c: kind_of(c) in ("answer", "clarify", "fallback"))
    assert answer.params["text"]
    assert "range" in answer.params["text"].lower() or buttons_of(answer)


def test_service_resolution_rating_then_offer(bot: BotProcess, fake: FakeSlack) -> None:
    user, channel = "UCUST2", "DCUST2"
    bot.post_event(dm(user, "how far can I go on one charge?"))
    check = post_with(fake, channel, lambda c: any("yes" in (b["value"] + b["label"]).lower()
                                                  for b in buttons_of(c)))
    yes = next(b["value"] for b in buttons_of(check) if "yes" in (b["value"] + b["label"]).lower())
    status, _ = bot.press(user, check, yes)
    assert status == 200
    fake.wait_for("chat.update", lambda c: c.params.get("ts") == check.message["ts"])
    rating = post_with(fake, channel, lambda c: any(b["value"].endswith(":5") for b in buttons_of(c)))
    assert kind_of(rating) == "satisfaction_check"
    five = next(b["value"] for b in buttons_of(rating) if b["value"].endswith(":5"))
    bot.press(user, rating, five)
    fake.wait_for("chat.update", lambda c: c.params.get("ts") == rating.message["ts"])
    offer = post_with(fake, channel, lambda c: kind_of(c) in ("offer", "referral"))
    assert offer.params["text"]
    # The same press delivered again (a double click, a Slack retry) changes nothing.
    settle(fake)
    before = len(posts_to(fake, channel))
    bot.press(user, rating, five)
    settle(fake)
    assert len(posts_to(fake, channel)) == before
    if kind_of(offer) == "offer":
        accept = next(b["value"] for b in buttons_of(offer) if b["value"].endswith("accept"))
        bot.press(user, offer, accept)
        answer = post_with(fake, channel, lambda c: "https://" in c.params["text"] and c.at > offer.at)
        assert kind_of(answer) == "notice"


def test_bad_signature_or_stale_timestamp_is_refused(bot: BotProcess, fake: FakeSlack) -> None:
    status, _ = bot.post_event(dm("UCUST3", "hello"), headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert status == 401
    status, _ = bot.post_event(dm("UCUST3", "hello"), timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    settle(fake)
    assert posts_to(fake, "DCUST3") == []


def test_a_retried_event_is_answered_once(bot: BotProcess, fake: FakeSlack) -> None:
    body = dm("UCUST4", "my battery won't charge", event_id="EvRETRY1")
    bot.post_event(body)
    post_with(fake, "DCUST4")
    settle(fake)
    first = len(posts_to(fake, "DCUST4"))
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = bot.post_event(body, headers=retry)
    assert status == 200
    settle(fake)
    assert len(posts_to(fake, "DCUST4")) == first


def test_stats_are_refused_to_a_customer_and_given_to_a_manager(bot: BotProcess, fake: FakeSlack) -> None:
    status, _ = bot.command("UCUST5", "stats", channel="CGENERAL")
    assert status == 200
    [refusal] = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "UCUST5")
    assert refusal.params["channel"] == "CGENERAL"
    status, _ = bot.command("UMANAGER", "stats 7d")
    assert status == 200
    stats = post_with(fake, "DMANAGER", lambda c: kind_of(c) == "stats")
    assert {block["type"] for block in stats.params["blocks"]} >= {"header", "section"}
    fake.wait_for("files.completeUploadExternal", lambda c: c.params.get("channel_id") == "DMANAGER")
    [url_call] = fake.of("files.getUploadURLExternal")
    assert url_call.params["filename"].endswith(".png")
    assert fake.of("upload")[0].body.startswith(b"\x89PNG")
    assert all(c.params.get("channel_id") != "CGENERAL" for c in fake.of("files.completeUploadExternal"))


def test_a_rate_limited_post_is_retried(bot: BotProcess, fake: FakeSlack) -> None:
    settle(fake)
    fake.rate_limit_once("chat.postMessage")
    bot.post_event(dm("UCUST6", "how do I book a repair?"))
    answer = post_with(fake, "DCUST6")
    limited = [c for c in fake.of("chat.postMessage", status=429)
               if c.params.get("channel") in ("DCUST6", "UCUST6")]
    assert len(limited) == 1 and answer.at - limited[0].at >= 0.9


def test_socket_mode_event_reaches_the_core_and_the_reply_the_api(
    understanding_cache: Path, tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        bot = launch(tmp_path, fake, understanding_cache, socket_mode=True)
        try:
            deadline = time.monotonic() + 20
            while not fake.socket_connected():
                assert time.monotonic() < deadline, bot.log_tail()
                time.sleep(0.05)
            envelope = fake.send_socket(dm("UCUST7", "how far can I go on one charge?"))
            answer = post_with(fake, "DCUST7")
            assert answer.params["text"]
            assert {"envelope_id": envelope} in fake.socket_acks
            assert fake.of("apps.connections.open")[0].token == "xapp-test"
        finally:
            bot.stop()


def test_a_refused_bot_token_stops_the_bot_with_a_one_line_error(
    understanding_cache: Path, tmp_path: Path
) -> None:
    with FakeSlack(token="xoxb-the-real-one") as fake:
        config = write_config(tmp_path, fake, port=free_port(), cache_dir=understanding_cache)
        finished = subprocess.run([*concierge_command(), "run", "slack", "--config", str(config)],
                                  capture_output=True, timeout=120, env=bot_environment(), cwd=tmp_path)
    assert finished.returncode != 0
    last = finished.stderr.decode().strip().splitlines()[-1]
    assert last == "concierge: error: Slack rejected the bot token: invalid_auth"
    assert "xoxb-test" not in finished.stderr.decode()
