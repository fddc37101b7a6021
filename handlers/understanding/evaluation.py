"""Score an engine on labelled CSV files: the `nlu eval` contract of DESIGN.md section 3."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handlers.understanding.calibration import OOS
from handlers.understanding.factory import classifier_for, make_featurizer
from handlers.understanding.model import IntentModel, train
from handlers.understanding.tuning import tune_threshold
from handlers.understanding.understander import ModelUnderstander

LABEL_COLUMNS = ("label", "intent", "category")


class DataError(ValueError):
    """A labelled file that cannot be used; the message is one line naming the file and problem."""


@dataclass(frozen=True)
class Labelled:
    """Texts with their labels (`oos` marks out-of-scope)."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)


def read_labelled(path: Path) -> Labelled:
    """Read a CSV with a header holding `text` and `label` (or `intent`/`category`)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (UnicodeDecodeError, csv.Error, IsADirectoryError) as error:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({error})") from None
    if not rows:
        raise DataError(f"{path}: empty file, expected a header with 'text' and 'label'")
    header = [cell.strip().lower() for cell in rows[0]]
    if "text" not in header:
        raise DataError(f"{path}: no 'text' column in header {rows[0]}")
    label_column = next((c for c in LABEL_COLUMNS if c in header), None)
    if label_column is None:
        raise DataError(f"{path}: no 'label', 'intent' or 'category' column in header {rows[0]}")
    text_at, label_at = header.index("text"), header.index(label_column)
    texts: list[str] = []
    labels: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(text_at, label_at):
            raise DataError(f"{path}:{line}: expected {len(header)} columns, found {len(row)}")
        text, label = row[text_at].strip(), row[label_at].strip()
        if not text or not label:
            raise DataError(f"{path}:{line}: empty {'text' if not text else label_column}")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise DataError(f"{path}: no data rows after the header")
    return Labelled(tuple(texts), tuple(labels))


@dataclass(frozen=True)
class EvalReport:
    """The `nlu eval --json` object; field names and order are an external contract."""

    engine: str
    accuracy: float
    macro_f1: float
    closed_set_accuracy: float
    in_scope_accuracy: float
    oos_recall: float | None
    oos_precision: float | None
    threshold: float
    n_train: int
    n_test: int
    train_seconds: float
    predict_ms_p50: float
    predict_ms_p99: float

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)


def _ratio(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def bot_decisions(understander: ModelUnderstander, texts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Return what the bot would do with each message (an intent or `oos`) and each call's milliseconds.

    Every message goes through `understand`, one at a time, exactly as in a conversation (including
    any rescue of a request inside a longer message), so accuracy and latency describe the same calls.
    """
    if texts:
        understander.understand(texts[0])  # the first call pays one-off import and allocation costs
    decided: list[str] = []
    latencies: list[float] = []
    for text in texts:
        started = time.perf_counter()
        result = understander.understand(text)
        latencies.append((time.perf_counter() - started) * 1000)
        decided.append(OOS if result.out_of_scope or result.best is None else result.best.intent)
    return decided, latencies


def evaluate(
    train_rows: Labelled,
    test_rows: Labelled,
    *,
    val_rows: Labelled | None = None,
    engine: str = "default",
    model: str = "all-MiniLM-L6-v2",
    oos_threshold: float | None = None,
    min_in_scope: float | None = None,
) -> EvalReport:
    """Train on one labelled set (threshold from `val_rows`, else cross-validation) and score another."""
    fitted, train_seconds = fit_for_eval(
        train_rows,
        val_rows,
        engine=engine,
        model=model,
        oos_threshold=oos_threshold,
        min_in_scope=min_in_scope,
    )
    return report_for(ModelUnderstander(fitted, engine=engine), test_rows, len(train_rows), train_seconds)


def fit_for_eval(
    train_rows: Labelled,
    val_rows: Labelled | None,
    *,
    engine: str = "default",
    model: str = "all-MiniLM-L6-v2",
    oos_threshold: float | None = None,
    min_in_scope: float | None = None,
) -> tuple[IntentModel, float]:
    """Train and calibrate on labelled rows; return the model and the seconds it took.

    With `val_rows` holding `oos` rows, the threshold is the highest whose in-scope accuracy on them,
    as the bot decides, stays >= `min_in_scope` (default: their closed-set accuracy minus 5 points).
    """
    if len(set(train_rows.labels)) < 2:
        raise DataError("the training file needs at least two distinct labels")
    started = time.perf_counter()
    fitted = train(
        make_featurizer(engine, model),
        train_rows.texts,
        train_rows.labels,
        val=(val_rows.texts, val_rows.labels) if val_rows is not None else None,
        oos_threshold=oos_threshold,
        min_in_scope=min_in_scope,
        classifier=classifier_for(engine),
    )
    if val_rows is not None and OOS in val_rows.labels and oos_threshold is None:
        fitted.threshold = tune_threshold(fitted, val_rows.texts, val_rows.labels, min_in_scope=min_in_scope)
    return fitted, time.perf_counter() - started


def report_for(
    understander: ModelUnderstander, test_rows: Labelled, n_train: int, train_seconds: float
) -> EvalReport:
    """Score a ready understander on labelled test rows, timing single-message predictions."""
    # Closed-set: the best in-scope intent for the whole text, with no out-of-scope decision.
    closed = [guesses[0].intent for guesses, _ in understander.rank(test_rows.texts)]
    predicted, latencies = bot_decisions(understander, test_rows.texts)
    return score(
        understander.engine,
        test_rows.labels,
        predicted,
        closed,
        threshold=understander.threshold,
        n_train=n_train,
        train_seconds=train_seconds,
        latencies_ms=latencies,
    )


def score(
    engine: str,
    truth: Sequence[str],
    predicted: Sequence[str],
    closed: Sequence[str],
    *,
    threshold: float,
    n_train: int,
    train_seconds: float,
    latencies_ms: Sequence[float],
) -> EvalReport:
    """Compute the report from true labels, open-set predictions and closed-set predictions."""
    from sklearn.metrics import f1_score

    pairs = list(zip(truth, predicted, closed, strict=True))
    in_scope = [(t, p, c) for t, p, c in pairs if t != OOS]
    oos_rows = [p for t, p, _ in pairs if t == OOS]
    said_oos = sum(1 for p in predicted if p == OOS)
    has_oos = bool(oos_rows)
    macro_f1 = f1_score(
        list(truth), list(predicted), labels=sorted(set(truth)), average="macro", zero_division=0
    )
    return EvalReport(
        engine=engine,
        accuracy=_ratio(sum(t == p for t, p, _ in pairs), len(pairs)),
        macro_f1=round(float(macro_f1), 4),
        closed_set_accuracy=_ratio(sum(t == c for t, _, c in in_scope), len(in_scope)),
        in_scope_accuracy=_ratio(sum(t == p for t, p, _ in in_scope), len(in_scope)),
        oos_recall=_ratio(sum(p == OOS for p in oos_rows), len(oos_rows)) if has_oos else None,
        oos_precision=_ratio(sum(p == OOS for p in oos_rows), said_oos) if has_oos else None,
        threshold=round(float(threshold), 4),
        n_train=n_train,
        n_test=len(pairs),
        train_seconds=round(train_seconds, 2),
        predict_ms_p50=round(float(np.percentile(latencies_ms, 50)), 3) if latencies_ms else 0.0,
        predict_ms_p99=round(float(np.percentile(latencies_ms, 99)), 3) if latencies_ms else 0.0,
    )
