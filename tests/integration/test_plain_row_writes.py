"""The tables written by plain UPDATEs (storage/rows.py) have nothing the ORM or the database would add.

A plain UPDATE of the changed columns skips the ORM's `onupdate` values and version counters, and its
order among a turn's other writes only stays harmless while no UPDATE trigger reacts to it. A schema change
that adds any of these to those tables must change storage/rows.py too: these checks say so.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text

from storage.database import create_engine, upgrade
from storage.rows import UPDATED_DIRECTLY, table_of

UPDATE_TRIGGER = re.compile(r"\b(BEFORE|AFTER|INSTEAD\s+OF)\s+UPDATE\b", re.IGNORECASE)


def test_plainly_updated_tables_have_no_values_computed_on_update() -> None:
    for model in UPDATED_DIRECTLY:
        assert inspect(model).version_id_col is None, model.__name__
        for column in table_of(model).columns:
            assert column.onupdate is None and column.server_onupdate is None, f"{model.__name__}.{column.key}"


async def test_plainly_updated_tables_have_no_update_triggers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    try:
        await upgrade(engine)
        names = tuple(table_of(model).name for model in UPDATED_DIRECTLY)
        query = text("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'")
        async with engine.connect() as connection:
            triggers = (await connection.execute(query)).all()
        on_update = [(table, name) for table, name, sql in triggers if UPDATE_TRIGGER.search(sql)]
        # Sanity: the stats facts keep UPDATE triggers on other tables, so the search does find them.
        assert on_update
        assert [(table, name) for table, name in on_update if table in names] == []
    finally:
        await engine.dispose()
