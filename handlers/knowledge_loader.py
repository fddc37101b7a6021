"""Read a knowledge base TOML file, validate it, and report each problem with its file and line."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import prompts
from handlers.knowledge import Intent, KnowledgeBase, KnowledgeError, Product, ReferralProgram

_INTENT_KEYS = frozenset({"name", "examples", "answer", "answer_file", "needs", "label"})
_PRODUCT_KEYS = frozenset({"sku", "name", "summary", "serves", "url"})
_TOP_KEYS = frozenset({"business", "intent", "product", "referral"})
_OOS = "oos"
_MIN_EXAMPLES = 3
_NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_TAG_RE = re.compile(r"[a-z][a-z0-9_-]*")
_TOML_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "a table",
}


def demo_knowledge_path() -> Path:
    """Return the path of the demo knowledge base shipped in the `prompts` package."""
    # __path__, not __file__: an editable install may expose `prompts` as a namespace package.
    return Path(next(iter(prompts.__path__))) / "knowledge" / "demo.toml"


def load_knowledge(path: Path) -> KnowledgeBase:
    """Load and validate a knowledge base file, raising KnowledgeError on the first problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot read the knowledge base: {exc.strerror or exc}") from exc
    text = _decode(path, raw)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(_toml_error(path, text, exc)) from exc
    return _Loader(path, raw, text).build(data)


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KnowledgeError(f"{path}:{line}: the file is not valid UTF-8 text") from exc


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11 only carries the position inside the message text.
    message = str(exc)
    found = _TOML_POS_RE.search(message)
    if found is None:
        end = message.removesuffix(" (at end of document)")
        if end != message:
            return f"{path}:{max(1, len(text.splitlines()))}: invalid TOML at the end of the file: {end}"
        return f"{path}: invalid TOML: {message}"
    reason = message[: found.start()]
    return f"{path}:{found.group(1)}:{found.group(2)}: invalid TOML: {reason}"


class _Lines:
    """Find where a table or key sits in the raw text, so semantic errors can name a line."""

    _HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._headers: list[tuple[int, str, bool]] = []  # (0-based line, name, is array of tables)
        for number, line in enumerate(self._lines):
            found = self._HEADER_RE.match(line)
            if found:
                self._headers.append((number, found.group(2).strip("\"' "), found.group(1) == "[["))

    def table(self, name: str, index: int | None = None) -> int:
        """Return the 1-based line of `[name]`, or of the index-th `[[name]]`; 1 if not found."""
        block = self._block(name, index)
        return block[0] + 1 if block else 1

    def key(self, name: str, index: int | None, key: str) -> int:
        """Return the line of `key = ...` inside a table, falling back to the table's header."""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        return self._search(name, index, pattern.match)

    def text(self, name: str, index: int | None, needle: str) -> int:
        """Return the first line inside a table that contains `needle` (e.g. a quoted example)."""
        return self._search(name, index, lambda line: needle in line)

    def _search(self, name: str, index: int | None, hit: Callable[[str], object]) -> int:
        block = self._block(name, index)
        if block is None:
            return 1
        start, end = block
        return next((n + 1 for n in range(start, end) if hit(self._lines[n])), start + 1)

    def _block(self, name: str, index: int | None) -> tuple[int, int] | None:
        seen = 0
        for position, (line, header, is_array) in enumerate(self._headers):
            if header != name or is_array != (index is not None):
                continue
            if index is None or seen == index:
                following = self._headers[position + 1 :]
                return line, following[0][0] if following else len(self._lines)
            seen += 1
        return None


class _Loader:
    """One validation pass over a parsed file; every check fails fast with a located message."""

    def __init__(self, path: Path, raw: bytes, text: str) -> None:
        self._path = path
        self._lines = _Lines(text)
        self._digest = hashlib.sha256(raw)

    def build(self, data: dict[str, Any]) -> KnowledgeBase:
        for key in data:
            if key not in _TOP_KEYS:
                self._fail(
                    self._top_line(key),
                    f"unknown top-level key {key!r} (expected one of {', '.join(sorted(_TOP_KEYS))})",
                )
        business = self._business(data.get("business"))
        intents, oos = self._intents(data.get("intent"))
        needs = {tag for intent in intents for tag in intent.needs}
        products = self._products(data.get("product", []), needs)
        referral = self._referral(data.get("referral"))
        return KnowledgeBase(
            business_name=business,
            intents=intents,
            products=products,
            referral=referral,
            out_of_scope_examples=oos,
            content_hash=self._digest.hexdigest(),
        )

    def _business(self, table: object) -> str:
        if table is None:
            return ""
        if not isinstance(table, dict):
            self._fail(self._top_line("business"), "'business' must be a table: [business]")
        name = table.get("name", "")
        if not isinstance(name, str):
            self._fail(self._lines.key("business", None, "name"), "business 'name' must be a string")
        return name.strip()

    def _intents(self, tables: object) -> tuple[tuple[Intent, ...], tuple[str, ...]]:
        if tables is None:
            self._fail(1, "no [[intent]] tables: the bot needs at least one topic to answer")
        tables = self._table_list("intent", tables)
        intents: list[Intent] = []
        oos: tuple[str, ...] = ()
        names: set[str] = set()
        owners: dict[str, str] = {}  # normalised example -> intent name, to catch contradictory labels
        for index, table in enumerate(tables):
            name = self._name(table, index, names)
            examples = self._examples(table, index, name, owners)
            if name == _OOS:
                extra = sorted(set(table) - {"name", "examples"})
                if extra:
                    self._fail(
                        self._lines.key("intent", index, extra[0]),
                        f"intent 'oos' holds only out-of-scope examples; remove {extra[0]!r}",
                    )
                oos = examples
                continue
            intents.append(self._intent(table, index, name, examples))
        if not intents:
            self._fail(self._lines.table("intent", 0), "no answerable intent: only 'oos' is defined")
        return tuple(intents), oos

    def _name(self, table: dict[str, Any], index: int, seen: set[str]) -> str:
        name = self._string(table, "intent", index, "name", "intent")
        line = self._lines.key("intent", index, "name")
        if not _NAME_RE.fullmatch(name):
            self._fail(line, f"intent name {name!r} must be snake_case (lowercase letters, digits, '_')")
        if name in seen:
            self._fail(line, f"duplicate intent name {name!r}")
        seen.add(name)
        return name

    def _examples(
        self, table: dict[str, Any], index: int, name: str, owners: dict[str, str]
    ) -> tuple[str, ...]:
        where = f"intent {name!r}"
        examples = self._string_list(table, "intent", index, "examples", where)
        minimum = 1 if name == _OOS else _MIN_EXAMPLES
        if len(examples) < minimum:
            self._fail(
                self._lines.key("intent", index, "examples"),
                f"{where} has {len(examples)} example(s); it needs at least {minimum}",
            )
        for example in examples:
            key = " ".join(example.lower().split())
            owner = owners.setdefault(key, name)
            if owner != name:
                self._fail(
                    self._lines.text("intent", index, example),
                    f"example {example!r} of {where} is also an example of intent {owner!r}",
                )
        return examples

    def _intent(self, table: dict[str, Any], index: int, name: str, examples: tuple[str, ...]) -> Intent:
        where = f"intent {name!r}"
        for key in table:
            if key not in _INTENT_KEYS:
                self._fail(self._lines.key("intent", index, key), f"{where}: unknown key {key!r}")
        answer = self._answer(table, index, where)
        needs = self._string_list(table, "intent", index, "needs", where, required=False)
        for tag in needs:
            if not _TAG_RE.fullmatch(tag):
                self._fail(
                    self._lines.key("intent", index, "needs"),
                    f"{where}: need tag {tag!r} must be lowercase letters, digits, '_' or '-'",
                )
        label = name.replace("_", " ").capitalize()
        if "label" in table:
            label = self._string(table, "intent", index, "label", where)
        return Intent(name=name, examples=examples, answer=answer, needs=needs, label=label)

    def _answer(self, table: dict[str, Any], index: int, where: str) -> str:
        if "answer" in table and "answer_file" in table:
            self._fail(
                self._lines.key("intent", index, "answer_file"),
                f"{where} has both 'answer' and 'answer_file'; keep one",
            )
        if "answer" in table:
            return self._string(table, "intent", index, "answer", where)
        if "answer_file" not in table:
            self._fail(
                self._lines.table("intent", index), f"{where}: missing key 'answer' (or 'answer_file')"
            )
        relative = self._string(table, "intent", index, "answer_file", where)
        target = self._path.parent / relative
        try:
            body = target.read_bytes()
            answer = body.decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "cannot be read"
            self._fail(
                self._lines.key("intent", index, "answer_file"),
                f"{where}: answer file {str(target)!r} {reason}",
            )
        if not answer:
            self._fail(
                self._lines.key("intent", index, "answer_file"), f"{where}: answer file {relative!r} is empty"
            )
        # Name and content both count, so moving an answer to another file changes the hash too.
        self._digest.update(b"\0" + relative.encode() + b"\0" + body)
        return answer

    def _products(self, tables: object, needs: set[str]) -> tuple[Product, ...]:
        products: list[Product] = []
        skus: set[str] = set()
        for index, table in enumerate(self._table_list("product", tables)):
            for key in table:
                if key not in _PRODUCT_KEYS:
                    self._fail(self._lines.key("product", index, key), f"product: unknown key {key!r}")
            sku = self._string(table, "product", index, "sku", "product")
            where = f"product {sku!r}"
            if sku in skus:
                self._fail(self._lines.key("product", index, "sku"), f"duplicate product sku {sku!r}")
            skus.add(sku)
            name, summary, url = (
                self._string(table, "product", index, key, where) for key in ("name", "summary", "url")
            )
            serves = self._string_list(table, "product", index, "serves", where)
            if not serves:
                self._fail(
                    self._lines.key("product", index, "serves"), f"{where}: 'serves' lists no need tag"
                )
            for tag in serves:
                if tag not in needs:
                    known = ", ".join(sorted(needs)) or "none"
                    self._fail(
                        self._lines.key("product", index, "serves"),
                        f"{where} serves unknown need tag {tag!r} (tags in intents' needs: {known})",
                    )
            products.append(Product(sku=sku, name=name, summary=summary, serves=serves, url=url))
        return tuple(products)

    def _referral(self, table: object) -> ReferralProgram | None:
        if table is None:
            return None
        if not isinstance(table, dict):
            self._fail(self._top_line("referral"), "'referral' must be a table: [referral]")
        for key in table:
            if key not in ("text", "reward"):
                self._fail(self._lines.key("referral", None, key), f"referral: unknown key {key!r}")
        text = self._string(table, "referral", None, "text", "referral")
        reward = self._string(table, "referral", None, "reward", "referral") if "reward" in table else ""
        return ReferralProgram(text=text, reward=reward)

    def _table_list(self, name: str, value: object) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self._fail(self._top_line(name), f"{name!r} must be an array of tables: [[{name}]]")
        return value

    def _string(self, table: dict[str, Any], name: str, index: int | None, key: str, where: str) -> str:
        if key not in table:
            self._fail(self._lines.table(name, index), f"{where}: missing key {key!r}")
        value = table[key]
        if not isinstance(value, str):
            self._fail(
                self._lines.key(name, index, key),
                f"{where}: {key!r} must be a string, not {_type_name(value)}",
            )
        if not value.strip():
            self._fail(self._lines.key(name, index, key), f"{where}: {key!r} is empty")
        return value

    def _string_list(
        self, table: dict[str, Any], name: str, index: int, key: str, where: str, *, required: bool = True
    ) -> tuple[str, ...]:
        if key not in table:
            if required:
                self._fail(self._lines.table(name, index), f"{where}: missing key {key!r}")
            return ()
        value = table[key]
        line = self._lines.key(name, index, key)
        if not isinstance(value, list):
            self._fail(line, f"{where}: {key!r} must be an array of strings, not {_type_name(value)}")
        for item in value:
            if not isinstance(item, str):
                self._fail(line, f"{where}: {key!r} must hold only strings, found {_type_name(item)}")
            if not item.strip():
                self._fail(line, f"{where}: {key!r} holds an empty string")
        return tuple(item.strip() for item in value)

    def _top_line(self, key: str) -> int:
        line = self._lines.table(key, None)
        if line == 1:
            line = self._lines.table(key, 0)
        return line

    def _fail(self, line: int, message: str) -> NoReturn:
        raise KnowledgeError(f"{self._path}:{line}: {message}")


def _type_name(value: object) -> str:
    return next((label for kind, label in _TYPE_NAMES.items() if type(value) is kind), type(value).__name__)
