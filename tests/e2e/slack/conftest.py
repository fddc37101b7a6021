"""Fixtures for the Slack adapter tests: a fake Slack Web API on 127.0.0.1 and one model cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="session")
def understanding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for every bot process of the session, so only the first start trains."""
    return tmp_path_factory.mktemp("understanding-cache")
