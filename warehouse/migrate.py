"""Numbered, forward-only SQL migrations with a ledger, and views rebuilt from one file each.

``migrations/NNN_name.sql`` files are applied in order, each in one transaction together with its
ledger row (name, SHA-256 checksum, applied_at). An applied file whose checksum changed, or a
ledger row whose file is gone, stops everything: the database and the code disagree about the
schema and only a person can decide which one is right.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb

from warehouse.db import WarehouseError

__all__ = ["Migration", "MigrationError", "apply_views", "available_migrations", "migrate"]

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


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations, then rebuild the views. Returns the names applied now."""
    con.execute(
        f"create table if not exists {LEDGER} ("
        " name varchar primary key, checksum varchar not null, applied_at timestamptz not null)"
    )
    applied = dict(con.execute(f"select name, checksum from {LEDGER}").fetchall())
    known = available_migrations()
    known_names = {m.name for m in known}
    missing = sorted(set(applied) - known_names)
    if missing:
        raise MigrationError(
            f"the warehouse has migrations this code does not know: {missing}; "
            "it was written by a newer newsdesk — upgrade newsdesk or use another --db"
        )
    done: list[str] = []
    for migration in known:
        if migration.name in applied:
            if applied[migration.name] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.name} was edited after it was applied "
                    "(checksum differs); add a new migration instead of editing an applied one"
                )
            continue
        con.execute("begin transaction")
        try:
            con.execute(migration.sql)
            con.execute(
                f"insert into {LEDGER} values (?, ?, now())",
                [migration.name, migration.checksum],
            )
            con.execute("commit")
        except duckdb.Error as exc:
            con.execute("rollback")
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        done.append(migration.name)
    apply_views(con)
    return done


def apply_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create every view from ``views/NAME.sql`` (file name = view name)."""
    names = []
    for file in _sql_files("views"):
        con.execute(file.read_text(encoding="utf-8"))
        names.append(file.name.removesuffix(".sql"))
    return names
