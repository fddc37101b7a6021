"""`concierge chat --json` and `concierge stats --json` as real processes over a file database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from handlers.turn import Services

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "My battery only lasts about 15 km now, it used to do 60"
STATS_FIELDS = [
    "conversations", "customers", "resolved_by_bot", "handed_off", "unmet_needs", "csat_responses", "csat_average",
    "satisfied_rate", "followups_sent", "followups_positive", "offers_made", "offers_accepted", "offer_conversion",
    "offers_to_unsatisfied", "referrals_given", "referrals_redeemed", "top_needs", "handoff_wait_seconds_p50",
]  # fmt: skip
TIMEOUT = 120


@dataclass
class Runs:
    whole: list[dict[str, object]]
    before_restart: list[dict[str, object]]
    after_restart: list[dict[str, object]]
    stats: dict[str, object]
    everything: list[dict[str, object]]


def write_config(folder: Path, cache: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "concierge.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{folder / "concierge.db"}"\n\n'
        f'[understanding]\ncache_dir = "{cache}"\n'
    )
    return config


def start(*argv: str, stdin: str = "") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONCIERGE_", "SLACK_", "DISCORD_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *argv], cwd=ROOT, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(stdin)
    process.stdin.close()
    return process


def finish(process: subprocess.Popen[str]) -> list[dict[str, object]]:
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    assert process.wait(timeout=TIMEOUT) == 0, err[-2000:]
    lines = [line for line in out.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # with --json, stdout is only JSON lines


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, demo_services: Services) -> Runs:
    """Bob has a whole conversation in one process; Ana's is split across two processes (a restart)."""
    config = write_config(tmp_path_factory.mktemp("cli"), model_cache)
    chat_args = ("chat", "--json", "--user", "ana", "--config", str(config))
    first = finish(start(*chat_args, stdin=f"{QUESTION}\n/as bob\n{QUESTION}\nyes\n5\n"))
    second = finish(start(*chat_args, stdin="yes\n5\n"))
    stats_lines = finish(start("stats", "--json", "--since", "all", "--config", str(config)))
    assert len(stats_lines) == 1
    return Runs(
        whole=[line for line in first if line["to"] == "bob"],
        before_restart=[line for line in first if line["to"] == "ana"],
        after_restart=second,
        stats=stats_lines[0],
        everything=first + second,
    )


def service_kinds(lines: list[dict[str, object]]) -> list[object]:
    """The kinds of the messages that carry the conversation (notices such as thanks left out)."""
    return [line["kind"] for line in lines if line["kind"] != "notice"]


def test_json_lines_follow_the_contract(runs: Runs) -> None:
    assert {line["to"] for line in runs.everything} == {"ana", "bob"}
    for line in runs.everything:
        assert set(line) == {"to", "kind", "text", "buttons"}
        assert isinstance(line["text"], str) and line["text"]
        for button in line["buttons"]:  # type: ignore[attr-defined]
            assert set(button) == {"id", "label"}


def test_satisfied_customer_gets_answer_checks_then_an_offer(runs: Runs) -> None:
    kinds = service_kinds(runs.whole)
    assert kinds[:3] == ["answer", "resolution_check", "satisfaction_check"]
    assert kinds[3] in ("offer", "referral")
    assert len(kinds) == 4
    rating = next(line for line in runs.whole if line["kind"] == "satisfaction_check")
    ids = [button["id"] for button in rating["buttons"]]  # type: ignore[attr-defined]
    assert [i.rsplit(":", 1)[1] for i in ids] == ["1", "2", "3", "4", "5"]


def test_a_second_process_continues_the_conversation(runs: Runs) -> None:
    assert service_kinds(runs.before_restart) == ["answer", "resolution_check"]
    kinds = service_kinds(runs.after_restart)
    assert kinds[0] == "satisfaction_check", "the new process knows the answer is awaiting a yes"
    assert kinds[1] in ("offer", "referral")


def test_stats_prints_the_contract_fields(runs: Runs) -> None:
    assert set(STATS_FIELDS) <= set(runs.stats)
    assert runs.stats["conversations"] == 2
    assert runs.stats["customers"] == 2
    assert runs.stats["resolved_by_bot"] == 2
    assert runs.stats["csat_responses"] == 2
    assert runs.stats["csat_average"] == 5.0
    assert runs.stats["offers_made"] + runs.stats["referrals_given"] == 2  # type: ignore[operator]
    assert runs.stats["offers_to_unsatisfied"] == 0
    assert runs.stats["top_needs"] == [{"need": "battery_range", "count": 2}]
