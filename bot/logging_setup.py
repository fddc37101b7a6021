"""Logging to stderr, with personal data and known secrets scrubbed from every record."""

from __future__ import annotations

import logging
import sys

from handlers.redaction import RedactingFilter


def configure_logging(*, verbose: bool, secrets: list[str]) -> None:
    """Send logs to stderr (stdout belongs to the console channel) through the redacting filter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
