"""Every customer-facing sentence, rendered from Jinja2 templates in the sandbox.

Templates live in `prompts/templates/`; an operator overrides any of them by putting a file of the same
name in their own folder. Customer text only ever enters a template as a variable, never as template
source, so `{{ 7*7 }}` typed by a customer stays those characters. Platform markup (Slack's `<!channel>`,
Discord's `@everyone`) is neutralised by each adapter, which knows its platform's syntax.
"""

from __future__ import annotations

import logging
import random
import tomllib
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from handlers.understanding import Mood

log = logging.getLogger(__name__)
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "prompts" / "templates"


class Templates:
    """Render named templates, empathy openers and button labels."""

    def __init__(self, override_dir: Path | None = None, *, seed: int | None = None) -> None:
        folders = [str(override_dir)] if override_dir else []
        folders.append(str(DEFAULT_TEMPLATES))
        loader = ChoiceLoader([FileSystemLoader(folder) for folder in folders])
        common: dict[str, Any] = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": False}
        # Read once, like openers.toml and buttons.toml: checking each file's time on every render
        # (Jinja's default) was a system call per reply for files that change only with a restart.
        self._env = SandboxedEnvironment(loader=loader, undefined=StrictUndefined, auto_reload=False, **common)
        self._operator_env = SandboxedEnvironment(**common)
        self._operator_templates: dict[str, Template] = {}  # by source: the knowledge base's answers, a fixed set
        self._folders = [Path(folder) for folder in folders]
        # Compiled once: compiling Jinja source costs far more than rendering it.
        self._openers: dict[str, list[Template]] = {
            mood: [self._env.from_string(source) for source in sources]
            for mood, sources in self._read_toml("openers.toml").items()
        }
        self._labels: dict[str, Template] = {
            name: self._env.from_string(source) for name, source in self._read_toml("buttons.toml").items()
        }
        self._rendered_openers: dict[tuple[str, str], list[str]] = {}
        self._rendered_labels: dict[tuple[Any, ...], str] = {}
        # Variety, not security: which wording of an opener comes next.
        self._random = random.Random(seed)  # noqa: S311

    def render(self, template: str, /, **variables: Any) -> str:
        """Render `template`.j2 with the variables; the result is stripped of surrounding blank space."""
        return self._env.get_template(f"{template}.j2").render(**variables).strip()

    def warm_up(self) -> None:
        """Compile every template now, so the first customer does not wait for it."""
        for name in self._env.list_templates(extensions=["j2"]):
            self._env.get_template(name)

    def render_operator_text(self, source: str, **variables: Any) -> str:
        """Render text an operator wrote (a knowledge-base answer); on a template error deliver it as written."""
        try:
            compiled = self._operator_templates.get(source)
            if compiled is None:
                # Compiled once per answer text: compiling took ~1 ms, most of an answer turn's rendering.
                compiled = self._operator_templates[source] = self._operator_env.from_string(source)
            return compiled.render(**variables).strip()
        except TemplateError:
            log.warning("an answer in the knowledge base is not a valid template; sent as written")
            return source.strip()

    def opener(self, mood: Mood, topic: str, *, avoid: str | None) -> str:
        """Pick an opener for the mood that differs from `avoid` (the one this customer got last)."""
        rendered = self._rendered_openers.get((mood, topic))
        if rendered is None:
            variants = self._openers.get(mood) or self._openers["neutral"]
            rendered = [template.render(topic=topic).strip() for template in variants]
            # Topics are the knowledge base's intents, a fixed set: each (mood, topic) is rendered once.
            self._rendered_openers[(mood, topic)] = rendered
        fresh = [text for text in rendered if text != avoid] or rendered
        return self._random.choice(fresh)

    def label(self, button: str, /, **variables: Any) -> str:
        """Return the label of a button, by name."""
        key = (button, *sorted(variables.items()))
        label = self._rendered_labels.get(key)
        if label is None:
            # A handful of buttons and arguments (a score from 1 to 5): each label is rendered once.
            label = self._rendered_labels[key] = self._labels[button].render(**variables).strip()
        return label

    def _read_toml(self, filename: str) -> dict[str, Any]:
        for folder in self._folders:
            path = folder / filename
            if path.exists():
                with path.open("rb") as handle:
                    return tomllib.load(handle)
        raise FileNotFoundError(f"no {filename} in {', '.join(map(str, self._folders))}")
