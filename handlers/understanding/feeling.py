"""How a customer sounds: VADER sentiment plus frustration and worry cues, mapped to a Mood."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from handlers.understanding.types import Feeling, Mood

# VADER is blind to many helpdesk complaints ("still not here", "third time"), so these phrases
# carry their own weight on top of its compound score.
_FRUSTRATION_PHRASES: tuple[tuple[str, float], ...] = (
    (r"\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b", 0.55),
    (r"\b(again and again|over and over|yet again|once again)\b", 0.45),
    (r"\bkeeps? (happening|breaking|failing|crashing|stopping|dying)\b", 0.5),
    (r"\bstill (not|no|nothing|haven'?t|hasn'?t|doesn'?t|isn'?t|won'?t|can'?t|waiting)\b", 0.35),
    (r"\b(ridiculous|absurd|unacceptable|outrageous|pathetic|useless|terrible|awful|horrible)\b", 0.5),
    (r"\b(waste of (my )?time|wasting my time|fed up|sick of|tired of|had enough|enough is enough)\b", 0.55),
    (r"\b(nobody|no one) (helps|answers|replies|responds|cares)\b", 0.45),
    (r"\b(doesn'?t|does not|didn'?t|did not) (help|work|answer)\b", 0.25),
    (r"\b(wtf|ffs|damn|hell|crap|stupid|idiot\w*)\b", 0.4),
    (r"\b(cancel (my|the) (account|subscription)|speak to (a|your) manager)\b", 0.2),
    (r"\b(angry|furious|annoyed|frustrat\w*|pissed|livid|upset)\b", 0.55),
)
_WORRY_PHRASES: tuple[str, ...] = (
    r"\b(worried|worry|worrying|afraid|scared|anxious|nervous|concerned|panic\w*)\b",
    r"\b(urgent\w*|asap|as soon as possible|emergency|immediately|right away)\b",
    r"\b(haven'?t|have not|hasn'?t|has not|didn'?t|did not|never) (received|arrived|got|gotten|come|shown)\b",
    r"\b(lost|missing|stolen|disappeared|locked out|hacked|charged twice|double charged)\b",
    r"\bwhat if\b",
    r"\b(deadline|running out of time|by tomorrow|before friday)\b",
)
# VADER scores requests as pleasant ("help" +1.7, "please" +1.3), which would make every polite
# question "happy"; these words are left out of the sentiment score.
_POLITE = re.compile(r"\b(please|pls|plz|kindly|help|helps|helping)\b", re.IGNORECASE)
_FRUSTRATION_RES = tuple((re.compile(p, re.IGNORECASE), w) for p, w in _FRUSTRATION_PHRASES)
_WORRY_RES = tuple(re.compile(p, re.IGNORECASE) for p in _WORRY_PHRASES)
_REPEATED_MARKS = re.compile(r"[!?]{2,}")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_WORD = re.compile(r"\b[A-Za-z]{3,}\b")

FRUSTRATED_AT = 0.5
HAPPY_AT = 0.45
# "Strongly negative" without a frustration cue ("I am not happy at all"); a bare "no" (-0.30) is not.
NEGATIVE_AT = -0.35


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def shouting(text: str) -> bool:
    """Tell whether most of the longer words are written in capitals."""
    words = _WORD.findall(text)
    caps = _CAPS_WORD.findall(text)
    # A single acronym ("SKU", "USA") is not shouting; a run of capital words is.
    return len(caps) >= 2 and len(caps) >= 0.5 * len(words)


def frustration_score(text: str, compound: float, failed_attempts: int = 0) -> float:
    """Combine sentiment, phrase cues, shouting, punctuation and failed answers into [0, 1]."""
    score = max(0.0, -compound) * 0.5
    score += sum(weight for pattern, weight in _FRUSTRATION_RES if pattern.search(text))
    if shouting(text):
        score += 0.55
    if _REPEATED_MARKS.search(text):
        score += 0.25
    # Each answer that did not help makes the next message more likely to come from a frustrated person.
    score += 0.3 * max(0, failed_attempts)
    return min(1.0, round(score, 4))


def worry_score(text: str) -> float:
    """Score anxious wording in [0, 1]: fear, urgency, something lost or not received."""
    hits = sum(1 for pattern in _WORRY_RES if pattern.search(text))
    return min(1.0, 0.45 * hits)


def feel(text: str, *, failed_attempts: int = 0) -> Feeling:
    """Read the mood of one message, weighing earlier failed answers."""
    compound = float(_analyzer().polarity_scores(_POLITE.sub(" ", text))["compound"])
    frustration = frustration_score(text, compound, failed_attempts)
    mood: Mood
    if frustration >= FRUSTRATED_AT:
        mood = "frustrated"
    elif worry_score(text) >= 0.45:
        mood = "worried"
    elif compound <= NEGATIVE_AT:
        mood = "frustrated"
        frustration = max(frustration, FRUSTRATED_AT)  # keep "frustrated" <=> frustration >= FRUSTRATED_AT
    elif compound >= HAPPY_AT:
        mood = "happy"
    else:
        mood = "neutral"
    return Feeling(mood=mood, compound=round(compound, 4), frustration=frustration)
