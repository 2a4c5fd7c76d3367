"""Numbered, forward-only SQL migrations with a ledger, and views rebuilt from one file each.

``migrations/NNN_name.sql`` files are applied in order, each in one transaction together with its
ledger row (name, SHA-256 checksum, applied_at). An applied file whose checksum changed, or a
ledger row whose file is gone, stops everything: the database and the code disagree about the
schema and only a person can decide which one is right.

**On a DuckLake** the same files are applied, through :func:`lake_sql`: DuckLake has no
sequences, primary keys, UNIQUE constraints or indexes, so those are left out (ids are then
given by the loads, uniqueness kept by serialized writes: see :mod:`warehouse.db`). The ledger
records the file's own checksum on both backends. Several workers may migrate one lake at once:
a migration that conflicts with another worker's is retried, and then finds itself applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb

from warehouse.db import (
    WRITE_TOKEN,
    WarehouseError,
    is_lake,
    retry_conflicts,
    retry_conflicts_creating_token,
)

__all__ = [
    "Migration",
    "MigrationError",
    "apply_views",
    "available_migrations",
    "lake_sql",
    "migrate",
]

LEDGER = "schema_migrations"


class MigrationError(WarehouseError):
    """The ledger and the migration files disagree."""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def _sql_files(folder: str) -> list[Traversable]:
    root = resources.files("warehouse").joinpath(folder)
    return sorted((f for f in root.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)


def available_migrations() -> list[Migration]:
    migrations = [
        Migration(f.name, f.read_text(encoding="utf-8")) for f in _sql_files("migrations")
    ]
    numbers = [m.name.split("_", 1)[0] for m in migrations]
    if len(set(numbers)) != len(numbers) or not all(n.isdigit() for n in numbers):
        raise MigrationError(f"migration files must have unique numeric prefixes: {numbers}")
    return migrations


_SEQUENCE = re.compile(r"^\s*create sequence [^;]*;[^\n]*\n", re.IGNORECASE | re.MULTILINE)
_TABLE_KEY = re.compile(r"^\s*(primary key|unique)\s*\([^)]*\)[^\n]*\n", re.IGNORECASE | re.M)
_COLUMN_KEY = re.compile(
    r"\s+(primary key|unique|default nextval\('[^']*'\))(?=[\s,])", re.IGNORECASE
)
_DANGLING_COMMA = re.compile(r",([ \t]*(--[^\n]*)?\n\s*\))")


def lake_sql(sql: str) -> str:
    """A migration as DuckLake takes it: without sequences, keys and UNIQUE constraints."""
    sql = _SEQUENCE.sub("", sql)
    sql = _TABLE_KEY.sub("", sql)
    sql = _COLUMN_KEY.sub("", sql)
    return _DANGLING_COMMA.sub(r"\1", sql)


def _ledger(con: duckdb.DuckDBPyConnection, lake: bool) -> None:
    """The ledger (and on a lake the write token), created by the first worker to get there."""
    key = "" if lake else " primary key"
    con.execute(
        f"create table if not exists {LEDGER} ("
        f" name varchar{key}, checksum varchar not null, applied_at timestamptz not null)"
    )
    if lake:
        con.execute(f"create table if not exists {WRITE_TOKEN} (generation bigint not null)")
        con.execute(
            f"insert into {WRITE_TOKEN} select 0 where not exists (select 1 from {WRITE_TOKEN})"
        )


@retry_conflicts_creating_token
def _create_lake_ledger(con: duckdb.DuckDBPyConnection) -> None:
    _ledger(con, lake=True)


def _bootstrap_lake(con: duckdb.DuckDBPyConnection) -> None:
    """The ledger and write token of a lake, in one transaction retried on conflicts (two
    workers creating them at once)."""
    try:
        _create_lake_ledger(con)
    except (duckdb.Error, WarehouseError) as exc:
        raise MigrationError(f"cannot create the lake's ledger: {exc}") from exc


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations, then rebuild the views. Returns the names applied now."""
    lake = is_lake(con)
    if lake:
        _bootstrap_lake(con)
    else:
        _ledger(con, lake)
    done = [name for name in _pending(con, lake) if _apply(con, name, lake)]
    retry_conflicts(apply_views)(con)
    return done


def _pending(con: duckdb.DuckDBPyConnection, lake: bool) -> list[str]:
    applied = dict(con.execute(f"select name, checksum from {LEDGER}").fetchall())
    known = available_migrations()
    known_names = {m.name for m in known}
    missing = sorted(set(applied) - known_names)
    if missing:
        raise MigrationError(
            f"the warehouse has migrations this code does not know: {missing}; "
            "it was written by a newer newsdesk — upgrade newsdesk or use another --db"
        )
    pending: list[str] = []
    for migration in known:
        if migration.name in applied:
            if applied[migration.name] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.name} was edited after it was applied "
                    "(checksum differs); add a new migration instead of editing an applied one"
                )
            continue
        pending.append(migration.name)
    return pending


@retry_conflicts
def _apply_one(con: duckdb.DuckDBPyConnection, migration: Migration, lake: bool) -> bool:
    """Apply one migration with its ledger row; False when another worker just did."""
    if lake:
        row = con.execute(f"select count(*) from {LEDGER} where name = ?", [migration.name])
        found = row.fetchone()
        if found and found[0]:
            return False
    con.execute(lake_sql(migration.sql) if lake else migration.sql)
    con.execute(f"insert into {LEDGER} values (?, ?, now())", [migration.name, migration.checksum])
    return True


def _apply(con: duckdb.DuckDBPyConnection, name: str, lake: bool) -> bool:
    migration = next(m for m in available_migrations() if m.name == name)
    try:
        return _apply_one(con, migration, lake)
    except duckdb.Error as exc:
        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc


_COLUMN_COMMENT = re.compile(r"^comment on column [^;]*;[^\n]*\n?", re.IGNORECASE | re.MULTILINE)


def apply_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create every view from ``views/NAME.sql`` (file name = view name). A lake takes no
    comments on a view's columns: there they are left out (the view's own comment stays)."""
    lake = is_lake(con)
    names = []
    for file in _sql_files("views"):
        sql = file.read_text(encoding="utf-8")
        con.execute(_COLUMN_COMMENT.sub("", sql) if lake else sql)
        names.append(file.name.removesuffix(".sql"))
    return names
