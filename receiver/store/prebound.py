"""Inserts whose rows are turned into driver values before the write transaction.

Why: SQLAlchemy binds each row of an `executemany` inside `Connection.execute`, column by
column (JSON documents serialised, datetimes converted), so for a notification of 100
alerts most of the insert's time goes to binding, and on SQLite it is spent holding the
database's single write lock while the other workers wait. Binding needs nothing from the
transaction: here it is done beforehand, by the same bind processors SQLAlchemy would use
for the dialect (so every backend stores exactly what a plain insert stores), and inside
the transaction the driver only gets the bound rows, with the few values that are known
only there (an incident's new id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy.engine import Dialect

# Types whose values `bind` remembers by (type, value): equal values of one of these types
# bind alike. A UTC datetime too (an aware one in another zone can equal a different instant
# across a DST fold); anything else by identity.
_BY_VALUE = frozenset({str, int, type(None)})
_UNSEEN = object()


def _memo_key(value: Any) -> object:
    kind = type(value)
    if kind in _BY_VALUE or (kind is datetime and value.tzinfo is UTC):
        return (kind, value)
    return id(value)  # an int, never equal to the tuples above


@dataclass(frozen=True)
class _Compiled:
    """The insert for one dialect: its SQL, and each bound column's processor."""

    sql: str
    positional: bool  # the driver takes tuples (SQLite's qmark), else dicts
    order: tuple[str, ...]  # every column in the statement, in the driver's order
    processors: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # the early columns


class PreboundInsert:
    """An INSERT of every column of `table` but its primary key: the `late` columns are given
    at `execute` (inside the transaction), the others are bound earlier by `bind`."""

    def __init__(self, table: Table, *, late: Sequence[str]) -> None:
        self._columns = tuple(column for column in table.columns if not column.primary_key)
        names = {column.name for column in self._columns}
        if not set(late) <= names:
            raise ValueError(f"late columns {sorted(set(late) - names)} are not in {table.name}")
        self._table = table
        self._late = tuple(late)
        self._compiled: dict[str, _Compiled] = {}

    def bind(self, dialect: Dialect, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """Each row's early columns as the driver takes them (the row has every one of them).

        A value met again in the same column is bound once: the rows of one notification
        share many (its time in every row, one rule's evidence in every alert it graded).
        Text, whole numbers and UTC times are recognised by value, anything else by identity
        (every row is alive for the whole call, so no identity is reused).
        """
        compiled = self._for(dialect)
        memos: list[dict[Any, Any]] = [{} for _ in compiled.processors]
        bound: list[list[Any]] = []
        for row in rows:
            values = []
            for (name, process), memo in zip(compiled.processors, memos, strict=True):
                value = row[name]
                if process is not None:
                    key = _memo_key(value)
                    done = memo.get(key, _UNSEEN)
                    if done is _UNSEEN:
                        done = memo[key] = process(value)
                    value = done
                values.append(value)
            bound.append(values)
        return bound

    def execute(
        self, connection: Connection, bound: Sequence[list[Any]], late: Sequence[Sequence[Any]]
    ) -> None:
        """Insert the `bound` rows, each with its `late` values (in the order given at init)."""
        if not bound:
            return
        compiled = self._for(connection.dialect)
        early = [name for name, _process in compiled.processors]
        names = [*self._late, *early]
        pairs = zip(late, bound, strict=True)
        rows: list[Any]
        if not compiled.positional:
            rows = [dict(zip(names, (*values, *row), strict=True)) for values, row in pairs]
        elif compiled.order == tuple(names):  # the late columns first in the table, as usual
            rows = [(*values, *row) for values, row in pairs]
        else:
            position = [names.index(name) for name in compiled.order]
            rows = [tuple([(*values, *row)[i] for i in position]) for values, row in pairs]
        connection.exec_driver_sql(compiled.sql, rows)

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = insert(self._table).values(
                {column.name: bindparam(column.name) for column in self._columns}
            )
            done = statement.compile(dialect=dialect)
            order = tuple(done.positiontup or ()) if done.positional else ()
            processors = tuple(
                (column.name, column.type.dialect_impl(dialect).bind_processor(dialect))
                for column in self._columns
                if column.name not in self._late
            )
            compiled = _Compiled(done.string, done.positional, order, processors)
            self._compiled[dialect.name] = compiled
        return compiled
