"""Fixtures for the Discord end-to-end tests: a fake Discord and `concierge run discord` as a subprocess."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    # The shared fakes live in tests/fakes, which is not an installed package.
    sys.path.insert(0, str(ROOT))

from tests.e2e.discord.harness import Bot  # noqa: E402
from tests.fakes.discord_fake import FakeDiscord  # noqa: E402


@pytest.fixture(scope="session")
def understanding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("understanding-cache")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, tmp_path: Path, understanding_cache: Path) -> AsyncIterator[Bot]:
    runner = Bot(fake, tmp_path, understanding_cache)
    await runner.start()
    try:
        yield runner
    finally:
        with contextlib.suppress(ProcessLookupError):
            await runner.stop()
        assert "fake-token" not in runner.log_text()
