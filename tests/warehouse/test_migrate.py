from pathlib import Path

import pytest

from warehouse.db import WarehouseError, connect
from warehouse.migrate import MigrationError, available_migrations, migrate


def test_migrate_applies_all_then_nothing(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    applied = migrate(con)
    assert applied == [m.name for m in available_migrations()]
    assert migrate(con) == []
    ledger = con.execute("select name, checksum from schema_migrations order by name").fetchall()
    assert [(m.name, m.checksum) for m in available_migrations()] == ledger
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    expected = {
        "publishers",
        "feeds",
        "feed_state",
        "fetches",
        "entries",
        "articles",
        "article_versions",
        "authors",
        "article_authors",
        "tags",
        "article_tags",
        "runs",
        "feed_overview",
    }
    assert expected <= tables


def test_edited_migration_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    first = available_migrations()[0].name
    con.execute("update schema_migrations set checksum = 'edited' where name = ?", [first])
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrate(con)


def test_unknown_applied_migration_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    con.execute("insert into schema_migrations values ('999_future.sql', 'x', now())")
    with pytest.raises(MigrationError, match="newer newsdesk"):
        migrate(con)


def test_failed_migration_leaves_no_partial_schema(tmp_path: Path) -> None:
    # A file that is not a database cannot be opened: a clear error, not a crash.
    bogus = tmp_path / "not-a-db.duckdb"
    bogus.write_bytes(b"this is not duckdb" * 100)
    with pytest.raises(WarehouseError):
        connect(bogus)


def test_read_only_connect_of_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="newsdesk ingest"):
        connect(tmp_path / "missing.duckdb", read_only=True)
