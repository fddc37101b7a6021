"""The operator's rules the core follows, given to it by the shell (the core never reads config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class SellingPolicy:
    """Rule 4's contact budget: how often and after what rating an offer may be made."""

    max_offers_per_30d: int = 2
    decline_cooldown: timedelta = timedelta(days=14)
    min_rating: int = 4


@dataclass(frozen=True)
class Roles:
    """Who may run manager and agent commands, by platform-qualified key ("slack:U123")."""

    managers: frozenset[str] = field(default_factory=frozenset)
    agents: frozenset[str] = field(default_factory=frozenset)
    vip: frozenset[str] = field(default_factory=frozenset)

    def is_manager(self, key: str) -> bool:
        return key in self.managers

    def is_agent(self, key: str) -> bool:
        return key in self.agents or key in self.managers


@dataclass(frozen=True)
class Policy:
    """Everything configurable about how the conversation behaves."""

    selling: SellingPolicy = SellingPolicy()
    roles: Roles = Roles()
    followup_after: timedelta = timedelta(days=3)
    idle_close_after: timedelta = timedelta(hours=24)
    redact_personal_data: bool = True
    max_stored_chars: int = 20_000
    max_understood_chars: int = 1_000
    # Platforms with an agent desk configured, in preference order; a ticket goes to its customer's own.
    desk_platforms: tuple[str, ...] = ("console",)
    flood_per_minute: int = 20
