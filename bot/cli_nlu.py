"""`concierge nlu …`: evaluate, try and check the understanding component from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ENGINES = ("default", "embeddings")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `nlu eval`, `nlu try` and `nlu check`; `common` carries `--config`."""
    nlu = subparsers.add_parser("nlu", help="evaluate and inspect intent understanding")
    actions = nlu.add_subparsers(dest="nlu_command", metavar="COMMAND", required=True)

    evaluate = actions.add_parser(
        "eval",
        parents=[common],
        help="train on one labelled CSV, score another",
        description="Train on --train, pick the out-of-scope threshold, and score --test. With a --val file "
        "holding 'oos' rows: the highest threshold whose in-scope accuracy on --val (as the bot decides) stays "
        "within 5 points of its closed-set accuracy, or at --min-in-scope (a --val without 'oos' rows: the "
        "threshold that keeps 95% of its right answers, at most 0.75). Without --val: from "
        "cross-validation on --train alone (in-scope accuracy within 3 points of closed-set, threshold at "
        "most 0.75). CSV columns: text and label (or intent/category), any label names; label 'oos' marks "
        "out-of-scope.",
    )
    evaluate.add_argument("--train", required=True, type=Path, metavar="CSV")
    evaluate.add_argument("--val", type=Path, metavar="CSV")
    evaluate.add_argument("--test", required=True, type=Path, metavar="CSV")
    evaluate.add_argument("--engine", choices=ENGINES, help="default: [understanding] engine from config")
    evaluate.add_argument(
        "--min-in-scope",
        type=_fraction,
        metavar="FRACTION",
        help="in-scope accuracy the threshold must keep on --val (or cross-validation), e.g. 0.88",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=eval_command)

    attempt = actions.add_parser(
        "try", parents=[common], help="show how the bot understands one message (configured knowledge base)"
    )
    attempt.add_argument("text")
    attempt.add_argument("--failed-attempts", type=int, default=0, help="answers that did not help so far")
    attempt.add_argument("--json", action="store_true")
    attempt.set_defaults(func=try_command)

    check = actions.add_parser(
        "check", parents=[common], help="cross-validated report on the configured knowledge base"
    )
    check.add_argument("--engine", choices=ENGINES, help="default: [understanding] engine from config")
    check.set_defaults(func=check_command)

    choices = actions.add_parser(
        "choices",
        parents=[common],
        help="print what customers picked at close calls as text,label CSV (new training examples)",
    )
    choices.set_defaults(handler=_choices)


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def _choices(args: argparse.Namespace, config: Any) -> int:
    from bot.commands.nlu_choices import choices

    return choices(args, config)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _config(args: argparse.Namespace) -> Any:
    from bot.config import load_config

    path = getattr(args, "config", None)
    return load_config(Path(path) if path else None)


def _knowledge(config: Any) -> Any:
    from handlers.knowledge_loader import demo_knowledge_path, load_knowledge

    return load_knowledge(config.knowledge.path or demo_knowledge_path())


def _embeddings_missing(engine: str) -> bool:
    if engine != "embeddings":
        return False
    from handlers.understanding.embeddings import available

    return not available()


def eval_command(args: argparse.Namespace) -> int:
    """Run `nlu eval`: print the report (JSON fields per DESIGN.md) and exit 0, or 2 on bad input."""
    from bot.config import ConfigError
    from handlers.understanding.evaluation import DataError, evaluate, read_labelled

    try:
        config = _config(args)
        engine = args.engine or config.understanding.engine
        if _embeddings_missing(engine):
            return _fail("the embeddings engine needs `pip install concierge[embeddings]`")
        train_rows = read_labelled(args.train)
        val_rows = read_labelled(args.val) if args.val else None
        test_rows = read_labelled(args.test)
        report = evaluate(
            train_rows,
            test_rows,
            val_rows=val_rows,
            engine=engine,
            model=config.understanding.model,
            min_in_scope=args.min_in_scope,
        )
    except (ConfigError, DataError) as error:
        return _fail(str(error))
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    for key, value in report.as_dict().items():
        print(f"{key:>20}: {'-' if value is None else value}")
    return 0


def try_command(args: argparse.Namespace) -> int:
    """Run `nlu try`: top intents with confidence, the out-of-scope decision and the feeling."""
    from bot.config import ConfigError
    from handlers.knowledge import KnowledgeError
    from handlers.understanding.factory import build_understander

    try:
        config = _config(args)
        settings = config.understanding
        if _embeddings_missing(settings.engine):
            return _fail("the embeddings engine needs `pip install concierge[embeddings]`")
        understander = build_understander(
            _knowledge(config),
            engine=settings.engine,
            cache_dir=settings.cache_dir,
            model=settings.model,
            oos_threshold=settings.oos_threshold,
            close_call_margin=settings.close_call_margin,
        )
    except (ConfigError, KnowledgeError) as error:
        return _fail(str(error))
    result = understander.understand(args.text, failed_attempts=args.failed_attempts)
    if args.json:
        payload = {
            "text": result.text,
            "ranked": [{"intent": g.intent, "confidence": g.confidence} for g in result.ranked],
            "out_of_scope": result.out_of_scope,
            "close_call": result.close_call,
            "mood": result.feeling.mood,
            "compound": result.feeling.compound,
            "frustration": result.feeling.frustration,
        }
        print(json.dumps(payload))
        return 0
    for guess in result.ranked[:3]:
        print(f"{guess.confidence:6.1%}  {guess.intent}")
    verdict = "out of scope" if result.out_of_scope else ("close call" if result.close_call else "answer")
    print(f"decision: {verdict}")
    feeling = result.feeling
    print(f"mood: {feeling.mood} (sentiment {feeling.compound:+.2f}, frustration {feeling.frustration:.2f})")
    return 0


def check_command(args: argparse.Namespace) -> int:
    """Run `nlu check` on the configured knowledge base."""
    from bot.config import ConfigError
    from handlers.knowledge import KnowledgeError
    from handlers.understanding.check import check_knowledge

    try:
        config = _config(args)
        engine = args.engine or config.understanding.engine
        if _embeddings_missing(engine):
            return _fail("the embeddings engine needs `pip install concierge[embeddings]`")
        report = check_knowledge(_knowledge(config), engine=engine, model=config.understanding.model)
    except (ConfigError, KnowledgeError) as error:
        return _fail(str(error))
    print("\n".join(report.lines()))
    return 0
