"""`concierge run discord` as a subprocess against the fake Discord: the whole product over Discord."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.discord.harness import CUSTOMER, MANAGER, OTHER_CUSTOMER, Bot
from tests.fakes.discord_fake import EPHEMERAL, FakeDiscord, Posted

pytestmark = pytest.mark.e2e

PROBLEM = "my battery will not charge"
WITHIN = 30.0


def has_button(suffix: str, prefix: str = "") -> Callable[[Posted], bool]:
    """A predicate: the message carries a button whose core id starts with prefix and ends with suffix."""
    return lambda p: any(b.startswith(prefix) and b.endswith(suffix) for b in p.button_ids)


async def press(fake: FakeDiscord, user: int, message: Posted, suffix: str) -> None:
    """Press the button ending in `suffix` and check Discord got its answer by an edit that disables."""
    custom_id = next(c for c in message.custom_ids if c.endswith(suffix))
    pressed = await fake.press(user, message, custom_id)
    ack = await fake.wait_call("POST", rf"/interactions/{pressed['id']}/", within=WITHIN)
    assert ack.body["type"] == 7
    assert all(b["disabled"] for row in ack.body["data"]["components"] for b in row["components"])


async def test_a_dm_is_answered(bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_dm(CUSTOMER, PROBLEM)
    answer = await fake.wait_posted(where=lambda p: "charg" in p.content.lower(), within=WITHIN)
    assert answer.channel_id == fake.dm_channels[CUSTOMER]
    await fake.wait_posted(where=has_button(":yes", "resolved:"), within=WITHIN)


async def test_service_then_rating_then_offer_over_buttons(bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_dm(CUSTOMER, PROBLEM)
    check = await fake.wait_posted(where=has_button(":yes", "resolved:"), within=WITHIN)
    mark = len(fake.posted)
    await press(fake, CUSTOMER, check, ":yes")
    rating = await fake.wait_posted(after=mark, where=has_button(":5", "rate:"), within=WITHIN)
    assert [c.rsplit(":", 1)[1] for c in rating.custom_ids] == ["1", "2", "3", "4", "5"]
    mark = len(fake.posted)
    await press(fake, CUSTOMER, rating, ":5")
    offer = await fake.wait_posted(after=mark, where=has_button(":accept", "offer:"), within=WITHIN)
    assert offer.channel_id == fake.dm_channels[CUSTOMER]
    mark = len(fake.posted)
    await press(fake, CUSTOMER, offer, ":accept")
    await fake.wait_posted(after=mark, within=WITHIN)
    every = [p for p in fake.posted if p.via == "channel"]
    assert all(p.body["allowed_mentions"] == {"parse": []} for p in every)


async def test_stats_are_refused_to_customers_and_shown_to_managers_with_the_chart(bot: Bot, fake: FakeDiscord) -> None:
    await fake.slash(CUSTOMER, "stats")
    refusal = await fake.wait_posted(within=WITHIN)
    assert refusal.via in ("callback", "followup")
    assert refusal.flags & EPHEMERAL
    assert "stats" in refusal.content.lower()

    mark = len(fake.posted)
    await fake.slash(MANAGER, "stats", {"period": "all"})
    figures = await fake.wait_posted(after=mark, within=WITHIN)
    assert figures.via in ("callback", "followup")
    (embed,) = figures.message["embeds"]
    assert "conversations" in embed["description"].lower()
    assert "offers" in embed["description"].lower()
    (chart,) = figures.files
    assert chart[1].startswith(b"\x89PNG")
    assert embed["image"]["url"] == f"attachment://{chart[0]}"


async def test_a_button_pressed_after_a_restart_still_works(bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_dm(CUSTOMER, PROBLEM)
    check = await fake.wait_posted(where=has_button(":yes", "resolved:"), within=WITHIN)
    await bot.stop()
    await bot.start()
    mark = len(fake.posted)
    await press(fake, CUSTOMER, check, ":yes")
    await fake.wait_posted(after=mark, where=has_button(":5", "rate:"), within=WITHIN)


async def test_everyone_typed_by_a_customer_never_pings(bot: Bot, fake: FakeDiscord) -> None:
    await fake.send_guild_message(OTHER_CUSTOMER, f"@everyone @here {PROBLEM}", mention_bot=True)
    answer = await fake.wait_posted(within=WITHIN)
    assert answer.channel_id == fake.support_channel_id
    await fake.wait_quiet()
    sent = [c for c in fake.calls if c.method == "POST" and "/messages" in c.path]
    assert sent
    assert all(c.body["allowed_mentions"] == {"parse": []} for c in sent)
