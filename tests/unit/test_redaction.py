"""Personal data never reaches storage or logs; order numbers, prices and dates stay readable."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from handlers.redaction import RedactingFilter, redact


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5500 0000 0000 0004",
        "3782 822463 10005",
    ],
)
def test_real_card_numbers_are_redacted(card: str) -> None:
    assert redact(f"my card is {card}, thanks") == "my card is [card], thanks"


def test_a_16_digit_number_failing_luhn_is_kept() -> None:
    text = "reference 1234 5678 9012 3456 and 1234567890123456"
    assert redact(text) == text


def test_card_next_to_an_order_number_is_found() -> None:
    assert redact("order 12345 4111 1111 1111 1111") == "order 12345 [card]"


@pytest.mark.parametrize("email", ["jo@example.com", "jo.bloggs+bikes@mail.example.co.uk", "A_B@x.io"])
def test_emails_are_redacted(email: str) -> None:
    assert redact(f"write to {email}.") == "write to [email]."


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "0044 20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "07700900123",
        "(555) 123-4567",
        "555-123-4567",
        "617.555.1234",
        "+1 555 123 4567",
        "06 12 34 56 78",
        "555 1234",
    ],
)
def test_phone_numbers_are_redacted(phone: str) -> None:
    assert redact(f"call me on {phone} after 5") == "call me on [phone] after 5"


@pytest.mark.parametrize(
    "iban", ["GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "DE89 3704 0044 0532 0130 00"]
)
def test_ibans_are_redacted(iban: str) -> None:
    assert redact(f"refund to {iban} please") == "refund to [iban] please"


def test_lowercase_iban_followed_by_a_word_is_redacted_without_the_word() -> None:
    assert redact("gb82 west 1234 5698 7654 32 than you") == "[iban] than you"


def test_iban_shaped_code_failing_mod_97_is_kept() -> None:
    assert redact("voucher GB83 WEST ABCD EFGH IJKL") == "voucher GB83 WEST ABCD EFGH IJKL"


@pytest.mark.parametrize(
    "text",
    [
        "where is order #10234?",
        "order 10234 placed on 2024-05-01 at 10:30",
        "it was £1,299.00, or 1299.00 with the charger",
        "delivered 01.05.2024",
        "order #1023-4567 is late",
        "order 10234 15 km from the shop",
        "I have 3 bikes, 2 batteries and error 503",
        "warranty 2019-2024",
        "frame number WBK123456789",
        "ranked 1 2 3 4 5 6 7",
    ],
)
def test_order_numbers_prices_and_dates_are_kept(text: str) -> None:
    assert redact(text) == text


def test_message_with_everything() -> None:
    text = "Order #10234 (£89.99): call 07700 900123, mail jo@example.com, card 4111 1111 1111 1111"
    assert redact(text) == "Order #10234 (£89.99): call [phone], mail [email], card [card]"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["xoxb-123-secret-token", "", "hunter2hunter2"]))
    logger = logging.getLogger("test_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_filter_scrubs_secrets_and_personal_data_in_formatted_args(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("token %s for %s", "xoxb-123-secret-token", "jo@example.com")
    assert stream.getvalue() == "token [secret] for [email]\n"


def test_filter_scrubs_tracebacks(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    try:
        raise RuntimeError("auth failed with hunter2hunter2 for 07700 900123")
    except RuntimeError:
        logger.exception("slack call failed")
    output = stream.getvalue()
    assert "hunter2hunter2" not in output and "07700" not in output
    assert "RuntimeError: auth failed with [secret] for [phone]" in output
