from pathlib import Path

import pytest

from warehouse.db import KEYLESS_TABLES, WarehouseError, connect
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


def test_keyless_tables_are_the_ones_upsert_treats_as_keyless(tmp_path: Path) -> None:
    # upsert picks ON CONFLICT or its keyless form from KEYLESS_TABLES: the set must name
    # exactly the (base) tables that the migrations leave without a key or index.
    con = connect(tmp_path / "w.duckdb")
    migrate(con)
    keyed = {
        r[0]
        for r in con.execute(
            "select distinct table_name from duckdb_constraints()"
            " where constraint_type in ('PRIMARY KEY', 'UNIQUE')"
        ).fetchall()
    }
    indexed = {r[0] for r in con.execute("select table_name from duckdb_indexes()").fetchall()}
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert tables >= KEYLESS_TABLES
    assert not KEYLESS_TABLES & (keyed | indexed)
    # What still has a key is small (sources, runs, leases, ...), never a per-article table.
    assert not {t for t in tables - keyed if t.startswith("article")} - KEYLESS_TABLES


def test_migration_012_keeps_the_rows_and_defaults_of_the_tables_it_rebuilds(
    tmp_path: Path,
) -> None:
    con = connect(tmp_path / "w.duckdb")
    before = [m for m in available_migrations() if m.name < "012"]
    for m in before:
        con.execute("begin")
        con.execute(m.sql)
        con.execute("commit")
    con.execute(
        "insert into articles (url_key, canonical_url, url, title, text, first_seen_at,"
        " last_seen_at, content_hash, html_lang) values"
        " ('k1', 'https://a.example/1', 'https://a.example/1', 'One', 'Text one.', now(), now(),"
        " 'h1', 'en')"
    )
    con.execute(
        "insert into links (article_id, url, anchor_text, kind)"
        " values (1, 'https://a.example/2', 'Two', 'related')"
    )
    (rebuild,) = [m for m in available_migrations() if m.name.startswith("012")]
    con.execute(rebuild.sql)
    assert con.execute(
        "select article_id, url_key, version, html_lang from articles"
    ).fetchall() == [(1, "k1", 1, "en")]
    assert con.execute("select * from links").fetchall() == [
        (1, "https://a.example/2", "Two", "related")
    ]
    # The sequence still numbers new rows after the copied ones.
    con.execute(
        "insert into articles (url_key, canonical_url, url, text, first_seen_at, last_seen_at,"
        " content_hash) values ('k2', 'u', 'u', 't', now(), now(), 'h2')"
    )
    assert con.execute("select max(article_id) from articles").fetchone() == (2,)


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
