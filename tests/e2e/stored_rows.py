"""Read a bot's SQLite file after (or while) it runs: what it stored, and whether any row still names a user."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# What a customer types in the redaction tests, and the forms that must never be stored or logged.
PERSONAL = "write to ana.smith@example.com or call +44 7700 900123, my card is 4111 1111 1111 1111"
SECRETS_OF_PERSONAL = ("ana.smith@example.com", "7700 900123", "4111 1111 1111 1111")
REDACTED = ("[email]", "[phone]", "[card]")
_POINTERS = ("customer_id", "referrer_id", "referred_id", "referred_by_id")


def message_texts(database: Path) -> list[str]:
    """Every stored message text, oldest first."""
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT text FROM messages ORDER BY id")]


def customer_id(database: Path, key: str) -> int | None:
    """The id of the customer with this platform-qualified key, if stored."""
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT id FROM customers WHERE key = ?", (key,)).fetchone()
    return None if row is None else int(row[0])


def rows_naming(database: Path, user_id: str, customer: int) -> list[str]:
    """`table.column` of every cell that holds the user's platform id or points at their customer row."""
    found = []
    with sqlite3.connect(database) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    names_user = isinstance(value, str) and user_id in value
                    points_at = column in _POINTERS and value == customer
                    if names_user or points_at:
                        found.append(f"{table}.{column}")
    return found
