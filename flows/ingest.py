"""The ``ingest`` flow: feeds → entries → pages → clean articles → DuckDB.

Work is batched per host (one Prefect task fetches all due feeds of a host; page tasks take up to
``page_batch_size`` pages of one host), so Prefect's per-task cost stays small and each host sees
one polite client at a time. Only the flow's own thread touches the warehouse, and it opens the
file for each batch's short transaction, so readers are not locked out for the whole run.
"""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run

from flows import progress
from flows.http import Fetcher, HttpResult
from flows.settings import Settings
from flows.sources import Publisher, adhoc_sources, load_sources, source_rows
from transforms.extract import extract_article
from transforms.feeds import parse_feed
from transforms.frames import PageResult, article_frames, entries_frame, fetches_frame
from transforms.records import Dropped, ExtractedArticle, FetchLog, ParsedFeed
from transforms.urls import host_of
from warehouse import load
from warehouse.db import connect
from warehouse.migrate import migrate

__all__ = ["FeedJob", "FeedOutcome", "PageJob", "ingest", "open_warehouse"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
# How long the flow waits for a reader (e.g. `newsdesk sql`) to let go of the file.
WRITE_WAIT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class FeedJob:
    feed_id: int
    publisher_id: int
    url: str
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    job: FeedJob
    fetch: FetchLog
    parsed: ParsedFeed | None


@dataclass(frozen=True, slots=True)
class PageJob:
    url: str
    url_key: str
    feed_id: int | None
    publisher_id: int | None
    feed_published_at: datetime | None
    feed_title: str | None


def _fetch_log(result: HttpResult, kind: str, **overrides: Any) -> FetchLog:
    """The fetch row for ``result``; ``overrides`` set or replace fields (e.g. a parse error)."""
    fields: dict[str, Any] = {
        "url": result.url,
        "kind": kind,
        "requested_at": result.requested_at,
        "final_url": result.final_url,
        "status": result.status,
        "bytes": len(result.body),
        "elapsed_ms": result.elapsed_ms,
        "content_type": result.content_type,
        "error_class": result.error_class,
        "error": result.error,
        "etag": result.headers.get("etag"),
        "last_modified": result.headers.get("last-modified"),
    }
    return FetchLog(**(fields | overrides))


def fetch_feed(fetcher: Fetcher, job: FeedJob) -> FeedOutcome:
    """Fetch and parse one feed; every outcome, good or bad, is a value."""
    result = fetcher.get(
        job.url, etag=job.etag, last_modified=job.last_modified, accept=FEED_ACCEPT
    )
    if result.error_class or result.not_modified:
        return FeedOutcome(job, _fetch_log(result, "feed", feed_id=job.feed_id), None)
    parsed = parse_feed(result.body, result.final_url or job.url, result.content_type)
    fetch = _fetch_log(
        result,
        "feed",
        feed_id=job.feed_id,
        charset=parsed.encoding,
        error_class=parsed.error_class,
        error=parsed.error,
    )
    return FeedOutcome(job, fetch, parsed)


@task(name="fetch-feeds", task_run_name="fetch-feeds-{host}", cache_policy=NO_CACHE)
def fetch_feeds(host: str, jobs: list[FeedJob], settings: Settings) -> list[FeedOutcome]:
    """All due feeds of one host, one after another."""
    logger = get_run_logger()
    outcomes = []
    with Fetcher(settings) as fetcher:
        for job in jobs:
            try:
                outcome = fetch_feed(fetcher, job)
            except Exception as exc:  # a bug must not take the host's other feeds down
                logger.exception("feed %s: unexpected error", job.url)
                outcome = FeedOutcome(
                    job,
                    FetchLog(
                        url=job.url,
                        kind="feed",
                        requested_at=datetime.now(UTC),
                        feed_id=job.feed_id,
                        error_class="internal",
                        error=f"{type(exc).__name__}: {exc}",
                    ),
                    None,
                )
            if outcome.fetch.error_class:
                logger.warning(
                    "feed %s: %s: %s", job.url, outcome.fetch.error_class, outcome.fetch.error
                )
            outcomes.append(outcome)
            progress.advance("feeds")
    return outcomes


def fetch_page(fetcher: Fetcher, job: PageJob) -> PageResult:
    result = fetcher.get(job.url, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
    common = {"feed_id": job.feed_id, "url_key": job.url_key}
    if result.error_class:
        return PageResult(
            _fetch_log(result, "page", **common), None, job.url_key, job.feed_id, job.publisher_id
        )
    extracted = extract_article(
        result.body,
        result.final_url or job.url,
        content_type=result.content_type,
        fetched_at=result.requested_at,
        feed_published_at=job.feed_published_at,
        feed_title=job.feed_title,
    )
    # Kept compressed so `newsdesk reextract` can run a newer extractor without fetching again.
    raw = zlib.compress(result.body, 6) if result.body else None
    if isinstance(extracted, Dropped):
        fetch = _fetch_log(
            result,
            "page",
            drop_reason=extracted.reason.value,
            error=extracted.detail or None,
            **common,
        )
        return PageResult(fetch, None, job.url_key, job.feed_id, job.publisher_id, raw)
    article: ExtractedArticle = extracted
    fetch = _fetch_log(
        result, "page", charset=article.charset, charset_source=article.charset_source, **common
    )
    return PageResult(fetch, article, job.url_key, job.feed_id, job.publisher_id, raw)


@task(name="fetch-pages", task_run_name="fetch-pages-{host}", cache_policy=NO_CACHE)
def fetch_pages(host: str, jobs: list[PageJob], settings: Settings) -> list[PageResult]:
    """A batch of article pages of one host: fetch, then extract each."""
    logger = get_run_logger()
    results = []
    with Fetcher(settings) as fetcher:
        for job in jobs:
            try:
                result = fetch_page(fetcher, job)
            except Exception as exc:  # one bad page must not lose the batch
                logger.exception("page %s: unexpected error", job.url)
                result = PageResult(
                    FetchLog(
                        url=job.url,
                        kind="page",
                        requested_at=datetime.now(UTC),
                        feed_id=job.feed_id,
                        url_key=job.url_key,
                        error_class="internal",
                        error=f"{type(exc).__name__}: {exc}",
                    ),
                    None,
                    job.url_key,
                    job.feed_id,
                    job.publisher_id,
                )
            if result.fetch.error_class:
                logger.warning(
                    "page %s: %s: %s", job.url, result.fetch.error_class, result.fetch.error
                )
            results.append(result)
            progress.advance("pages")
    return results


@contextmanager
def open_warehouse(db: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The write connection, held for one short step (readers get the file in between)."""
    con = connect(db, wait_seconds=WRITE_WAIT_SECONDS)
    try:
        yield con
    finally:
        con.close()


def _due_feeds(con: duckdb.DuckDBPyConnection, feed_ids: list[int]) -> list[FeedJob]:
    rows = con.execute(
        """
        select f.feed_id, f.publisher_id, f.url, s.etag, s.last_modified
        from feeds f join feed_state s using (feed_id)
        where f.enabled and s.retired_at is null and list_contains(?, f.feed_id)
        order by f.feed_id
        """,
        [feed_ids],
    ).fetchall()
    return [FeedJob(*row) for row in rows]


def _state_frame(outcomes: list[FeedOutcome]) -> pl.DataFrame:
    rows = []
    for o in outcomes:
        f = o.fetch
        rows.append(
            {
                "feed_id": o.job.feed_id,
                "etag": f.etag if f.error_class is None else None,
                "last_modified": f.last_modified if f.error_class is None else None,
                "last_status": f.status,
                "fetched_at": f.requested_at,
                "ok": f.error_class is None,
                "error_class": f.error_class,
                "error": f.error,
                "kind": o.parsed.kind if o.parsed else None,
                "title": o.parsed.title if o.parsed else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "feed_id": pl.Int32(),
            "etag": pl.String(),
            "last_modified": pl.String(),
            "last_status": pl.Int32(),
            "fetched_at": pl.Datetime("us", "UTC"),
            "ok": pl.Boolean(),
            "error_class": pl.String(),
            "error": pl.String(),
            "kind": pl.String(),
            "title": pl.String(),
        },
    )


def _chunks(jobs: list[PageJob], size: int) -> Iterator[list[PageJob]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


@flow(name="ingest")
def ingest(
    db: str = "data/newsdesk.duckdb",
    sources: str | None = "deploy/sources.toml",
    feeds: list[str] | None = None,
    publishers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Fetch due feeds, their new pages, extract and load. Returns the run's counts.

    Sources, first given wins: ``publishers`` (entries shaped like the sources file's),
    ``feeds`` (ad-hoc feed URLs, one publisher per host), the ``sources`` file.
    """
    logger = get_run_logger()
    settings = Settings()
    if publishers:
        configured = [Publisher.model_validate(p) for p in publishers]
    elif feeds:
        configured = adhoc_sources(feeds)
    else:
        configured = load_sources(Path(sources or settings.sources))
    run_id = str(flow_run.id or uuid.uuid4())
    counts: dict[str, int] = dict.fromkeys(load.RUN_COUNTERS, 0)
    with open_warehouse(db) as con:
        migrate(con)
        feed_map = load.register_sources(con, source_rows(configured))
        load.start_run(con, run_id, "ingest", datetime.now(UTC))
        jobs = _due_feeds(con, [feed_id for feed_id, _ in feed_map.values()])
    try:
        counts["feeds_total"] = len(jobs)
        progress.add_total("feeds", len(jobs))
        by_host: dict[str, list[FeedJob]] = defaultdict(list)
        for job in jobs:
            by_host[host_of(job.url)].append(job)
        feed_futures = [
            fetch_feeds.submit(host, batch, settings) for host, batch in by_host.items()
        ]

        scheduled: set[str] = set()
        page_futures: list[PrefectFuture[list[PageResult]]] = []
        for future in as_completed(feed_futures):
            outcomes: list[FeedOutcome] = future.result()
            page_jobs = _load_feed_outcomes(db, run_id, outcomes, counts, scheduled)
            progress.add_total("pages", len(page_jobs))
            by_page_host: dict[str, list[PageJob]] = defaultdict(list)
            for page_job in page_jobs:
                by_page_host[host_of(page_job.url)].append(page_job)
            for host, host_jobs in by_page_host.items():
                page_futures.extend(
                    fetch_pages.submit(host, chunk, settings)
                    for chunk in _chunks(host_jobs, settings.page_batch_size)
                )

        for page_future in as_completed(page_futures):
            _load_page_results(db, run_id, page_future.result(), counts)
    except BaseException as exc:
        with open_warehouse(db) as con:
            load.finish_run(
                con,
                run_id,
                datetime.now(UTC),
                "failed",
                dict(counts),
                error=f"{type(exc).__name__}: {exc}",
            )
        raise
    with open_warehouse(db) as con:
        load.finish_run(con, run_id, datetime.now(UTC), "completed", dict(counts))
    logger.info("run %s completed: %s", run_id, dict(counts))
    return {"run_id": run_id, "status": "completed", **counts}


def _load_feed_outcomes(
    db: str,
    run_id: str,
    outcomes: list[FeedOutcome],
    counts: dict[str, int],
    scheduled: set[str],
) -> list[PageJob]:
    """Store one host's feed results; return the pages to fetch for them."""
    frames = []
    for o in outcomes:
        if o.fetch.not_modified:
            counts["feeds_not_modified"] += 1
        elif o.fetch.error_class:
            counts["feeds_failed"] += 1
        else:
            counts["feeds_fetched"] += 1
        if o.parsed is not None and o.parsed.entries:
            counts["entries_seen"] += len(o.parsed.entries)
            frames.append(
                entries_frame(o.job.feed_id, list(o.parsed.entries)).with_columns(
                    pl.lit(o.job.publisher_id, dtype=pl.Int32()).alias("publisher_id")
                )
            )
    entries = pl.concat(frames) if frames else _empty_candidates()
    with open_warehouse(db) as con:
        todo = load.pages_to_fetch(con, entries)
        new = load.load_feed_batch(
            con,
            run_id,
            fetches_frame([o.fetch for o in outcomes]),
            entries.drop("publisher_id"),
            _state_frame(outcomes),
        )
    counts["entries_new"] += new
    jobs = []
    for row in todo.iter_rows(named=True):
        if row["url_key"] in scheduled:
            continue
        scheduled.add(row["url_key"])
        jobs.append(
            PageJob(
                row["url"],
                row["url_key"],
                row["feed_id"],
                row["publisher_id"],
                row["published_at"],
                row["title"],
            )
        )
    return jobs


def _empty_candidates() -> pl.DataFrame:
    return entries_frame(0, []).with_columns(pl.lit(None, dtype=pl.Int32()).alias("publisher_id"))


def _load_page_results(
    db: str, run_id: str, results: list[PageResult], counts: dict[str, int]
) -> None:
    counts["pages_fetched"] += len(results)
    counts["articles_failed"] += sum(1 for r in results if r.fetch.error_class)
    counts["articles_dropped"] += sum(1 for r in results if r.fetch.drop_reason)
    frames = article_frames(results, datetime.now(UTC))
    with open_warehouse(db) as con:
        loaded = load.load_pages(con, run_id, fetches_frame([r.fetch for r in results]), frames)
    counts["articles_new"] += loaded.new
    counts["articles_updated"] += loaded.updated
    counts["articles_unchanged"] += loaded.unchanged
