"""Leases partition the work of concurrent ingest runs: claim, skip, release, expiry, orphaned
pages; on a DuckDB file and on a DuckLake (``new_lake``: skipped without PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.warehouse.test_load import T0
from transforms.frames import article_frames, entries_frame, fetches_frame
from transforms.records import FeedEntry, FetchLog
from transforms.urls import url_key
from warehouse import load
from warehouse.db import connect
from warehouse.migrate import migrate

FEEDS = ("https://one.example/feed", "https://two.example/feed")
SHARED = "https://wire.example/story.html"
LEASE_S = 600.0


@pytest.fixture(params=["duckdb", "ducklake"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return str(tmp_path / "w.duckdb")
    lake: str = request.getfixturevalue("new_lake")
    return lake


@pytest.fixture
def con(target: str, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(target, data_path=str(tmp_path / "lake") + "/")
    migrate(connection)
    yield connection
    connection.close()


def _feeds(con: duckdb.DuckDBPyConnection) -> list[int]:
    ids = load.register_sources(
        con, [load.SourceRow(url.split("/")[2], None, None, None, url) for url in FEEDS]
    )
    return sorted(feed_id for feed_id, _ in ids.values())


def _claimed(claim: load.FeedClaim) -> list[int]:
    return [d.feed_id for d in claim.due]


def test_feed_leases_claim_skip_release_and_expire(con: duckdb.DuckDBPyConnection) -> None:
    feed_ids = _feeds(con)
    for run in ("a", "b", "c"):
        load.start_run(con, run, "ingest", T0)
    first = load.claim_due_feeds(con, "a", feed_ids, T0, LEASE_S)
    assert (_claimed(first), first.leased_elsewhere) == (feed_ids, 0)
    # Another live run skips them, and counts them; the holder may claim them again.
    second = load.claim_due_feeds(con, "b", feed_ids, T0, LEASE_S, all_feeds=True)
    assert (_claimed(second), second.leased_elsewhere) == ([], 2)
    assert _claimed(load.claim_due_feeds(con, "a", feed_ids, T0, LEASE_S)) == feed_ids
    # Renewed while the holder loads batches: still held after the first lease would end.
    load.renew_leases(con, "a", T0 + timedelta(seconds=2 * LEASE_S))
    later = T0 + timedelta(seconds=LEASE_S + 1)
    assert load.claim_due_feeds(con, "b", feed_ids, later, LEASE_S).leased_elsewhere == 2
    # A finished run holds nothing.
    load.finish_run(con, "a", later, "completed", {})
    assert con.execute("select count(*) from feed_leases where run_id = 'a'").fetchone() == (0,)
    third = load.claim_due_feeds(con, "b", feed_ids, later, LEASE_S)
    assert (_claimed(third), third.leased_elsewhere) == (feed_ids, 0)
    # A killed run (still `running`, never finished): its claims lapse after lease_s.
    assert load.claim_due_feeds(con, "c", feed_ids, later, LEASE_S).leased_elsewhere == 2
    expired = later + timedelta(seconds=LEASE_S + 1)
    assert _claimed(load.claim_due_feeds(con, "c", feed_ids, expired, LEASE_S)) == feed_ids
    # A failed run's claims end at once, expired or not.
    load.start_run(con, "d", "ingest", expired)
    load.fail_run(con, "c", RuntimeError("boom"))
    assert _claimed(load.claim_due_feeds(con, "d", feed_ids, expired, LEASE_S)) == feed_ids


def _candidates(feed_id: int, publisher_id: int, urls: list[str]) -> pl.DataFrame:
    entries = [FeedEntry(guid=url, url=url, title=url) for url in urls]
    return entries_frame(feed_id, entries).with_columns(
        pl.lit(publisher_id, dtype=pl.Int32()).alias("publisher_id")
    )


def _batch(
    con: duckdb.DuckDBPyConnection, run: str, candidates: pl.DataFrame, now: datetime = T0
) -> load.FeedBatch:
    return load.load_feed_batch_claiming(
        con,
        run,
        fetches_frame([]),
        candidates,
        pl.DataFrame(schema=load.FEED_STATE_SCHEMA),
        find_pages=True,
        now=now,
        lease_s=LEASE_S,
    )


def test_page_leases_and_orphaned_pages(con: duckdb.DuckDBPyConnection) -> None:
    ids = load.register_sources(
        con, [load.SourceRow("Wire", None, None, None, url) for url in FEEDS]
    )
    (one, publisher_id), (two, _) = ids[FEEDS[0]], ids[FEEDS[1]]
    own = "https://wire.example/only-one.html"
    for run in ("a", "b", "c"):
        load.start_run(con, run, "ingest", T0)
    # Two sources list the same article: the first run to store its batch claims the page.
    first = _batch(con, "a", _candidates(one, publisher_id, [SHARED, own]))
    assert first.pages is not None and sorted(first.pages["url"]) == sorted([SHARED, own])
    second = _batch(con, "b", _candidates(two, publisher_id, [SHARED]))
    assert second.pages is not None and second.pages.is_empty()
    assert (second.entries_new, second.pages_leased_elsewhere) == (1, 1)
    # Run a fetched one page and failed before the other: the fetched one is forgotten, the
    # other is orphaned, and the next run takes it although no feed lists it again.
    fetched = FetchLog(
        url=own,
        kind="page",
        requested_at=T0,
        status=503,
        error_class="http_5xx",
        url_key=url_key(own),
    )
    load.load_pages(con, "a", fetches_frame([fetched]), article_frames([], T0))
    load.fail_run(con, "a", RuntimeError("killed"))
    left = con.execute("select url_key, run_id from page_leases").fetchall()
    assert left == [(url_key(SHARED), "a")]
    empty = _candidates(one, publisher_id, [])
    third = _batch(con, "c", empty)
    assert third.pages is not None
    assert sorted(zip(third.pages["url"], third.pages["reason"], strict=True)) == [
        (own, "retry"),
        (SHARED, "orphaned"),
    ]
    assert con.execute(
        "select run_id from page_leases where url_key = ?", [url_key(SHARED)]
    ).fetchone() == ("c",)


def test_concurrent_claims_on_a_lake_have_one_winner(new_lake: str, tmp_path: Path) -> None:
    """Two workers claiming the same feeds at the same moment: the write token makes one of
    them retry, and the retry sees the other's leases."""
    setup = connect(new_lake, data_path=str(tmp_path / "lake") + "/")
    migrate(setup)
    feed_ids = _feeds(setup)
    for run in ("a", "b"):
        load.start_run(setup, run, "ingest", T0)
    setup.close()
    barrier = threading.Barrier(2)
    claims: dict[str, load.FeedClaim] = {}

    def worker(run: str) -> None:
        con = connect(new_lake)
        try:
            barrier.wait()
            claims[run] = load.claim_due_feeds(con, run, feed_ids, T0, LEASE_S)
        finally:
            con.close()

    threads = [threading.Thread(target=worker, args=(run,)) for run in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    got = sorted((len(c.due), c.leased_elsewhere) for c in claims.values())
    assert got == [(0, 2), (2, 0)]


def test_backfill_chunks_are_split_between_runs_of_one_job(
    con: duckdb.DuckDBPyConnection,
) -> None:
    from warehouse.backfill import (
        ChunkCounts,
        ChunkPlan,
        claim_chunks,
        finish_chunk,
        open_job,
        renew_chunk_leases,
    )

    for run in ("a", "b", "c"):
        load.start_run(con, run, "backfill", T0)
    plans = [ChunkPlan(f"2026-01-0{i}") for i in range(1, 5)]

    def job(run: str) -> list[int]:
        chunks = open_job(
            con,
            "job-1",
            via="warc",
            target="/data",
            since=None,
            until=None,
            unit="file",
            plans=plans,
            run_id=run,
            now=T0,
        )
        return [c.index for c in chunks]

    indexes = job("a")
    assert len(indexes) == 4
    # Run a takes two chunks at a time (the lowest free ones), b asks for all of them.
    assert claim_chunks(con, "job-1", indexes, "a", T0, LEASE_S, limit=2) == set(indexes[:2])
    assert claim_chunks(con, "job-1", job("b"), "b", T0, LEASE_S) == set(indexes[2:])
    # a finishes one chunk and renews; c gets nothing while a and b are alive.
    finish_chunk(con, "job-1", indexes[0], ChunkCounts(), "a", T0)
    later = T0 + timedelta(seconds=LEASE_S / 2)
    renew_chunk_leases(con, "job-1", "a", later + timedelta(seconds=LEASE_S))
    assert claim_chunks(con, "job-1", indexes, "c", later, LEASE_S) == set()
    # b dies (its lease runs out), a finishes its run: c takes every chunk not done.
    expired = T0 + timedelta(seconds=LEASE_S + 1)
    load.finish_run(con, "a", expired, "completed", {})
    assert claim_chunks(con, "job-1", indexes, "c", expired, LEASE_S) == set(indexes[1:])
    held = con.execute(
        "select chunk_index, claimed_by from backfill_chunks order by chunk_index"
    ).fetchall()
    assert held == [(indexes[0], "a"), *((i, "c") for i in indexes[1:])]


def test_a_run_whose_process_is_gone_gives_its_work_back_at_once(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A worker killed on this host: the next run finds its pid gone, marks it failed and
    takes its feeds without waiting for the lease to expire. A live holder keeps them."""
    import socket
    import subprocess
    import sys

    feed_ids = _feeds(con)
    load.start_run(con, "killed", "ingest", T0)
    load.start_run(con, "alive", "ingest", T0)
    load.start_run(con, "next", "ingest", T0)
    assert _claimed(load.claim_due_feeds(con, "killed", feed_ids[:1], T0, LEASE_S)) == feed_ids[:1]
    assert _claimed(load.claim_due_feeds(con, "alive", feed_ids[1:], T0, LEASE_S)) == feed_ids[1:]
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    con.execute(
        "update runs set pid = ?, host = ? where run_id = 'killed'",
        [int(gone.stdout), socket.gethostname()],
    )
    # "alive" is this test's own process: started here, pid alive.
    soon = T0 + timedelta(seconds=1)
    claim = load.claim_due_feeds(con, "next", feed_ids, soon, LEASE_S)
    assert (_claimed(claim), claim.leased_elsewhere) == (feed_ids[:1], 1)
    status, error = con.execute(
        "select status, error from runs where run_id = 'killed'"
    ).fetchone() or (None, None)
    assert status == "failed" and "ended without finishing" in error
    assert con.execute("select status from runs where run_id = 'alive'").fetchone() == ("running",)
