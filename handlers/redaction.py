"""Remove personal data (emails, phones, card numbers, IBANs) from text before it is stored or logged."""

from __future__ import annotations

import logging
import re

EMAIL, PHONE, CARD, IBAN, SECRET = "[email]", "[phone]", "[card]", "[iban]", "[secret]"

_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Four-character groups with an optional space, as banks print them; validated by mod-97 afterwards.
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
# Digit groups joined by single spaces or dashes; a card is a Luhn-valid run of whole groups.
_DIGIT_RUN_RE = re.compile(r"(?<![\w#])\d+(?:[ -]\d+)*")
_GROUP_RE = re.compile(r"\d+")
# Digit groups joined by 1-3 separator characters; separators are never digits, so matching stays linear.
_PHONE_RUN_RE = re.compile(r"(?<![\w#+(])[+(]?\d+(?:[ .()-]{1,3}\d+)*\)?")
_DATE_SHAPES = ((4, 2, 2), (4, 1, 1), (2, 2, 4), (1, 2, 4), (2, 1, 4), (1, 1, 4))


def redact(text: str) -> str:
    """Replace emails, IBANs, card numbers and phone numbers in `text` with placeholders."""
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _IBAN_RE.sub(_iban, text)
    text = _DIGIT_RUN_RE.sub(_cards, text)
    return _PHONE_RUN_RE.sub(_phone, text)


class RedactingFilter(logging.Filter):
    """Scrub personal data and known secrets from log records before any handler sees them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first so a secret that contains another is replaced whole.
        known = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, known))) if known else None

    def scrub(self, text: str) -> str:
        """Return `text` with secrets and personal data replaced."""
        if self._secrets is not None:
            text = self._secrets.sub(SECRET, text)
        return redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so formatting the traceback here is what gets it scrubbed.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def _iban(match: re.Match[str]) -> str:
    found = match.group()
    # The regex is greedy and case-blind, so a word after the IBAN may be swept in: try shorter cuts.
    cuts = [len(found), *(i for i in range(len(found) - 1, 0, -1) if found[i] == " ")]
    for cut in cuts:
        if _valid_iban(found[:cut]):
            return IBAN + found[cut:]
    return found


def _valid_iban(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[2:4].isdigit() or not 2 <= int(compact[2:4]) <= 98:
        return False
    rotated = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rotated)) % 97 == 1


def _cards(match: re.Match[str]) -> str:
    run = match.group()
    groups = list(_GROUP_RE.finditer(run))
    pieces: list[str] = []
    kept_until = 0
    start = 0
    while start < len(groups):
        end = _longest_card(groups, start)
        if end is None:
            start += 1
            continue
        pieces += [run[kept_until : groups[start].start()], CARD]
        kept_until = groups[end - 1].end()
        start = end
    return "".join(pieces) + run[kept_until:]


def _longest_card(groups: list[re.Match[str]], start: int) -> int | None:
    """Return the end (exclusive) of the longest Luhn-valid 13-19 digit span of groups from `start`."""
    best = None
    digits = ""
    for end in range(start, len(groups)):
        group = groups[end].group()
        digits += group
        # Cards are written in groups of 3+ digits; stopping at "1 2 3" also keeps long junk runs cheap.
        if len(digits) > 19 or len(group) < 3:
            break
        if len(digits) >= 13 and _luhn(digits):
            best = end + 1
    return best


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    groups = _GROUP_RE.findall(found)
    digits = sum(map(len, groups))
    if not 7 <= digits <= 15:
        return found
    if found.startswith(("+", "00")):
        return PHONE
    if len(groups) == 1:
        # A bare run is an order or reference number, unless it starts with a trunk "0" like 07700900123.
        return PHONE if found.startswith("0") and digits >= 10 else found
    shape = [len(group) for group in groups]
    if max(shape) < 3:
        # Only pairs like "06 12 34 56 78" (French style) are phones; "1 2 3 4 5 6 7" is a list.
        return PHONE if len(groups) >= 4 and found.lstrip("(").startswith("0") else found
    if len(groups) == 2 and min(shape) < 3:
        return found  # more often "order 10234 15 km" than a phone
    return found if _looks_like_dates_or_address(found, groups) else PHONE


def _looks_like_dates_or_address(found: str, groups: list[str]) -> bool:
    separators = set(_GROUP_RE.split(found)[1:-1])
    shape = tuple(map(len, groups))
    if len(separators) != 1:
        return False
    if shape in _DATE_SHAPES:
        return True
    if shape == (4, 4) and all(g.startswith(("19", "20")) for g in groups):
        return True  # a span of years, "2019-2024"
    return separators == {"."} and len(groups) == 4 and max(shape) <= 3  # an IP address
