"""The audit log: who used privileged access (stats, exports, erasures, the desk), and who was refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.models import AuditEntry
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

MAX_DETAIL_TEXT = 200


async def record(uow: UnitOfWork, actor_key: str, action: str, detail: dict[str, Any] | None = None,
                 *, now: datetime | None = None) -> None:
    """Stage an audit entry in the caller's unit of work; it is written with the caller's commit."""
    await uow.audit.add(AuditEntry(
        actor_key=actor_key[:200], action=action[:40], detail=_short(detail or {}), created_at=now or datetime.now(UTC),
    ))


def _short(detail: dict[str, Any]) -> dict[str, Any]:
    """Keep the detail small: long strings are cut, so no message text is copied into the log whole."""
    return {key: value[:MAX_DETAIL_TEXT] if isinstance(value, str) else value for key, value in detail.items()}


async def record_alone(unit_of_work: UnitOfWorkFactory, actor_key: str, action: str,
                       detail: dict[str, Any] | None = None, *, now: datetime | None = None) -> None:
    """Write one audit entry in its own transaction (for refusals, which change nothing else)."""
    async with unit_of_work() as uow:
        await record(uow, actor_key, action, detail, now=now)
        await uow.commit()
