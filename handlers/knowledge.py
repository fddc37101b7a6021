"""The knowledge base: what the bot can answer, and what it may offer.

The TOML format is an external contract (DESIGN.md section 3); `handlers.knowledge_loader` reads and
validates a file and reports problems with the line they are on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Intent:
    """A topic the bot answers: example phrases, the operator's answer text and the needs it serves."""

    name: str
    examples: tuple[str, ...]
    answer: str
    needs: tuple[str, ...]
    label: str = ""  # short human name used in buttons ("Track my order"); defaults from `name`


@dataclass(frozen=True)
class Product:
    """Something the business sells; `serves` lists the need tags it helps with."""

    sku: str
    name: str
    summary: str
    serves: tuple[str, ...]
    url: str


@dataclass(frozen=True)
class ReferralProgram:
    """The referral offer made to satisfied customers."""

    text: str
    reward: str = ""


@dataclass(frozen=True)
class KnowledgeBase:
    """A loaded, validated knowledge base. `out_of_scope_examples` are the optional `oos` phrases."""

    business_name: str
    intents: tuple[Intent, ...]
    products: tuple[Product, ...]
    referral: ReferralProgram | None
    out_of_scope_examples: tuple[str, ...] = ()
    content_hash: str = ""

    def intent(self, name: str) -> Intent | None:
        return next((i for i in self.intents if i.name == name), None)

    def products_serving(self, needs: set[str]) -> list[Product]:
        return [p for p in self.products if needs.intersection(p.serves)]


class KnowledgeError(ValueError):
    """A knowledge base file that cannot be used; the message names the file, line and problem."""
