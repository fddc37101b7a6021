"""The one interface the conversation uses to understand a message; engines sit behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Mood = Literal["frustrated", "worried", "neutral", "happy"]


@dataclass(frozen=True)
class IntentGuess:
    """One candidate intent with a calibrated confidence in [0, 1]."""

    intent: str
    confidence: float


@dataclass(frozen=True)
class Feeling:
    """How the customer sounds: the mood that picks the opener, and whether they are frustrated.

    `compound` is VADER's score in [-1, 1]; `frustration` in [0, 1] also weighs cues such as shouting,
    repeated punctuation, "third time" and earlier failed answers.
    """

    mood: Mood
    compound: float
    frustration: float

    @property
    def frustrated(self) -> bool:
        return self.mood == "frustrated"


@dataclass(frozen=True)
class Understanding:
    """What one message means. `ranked` holds in-scope intents, best first."""

    text: str
    ranked: tuple[IntentGuess, ...]
    out_of_scope: bool
    close_call: bool
    feeling: Feeling

    @property
    def best(self) -> IntentGuess | None:
        return self.ranked[0] if self.ranked else None


class Understander(Protocol):
    """Understand one customer message. `failed_attempts` counts answers that did not help so far."""

    def understand(self, text: str, *, failed_attempts: int = 0, feeling: Feeling | None = None) -> Understanding:
        """Read what the message asks for; `feeling`, if given, is this text's feeling already read by `feel`."""
        ...

    def feel(self, text: str, *, failed_attempts: int = 0) -> Feeling:
        """Say how the message sounds, without reading what it asks for (the feeling `understand` gives)."""
        ...
