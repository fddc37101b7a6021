"""`concierge chat --json` with `/as`: a customer asks for a person, an agent serves them, the bot takes back."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.turn import Services
from tests.integration.test_cli_chat import finish, start, write_config

SCRIPT = """where is my order
can I talk to a person
/as agent
/queue
/claim 1
/as ana
it was due on Monday
/as agent
/reply 1 Hi Ana, I'm checking with the courier now.
/note 1 courier says Tuesday
/release 1
/as ana
/press 5
"""


def test_a_full_desk_cycle_in_the_console(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path, demo_services: Services
) -> None:
    config = write_config(tmp_path_factory.mktemp("desk-cli"), model_cache)
    config.write_text(config.read_text() + '\n[roles]\nagents = ["console:agent"]\n')
    lines = finish(start("chat", "--json", "--user", "ana", "--config", str(config), stdin=SCRIPT))
    ana = [line for line in lines if line["to"] == "ana"]
    desk = [line for line in lines if line["to"] == "desk"]
    agent = [line for line in lines if line["to"] == "agent"]

    kinds = [line["kind"] for line in ana]
    handed = kinds.index("handoff")
    # After the handoff Ana hears only the agent, until she is handed back and rates the help.
    assert kinds[handed:handed + 4] == ["handoff", "agent", "satisfaction_check", "notice"]
    words, back = ana[handed + 1], ana[handed + 2]
    assert words["text"] == "Hi Ana, I'm checking with the courier now."
    assert "back with the assistant" in str(back["text"])
    assert [b["id"] for b in back["buttons"]][-1].endswith(":5")  # type: ignore[attr-defined]
    assert not any("courier says Tuesday" in str(line["text"]) for line in ana), "a note reached the customer"

    card, claimed, relayed, sent, noted, released = desk
    assert "Ticket 1" in str(card["text"]) and "Agent assist:" in str(card["text"])
    assert card["buttons"] == [{"id": "claim:1:go", "label": "Claim ticket"}]
    assert "claimed ticket 1" in str(claimed["text"])
    assert "it was due on Monday" in str(relayed["text"])
    assert "Sent to console:ana" in str(sent["text"])
    assert "courier says Tuesday" in str(noted["text"])
    assert "released ticket 1" in str(released["text"])
    assert "ticket 1" in str(agent[0]["text"])
