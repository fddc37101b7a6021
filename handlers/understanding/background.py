"""Generic off-topic phrases added to every knowledge base's `oos` class.

A classifier trained only on a KB's intents must pick one of them for anything it reads; without
negatives, "what's the weather in paris" lands on whichever intent shares "what's the". These
phrases (chit-chat, trivia, other assistants' jobs) teach it what "none of these" looks like.
A phrase with half or more of its content words in the KB's own examples is dropped, so a KB that
does answer weather questions keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

BACKGROUND = (
    "what's the weather like today", "will it rain tomorrow in london", "what's the temperature outside",
    "tell me a joke", "tell me something funny", "sing me a song", "do you like pizza",
    "what is your favourite colour", "are you a robot", "what's the meaning of life", "how old are you",
    "who is the president of the united states", "what is the capital of australia",
    "how tall is mount everest", "who wrote romeo and juliet", "when did world war two end",
    "how many planets are in the solar system", "what's 17 times 23", "what is the square root of 144",
    "convert 10 miles to kilometres", "how do you say thank you in japanese", "translate good morning into german",
    "set an alarm for 6am", "set a timer for ten minutes", "remind me to call mom", "add milk to my shopping list",
    "play some relaxing music", "turn up the volume", "what's on tv tonight", "recommend a good movie",
    "who won the football match last night", "what's the score of the basketball game",
    "what's a good recipe for lasagna", "how long do i boil an egg", "how many calories are in a banana",
    "book a table for two at an italian restaurant", "find me a cheap flight to paris",
    "book a hotel in new york", "call me an uber", "how's the traffic on the highway",
    "what is the stock price of apple", "how much is a bitcoin worth", "what's the exchange rate to yen",
    "how do i fix a leaking tap", "how do i change a car tyre", "what should i name my dog",
    "how do i get rid of a headache", "what are the symptoms of flu", "how do i learn to play guitar",
    "write me a poem about the sea", "what's your name", "good night", "i'm bored",
    "what time is it in tokyo", "what day is it today", "when is the next full moon",
    "how far away is the moon", "why is the sky blue", "how do magnets work", "who painted the mona lisa",
    "what is the population of china", "what language do they speak in brazil",
    "how do i reset my router", "what's the best smartphone to buy", "how do i lose weight fast",
    "can you help me with my homework", "solve this equation for x", "what's the plural of moose",
    "spell necessary", "define the word serendipity", "give me a fun fact", "flip a coin", "roll a dice",
    "what's my horoscope for today", "are aliens real", "do you dream", "where is the nearest petrol station",
    "how do i apply for a passport", "when is the next bank holiday", "what's the news today",
)  # fmt: skip

_WORD = re.compile(r"[a-z]{3,}")


def _content_words(text: str) -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    # A crude stem (drop a plural s) is enough to match "tyre"/"tyres", "holiday"/"holidays".
    return {w.removesuffix("s") for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS}


def background_for(examples: Sequence[str]) -> list[str]:
    """Return the background phrases whose content words are mostly absent from the KB's examples."""
    taken: set[str] = set()
    for example in examples:
        taken |= _content_words(example)
    kept = []
    for phrase in BACKGROUND:
        words = _content_words(phrase)
        if len(words & taken) * 2 < max(1, len(words)):
            kept.append(phrase)
    return kept
