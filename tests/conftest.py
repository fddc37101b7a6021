"""Fixtures: the demo services (trained once per run), real databases, and a chat driver over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.app import Concierge
from handlers.knowledge_loader import demo_knowledge_path, load_knowledge
from handlers.policy import Policy, Roles
from handlers.replies import Templates
from handlers.turn import Services
from handlers.understanding.factory import build_understander
from storage.database import create_engine, session_factory, upgrade
from storage.unit_of_work import SqlUnitOfWork, UnitOfWork, UnitOfWorkFactory
from tests.support.databases import fresh_postgres_database, skip_without_postgres
from tests.support.driver import ChatDriver, StepClock

MANAGER, AGENT = "console:manager", "console:agent"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One understanding-model cache for the whole run, so the demo model trains once."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def demo_services(model_cache: Path) -> Services:
    """The demo knowledge base, its understanding model and the shipped templates."""
    knowledge = load_knowledge(demo_knowledge_path())
    understander = build_understander(knowledge, cache_dir=model_cache)
    roles = Roles(managers=frozenset({MANAGER}), agents=frozenset({AGENT}))
    return Services(knowledge, understander, Templates(seed=7), Policy(roles=roles))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: SQLite always, PostgreSQL when reachable (required in CI)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'concierge.db'}"
        return
    await skip_without_postgres()
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def unit_of_work(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    """A migrated database and a unit-of-work factory over it."""
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)

    def factory() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    yield factory
    await engine.dispose()


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def core(unit_of_work: UnitOfWorkFactory, demo_services: Services, clock: StepClock) -> Concierge:
    return Concierge(unit_of_work, demo_services, clock)


@pytest.fixture
def chat(core: Concierge, clock: StepClock) -> ChatDriver:
    """Talk to the real core over a real database, on both SQLite and PostgreSQL."""
    return ChatDriver(core, clock)
