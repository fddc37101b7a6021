"""Fixed phrases the bot recognises by rule, before any model: yes/no, greetings, a person, opt-out.

These carry the customer's rights (a person, no more offers), so they must never depend on a model's
confidence.
"""

from __future__ import annotations

import re

_YES = re.compile(
    r"^\s*(y|yes|yeah|yep|yup|sure|ok(ay)?|it did|that worked|it worked|works( now)?|solved|"
    r"perfect|great|all good|correct|absolutely|indeed)\b[\s!.,]*(thanks?( you)?|cheers)?[\s!.]*$",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\s*(n|no|nope|nah|not really|it didn'?t|didn'?t work|not (yet|quite|at all)|still (not|broken)|"
    r"negative)\b[\s!.,]*",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings)\b[\s!.,]*(there)?[\s!.]*$",
    re.IGNORECASE,
)
_THANKS = re.compile(r"^\s*(thanks|thank you|thx|cheers|ty)\b[\s\w!.]{0,20}$", re.IGNORECASE)
_PERSON = re.compile(
    r"\b(talk|speak|chat)\s+(to|with)\s+(a|an|some|the)?\s*(real\s+|actual\s+|live\s+)?"
    r"(person|human|agent|someone|somebody|representative|manager|operator)\b"
    r"|\b(real|actual|live)\s+(person|human|agent)\b|\bhuman please\b|\bget me (a )?(person|human|agent)\b",
    re.IGNORECASE,
)
_OPT_OUT = re.compile(
    r"\b(stop|no more|don'?t send( me)?|stop sending( me)?|unsubscribe( me)?( from)?)\s+(the\s+|any\s+)?"
    r"(offers|promotions|marketing|suggestions|sales)\b|^\s*unsubscribe\s*$",
    re.IGNORECASE,
)
_RATING = re.compile(r"^\s*([1-5])\s*(/\s*5|stars?|out of 5)?\s*[.!]?\s*$", re.IGNORECASE)
_REFERRAL_CODE = re.compile(r"\bREF-[A-Z0-9]{6}\b", re.IGNORECASE)
_EXPORT = re.compile(r"\b(send|give|show|export)\s+(me\s+)?(all\s+)?(my|the)\s+data\b", re.IGNORECASE)
_FORGET = re.compile(r"\b(delete|erase|forget|remove)\s+(all\s+)?(my|about me|me)(\s+data)?\b", re.IGNORECASE)


def is_yes(text: str) -> bool:
    """Tell whether the text is a plain yes."""
    return bool(_YES.match(text))


def is_no(text: str) -> bool:
    """Tell whether the text starts with a plain no."""
    return bool(_NO.match(text)) and not is_yes(text)


def is_greeting(text: str) -> bool:
    """Tell whether the text is only a greeting."""
    return bool(_GREETING.match(text))


def is_thanks(text: str) -> bool:
    """Tell whether the text is only thanks."""
    return bool(_THANKS.match(text))


def asks_for_person(text: str) -> bool:
    """Tell whether the customer asks for a human."""
    return bool(_PERSON.search(text))


def opts_out(text: str) -> bool:
    """Tell whether the customer asks for no more offers."""
    return bool(_OPT_OUT.search(text))


def rating_in(text: str) -> int | None:
    """Return the score if the text is just a rating from 1 to 5."""
    match = _RATING.match(text)
    return int(match.group(1)) if match else None


def referral_code_in(text: str) -> str | None:
    """Return a referral code mentioned in the text, upper-cased."""
    match = _REFERRAL_CODE.search(text)
    return match.group(0).upper() if match else None


def asks_for_export(text: str) -> bool:
    """Tell whether the customer asks for a copy of their data."""
    return bool(_EXPORT.search(text))


def asks_to_forget(text: str) -> bool:
    """Tell whether the customer asks for their data to be erased."""
    return bool(_FORGET.search(text))
