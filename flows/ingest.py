"""The ``ingest`` flow: due feeds → entries → pages → clean articles → story clusters → DuckDB.

Work is batched per host (one Prefect task fetches all due feeds of a host; page tasks take up to
``page_batch_size`` pages of one host), so Prefect's per-task cost stays small. All tasks of a
run share one HTTP client (:mod:`flows.clients`): one politeness limiter, one robots.txt cache.
Only the flow's own thread touches the warehouse, and it opens the file for each batch's short
transaction, so readers are not locked out for the whole run.
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
from prefect.futures import wait as prefect_wait
from prefect.runtime import flow_run

from flows import progress
from flows.captures import CaptureRef, captures_root
from flows.clients import RunClient, close_run_client, open_run_client, run_client
from flows.http import HttpResult
from flows.reporting import emit_health_events, publish_run_report, run_report_data
from flows.robots import RobotsRecord
from flows.settings import Settings
from flows.sources import Publisher, adhoc_sources, load_sources, source_rows
from transforms.extract import extract_article
from transforms.feeds import parse_feed
from transforms.frames import PageResult, article_frames, entries_frame, fetches_frame
from transforms.records import Dropped, ExtractedArticle, FetchLog, ParsedFeed
from transforms.schedule import FeedSignals, PollPolicy, header_hints, next_check
from transforms.urls import host_of
from warehouse import load
from warehouse.db import connect
from warehouse.dedup import dedup_pending
from warehouse.migrate import migrate
from warehouse.search import SearchError, refresh_search_index

__all__ = ["FeedJob", "FeedOutcome", "PageJob", "ingest", "open_warehouse", "refresh_search"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# How long the flow waits for a reader (e.g. `newsdesk sql`) to let go of the file.
WRITE_WAIT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class FeedJob:
    feed_id: int
    publisher_id: int
    url: str
    etag: str | None
    last_modified: str | None
    conditional: bool = True  # False: the occasional unconditional fetch (wrong-304 check)
    consecutive_failures: int = 0
    entries_per_day: float | None = None


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    job: FeedJob
    fetch: FetchLog
    parsed: ParsedFeed | None
    next_check_at: datetime | None  # None: retired (410)
    interval_s: float
    reason: str
    moved_to: str | None = None  # 301/308 all the way: the feed's new address
    moved_status: int | None = None


@dataclass(frozen=True, slots=True)
class PageJob:
    url: str
    url_key: str
    feed_id: int | None
    publisher_id: int | None
    feed_published_at: datetime | None
    feed_title: str | None
    discovered_via: str = "feed"


def _fetch_log(
    result: HttpResult, kind: str, capture: CaptureRef | None = None, **overrides: Any
) -> FetchLog:
    """The fetch row for ``result``; ``overrides`` set or replace fields (e.g. a parse error)."""
    fields: dict[str, Any] = {
        "warc_path": capture.path if capture else None,
        "warc_offset": capture.offset if capture else None,
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
        "redirects": "; ".join(f"{status} {to}" for status, to in result.redirects) or None,
        "retry_after_s": result.retry_after_s,
    }
    return FetchLog(**(fields | overrides))


def _robots_decision(result: HttpResult) -> str:
    if result.error_class == "robots_disallowed":
        return f"disallowed: {result.error}"
    if result.error_class == "robots_unavailable":
        return "unavailable"
    return "allowed"


def fetch_feed(client: RunClient, job: FeedJob, policy: PollPolicy) -> FeedOutcome:
    """Fetch, capture and parse one feed and decide when to look again; every outcome is a
    value. Feeds are fetched whatever robots.txt says: the publisher lists them for readers.
    """
    result = client.fetcher.get(
        job.url,
        etag=job.etag if job.conditional else None,
        last_modified=job.last_modified if job.conditional else None,
        accept=FEED_ACCEPT,
        respect_robots=False,
    )
    capture = client.capture(result, "feed")
    parsed = None
    overrides: dict[str, Any] = {"feed_id": job.feed_id}
    if not result.error_class and not result.not_modified:
        parsed = parse_feed(result.body, result.final_url or job.url, result.content_type)
        overrides |= {
            "charset": parsed.encoding,
            "error_class": parsed.error_class,
            "error": parsed.error,
        }
    fetch = _fetch_log(result, "feed", capture, **overrides)
    now = datetime.now(UTC)
    hints = header_hints(result.headers, now)
    signals = FeedSignals(
        last_status=result.status,
        consecutive_failures=job.consecutive_failures + 1 if fetch.error_class else 0,
        ttl_minutes=parsed.ttl_minutes if parsed else None,
        max_age_s=hints.max_age_s,
        expires_at=hints.expires_at,
        retry_after_s=result.retry_after_s or hints.retry_after_s,
        entries_per_day=job.entries_per_day,
    )
    decision = next_check(now, signals, policy)
    moved_to = result.permanent_redirect if not fetch.error_class else None
    moved_status = result.redirects[-1][0] if moved_to else None
    return FeedOutcome(
        job,
        fetch,
        parsed,
        decision.at,
        decision.interval_s,
        decision.reason,
        moved_to,
        moved_status,
    )


@task(name="fetch-feeds", task_run_name="fetch-feeds-{host}", cache_policy=NO_CACHE)
def fetch_feeds(
    host: str, jobs: list[FeedJob], settings: Settings, run_id: str
) -> list[FeedOutcome]:
    """All due feeds of one host, one after another."""
    logger = get_run_logger()
    client = run_client(run_id, settings)
    policy = PollPolicy(interval_s=settings.poll_interval_s)
    outcomes = []
    for job in jobs:
        try:
            outcome = fetch_feed(client, job, policy)
        except Exception as exc:  # a bug must not take the host's other feeds down
            logger.exception("feed %s: unexpected error", job.url)
            failed = FetchLog(
                url=job.url,
                kind="feed",
                requested_at=datetime.now(UTC),
                feed_id=job.feed_id,
                error_class="internal",
                error=f"{type(exc).__name__}: {exc}",
            )
            outcome = FeedOutcome(
                job, failed, None, datetime.now(UTC), policy.interval_s, "internal"
            )
        if outcome.fetch.error_class:
            logger.warning(
                "feed %s: %s: %s", job.url, outcome.fetch.error_class, outcome.fetch.error
            )
        outcomes.append(outcome)
        progress.advance("feeds")
    return outcomes


def fetch_page(client: RunClient, job: PageJob) -> PageResult:
    result = client.fetcher.get(job.url, accept=PAGE_ACCEPT)
    capture = client.capture(result, "page")
    common: dict[str, Any] = {
        "capture": capture,
        "feed_id": job.feed_id,
        "url_key": job.url_key,
        "robots_decision": _robots_decision(result),
        "discovered_via": job.discovered_via,
    }
    if result.error_class:
        fetch = _fetch_log(result, "page", **common)
        return PageResult(fetch, None, job.url_key, job.feed_id, job.publisher_id)
    extracted = extract_article(
        result.body,
        result.final_url or job.url,
        content_type=result.content_type,
        fetched_at=result.requested_at,
        feed_published_at=job.feed_published_at,
        feed_title=job.feed_title,
    )
    # `newsdesk reextract` reads the WARC capture; only when writing it failed is the body kept
    # in the warehouse instead (compressed).
    raw = zlib.compress(result.body, 6) if result.body and capture is None else None
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
def fetch_pages(
    host: str, jobs: list[PageJob], settings: Settings, run_id: str
) -> list[PageResult]:
    """A batch of article pages of one host: fetch, then extract each."""
    logger = get_run_logger()
    client = run_client(run_id, settings)
    results = []
    for job in jobs:
        try:
            result = fetch_page(client, job)
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
            logger.warning("page %s: %s: %s", job.url, result.fetch.error_class, result.fetch.error)
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
                "next_check_at": o.next_check_at,
                "interval_s": o.interval_s,
                "reason": o.reason,
                "retired": o.reason == "retired",
                "unconditional": not o.job.conditional,
                "moved_to": o.moved_to,
                "moved_status": o.moved_status,
            }
        )
    return pl.DataFrame(rows, schema=load.FEED_STATE_SCHEMA)


def _completed_in_groups(
    futures: list[PrefectFuture[list[FeedOutcome]]], linger_s: float = 0.2
) -> Iterator[list[FeedOutcome]]:
    """Feed results as hosts finish, several hosts at a time: each group is one warehouse
    transaction, and opening the file costs more than writing a few hundred 304s."""
    pending = list(futures)
    while pending:
        first = next(as_completed(pending))
        done = prefect_wait(pending, timeout=linger_s).done | {first}
        pending = [f for f in pending if f not in done]
        yield [outcome for future in done for outcome in future.result()]


def _chunks(jobs: list[PageJob], size: int) -> Iterator[list[PageJob]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


@flow(name="ingest")
def ingest(
    db: str = "data/newsdesk.duckdb",
    sources: str | None = "deploy/sources.toml",
    feeds: list[str] | None = None,
    publishers: list[dict[str, Any]] | None = None,
    all_feeds: bool = False,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fetch due feeds, their new pages, extract, cluster and load. Returns the run's counts.

    Sources, first given wins: ``publishers`` (entries shaped like the sources file's),
    ``feeds`` (ad-hoc feed URLs, one publisher per host), the ``sources`` file. Only feeds whose
    ``next_check_at`` has come are fetched, unless ``all_feeds``. ``overrides`` replace
    settings fields for this run (e.g. ``{"allow_private": ["127.0.0.1/32"]}``).
    """
    logger = get_run_logger()
    if not db:
        raise ValueError("db is empty: give the warehouse file (an empty path is in-memory)")
    settings = Settings(**(overrides or {}))
    # Resolved here, where the warehouse path is known, so tasks in other processes agree.
    settings = settings.model_copy(
        update={"captures_dir": captures_root(db, settings.captures_dir)}
    )
    if publishers:
        configured = [Publisher.model_validate(p) for p in publishers]
    elif feeds:
        configured = adhoc_sources(feeds)
    else:
        configured = load_sources(Path(sources or settings.sources))
    run_id = str(flow_run.id or uuid.uuid4())
    counts: dict[str, int] = dict.fromkeys(load.RUN_COUNTERS, 0)
    started = datetime.now(UTC)
    with open_warehouse(db) as con:
        migrate(con)
        feed_map = load.register_sources(con, source_rows(configured))
        load.start_run(con, run_id, "ingest", started)
        due = load.due_feeds(con, [feed_id for feed_id, _ in feed_map.values()], started, all_feeds)
        robots = [RobotsRecord(*row) for row in load.robots_records(con)]
    policy = PollPolicy(interval_s=settings.poll_interval_s)
    jobs = [
        FeedJob(
            d.feed_id,
            d.publisher_id,
            d.url,
            d.etag,
            d.last_modified,
            conditional=not d.needs_unconditional(started, policy),
            consecutive_failures=d.consecutive_failures,
            entries_per_day=d.entries_per_day,
        )
        for d in due
    ]
    open_run_client(run_id, settings, robots)
    try:
        counts["feeds_total"] = len(jobs)
        progress.add_total("feeds", len(jobs))
        by_host: dict[str, list[FeedJob]] = defaultdict(list)
        for job in jobs:
            by_host[host_of(job.url)].append(job)
        feed_futures = [
            fetch_feeds.submit(host, batch, settings, run_id) for host, batch in by_host.items()
        ]

        scheduled: set[str] = set()
        page_futures: list[PrefectFuture[list[PageResult]]] = []
        for group, outcomes in enumerate(_completed_in_groups(feed_futures)):
            page_jobs = _load_feed_outcomes(
                db, run_id, outcomes, counts, scheduled, check_retries=group == 0
            )
            progress.add_total("pages", len(page_jobs))
            by_page_host: dict[str, list[PageJob]] = defaultdict(list)
            for page_job in page_jobs:
                by_page_host[host_of(page_job.url)].append(page_job)
            for host, host_jobs in by_page_host.items():
                page_futures.extend(
                    fetch_pages.submit(host, chunk, settings, run_id)
                    for chunk in _chunks(host_jobs, settings.page_batch_size)
                )

        for page_future in as_completed(page_futures):
            _load_page_results(db, run_id, page_future.result(), counts, settings.dedup_window_days)
    except BaseException as exc:
        _close_client(db, run_id)
        with open_warehouse(db) as con:
            load.fail_run(con, run_id, exc, counts)
        raise
    _close_client(db, run_id)
    with open_warehouse(db) as con:
        load.finish_run(con, run_id, datetime.now(UTC), "completed", counts)
        errors_by_class, per_source = run_report_data(con, run_id)
        emit_health_events(con, datetime.now(UTC))
    refresh_search(db)
    summary = {"run_id": run_id, "status": "completed", **counts}
    publish_run_report(summary, errors_by_class, per_source)
    logger.info("run %s completed: %s", run_id, counts)
    return summary


def refresh_search(db: str) -> None:
    """Rebuild the full-text index once per run, when articles changed (its own short step:
    the rebuild holds the write lock)."""
    with open_warehouse(db) as con:
        try:
            refresh_search_index(con)
        except SearchError as exc:
            get_run_logger().warning("search index not refreshed: %s", exc)


def _close_client(db: str, run_id: str) -> None:
    """Store what the run learnt about robots.txt: the fetches, and the cache for next runs."""
    client = close_run_client(run_id)
    if client is None:
        return
    fetches = [_fetch_log(r, "robots", ref) for r, ref in client.drain_robots_fetches()]
    for problem in client.capture_errors:
        get_run_logger().warning("capture not written: %s", problem)
    records = [(r.origin, r.body, r.status, r.fetched_at) for r in client.store.records()]
    with open_warehouse(db) as con:
        load.store_robots(con, run_id, fetches_frame(fetches), records)


def _load_feed_outcomes(
    db: str,
    run_id: str,
    outcomes: list[FeedOutcome],
    counts: dict[str, int],
    scheduled: set[str],
    check_retries: bool,
) -> list[PageJob]:
    """Store a group of hosts' feed results; return the pages to fetch for them."""
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
        # Earlier transient page failures are retried even when no feed brought entries (all
        # 304): looked up with every group that has entries, and with the first one anyway.
        todo = load.pages_to_fetch(con, entries) if frames or check_retries else None
        new = load.load_feed_batch(
            con,
            run_id,
            fetches_frame([o.fetch for o in outcomes]),
            entries.drop("publisher_id"),
            _state_frame(outcomes),
        )
    counts["entries_new"] += new
    jobs: list[PageJob] = []
    if todo is None:
        return jobs
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
    db: str, run_id: str, results: list[PageResult], counts: dict[str, int], window_days: int
) -> None:
    counts["pages_fetched"] += len(results)
    counts["articles_failed"] += sum(1 for r in results if r.fetch.error_class)
    counts["articles_dropped"] += sum(1 for r in results if r.fetch.drop_reason)
    frames = article_frames(results, datetime.now(UTC))
    with open_warehouse(db) as con:
        loaded = load.load_pages(con, run_id, fetches_frame([r.fetch for r in results]), frames)
        clustered = dedup_pending(con, datetime.now(UTC), window_days)
    counts["articles_new"] += loaded.new
    counts["articles_updated"] += loaded.updated
    counts["articles_unchanged"] += loaded.unchanged
    counts["articles_copies"] += clustered.joined
