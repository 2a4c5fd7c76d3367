"""Clustering on the warehouse: a run's fingerprint cache changes how much is computed, never
the clusters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.transforms.test_dedup import STRIKE, STRIKE_FOLLOW_UP, wire_copy
from transforms import dedup
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import ExtractedArticle, FetchLog
from transforms.text import content_hash
from transforms.urls import url_key
from warehouse import load
from warehouse.db import connect
from warehouse.dedup import WarehouseIndex, dedup_pending
from warehouse.migrate import migrate

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _page(i: int, text: str, feed_id: int, publisher_id: int) -> PageResult:
    url = f"https://news.example/story-{i}.html"
    article = ExtractedArticle(
        url=url,
        canonical_url=url,
        title=f"Story {i}",
        text=text,
        language="en",
        published_at=T0 + timedelta(hours=i),
        modified_at=None,
        date_source="jsonld",
        authors=(),
        tags=(),
        word_count=len(text.split()),
        content_hash=content_hash(text),
        extractor_version="t",
    )
    fetch = FetchLog(url=url, kind="page", requested_at=T0, status=200, url_key=url_key(url))
    return PageResult(fetch, article, url_key(url), feed_id, publisher_id)


def load_stories(
    path: Path,
    batches: list[list[str]],
    after_each: Callable[[duckdb.DuckDBPyConnection], object] = lambda con: None,
) -> duckdb.DuckDBPyConnection:
    """A migrated warehouse at ``path`` with one source and run, each batch of texts loaded
    as articles (story-0, story-1, …; ``after_each`` runs after each batch); left open."""
    con = connect(path)
    migrate(con)
    ids = load.register_sources(
        con, [load.SourceRow("News", "news.example", "GB", "en", "https://news.example/feed")]
    )
    feed_id, publisher_id = ids["https://news.example/feed"]
    load.start_run(con, "r", "ingest", T0)
    i = 0
    for texts in batches:
        pages = [_page(i + n, text, feed_id, publisher_id) for n, text in enumerate(texts)]
        i += len(texts)
        load.load_pages(
            con, "r", fetches_frame([p.fetch for p in pages]), article_frames(pages, T0)
        )
        after_each(con)
    return con


def _cluster_rows(
    path: Path, batches: list[list[str]], cache: dedup.FingerprintCache | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    con = load_stories(
        path, batches, lambda con: dedup_pending(con, T0 + timedelta(days=1), cache=cache)
    )
    clusters = con.execute(
        "select a.url, r.url from articles a join articles r on r.article_id = a.cluster_id "
        "order by a.url"
    ).fetchall()
    matches = con.execute(
        "select a.url, o.url from cluster_matches m join articles a using (article_id) "
        "join articles o on o.article_id = m.other_article_id order by 1, 2"
    ).fetchall()
    con.close()
    return clusters, matches


def test_a_run_cache_gives_the_same_clusters_and_saves_reshingling(tmp_path: Path) -> None:
    batches = [
        [STRIKE, STRIKE_FOLLOW_UP],
        [wire_copy(STRIKE, 0.9), wire_copy(STRIKE, 0.8)],
        [wire_copy(STRIKE, 0.7), STRIKE_FOLLOW_UP + "\nMore later."],
    ]
    cache = dedup.FingerprintCache()
    cached = _cluster_rows(tmp_path / "cached.duckdb", batches, cache)
    plain = _cluster_rows(tmp_path / "plain.duckdb", batches, None)
    assert cached == plain
    clusters, matches = cached
    # The wire story and its three copies are one cluster, led by the first.
    led_by_wire = [a for a, rep in clusters if rep.endswith("story-0.html")]
    assert len(led_by_wire) == 4
    assert matches
    # Stored candidates of later batches came from the cache, not from reshingling.
    assert cache.hits > 0
    assert cache.misses == len([t for texts in batches for t in texts])


def test_shared_bands_counts_what_candidates_lists(tmp_path: Path) -> None:
    """The index counts shared bands in SQL; the count must be what the generic path derives
    from ``candidates``, row by row."""
    _cluster_rows(tmp_path / "w.duckdb", [[STRIKE, wire_copy(STRIKE, 0.8), STRIKE_FOLLOW_UP]], None)
    con = connect(tmp_path / "w.duckdb")
    since, until = T0 - timedelta(days=30), T0 + timedelta(days=30)
    index = WarehouseIndex(con, since, until)
    probes = [wire_copy(STRIKE, 0.9), STRIKE_FOLLOW_UP + "\nMore later."]
    keys_of = {}
    for i, print_ in enumerate(dedup.fingerprints(probes)):
        assert print_ is not None
        keys_of[i] = dedup.band_keys(print_[0])
    expected: dict[tuple[int, str], int] = {}
    for key, stored in index.candidates(sorted({k for keys in keys_of.values() for k in keys})):
        for i, keys in keys_of.items():
            if key in keys:
                expected[(i, stored)] = expected.get((i, stored), 0) + keys.count(key)
    counted = {(i, stored): n for i, stored, n in index.shared_bands(keys_of)}
    assert counted == expected
    assert len({i for i, _ in counted}) == 2  # both probes found their stories
    con.close()
