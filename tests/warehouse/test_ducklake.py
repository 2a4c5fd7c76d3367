"""The ``ducklake`` backend: the same migrations, loads and views on a DuckLake whose catalog
is a real PostgreSQL database (a fresh one per test, see ``new_lake`` in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.warehouse.test_dedup import _page as story_page
from tests.warehouse.test_load import T0, _page
from transforms.frames import article_frames, entries_frame, fetches_frame
from transforms.records import FeedEntry, FetchLog
from warehouse import load
from warehouse.db import WarehouseError, connect, is_lake
from warehouse.dedup import dedup_pending
from warehouse.migrate import apply_views, available_migrations, lake_sql, migrate

FEED = "https://news.example/feed"


@pytest.fixture
def lake(new_lake: str, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(new_lake, data_path=str(tmp_path / "lake") + "/")
    migrate(con)
    return con


def test_lake_sql_leaves_out_what_ducklake_lacks() -> None:
    for migration in available_migrations():
        sql = lake_sql(migration.sql).lower()
        assert "primary key" not in sql
        assert "sequence" not in sql
        assert "nextval" not in sql
        assert " unique" not in sql
    initial = lake_sql(available_migrations()[0].sql)
    assert "first_seen_run varchar,\n    last_seen_run varchar\n);" in initial


def test_migrations_apply_once_with_the_files_checksums(
    new_lake: str, tmp_path: Path, lake: duckdb.DuckDBPyConnection
) -> None:
    assert is_lake(lake)
    ledger = dict(lake.execute("select name, checksum from schema_migrations").fetchall())
    assert ledger == {m.name: m.checksum for m in available_migrations()}
    assert migrate(lake) == []
    lake.close()
    # A second process attaches the same lake (its data path is stored in the catalog).
    again = connect(new_lake)
    assert migrate(again) == []
    assert again.execute("select count(*) from schema_migrations").fetchone() == (
        len(available_migrations()),
    )
    views = apply_views(again)
    for view in views:
        again.execute(f"select * from {view}").fetchall()
    reader = connect(new_lake, read_only=True)
    assert reader.execute("select count(*) from articles").fetchone() == (0,)
    with pytest.raises(duckdb.Error):
        reader.execute("insert into tags (tag_id, name) values (1, 'x')")


def _entry(guid: str, url: str) -> FeedEntry:
    return FeedEntry(guid=guid, url=url, title=guid, published_at=T0)


def test_loads_are_idempotent(lake: duckdb.DuckDBPyConnection) -> None:
    ids = load.register_sources(lake, [load.SourceRow("News", "news.example", "GB", "en", FEED)])
    assert (
        load.register_sources(lake, [load.SourceRow("News", "news.example", "GB", "en", FEED)])
        == ids
    )
    feed_id, publisher_id = ids[FEED]
    assert (feed_id, publisher_id) == (1, 1)
    assert lake.execute("select count(*) from feed_state").fetchone() == (1,)

    entries = entries_frame(feed_id, [_entry("a", "https://news.example/a.html")])
    fetch = fetches_frame([FetchLog(url=FEED, kind="feed", requested_at=T0, status=200)])
    empty_states = load.FEED_STATE_SCHEMA
    import polars as pl

    states = pl.DataFrame(schema=empty_states)
    assert load.load_feed_batch(lake, "run-1", fetch, entries, states) == 1
    assert load.load_feed_batch(lake, "run-1", fetch, entries, states) == 0
    assert lake.execute("select count(*) from entries").fetchone() == (1,)

    page = _page("one text of some words", feed_id, publisher_id, ("Ann", "Bob"))
    for expected_new in (1, 0):
        counts = load.load_pages(
            lake, "run-1", fetches_frame([page.fetch]), article_frames([page], T0)
        )
        assert counts.new == expected_new
        dedup_pending(lake, T0)
    assert lake.execute("select count(*) from articles").fetchone() == (1,)
    assert lake.execute("select count(*) from article_versions").fetchone() == (1,)
    assert lake.execute("select count(*) from authors").fetchone() == (2,)
    assert lake.execute("select count(*) from article_authors").fetchone() == (2,)
    assert lake.execute("select count(*) from tags").fetchone() == (1,)
    assert lake.execute("select count(*) from article_signatures").fetchone() == (1,)
    assert lake.execute("select count(*), count(distinct fetch_id) from fetches").fetchone() == (
        4,
        4,
    )
    edited = _page("another text entirely now", feed_id, publisher_id, ("Ann",))
    counts = load.load_pages(
        lake, "run-2", fetches_frame([edited.fetch]), article_frames([edited], T0)
    )
    assert counts.updated == 1
    assert lake.execute("select max(version), count(*) from articles").fetchone() == (2, 1)
    assert lake.execute("select count(*) from article_authors").fetchone() == (1,)
    # The views query the lake like the file.
    assert lake.execute("select count(*) from articles_clean").fetchone() == (1,)
    assert lake.execute("select count(*) from daily_volume").fetchone() is not None


def test_a_lake_without_a_catalog_says_so(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="cannot open the DuckLake"):
        connect("ducklake:postgres:host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2")


def _search_json(lake_target: str, query: str) -> tuple[list[dict[str, object]], str]:
    """`newsdesk search --format json` on the lake: the hits, and what it said on stderr."""
    import json

    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["search", query, "--db", lake_target, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("[") :]), result.stderr


def test_search_on_a_lake_keeps_a_stored_index(
    new_lake: str, lake: duckdb.DuckDBPyConnection
) -> None:
    """The search index is plain tables, which a lake holds like any other: refreshed one
    changed article at a time, and `newsdesk search` reads it (a temporary index only for
    what a refresh has not indexed yet)."""
    from warehouse.search import index_status, refresh_search_index

    feed_id, publisher_id = load.register_sources(
        lake, [load.SourceRow("News", "news.example", "GB", "en", FEED)]
    )[FEED]
    ferries = _page(
        "Ferries to the outer islands resume after the winter storms closed the harbour",
        feed_id,
        publisher_id,
    )
    first = [
        ferries,
        story_page(2, "Council approves the new harbour budget", feed_id, publisher_id),
        story_page(3, "Storm warning for the coast tonight", feed_id, publisher_id),
    ]
    load.load_pages(
        lake, "run-1", fetches_frame([p.fetch for p in first]), article_frames(first, T0)
    )
    assert index_status(lake).state == "missing"
    hits, said = _search_json(new_lake, "ferry")  # nothing indexed yet: all on the fly
    assert [hit["url"] for hit in hits] == [ferries.fetch.url]
    assert "Ferries" in hits[0]["snippet"] and "temporary index" in said

    assert refresh_search_index(lake) is True
    assert index_status(lake).fresh
    assert refresh_search_index(lake) is False
    # A new article, and the first one edited: only those two are indexed.
    pages = [
        story_page(1, "A zeppelin circled the harbour on Sunday", feed_id, publisher_id),
        _page("Ferries to the islands are cancelled again", feed_id, publisher_id),
    ]
    load.load_pages(
        lake, "run-2", fetches_frame([p.fetch for p in pages]), article_frames(pages, T0)
    )
    status = index_status(lake)
    assert (status.state, status.pending, status.outdated) == ("stale", 2, 1)
    assert refresh_search_index(lake) is True
    assert lake.execute(
        "select indexed, dropped, full_rebuild, documents from search_index_state"
    ).fetchone() == (2, 1, False, 4)
    assert lake.execute("select count(distinct article_id) from search_postings").fetchone() == (4,)
    lake.close()
    hits, said = _search_json(new_lake, "ferries cancelled")
    assert [hit["url"] for hit in hits] == [ferries.fetch.url] and "temporary index" not in said
    assert "cancelled" in str(hits[0]["snippet"])
    hits, _ = _search_json(new_lake, "zeppelin")
    assert [hit["url"] for hit in hits] == [pages[0].fetch.url]
    hits, _ = _search_json(new_lake, "winter outer")  # the edit replaced those words
    assert hits == []


def test_workers_starting_on_a_new_lake_at_once_all_open_it(new_lake: str, tmp_path: Path) -> None:
    """Each creates the lake's catalog tables; PostgreSQL lets one through and the others retry
    the ATTACH, then find the catalog made (and the migrations applied, or apply them)."""
    import threading

    barrier = threading.Barrier(4)
    problems: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            con = connect(new_lake, data_path=str(tmp_path / "lake") + "/")
            try:
                migrate(con)
            finally:
                con.close()
        except BaseException as exc:  # reported below
            problems.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert problems == []
    con = connect(new_lake, read_only=True)
    try:
        ledger = con.execute("select count(*) from schema_migrations").fetchone()
        assert ledger == (len(available_migrations()),)
    finally:
        con.close()


def test_a_lake_on_an_object_store_keeps_its_parquet_there(
    new_lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data files on S3: a real S3 API on loopback (moto's server), credentials from the usual
    AWS variables, the httpfs extension from its PyPI package."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "newsdesk-test",
            "AWS_SECRET_ACCESS_KEY": "newsdesk-test-secret",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
        }.items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="newsdesk-lake")

        con = connect(new_lake, data_path="s3://newsdesk-lake/warehouse/")
        migrate(con)
        ids = load.register_sources(con, [load.SourceRow("News", "news.example", "GB", "en", FEED)])
        feed_id, publisher_id = ids[FEED]
        # More rows than DuckLake inlines into its catalog: these go to Parquet files.
        pages = [
            story_page(
                i, f"Port strike day {i} halts container traffic. " * 20, feed_id, publisher_id
            )
            for i in range(60)
        ]
        load.load_pages(
            con, "run-1", fetches_frame([p.fetch for p in pages]), article_frames(pages, T0)
        )
        con.close()

        keys = [
            item["Key"] for item in s3.list_objects_v2(Bucket="newsdesk-lake").get("Contents", [])
        ]
        assert any(k.startswith("warehouse/") and k.endswith(".parquet") for k in keys), keys
        # Another connection (another worker) reads the articles back from the store.
        again = connect(new_lake)
        assert again.execute("select count(*) from articles").fetchone() == (60,)
        again.close()
    finally:
        server.stop()
