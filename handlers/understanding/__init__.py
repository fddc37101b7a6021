"""Understanding: what the customer wants (intent, confidence, out-of-scope) and how they feel."""

from handlers.understanding.types import Feeling, IntentGuess, Mood, Understander, Understanding

__all__ = ["Feeling", "IntentGuess", "Mood", "Understander", "Understanding"]
