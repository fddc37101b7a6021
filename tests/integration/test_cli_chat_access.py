"""Access and personal data through `concierge chat --json -v`: roles, forwarded buttons, redaction, export, forget.

The console lets its operator speak as anyone (`/as`); these tests check that the core still holds each user to
their own role and their own buttons when they arrive through the console channel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from handlers.turn import Services
from tests.e2e.stored_rows import PERSONAL, REDACTED, SECRETS_OF_PERSONAL, customer_id, message_texts, rows_naming

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120
QUESTION = "My battery only lasts about 15 km now, it used to do 60"
ANNA, BEN, BOSS = "anna7", "benq3", "boss9"


@dataclass
class Run:
    lines: list[dict[str, object]]
    stderr: str


def chat(config: Path, user: str, *typed: str) -> Run:
    """Run one `concierge chat --json -v` over a pipe with the typed lines; return its JSON lines and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONCIERGE_", "SLACK_", "DISCORD_"))}
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--json", "-v", "--user", user, "--config", str(config)],
        input="".join(f"{line}\n" for line in typed), capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=TIMEOUT,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return Run([json.loads(line) for line in finished.stdout.splitlines() if line.strip()], finished.stderr)


def to(run: Run, user: str) -> list[dict[str, object]]:
    return [line for line in run.lines if line["to"] == user]


def button_ids(lines: list[dict[str, object]], prefix: str) -> list[str]:
    return [str(b["id"]) for line in lines for b in line["buttons"] if str(b["id"]).startswith(prefix)]  # type: ignore[attr-defined]


@dataclass
class Session:
    database: Path
    anna_id: int
    stored_before_forget: list[str]
    first: Run  # Anna: personal data, refused commands, a question, a request to be forgotten; the manager's stats
    forged: Run  # Ben presses Anna's buttons; then Anna asks for her data
    erased: Run  # Anna confirms


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, demo_services: Services) -> Session:
    folder = tmp_path_factory.mktemp("cli-access")
    config = folder / "concierge.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{folder / "c.db"}"\n\n'
        f'[roles]\nmanagers = ["console:{BOSS}"]\nagents = []\n\n'
        f'[understanding]\ncache_dir = "{model_cache}"\n'
    )
    first = chat(config, ANNA, PERSONAL, "/stats", "/queue", "/claim 1", QUESTION, "please delete my data",
                 f"/as {BOSS}", "/stats")
    resolved_yes = next(b for b in button_ids(to(first, ANNA), "resolved:") if b.endswith(":yes"))
    [forget] = button_ids(to(first, ANNA), "forget:")
    forged = chat(config, BEN, f"/press {resolved_yes}", f"/press {forget}", f"/as {ANNA}", "send me my data")
    database = folder / "c.db"
    anna_id = customer_id(database, f"console:{ANNA}")
    assert anna_id is not None, "Anna was erased before she confirmed"
    stored = message_texts(database)
    erased = chat(config, ANNA, f"/press {forget}")
    return Session(database, anna_id, stored, first, forged, erased)


def test_a_customer_is_refused_manager_and_agent_commands_and_a_manager_gets_stats(session: Session) -> None:
    refusals = [line for line in to(session.first, ANNA) if "managers" in str(line["text"])
                or "agents" in str(line["text"])]
    assert len(refusals) == 3, to(session.first, ANNA)  # stats, queue, claim
    assert all(line["kind"] == "notice" and not line["buttons"] for line in refusals)
    assert [line["kind"] for line in to(session.first, BOSS)] == ["stats"]
    assert not [line for line in to(session.first, ANNA) if line["kind"] == "stats"]


def test_another_users_press_of_a_customers_buttons_changes_nothing(session: Session) -> None:
    from_presses = session.forged.lines[:2]
    assert [line["to"] for line in from_presses] == [BEN, BEN], session.forged.lines
    assert all(line["kind"] == "notice" for line in from_presses)
    assert not [b for b in button_ids(from_presses, "") if b.startswith(("resolved:", "rate:"))
                or b == button_ids(to(session.first, ANNA), "forget:")[0]], "Ben got Anna's buttons"
    # Had Ben's press counted, Anna would have been asked for a rating; she only gets the copy she asked for.
    assert [line["kind"] for line in to(session.forged, ANNA)] == ["notice"], "Ben's press moved Anna's conversation"


def test_personal_data_is_redacted_in_storage_and_absent_from_the_log(session: Session) -> None:
    assert session.first.stderr, "the verbose chat logged nothing, so the log check would prove nothing"
    for run in (session.first, session.forged, session.erased):
        assert not [secret for secret in SECRETS_OF_PERSONAL if secret in run.stderr]
    [stored] = [t for t in session.stored_before_forget if "write to" in t]
    assert all(form in stored for form in REDACTED), stored
    assert not [secret for secret in SECRETS_OF_PERSONAL if secret in stored]


def test_export_then_forget_leave_no_row_naming_the_customer(session: Session) -> None:
    [export] = [line for line in to(session.forged, ANNA) if "messages" in str(line["text"])]
    assert export["kind"] == "notice"
    assert customer_id(session.database, f"console:{ANNA}") is None
    assert customer_id(session.database, f"console:{BEN}") is not None, "the erasure reached another customer"
    assert [line["kind"] for line in to(session.erased, ANNA)] == ["notice"]
    assert rows_naming(session.database, ANNA, session.anna_id) == []
    assert not [t for t in message_texts(session.database) if QUESTION in t or "write to" in t]
