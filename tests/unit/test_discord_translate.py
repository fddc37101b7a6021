"""Translation between Discord payloads and Inbound/Reply, and mention safety, without a network."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import discord
import pytest

from bot.channels.discord.commands import build_group
from bot.channels.discord.components import ConciergeButton, buttons_view, disabled_view
from bot.channels.discord.invite import invite_url
from bot.channels.discord.translate import (
    MAX_CONTENT,
    custom_id_for,
    inbound_from_message,
    parse_custom_id,
    reply_parts,
    should_serve,
    split_text,
    strip_mention,
)
from bot.cli_discord import register
from handlers.messages import Attachment, Button, Kind, Reply

if TYPE_CHECKING:
    from discord.types.components import ActionRow as ActionRowPayload

BOT = 900
CUSTOMER = 111


def message(
    content: str = "hello",
    *,
    author: int = CUSTOMER,
    bot: bool = False,
    guild: bool = False,
    channel: int = 5,
    mentions: tuple[int, ...] = (),
    kind: discord.MessageType = discord.MessageType.default,
    parent: int | None = None,
) -> Any:
    """A stand-in for discord.Message with the attributes the adapter reads."""
    return SimpleNamespace(
        id=77,
        content=content,
        author=SimpleNamespace(id=author, bot=bot, display_name="Ada"),
        guild=SimpleNamespace(id=1) if guild else None,
        channel=SimpleNamespace(id=channel, parent_id=parent),
        mentions=[SimpleNamespace(id=m) for m in mentions],
        raw_mentions=list(mentions),
        type=kind,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"<@{BOT}> my bike won't charge", "my bike won't charge"),
        (f"<@!{BOT}>   hi  there", "hi there"),
        (f"help <@{BOT}>", "help"),
        ("<@123> is my friend", "<@123> is my friend"),
        (f"<@{BOT}>", ""),
    ],
)
def test_strip_mention_removes_only_the_bot(text: str, expected: str) -> None:
    assert strip_mention(text, BOT) == expected


def test_dm_is_served_and_translated() -> None:
    inbound = inbound_from_message(message("hi"), BOT)
    assert should_serve(message("hi"), BOT)
    assert inbound.platform == "discord"
    assert inbound.user_id == str(CUSTOMER)
    assert inbound.text == "hi"
    assert inbound.event_id == "message:77"
    assert inbound.channel_id == "5"
    assert inbound.thread_id is None
    assert inbound.display_name == "Ada"


def test_mention_in_a_guild_is_served_with_the_mention_stripped() -> None:
    msg = message(f"<@{BOT}> where is my order?", guild=True, mentions=(BOT,))
    assert should_serve(msg, BOT)
    assert inbound_from_message(msg, BOT).text == "where is my order?"


@pytest.mark.parametrize(
    "msg",
    [
        message(bot=True),
        message(author=BOT),
        message("chatting among ourselves", guild=True),
        message(kind=discord.MessageType.pins_add),
        message(f"<@{BOT}> hi", guild=True, mentions=(BOT,), bot=True),
    ],
    ids=["other-bot", "itself", "guild-without-mention", "system-message", "bot-mentioning-us"],
)
def test_messages_not_for_the_bot_are_ignored(msg: Any) -> None:
    assert not should_serve(msg, BOT, support_channel_id=5, content_intent=False)


def test_support_channel_is_served_only_with_the_content_intent() -> None:
    msg = message("my battery is dead", guild=True, channel=5)
    assert not should_serve(msg, BOT, support_channel_id=5, content_intent=False)
    assert should_serve(msg, BOT, support_channel_id=5, content_intent=True)
    assert should_serve(
        message("in a thread", guild=True, channel=9, parent=5),
        BOT,
        support_channel_id=5,
        content_intent=True,
    )
    assert not should_serve(message("elsewhere", guild=True, channel=6), BOT, support_channel_id=5, content_intent=True)


def test_split_text_keeps_chunks_within_discord_limits() -> None:
    text = ("word " * 900).strip()
    chunks = split_text(text)
    assert all(len(chunk) <= MAX_CONTENT for chunk in chunks)
    assert " ".join(chunks).split() == text.split()
    assert split_text("") == [""]


def reply(**overrides: Any) -> Reply:
    values: dict[str, Any] = {"platform": "discord", "to": str(CUSTOMER), "kind": Kind.ANSWER, "text": "hi"}
    values.update(overrides)
    return Reply(**values)


def test_every_part_pings_nobody_whatever_the_text_says() -> None:
    text = "@everyone @here <@123> <@&456> " + "x" * 2500
    for part in reply_parts(reply(text=text)):
        mentions = part.kwargs(None)["allowed_mentions"]
        assert mentions.to_dict() == {"parse": []}


def test_buttons_ride_on_the_last_part_with_persistent_custom_ids() -> None:
    buttons = tuple(Button(f"rate:42:{n}", str(n)) for n in range(1, 6))
    parts = reply_parts(reply(text="y" * 2100, buttons=buttons))
    assert len(parts) == 2
    assert parts[0].buttons == ()
    # The customer's buttons name them, so a press by anyone else is told apart after a restart too.
    assert [cid for cid, _ in parts[-1].buttons] == [f"concierge@{CUSTOMER}:rate:42:{n}" for n in range(1, 6)]
    view = buttons_view(parts[-1].buttons)
    assert view is not None
    assert all(isinstance(item, ConciergeButton) for item in view.children)
    rows = view.to_components()
    assert [c["custom_id"] for row in rows for c in row["components"]][-1] == f"concierge@{CUSTOMER}:rate:42:5"


def test_unusable_buttons_are_left_off_not_sent_broken() -> None:
    parts = reply_parts(reply(buttons=(Button("x" * 120, "too long"), Button("ok", "L" * 100))))
    ((custom_id, label),) = parts[-1].buttons
    assert custom_id == f"concierge@{CUSTOMER}:ok"
    assert len(label) == 80


def test_desk_cards_name_no_owner_and_custom_ids_read_back() -> None:
    ((card_id, _),) = reply_parts(reply(to="desk", buttons=(Button("claim:3:go", "Claim"),)))[-1].buttons
    assert card_id == "concierge:claim:3:go"  # any agent may claim
    assert parse_custom_id(card_id) == ("claim:3:go", None)
    widest = custom_id_for("resolved:12:yes", "9" * 20)
    assert parse_custom_id(widest) == ("resolved:12:yes", "9" * 20) and len(widest) <= 100
    assert parse_custom_id("someone-else:yes") is None


def test_stats_become_an_embed_with_the_chart_attached() -> None:
    chart = Attachment("chart.png", b"\x89PNG...")
    (part,) = reply_parts(reply(kind=Kind.STATS, text="Conversations: 12\nCSAT: 4.5", attachments=(chart,)))
    kwargs = part.kwargs(None)
    assert "content" not in kwargs
    assert kwargs["embed"].description == "Conversations: 12\nCSAT: 4.5"
    assert kwargs["embed"].image.url == "attachment://chart.png"
    (file,) = kwargs["files"]
    assert file.filename == "chart.png"
    # Files are rebuilt per call: a retried send must not find the stream already read.
    assert part.kwargs(None)["files"][0] is not file


async def test_disabled_view_greys_every_button_and_marks_the_pressed_one() -> None:
    view = buttons_view((("concierge:yes", "Yes"), ("concierge:no", "No")))
    assert view is not None
    # View.to_components() is typed as plain dicts; each one is an action row payload.
    rows = [cast("ActionRowPayload", row) for row in view.to_components()]
    msg = SimpleNamespace(components=[discord.ActionRow(row) for row in rows])
    done = disabled_view(msg, "concierge:no")  # type: ignore[arg-type]
    items = done.children
    assert [getattr(i, "disabled", None) for i in items] == [True, True]
    assert [getattr(i, "style", None) for i in items] == [
        discord.ButtonStyle.secondary,
        discord.ButtonStyle.success,
    ]
    # Finished, so discord.py does not keep it in its view store for ever.
    assert done.is_finished()


async def test_slash_group_has_the_core_commands() -> None:
    group = build_group(lambda *args: None)  # type: ignore[arg-type]
    names = {command.name for command in group.commands}
    assert {"stats", "optout", "help"} <= names
    stats = group.get_command("stats")
    assert stats is not None
    assert [p.name for p in stats.parameters] == ["period"]  # type: ignore[union-attr]


def test_invite_url_asks_for_bot_and_commands_scopes() -> None:
    url = invite_url(1234)
    assert "client_id=1234" in url
    assert "scope=bot+applications.commands" in url
    permissions = discord.Permissions(int(url.split("permissions=")[1].split("&")[0]))
    assert permissions.send_messages and permissions.embed_links and permissions.attach_files
    assert not permissions.administrator and not permissions.mention_everyone


def cli(*argv: str) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config")
    parser = argparse.ArgumentParser(prog="concierge")
    register(parser.add_subparsers(dest="command"), common)
    return parser.parse_args(list(argv))


def test_cli_prints_the_invite_url(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[discord]\napplication_id = 4242\n")
    args = cli("discord", "invite-url", "--config", str(config))
    assert args.func(args) == 0
    assert "client_id=4242" in capsys.readouterr().out


def test_cli_without_application_id_fails_in_one_line(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[discord]\n")
    args = cli("discord", "invite-url", "--config", str(config))
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "application_id" in err
