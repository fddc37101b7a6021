"""Access and personal data over Slack: roles, forwarded buttons, redaction, export and forget, on one bot process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.slack.slack_harness import (
    BotProcess,
    buttons_of,
    kind_of,
    post_with,
    posts_to,
    settle,
    start_bot,
    write_config,
)
from tests.e2e.stored_rows import (
    PERSONAL,
    REDACTED,
    SECRETS_OF_PERSONAL,
    customer_id,
    message_texts,
    rows_naming,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_requests import dm, free_port, mention

pytestmark = pytest.mark.e2e

QUESTION = "how far can I go on one charge?"
OWN_WORDS = "my battery will not charge since Tuesday"


@dataclass
class Running:
    bot: BotProcess
    fake: FakeSlack
    database: Path


@pytest.fixture(scope="module")
def running(understanding_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One verbose `concierge run slack` (UMANAGER manages, nobody is an agent) for the whole module."""
    folder = tmp_path_factory.mktemp("slack-access")
    with FakeSlack() as fake:
        port = free_port()
        bot = start_bot(write_config(folder, fake, port=port, cache_dir=understanding_cache), port, verbose=True)
        try:
            yield Running(bot, fake, folder / "c.db")
        finally:
            bot.stop()


def test_a_customer_is_refused_the_desk_queue_in_an_ephemeral(running: Running) -> None:
    status, _ = running.bot.command("UROLE1", "queue", channel="CGENERAL")
    assert status == 200
    [refusal] = running.fake.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "UROLE1")
    assert refusal.params["channel"] == "CGENERAL" and "agents" in refusal.params["text"]
    settle(running.fake)
    assert posts_to(running.fake, "DROLE1") == []
    assert not any(c.params.get("channel") == "CGENERAL" for c in running.fake.of("chat.postMessage"))


def test_a_button_forwarded_to_another_user_changes_nothing(running: Running) -> None:
    bot, fake = running.bot, running.fake
    bot.post_event(dm("UOWNER", QUESTION))
    check = post_with(fake, "DOWNER", lambda c: any(b["value"].endswith(":yes") for b in buttons_of(c)))
    yes = next(b["value"] for b in buttons_of(check) if b["value"].endswith(":yes"))
    settle(fake)
    owner_before = len(posts_to(fake, "DOWNER"))

    status, _ = bot.press("UOTHER", check, yes)
    assert status == 200
    settle(fake)
    assert len(posts_to(fake, "DOWNER")) == owner_before, "the owner's conversation moved on"
    to_other = posts_to(fake, "DOTHER") + [c for c in fake.of("chat.postEphemeral")
                                           if c.params.get("user") == "UOTHER"]
    assert all(not buttons_of(c) and kind_of(c) in (None, "notice") for c in to_other), "the presser got A's reply"

    # The owner's own press still works: the rating comes to them.
    bot.press("UOWNER", check, yes)
    rating = post_with(fake, "DOWNER", lambda c: kind_of(c) == "satisfaction_check")
    five = next(b["value"] for b in buttons_of(rating) if b["value"].endswith(":5"))
    settle(fake)
    bot.press("UOTHER", rating, five)
    settle(fake)
    owner = customer_id(running.database, "slack:UOWNER")
    assert owner is not None
    assert "ratings.customer_id" not in rows_naming(running.database, "UOWNER", owner), "B's press rated A"
    assert not any(kind_of(c) in ("offer", "referral") for c in posts_to(fake, "DOWNER"))


def test_another_users_press_in_a_channel_leaves_the_customers_buttons(running: Running) -> None:
    bot, fake = running.bot, running.fake
    bot.post_event(mention("USHARED", QUESTION, channel="CSHARED"))
    check = post_with(fake, "CSHARED", lambda c: any(b["value"].startswith("resolved:") for b in buttons_of(c)))
    yes = next(b["value"] for b in buttons_of(check) if b["value"].endswith(":yes"))
    settle(fake)
    calls = len(fake.calls)

    status, _ = bot.press("UOTHER3", check, yes)
    assert status == 200
    [notice] = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "UOTHER3")
    settle(fake)
    assert notice.params["channel"] == "CSHARED" and "another customer" in notice.params["text"]
    later = fake.calls[calls:]
    assert not [c for c in later if c.method == "chat.update"], "the customer's buttons were closed"
    assert not [c for c in later if c.method == "chat.postMessage"], "the customer's conversation moved on"

    bot.press("USHARED", check, yes)
    [update] = fake.wait_for("chat.update", lambda c: c.params.get("ts") == check.message["ts"])
    assert all(block["type"] != "actions" for block in update.params["blocks"])
    post_with(fake, "CSHARED", lambda c: kind_of(c) == "satisfaction_check")


def test_personal_data_is_redacted_in_storage_and_absent_from_the_log(running: Running) -> None:
    running.bot.post_event(dm("UPRIVATE", PERSONAL))
    post_with(running.fake, "DPRIVATE")
    settle(running.fake)
    stored = [t for t in message_texts(running.database) if "write to" in t]
    assert len(stored) == 1
    assert all(form in stored[0] for form in REDACTED), stored[0]
    assert not any(secret in stored[0] for secret in SECRETS_OF_PERSONAL)
    log = running.bot.log.read_text(errors="replace")
    assert log, "the verbose bot logged nothing, so the log check would prove nothing"
    assert not [secret for secret in SECRETS_OF_PERSONAL if secret in log]


def test_a_customer_exports_then_forgets_their_data(running: Running) -> None:
    bot, fake, database = running.bot, running.fake, running.database
    bot.command("UFORGET", "stats")  # refused, and audited under their key until they are forgotten
    fake.wait_for("chat.postEphemeral", lambda c: c.params.get("user") == "UFORGET")
    bot.post_event(dm("UFORGET", OWN_WORDS))
    post_with(fake, "DFORGET")
    bot.post_event(dm("UFORGET", "send me my data"))
    fake.wait_for("files.completeUploadExternal", lambda c: c.params.get("channel_id") in ("DFORGET", "UFORGET"))
    exported = [c for c in fake.of("upload") if OWN_WORDS.encode() in c.body]
    assert exported, "the export did not carry the customer's words"

    bot.post_event(dm("UFORGET", "please delete my data"))
    ask = post_with(fake, "DFORGET", lambda c: any(b["value"].startswith("forget:") for b in buttons_of(c)))
    confirm = next(b["value"] for b in buttons_of(ask) if b["value"].startswith("forget:"))
    forgotten = customer_id(database, "slack:UFORGET")
    assert forgotten is not None, "nothing is erased before the confirmation"

    bot.press("UOTHER2", ask, confirm)  # someone else pressing the forwarded confirmation erases nothing
    settle(fake)
    assert customer_id(database, "slack:UFORGET") == forgotten

    bot.press("UFORGET", ask, confirm)
    post_with(fake, "DFORGET", lambda c: c.at > ask.at and kind_of(c) == "notice" and not buttons_of(c))
    settle(fake)
    assert rows_naming(database, "UFORGET", forgotten) == []
    assert not [t for t in message_texts(database) if "delete my data" in t or OWN_WORDS in t]
