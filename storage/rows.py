"""Write rows with plain INSERT and UPDATE statements, and keep the session's view of them in step.

The ORM's flush works out what changed, orders the writes and runs them; for the few rows a turn
writes, that bookkeeping cost more than the statements themselves. `RowWritingSession` writes, before
each flush, every new row (one INSERT each, in the order they were added, so a row's parent is written
first) and every changed row of the tables without UPDATE triggers (one UPDATE of the changed columns;
on PostgreSQL all of them in one statement). The session then holds these rows as if just loaded from
the database, so the ORM's flush finds nothing left to write but deletions and the other tables' changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TypeVar

from sqlalchemy import Column, Table, bindparam, event, func, insert, inspect, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from storage.models import Base, Conversation, Customer, Need

Row = TypeVar("Row", bound=Base)
# Tables without UPDATE triggers, so their UPDATEs may run before or after any other write of a flush.
UPDATED_DIRECTLY = frozenset({Customer, Conversation, Need})


def table_of(model: type[Base]) -> Table:
    """The model's table; its columns are named as the model's attributes."""
    return Base.metadata.tables[model.__tablename__]


def row_values(row: Base, table: Table) -> dict[str, Any]:
    """The values the ORM would write for a new row: as set on the row, else each column's plain default."""
    present = vars(row)
    return {key: present[key] if key in present else (default(None) if is_factory else default)
            for key, default, is_factory in _defaults(table)}


@cache
def _defaults(table: Table) -> tuple[tuple[str, Any, bool], ...]:
    """Each column's key, its default, and whether the default is a factory (`dict`, `list`) to call."""
    defaults: list[tuple[str, Any, bool]] = []
    for column in table.columns:
        default = column.default
        if isinstance(default, CallableColumnDefault):
            defaults.append((column.key, default.arg, True))  # a fresh `dict()` or `list()` each time, as the ORM
        else:
            plain = default.arg if isinstance(default, ScalarElementColumnDefault) else None
            defaults.append((column.key, plain, False))
    return tuple(defaults)


async def insert_row(session: AsyncSession, row: Row) -> Row:
    """Insert one new row now (its generated key read back) and keep it in the session as loaded."""
    await session.run_sync(_insert_now, row)
    return row


class RowWritingSession(Session):
    """A Session whose flushes write new rows and simple changes with plain statements (see the module)."""


def write_rows(session: Session) -> None:
    """Write the new rows and the simple tables' changed rows now; a flush after this finds them written."""
    for row in sorted(session.new, key=lambda new: inspect(new).insert_order or 0):
        session.expunge(row)
        _insert_now(session, row)
    _update_changed_rows(session)


@event.listens_for(RowWritingSession, "before_flush")
def _write_rows_before_flush(session: Session, _context: object, _objects: object) -> None:
    write_rows(session)


def _insert_now(session: Session, row: Base) -> None:
    table = table_of(type(row))
    values = row_values(row, table)
    generated = tuple(column for column in table.primary_key.columns if values[column.key] is None)
    for column in generated:
        del values[column.key]
    result = session.connection().execute(_insert_returning(table, generated), values)
    if generated:
        values.update(zip((column.key for column in generated), result.one(), strict=True))
    # Straight into the instance's attributes, as a load does: the next line marks them all as loaded anyway.
    vars(row).update(values)
    make_transient_to_detached(row)
    session.add(row)


def _update_changed_rows(session: Session) -> None:
    """Write each changed row of the simple tables with an UPDATE of its changed columns."""
    rows, changes = _changes(session)
    if changes:
        connection = session.connection()
        counts: Sequence[int]
        if connection.dialect.name == "postgresql" and len(changes) > 1:
            counts = connection.execute(_updates_together(tuple(change.shape for change in changes)),
                                        _parameters(changes)).one()
        else:
            counts = [connection.execute(_update_by_key(*change.shape), _parameters([change])).rowcount
                      for change in changes]
        _check(changes, counts)
    _mark_written(session, rows)


def insert_rows(session: Session, table: Table, values: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows in one multi-row INSERT … RETURNING; their generated keys, in order.

    On PostgreSQL the changed rows' UPDATEs go in the same statement (WITH queries): the end of a turn,
    its messages and its changed records, is one round trip before the COMMIT.
    """
    connection = session.connection()
    rows, changes = _changes(session) if connection.dialect.name == "postgresql" else ([], [])
    if not changes:
        return sorted(connection.execute(_insert_returning_keys(table), values).scalars())
    statement = _insert_with_updates(table, tuple(values[0]), len(values), tuple(change.shape for change in changes))
    parameters = _parameters(changes)
    for n, row in enumerate(values):
        parameters.update({f"m{n}_{key}": value for key, value in row.items()})
    returned = connection.execute(statement, parameters).all()
    _check(changes, returned[0][1:])
    _mark_written(session, rows)
    return sorted(row[0] for row in returned)


def _changes(session: Session) -> tuple[list[Base], list[_Change]]:
    """The changed rows of the simple tables, and the UPDATE each needs (none if nothing really changed)."""
    rows = [row for row in session.dirty if type(row) in UPDATED_DIRECTLY and row not in session.deleted]
    changes: list[_Change] = []
    for row in rows:
        state = inspect(row)
        changed = {key: state.dict[key] for key, before in state.committed_state.items()
                   if key in state.dict and (before is NO_VALUE or before != state.dict[key])}
        if changed:
            table = table_of(type(row))
            (key_column,) = table.primary_key.columns
            changes.append(_Change(table, key_column, state.dict[key_column.key], changed))
    return rows, changes


def _check(changes: Sequence[_Change], counts: Sequence[int]) -> None:
    for change, count in zip(changes, counts, strict=True):
        if count != 1:  # as the flush does: the row is gone (deleted by someone else)
            raise StaleDataError(f"UPDATE of {change.table.name} {change.key} matched no row")


def _mark_written(session: Session, rows: Sequence[Base]) -> None:
    for row in rows:
        state = inspect(row)
        # What the flush itself does for a row it wrote (public make_transient + re-add cost 4% of a turn more).
        state._commit_all(state.dict, session.identity_map)


@dataclass(frozen=True)
class _Change:
    """One row's UPDATE: its table, key and the columns that changed with their new values."""

    table: Table
    key_column: Column[Any]
    key: Any
    values: dict[str, Any]

    @property
    def shape(self) -> tuple[Table, Column[Any], tuple[str, ...]]:
        """What the statement depends on (not the values), so statements are built once per shape."""
        return self.table, self.key_column, tuple(sorted(self.values))


def _parameters(changes: Sequence[_Change]) -> dict[str, Any]:
    """Bind values for the changes' UPDATEs, the n-th change's named with the prefix u<n>_."""
    parameters: dict[str, Any] = {}
    for n, change in enumerate(changes):
        parameters[f"u{n}_row_key"] = change.key
        parameters.update({f"u{n}_new_{key}": value for key, value in change.values.items()})
    return parameters


@cache
def _insert_returning(table: Table, generated: tuple[Column[Any], ...]) -> Any:
    """The INSERT of one row returning its generated keys, built once per table."""
    return insert(table).returning(*generated) if generated else insert(table)


@cache
def _insert_returning_keys(table: Table) -> Any:
    """The INSERT of rows returning their keys, built once per table: a new one each turn cost its cache key."""
    return insert(table).returning(*table.primary_key.columns)


@cache
def _update_by_key(table: Table, key_column: Column[Any], keys: Sequence[str], prefix: str = "u0_") -> Any:
    """The UPDATE of some columns of one row by its key, built once per table and set of columns."""
    return update(table).where(key_column == bindparam(f"{prefix}row_key")).values(
        {key: bindparam(f"{prefix}new_{key}") for key in keys}
    )


def _update_ctes(shapes: tuple[tuple[Table, Column[Any], tuple[str, ...]], ...]) -> list[Any]:
    """The UPDATEs as WITH queries u0, u1, …, each returning the key of the row it changed."""
    return [_update_by_key(*shape, prefix=f"u{n}_").returning(shape[1]).cte(f"u{n}") for n, shape in enumerate(shapes)]


@cache
def _updates_together(shapes: tuple[tuple[Table, Column[Any], tuple[str, ...]], ...]) -> Any:
    """One PostgreSQL statement running several UPDATEs as WITH queries; it returns each one's row count."""
    updates = _update_ctes(shapes)
    return select(*(select(func.count()).select_from(update).scalar_subquery() for update in updates))


@lru_cache(maxsize=256)
def _insert_with_updates(table: Table, keys: tuple[str, ...], count: int,
                         shapes: tuple[tuple[Table, Column[Any], tuple[str, ...]], ...]) -> Any:
    """One PostgreSQL INSERT of `count` rows with UPDATEs as WITH queries; each returned row: key, row counts."""
    updates = _update_ctes(shapes)
    # INSERT … SELECT of one SELECT per row (UNION ALL), not a multi-row VALUES: SQLAlchemy does not cache
    # the SQL of a multi-row VALUES, and compiling it every turn cost more than the round trip it saves.
    rows = [select(*(bindparam(f"m{n}_{key}", type_=table.c[key].type).label(key) for key in keys))
            for n in range(count)]
    statement = insert(table).from_select(keys, union_all(*rows) if count > 1 else rows[0])
    for written in updates:
        statement = statement.add_cte(written)
    counts = (select(func.count()).select_from(written).scalar_subquery() for written in updates)
    return statement.returning(*table.primary_key.columns, *counts)
