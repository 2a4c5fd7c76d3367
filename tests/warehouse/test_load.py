from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from transforms.frames import PageResult, article_frames, entries_frame, fetches_frame
from transforms.records import ExtractedArticle, FeedEntry, FetchLog
from transforms.text import content_hash
from transforms.urls import url_key
from warehouse import load
from warehouse.db import connect
from warehouse.migrate import migrate

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
URL = "https://news.example/a.html"


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(tmp_path / "w.duckdb")
    migrate(connection)
    return connection


def _source(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    ids = load.register_sources(
        con, [load.SourceRow("News", "news.example", "GB", "en", "https://news.example/feed")]
    )
    return ids["https://news.example/feed"]


def _page(text: str, feed_id: int, publisher_id: int, authors: tuple[str, ...] = ()) -> PageResult:
    article = ExtractedArticle(
        url=URL,
        canonical_url=URL,
        title="A",
        text=text,
        language="en",
        published_at=T0,
        modified_at=None,
        date_source="jsonld",
        authors=authors,
        tags=("x",),
        word_count=len(text.split()),
        content_hash=content_hash(text),
        extractor_version="t",
    )
    fetch = FetchLog(url=URL, kind="page", requested_at=T0, status=200, url_key=url_key(URL))
    return PageResult(fetch, article, url_key(URL), feed_id, publisher_id)


def _load(con: duckdb.DuckDBPyConnection, pages: list[PageResult]) -> load.PageLoadCounts:
    return load.load_pages(
        con, "run-1", fetches_frame([p.fetch for p in pages]), article_frames(pages, T0)
    )


def test_register_sources_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    first = _source(con)
    assert _source(con) == first
    assert con.execute("select count(*) from feeds").fetchone() == (1,)
    assert con.execute("select count(*) from feed_state").fetchone() == (1,)


def test_same_page_twice_is_unchanged_and_new_text_is_a_version(
    con: duckdb.DuckDBPyConnection,
) -> None:
    feed_id, publisher_id = _source(con)
    assert _load(con, [_page("first text here", feed_id, publisher_id, ("Ann",))]).new == 1
    again = _load(con, [_page("first text here", feed_id, publisher_id, ("Ann",))])
    assert (again.new, again.unchanged) == (0, 1)
    edited = _load(con, [_page("second text now", feed_id, publisher_id, ("Bob",))])
    assert edited.updated == 1
    assert con.execute(
        "select count(*), max(version), any_value(text) from articles"
    ).fetchone() == (1, 2, "second text now")
    versions = con.execute("select version, text from article_versions order by version").fetchall()
    assert versions == [(1, "first text here"), (2, "second text now")]
    names = con.execute("select name from article_authors join authors using (author_id)")
    assert names.fetchall() == [("Bob",)]
    assert con.execute("select count(*) from fetches").fetchone() == (3,)


def test_pages_to_fetch_new_updated_and_transient_retry(con: duckdb.DuckDBPyConnection) -> None:
    feed_id, publisher_id = _source(con)
    entry = FeedEntry(guid="g1", url=URL, title="A", updated_at=T0)
    candidates = entries_frame(feed_id, [entry]).with_columns(
        pl.lit(publisher_id, dtype=pl.Int32()).alias("publisher_id")
    )
    assert load.pages_to_fetch(con, candidates)["reason"].to_list() == ["new"]
    load.load_feed_batch(
        con, "run-1", fetches_frame([]), candidates.drop("publisher_id"), pl.DataFrame()
    )
    _load(con, [_page("text", feed_id, publisher_id)])
    assert load.pages_to_fetch(con, candidates).is_empty()  # known, not updated
    later = FeedEntry(guid="g1", url=URL, title="A", updated_at=datetime(2026, 11, 21, tzinfo=UTC))
    edited = entries_frame(feed_id, [later]).with_columns(
        pl.lit(publisher_id, dtype=pl.Int32()).alias("publisher_id")
    )
    assert load.pages_to_fetch(con, edited)["reason"].to_list() == ["updated"]

    # A page that failed transiently is retried on a later run even when its feed is 304...
    other = "https://news.example/b.html"
    entry_b = FeedEntry(guid="g2", url=other)
    frame_b = entries_frame(feed_id, [entry_b])
    load.load_feed_batch(con, "run-1", fetches_frame([]), frame_b, pl.DataFrame())
    failure = FetchLog(
        url=other,
        kind="page",
        requested_at=T0,
        status=503,
        error_class="http_5xx",
        url_key=url_key(other),
    )
    load.load_pages(con, "run-1", fetches_frame([failure]), article_frames([], T0))
    empty = entries_frame(0, []).with_columns(pl.lit(None, dtype=pl.Int32()).alias("publisher_id"))
    assert load.pages_to_fetch(con, empty)["reason"].to_list() == ["retry"]
    # ...but a permanent failure (404) is not.
    gone = FetchLog(
        url=other,
        kind="page",
        requested_at=T0,
        status=404,
        error_class="http_4xx",
        url_key=url_key(other),
    )
    load.load_pages(con, "run-1", fetches_frame([gone]), article_frames([], T0))
    assert load.pages_to_fetch(con, empty).is_empty()


def test_run_rows(con: duckdb.DuckDBPyConnection) -> None:
    load.start_run(con, "r", "ingest", T0)
    load.finish_run(con, "r", T0, "completed", {"articles_new": 3})
    assert con.execute("select status, articles_new from runs").fetchone() == ("completed", 3)
    with pytest.raises(ValueError, match="unknown run counters"):
        load.finish_run(con, "r", T0, "completed", {"bogus": 1})


def test_dedup_window_survives_extreme_dates(con: duckdb.DuckDBPyConnection) -> None:
    from warehouse.dedup import dedup_pending

    feed_id, publisher_id = _source(con)
    page = _page("word " * 80, feed_id, publisher_id)
    oldest = PageResult(
        page.fetch,
        replace(page.article, published_at=datetime(1, 1, 1, tzinfo=UTC)),  # type: ignore[arg-type]
        page.url_key,
        feed_id,
        publisher_id,
    )
    _load(con, [oldest])
    counts = dedup_pending(con, T0)
    assert counts.clustered == 1
