"""Fixtures for the Slack adapter tests: a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    # The shared fakes live in tests/fakes, which is not an installed package.
    sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import FakeSlack  # noqa: E402


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="session")
def understanding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for every bot process of the session, so only the first start trains."""
    return tmp_path_factory.mktemp("understanding-cache")
