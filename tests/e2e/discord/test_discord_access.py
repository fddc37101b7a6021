"""Access and personal data over Discord: roles, forwarded buttons, redaction, export and forget, on one bot process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.discord.harness import Bot
from tests.e2e.stored_rows import PERSONAL, REDACTED, SECRETS_OF_PERSONAL, customer_id, message_texts, rows_naming
from tests.fakes.discord_fake import EPHEMERAL, FakeDiscord, Posted

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

WITHIN = 30.0
OWNER, OTHER, PRIVATE, LEAVING, ROLELESS, SHARED = (555000000000000000 + n for n in range(1, 7))
QUESTION = "my battery will not charge"
OWN_WORDS = "my battery will not charge since Tuesday"


@dataclass
class Running:
    bot: Bot
    fake: FakeDiscord
    database: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory, understanding_cache: Path) -> AsyncIterator[Running]:
    """One verbose `concierge run discord` for the whole module (its manager is the harness's MANAGER)."""
    folder = tmp_path_factory.mktemp("discord-access")
    async with FakeDiscord() as fake:
        bot = Bot(fake, folder, understanding_cache)
        await bot.start()
        try:
            yield Running(bot, fake, folder / "c.db")
        finally:
            with contextlib.suppress(ProcessLookupError):
                await bot.stop()


def in_dm(fake: FakeDiscord, user: int, where: Callable[[Posted], bool] = lambda _: True) -> Callable[[Posted], bool]:
    """A predicate: posted in the user's DM and satisfying `where`."""
    return lambda p: p.channel_id == fake.dm_channels.get(user) and where(p)


def button(message: Posted, prefix: str, suffix: str = "") -> str:
    """The custom id of the message's button whose core id starts with `prefix` and ends with `suffix`."""
    return next(message.custom_id(b) for b in message.button_ids if b.startswith(prefix) and b.endswith(suffix))


def answered_to(fake: FakeDiscord, user: int, after: int) -> list[Posted]:
    """What the bot showed `user` from index `after`: in their DM or as an answer to their interaction."""
    return [p for p in fake.posted[after:] if p.user_id == user or p.channel_id == fake.dm_channels.get(user)]


async def test_a_customer_is_refused_the_desk_queue_in_an_ephemeral(running: Running) -> None:
    fake = running.fake
    mark = len(fake.posted)
    await fake.slash(ROLELESS, "queue")
    refusal = await fake.wait_posted(after=mark, within=WITHIN)
    assert refusal.via in ("callback", "followup") and refusal.flags & EPHEMERAL
    assert "agents" in refusal.content
    await fake.wait_quiet()
    assert [p for p in fake.posted[mark:] if p.via == "channel"] == []


async def test_a_button_forwarded_to_another_user_changes_nothing(running: Running) -> None:
    fake, database = running.fake, running.database
    await fake.send_dm(OWNER, QUESTION)
    check = await fake.wait_posted(where=in_dm(fake, OWNER, lambda p: any(":yes" in c for c in p.custom_ids)),
                                   within=WITHIN)
    await fake.wait_quiet()
    mark = len(fake.posted)
    await fake.press(OTHER, check, button(check, "resolved:", ":yes"))
    await fake.wait_quiet()
    assert [p for p in fake.posted[mark:] if p.channel_id == fake.dm_channels[OWNER]] == []
    assert all(not p.custom_ids for p in answered_to(fake, OTHER, mark)), "the presser got the owner's next step"

    await fake.press(OWNER, check, button(check, "resolved:", ":yes"))
    rating = await fake.wait_posted(after=mark, where=in_dm(fake, OWNER, lambda p: any(
        b.startswith("rate:") for b in p.button_ids)), within=WITHIN)
    await fake.wait_quiet()
    mark = len(fake.posted)
    await fake.press(OTHER, rating, button(rating, "rate:", ":5"))
    await fake.wait_quiet()
    assert [p for p in fake.posted[mark:] if p.channel_id == fake.dm_channels[OWNER]] == []
    owner = customer_id(database, f"discord:{OWNER}")
    assert owner is not None
    assert "ratings.customer_id" not in rows_naming(database, str(OWNER), owner), "another user's press rated"


async def test_another_users_press_in_a_server_channel_leaves_the_customers_buttons(running: Running) -> None:
    fake = running.fake
    mark = len(fake.posted)
    await fake.send_guild_message(SHARED, QUESTION, mention_bot=True)
    check = await fake.wait_posted(after=mark, where=lambda p: p.channel_id == fake.support_channel_id and any(
        b.startswith("resolved:") for b in p.button_ids), within=WITHIN)
    await fake.wait_quiet()
    mark, calls = len(fake.posted), len(fake.calls)

    pressed = await fake.press(OTHER, check, button(check, "resolved:", ":yes"))
    notice = await fake.wait_posted(after=mark, where=lambda p: p.interaction_id == int(pressed["id"]), within=WITHIN)
    await fake.wait_quiet()
    assert notice.via == "callback" and notice.flags & EPHEMERAL and "another customer" in notice.content
    assert not notice.custom_ids
    assert fake.posted[mark:] == [notice], "the customer's conversation moved on"
    assert not [c for c in fake.calls[calls:] if c.method == "POST" and c.body.get("type") == 7], "buttons closed"
    kept = fake.messages[int(check.message["id"])]["components"]
    assert [c.get("disabled", False) for row in kept for c in row["components"]] == [False] * len(check.custom_ids)

    pressed = await fake.press(SHARED, check, button(check, "resolved:", ":yes"))
    ack = await fake.wait_call("POST", rf"/interactions/{pressed['id']}/", after=calls, within=WITHIN)
    assert ack.body["type"] == 7  # the customer's own press closes the buttons, as before
    await fake.wait_posted(after=mark, where=lambda p: p.channel_id == fake.support_channel_id and any(
        b.startswith("rate:") for b in p.button_ids), within=WITHIN)


async def test_personal_data_is_redacted_in_storage_and_absent_from_the_log(running: Running) -> None:
    await running.fake.send_dm(PRIVATE, PERSONAL)
    await running.fake.wait_posted(where=in_dm(running.fake, PRIVATE), within=WITHIN)
    await running.fake.wait_quiet()
    stored = [t for t in message_texts(running.database) if "write to" in t]
    assert len(stored) == 1
    assert all(form in stored[0] for form in REDACTED), stored[0]
    assert not any(secret in stored[0] for secret in SECRETS_OF_PERSONAL)
    log = running.bot.log_text()
    assert log, "the verbose bot logged nothing, so the log check would prove nothing"
    assert not [secret for secret in SECRETS_OF_PERSONAL if secret in log]


async def test_a_customer_exports_then_forgets_their_data(running: Running) -> None:
    fake, database = running.fake, running.database
    mark = len(fake.posted)
    await fake.slash(LEAVING, "stats")  # refused, and audited under their key until they are forgotten
    await fake.wait_posted(after=mark, where=lambda p: bool(p.flags & EPHEMERAL), within=WITHIN)
    await fake.send_dm(LEAVING, OWN_WORDS)
    await fake.wait_posted(where=in_dm(fake, LEAVING), within=WITHIN)
    await fake.wait_quiet()
    # The DM's answer, moments after a command in the server channel, stays in the DM (it once went to the channel).
    public = [p for p in fake.posted[mark:] if p.channel_id != fake.dm_channels[LEAVING] and not p.flags & EPHEMERAL]
    assert public == [], [p.content for p in public]
    mark = len(fake.posted)
    await fake.send_dm(LEAVING, "send me my data")
    export = await fake.wait_posted(after=mark, where=in_dm(fake, LEAVING, lambda p: bool(p.files)), within=WITHIN)
    assert any(OWN_WORDS.encode() in content for _, content in export.files)

    mark = len(fake.posted)
    await fake.send_dm(LEAVING, "please delete my data")
    ask = await fake.wait_posted(after=mark, where=in_dm(fake, LEAVING, lambda p: any(
        b.startswith("forget:") for b in p.button_ids)), within=WITHIN)
    forgotten = customer_id(database, f"discord:{LEAVING}")
    assert forgotten is not None, "nothing is erased before the confirmation"
    await fake.press(OTHER, ask, button(ask, "forget:"))
    await fake.wait_quiet()
    assert customer_id(database, f"discord:{LEAVING}") == forgotten, "another user erased the customer"

    mark = len(fake.posted)
    await fake.press(LEAVING, ask, button(ask, "forget:"))
    await fake.wait_posted(after=mark, where=in_dm(fake, LEAVING), within=WITHIN)
    await fake.wait_quiet()
    assert rows_naming(database, str(LEAVING), forgotten) == []
    assert not [t for t in message_texts(database) if "delete my data" in t or OWN_WORDS in t]
