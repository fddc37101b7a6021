"""`concierge nlu eval|try|check` through the real command line entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bot.cli import main

CONTRACT_FIELDS = [
    "engine", "accuracy", "macro_f1", "closed_set_accuracy", "in_scope_accuracy", "oos_recall",
    "oos_precision", "threshold", "n_train", "n_test", "train_seconds", "predict_ms_p50", "predict_ms_p99",
]  # fmt: skip

TRAIN = {
    "weather": ["will it rain today", "weather forecast for tomorrow", "is it sunny outside", "how hot is it",
                "do i need an umbrella", "what's the temperature", "is it going to snow", "weather this weekend"],
    "alarm": ["set an alarm for 7am", "wake me up at six", "alarm for tomorrow morning", "cancel my alarm",
              "set a wake up call", "change my alarm to 8", "turn off the alarm", "remind me at 5 with an alarm"],
    "music": ["play some jazz", "put on my playlist", "play the next song", "skip this track",
              "play music by queen", "turn the music up", "pause the song", "shuffle my favourites"],
}  # fmt: skip
OOS_TRAIN = ["what is the capital of peru", "how do i bake bread", "who wrote hamlet", "book a flight to rome"]
TEST = [
    ("is it going to rain tomorrow", "weather"),
    ("what's the forecast", "weather"),
    ("wake me up at 7", "alarm"),
    ("set an alarm for noon", "alarm"),
    ("play a song by adele", "music"),
    ("skip to the next track", "music"),
    ("what is the capital of chile", "oos"),
    ("how do i make pasta", "oos"),
]


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label")) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def train_rows(label_of: dict[str, str] | None = None) -> list[tuple[str, str]]:
    rows = [(text, (label_of or {}).get(label, label)) for label, texts in TRAIN.items() for text in texts]
    return rows + [(text, "oos") for text in OOS_TRAIN]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["nlu", *argv, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, "--json prints exactly one line"
    parsed: dict[str, object] = json.loads(out[0])
    return parsed


def test_eval_prints_exactly_the_contract_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_csv(tmp_path / "train.csv", train_rows())
    test = write_csv(tmp_path / "test.csv", TEST)
    report = run_json(capsys, "eval", "--train", str(train), "--test", str(test))
    assert list(report) == CONTRACT_FIELDS
    assert report["engine"] == "default"
    assert report["n_train"] == 28 and report["n_test"] == 8
    assert report["closed_set_accuracy"] == 1.0
    assert isinstance(report["oos_recall"], float) and isinstance(report["oos_precision"], float)
    assert 0.0 <= float(report["threshold"]) <= 1.0  # type: ignore[arg-type]
    assert float(report["predict_ms_p50"]) <= float(report["predict_ms_p99"])  # type: ignore[arg-type]


def test_oos_fields_are_null_without_oos_test_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_csv(tmp_path / "train.csv", train_rows())
    test = write_csv(tmp_path / "test.csv", [row for row in TEST if row[1] != "oos"])
    report = run_json(capsys, "eval", "--train", str(train), "--test", str(test))
    assert report["oos_recall"] is None and report["oos_precision"] is None
    assert report["n_test"] == 6


def test_any_label_names_and_the_intent_column_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    numbered = {"weather": "17", "alarm": "Wake-Up Calls", "music": "ミュージック"}
    swapped = [(label, text) for text, label in train_rows(numbered)]
    train = write_csv(tmp_path / "train.csv", swapped, header=("intent", "text"))
    test = write_csv(tmp_path / "test.csv", [(t, numbered.get(lab, lab)) for t, lab in TEST], ("text", "category"))
    val = write_csv(tmp_path / "val.csv", [("will it be windy", "17"), ("who painted the mona lisa", "oos")])
    report = run_json(capsys, "eval", "--train", str(train), "--val", str(val), "--test", str(test))
    assert report["closed_set_accuracy"] == 1.0
    assert report["n_train"] == 28


def test_val_floor_sets_how_much_in_scope_accuracy_the_threshold_may_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = write_csv(tmp_path / "train.csv", train_rows())
    test = write_csv(tmp_path / "test.csv", TEST)
    val = write_csv(tmp_path / "val.csv", [*TEST[:6], ("how tall is everest", "oos"), ("recipe for soup", "oos")])
    argv = ["eval", "--train", str(train), "--val", str(val), "--test", str(test)]
    keep_all = run_json(capsys, *argv, "--min-in-scope", "1.0")
    give_all = run_json(capsys, *argv, "--min-in-scope", "0.0")
    assert float(give_all["threshold"]) > 0.99  # type: ignore[arg-type]
    assert give_all["in_scope_accuracy"] == 0.0 and give_all["oos_recall"] == 1.0
    assert float(keep_all["threshold"]) < float(give_all["threshold"])  # type: ignore[arg-type]
    assert keep_all["in_scope_accuracy"] == 1.0
    with pytest.raises(SystemExit):
        main(["nlu", *argv, "--min-in-scope", "1.5"])


def test_plain_output_lists_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_csv(tmp_path / "train.csv", train_rows())
    test = write_csv(tmp_path / "test.csv", TEST)
    assert main(["nlu", "eval", "--train", str(train), "--test", str(test)]) == 0
    out = capsys.readouterr().out
    assert all(field in out for field in CONTRACT_FIELDS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,answer\nhello,greet\n", "no 'label', 'intent' or 'category' column"),
        ("sentence,label\nhello,greet\n", "no 'text' column"),
        ("", "empty file"),
        ("text,label\n", "no data rows"),
        ("text,label\nhello,\n", "empty label"),
    ],
)
def test_bad_csv_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    good = write_csv(tmp_path / "good.csv", train_rows())
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    assert main(["nlu", "eval", "--train", str(bad), "--test", str(good)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err and "bad.csv" in err


def test_missing_file_and_single_label_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    test = write_csv(tmp_path / "test.csv", TEST)
    assert main(["nlu", "eval", "--train", str(tmp_path / "nope.csv"), "--test", str(test)]) == 2
    assert "file not found" in capsys.readouterr().err
    one = write_csv(tmp_path / "one.csv", [("a", "x"), ("b", "x")])
    assert main(["nlu", "eval", "--train", str(one), "--test", str(test)]) == 2
    assert "two distinct labels" in capsys.readouterr().err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "concierge.toml"
    path.write_text(f'[understanding]\ncache_dir = "{tmp_path / "cache"}"\n')
    return path


def test_try_shows_intent_and_mood_for_the_demo_kb(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "try", "THIS IS THE THIRD TIME I ASK, WHERE IS MY ORDER", "--config", str(config))
    ranked = result["ranked"]
    assert isinstance(ranked, list) and ranked[0]["intent"] == "order_status"
    assert result["mood"] == "frustrated" and result["out_of_scope"] is False
    off_topic = run_json(capsys, "try", "who won the world cup in 1998", "--config", str(config))
    assert off_topic["out_of_scope"] is True
    assert any((config.parent / "cache").glob("*.joblib")), "try caches the model it trained"


def test_check_reports_accuracy_and_confusions(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nlu", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "cross-validated accuracy:" in out
    assert "suggested oos_threshold:" in out
    assert "->" in out  # the demo KB has near-neighbour intents, so some pair is reported


def test_bad_config_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[understanding]\nclose_call_margin = 7\n")
    assert main(["nlu", "try", "hello", "--config", str(bad)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.embeddings
def test_eval_with_the_embeddings_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sentence_transformers", reason="needs the embeddings extra")
    train = write_csv(tmp_path / "train.csv", train_rows())
    test = write_csv(tmp_path / "test.csv", TEST)
    report = run_json(capsys, "eval", "--train", str(train), "--test", str(test), "--engine", "embeddings")
    assert list(report) == CONTRACT_FIELDS
    assert report["engine"] == "embeddings"
    assert report["closed_set_accuracy"] == 1.0
