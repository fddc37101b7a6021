"""Logging to stderr, with personal data and known secrets scrubbed from every record."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from handlers.redaction import RedactingFilter


def configure_logging(*, verbose: bool, secrets: list[str]) -> RedactingFilter:
    """Send logs to stderr (stdout belongs to the console channel) through the redacting filter."""
    scrubber = RedactingFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(scrubber)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    _scrub_uncaught(scrubber)
    return scrubber


def _scrub_uncaught(scrubber: RedactingFilter) -> None:
    """Print an uncaught exception's traceback with the secrets and personal data scrubbed out."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(scrubber.scrub(text))

    sys.excepthook = hook
