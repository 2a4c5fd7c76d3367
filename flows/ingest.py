"""The ``ingest`` flow: due feeds and sitemaps → entries → pages → clean articles → story
clusters → DuckDB.

A sitemap source (a news sitemap, a plain urlset with lastmod, or an index of them) is polled
like a feed — conditional GET, the same ``feed_state`` machine — and its URLs newer than the
last successful fetch become entries (``discovered_via = 'sitemap'``). Per-publisher settings of
the sources file apply to that publisher only: its poll floor, its hosts' politeness, and its
extraction hints (see :class:`transforms.extract.SourceHints`).

Work is batched per host (one Prefect task fetches all due feeds of a host; page tasks take up to
``page_batch_size`` pages of one host), so Prefect's per-task cost stays small. All tasks of a
run share one HTTP client (:mod:`flows.clients`): one politeness limiter, one robots.txt cache.
Only the flow's own thread touches the warehouse, and it opens the file for each batch's short
transaction, so readers are not locked out for the whole run.

Several ingest workers may run at once (processes or machines on one DuckLake, or processes
taking turns on one DuckDB file): a run leases the sources it polls when it picks them, and the
pages it is about to fetch in the transaction that stores the feed batch listing them. Sources
and pages another live run holds are skipped (``feeds_leased_elsewhere``,
``pages_leased_elsewhere``). Leases are renewed at every batch the run loads, ended when it
finishes or fails, and lapse after ``lease_s`` when a worker is killed.
"""

from __future__ import annotations

import uuid
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.futures import wait as prefect_wait
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows import progress
from flows.captures import CaptureRef, captures_root
from flows.clients import (
    RunClient,
    StageClock,
    close_run_client,
    open_run_client,
    run_client,
)
from flows.extraction_pool import pool_workers
from flows.http import HttpResult
from flows.reporting import emit_health_events, publish_run_report, run_report_data
from flows.robots import RobotsRecord
from flows.search_refresh import refresh_in_child
from flows.settings import HostPoliteness, Settings
from flows.sources import Publisher, adhoc_sources, load_sources, source_rows
from transforms.discovery import SitemapResult, SitemapUrl, parse_sitemap
from transforms.extract import SourceHints
from transforms.feeds import parse_feed
from transforms.frames import PageResult, article_frames, entries_frame, fetches_frame
from transforms.records import Dropped, ExtractedArticle, FetchLog, ParsedFeed
from transforms.schedule import FeedSignals, PollPolicy, header_hints, next_check
from transforms.sitemap_entries import (
    MAX_CHILD_SITEMAPS,
    MAX_SITEMAP_DEPTH,
    choose_children,
    index_lastmods,
    sitemap_entries,
    sitemap_feed,
    sitemap_key,
    sitemap_kind,
)
from transforms.urls import host_of
from warehouse import load
from warehouse.db import connect, transaction
from warehouse.dedup import dedup_pending
from warehouse.migrate import migrate

__all__ = [
    "Extractor",
    "FeedJob",
    "FeedOutcome",
    "PageJob",
    "extracted_page",
    "fetch_feed",
    "fetch_log",
    "fetch_page",
    "fetch_sitemap",
    "fetching_run",
    "ingest",
    "open_warehouse",
    "politeness_overrides",
    "refresh_search",
    "source_hints",
]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/x-gzip;q=0.8, */*;q=0.5"
# A sitemap's URLs are taken when dated after the last successful fetch less this margin (a
# publisher may add a URL to its sitemap a while after the date it gives it).
SITEMAP_MARGIN = timedelta(hours=1)
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
    source_type: str = "feed"  # feed | sitemap
    poll_interval_s: float | None = None  # the source's own poll floor; None: the setting
    last_success_at: datetime | None = None  # sitemaps: URLs newer than this are new


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
    # Sitemaps: the child sitemaps fetched, and the source's failure when none could be read
    # although the top document could (the children's rows say why).
    extra_fetches: tuple[FetchLog, ...] = ()
    error_class: str | None = None
    error: str | None = None

    @property
    def failed_class(self) -> str | None:
        """The error of the source as a whole (feed_state), or None when it was read."""
        return self.fetch.error_class or self.error_class

    @property
    def failed_error(self) -> str | None:
        return self.fetch.error if self.fetch.error_class else self.error


@dataclass(frozen=True, slots=True)
class PageJob:
    url: str
    url_key: str
    feed_id: int | None
    publisher_id: int | None
    feed_published_at: datetime | None
    feed_title: str | None
    discovered_via: str = "feed"
    hints: SourceHints | None = None  # the source's extraction hints and language


def fetch_log(
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


def _conditional_get(client: RunClient, job: FeedJob, accept: str) -> HttpResult:
    """A feed or sitemap source's fetch: validators echoed unless this is the occasional
    unconditional one; whatever robots.txt says (the publisher lists them for readers and
    crawlers)."""
    with client.clock.timing("fetch_feeds"):
        return client.fetcher.get(
            job.url,
            etag=job.etag if job.conditional else None,
            last_modified=job.last_modified if job.conditional else None,
            accept=accept,
            respect_robots=False,
        )


def fetch_feed(client: RunClient, job: FeedJob, policy: PollPolicy) -> FeedOutcome:
    """Fetch, capture and parse one feed and decide when to look again; every outcome is a
    value. Feeds are fetched whatever robots.txt says: the publisher lists them for readers.
    """
    result = _conditional_get(client, job, FEED_ACCEPT)
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
    fetch = fetch_log(result, "feed", capture, **overrides)
    return _outcome(job, result, fetch, parsed, policy)


def _outcome(
    job: FeedJob,
    result: HttpResult,
    fetch: FetchLog,
    parsed: ParsedFeed | None,
    policy: PollPolicy,
    extra_fetches: tuple[FetchLog, ...] = (),
    failure: tuple[str, str] | None = None,
) -> FeedOutcome:
    """The outcome of one source fetch, with when to look again."""
    now = datetime.now(UTC)
    hints = header_hints(result.headers, now)
    failed = bool(fetch.error_class or failure)
    signals = FeedSignals(
        last_status=result.status,
        consecutive_failures=job.consecutive_failures + 1 if failed else 0,
        ttl_minutes=parsed.ttl_minutes if parsed else None,
        max_age_s=hints.max_age_s,
        expires_at=hints.expires_at,
        retry_after_s=result.retry_after_s or hints.retry_after_s,
        entries_per_day=job.entries_per_day,
    )
    decision = next_check(now, signals, policy)
    moved_to = result.permanent_redirect if not failed else None
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
        extra_fetches,
        failure[0] if failure else None,
        failure[1] if failure else None,
    )


def fetch_sitemap(
    client: RunClient,
    job: FeedJob,
    policy: PollPolicy,
    first_window_days: float,
    now: datetime | None = None,
) -> FeedOutcome:
    """Fetch one sitemap source (conditional GET, like a feed), follow an index to its child
    sitemaps (at most :data:`MAX_CHILD_SITEMAPS` per fetch, newest first, :data:`MAX_SITEMAP_DEPTH`
    levels, never one twice), and turn the URLs dated after the last successful fetch (less
    :data:`SITEMAP_MARGIN`) into entries; on the first fetch, those of the last
    ``first_window_days`` days and the undated ones. Sitemaps are fetched whatever robots.txt
    says: the publisher lists them for crawlers.
    """
    now = now or datetime.now(UTC)
    result = _conditional_get(client, job, SITEMAP_ACCEPT)
    capture = client.capture(result, "sitemap")
    common: dict[str, Any] = {"feed_id": job.feed_id}
    if result.error_class or result.not_modified:
        return _outcome(job, result, fetch_log(result, "sitemap", capture, **common), None, policy)
    top_url = result.final_url or job.url
    top = parse_sitemap(result.body, top_url)
    if top.kind is None:
        fetch = fetch_log(
            result, "sitemap", capture, error_class=top.error_class, error=top.error, **common
        )
        return _outcome(
            job, result, fetch, sitemap_feed(None, (), top.error_class, top.error), policy
        )

    urls: list[SitemapUrl] = list(top.urls)
    news = top.is_news
    children: list[FetchLog] = []
    problems: list[tuple[str, str]] = []  # (error_class, error) of what could not be read
    read_urlset = top.kind == "urlset"
    top_error: tuple[str | None, str | None] = (top.error_class, top.error)
    root = frozenset({sitemap_key(job.url), sitemap_key(top_url)})
    seen = set(root)
    # (url, depth, the indexes above it), best first; an index's children queue after its
    # siblings, so the newest sitemaps of the top index are read before deeper ones.
    queue: list[tuple[str, int, frozenset[str]]] = []
    if top.kind == "index":
        more, loops = _children(top, 1, root, seen)
        queue.extend(more)
        if loops:
            problems.append(("sitemap_loop", f"the index lists itself: {loops[0]}"))
    while queue and len(children) < MAX_CHILD_SITEMAPS:
        url, depth, above = queue.pop(0)
        child_result = client.fetcher.get(url, accept=SITEMAP_ACCEPT, respect_robots=False)
        child_capture = client.capture(child_result, "sitemap")
        if child_result.error_class:
            children.append(fetch_log(child_result, "sitemap", child_capture, **common))
            problems.append((child_result.error_class, f"{url}: {child_result.error}"))
            continue
        final = child_result.final_url or url
        parsed = parse_sitemap(child_result.body, final)
        error_class, error = parsed.error_class, parsed.error
        if parsed.kind == "index" and depth >= MAX_SITEMAP_DEPTH:
            error_class = error_class or "sitemap_too_deep"
            error = error or f"sitemap index at depth {depth}: not followed"
        elif parsed.kind == "index":
            path = above | {sitemap_key(url), sitemap_key(final)}
            seen.update(path)
            more, loops = _children(parsed, depth + 1, path, seen)
            queue.extend(more)
            if loops and not error_class:
                error_class, error = (
                    "sitemap_loop",
                    f"lists itself or an index above it: {loops[0]}",
                )
        elif parsed.kind == "urlset":
            read_urlset = True
            urls.extend(parsed.urls)
            news = news or parsed.is_news
        children.append(
            fetch_log(
                child_result,
                "sitemap",
                child_capture,
                error_class=error_class,
                error=error,
                **common,
            )
        )
        if error_class:
            problems.append((error_class, f"{url}: {error}"))

    failure = None
    if not read_urlset and problems:
        # Nothing but broken children or loops: the source failed, though its top answered.
        failure = problems[0]
        if failure[0] == "sitemap_loop" and top_error[0] is None:
            top_error, failure = failure, None  # the top index's own defect: its row says so
    since = (
        job.last_success_at - SITEMAP_MARGIN
        if job.last_success_at is not None
        else now - timedelta(days=first_window_days)
    )
    entries = sitemap_entries(urls, since, take_undated=job.last_success_at is None)
    fetch = fetch_log(
        result, "sitemap", capture, error_class=top_error[0], error=top_error[1], **common
    )
    parsed_feed = sitemap_feed(sitemap_kind(top, news), entries, *(failure or top_error))
    return _outcome(job, result, fetch, parsed_feed, policy, tuple(children), failure)


def _children(
    index: SitemapResult,
    depth: int,
    above: frozenset[str],
    seen: set[str],
) -> tuple[list[tuple[str, int, frozenset[str]]], list[str]]:
    """The children of an index worth fetching (not seen yet), best first, and those that are
    the index itself or an index above it (a loop). ``seen`` is updated."""
    fresh: list[str] = []
    loops: list[str] = []
    for child in index.sitemaps:
        key = sitemap_key(child)
        if key in above:
            loops.append(child)
        elif key not in seen:
            fresh.append(child)
    chosen = choose_children(fresh, index_lastmods(index), MAX_CHILD_SITEMAPS)
    seen.update(sitemap_key(child) for child in chosen)
    return [(child, depth, above) for child in chosen], loops


@task(name="fetch-feeds", task_run_name="fetch-feeds-{host}", cache_policy=NO_CACHE)
def fetch_feeds(
    host: str, jobs: list[FeedJob], settings: Settings, run_id: str
) -> list[FeedOutcome]:
    """All due feeds and sitemaps of one host, one after another."""
    logger = get_run_logger()
    client = run_client(run_id, settings)
    outcomes = []
    for job in jobs:
        policy = job_policy(job, settings)
        try:
            if job.source_type == "sitemap":
                outcome = fetch_sitemap(client, job, policy, settings.sitemap_first_window_days)
            else:
                outcome = fetch_feed(client, job, policy)
        except Exception as exc:  # a bug must not take the host's other feeds down
            logger.exception("%s %s: unexpected error", job.source_type, job.url)
            failed = FetchLog(
                url=job.url,
                kind="sitemap" if job.source_type == "sitemap" else "feed",
                requested_at=datetime.now(UTC),
                feed_id=job.feed_id,
                error_class="internal",
                error=f"{type(exc).__name__}: {exc}",
            )
            outcome = FeedOutcome(
                job, failed, None, datetime.now(UTC), policy.interval_s, "internal"
            )
        if outcome.failed_class:
            logger.warning(
                "%s %s: %s: %s",
                job.source_type,
                job.url,
                outcome.failed_class,
                outcome.failed_error,
            )
        outcomes.append(outcome)
        progress.advance("feeds")
    return outcomes


def job_policy(job: FeedJob, settings: Settings) -> PollPolicy:
    """The polling policy of one source: its own poll floor, else the global one."""
    return PollPolicy(interval_s=job.poll_interval_s or settings.poll_interval_s)


# What extracts a page: the run client's (worker processes), or extract_article inline.
Extractor = Callable[..., ExtractedArticle | Dropped]


def extracted_page(
    result: HttpResult,
    extract: Extractor,
    page_url: str,
    page: tuple[str, int | None, int | None],
    fetch_fields: dict[str, Any],
    *,
    body: bytes | None = None,
    raw: bytes | None = None,
    **options: Any,
) -> PageResult:
    """The fetch row and, when one is kept, the article of a page response: a failed fetch, a
    page dropped with its reason, or an article. ``page`` is (url_key, feed_id,
    publisher_id); ``fetch_fields`` go on the fetch row; ``body`` replaces ``result.body``
    (an archived record's payload); ``options`` go to ``extract``."""
    key, feed_id, publisher_id = page
    if result.error_class:
        fetch = fetch_log(result, "page", **fetch_fields)
        return PageResult(fetch, None, key, feed_id, publisher_id)
    extracted = extract(result.body if body is None else body, page_url, **options)
    if isinstance(extracted, Dropped):
        fetch = fetch_log(
            result,
            "page",
            drop_reason=extracted.reason.value,
            error=extracted.detail or None,
            **fetch_fields,
        )
        return PageResult(fetch, None, key, feed_id, publisher_id, raw)
    fetch = fetch_log(
        result,
        "page",
        charset=extracted.charset,
        charset_source=extracted.charset_source,
        **fetch_fields,
    )
    return PageResult(fetch, extracted, key, feed_id, publisher_id, raw)


def fetch_page(client: RunClient, job: PageJob) -> PageResult:
    with client.clock.timing("fetch_pages"):
        result = client.fetcher.get(job.url, accept=PAGE_ACCEPT)
    capture = client.capture(result, "page")
    # `newsdesk reextract` reads the WARC capture; only when writing it failed is the body kept
    # in the warehouse instead (compressed).
    keep_raw = not result.error_class and result.body and capture is None
    return extracted_page(
        result,
        client.extract,
        result.final_url or job.url,
        (job.url_key, job.feed_id, job.publisher_id),
        {
            "capture": capture,
            "feed_id": job.feed_id,
            "url_key": job.url_key,
            "robots_decision": _robots_decision(result),
            "discovered_via": job.discovered_via,
        },
        raw=zlib.compress(result.body, 6) if keep_raw else None,
        content_type=result.content_type,
        fetched_at=result.requested_at,
        feed_published_at=job.feed_published_at,
        feed_title=job.feed_title,
        hints=job.hints,
    )


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
def open_warehouse(
    db: str, data_path: str | None = None, clock: StageClock | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The write connection, held for one short step (readers get the file in between).
    ``data_path``: where a DuckLake that does not exist yet keeps its files. With a
    ``clock``, opening and closing (a checkpoint) are timed."""
    clock = clock or StageClock()
    with clock.timing("warehouse_open"):
        con = connect(db, wait_seconds=WRITE_WAIT_SECONDS, data_path=data_path)
    try:
        yield con
    finally:
        with clock.timing("warehouse_close"):
            con.close()


def _state_frame(outcomes: list[FeedOutcome]) -> pl.DataFrame:
    rows = []
    for o in outcomes:
        f = o.fetch
        # A sitemap whose top answered but none of whose children could be read keeps no
        # validators: a 304 next time would skip the children it still has to read.
        ok = o.failed_class is None
        rows.append(
            {
                "feed_id": o.job.feed_id,
                "etag": f.etag if ok else None,
                "last_modified": f.last_modified if ok else None,
                "last_status": f.status,
                "fetched_at": f.requested_at,
                "ok": ok,
                "error_class": o.failed_class,
                "error": o.failed_error,
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
    """Fetch due feeds and sitemaps, their new pages, extract, cluster and load. Returns the
    run's counts (``feeds_*`` count sitemap sources too).

    Sources, first given wins: ``publishers`` (entries shaped like the sources file's),
    ``feeds`` (ad-hoc feed URLs, one publisher per host), the ``sources`` file. Only sources
    whose ``next_check_at`` has come are fetched, unless ``all_feeds``. ``overrides`` replace
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
    # Publishers' own politeness, for their hosts and this run (explicit settings win).
    settings = settings.model_copy(
        update={"host_politeness": politeness_overrides(configured) | settings.host_politeness}
    )
    run_id = str(flow_run.id or uuid.uuid4())
    counts: dict[str, int] = dict.fromkeys(load.RUN_COUNTERS, 0)
    started = datetime.now(UTC)
    with open_warehouse(db, settings.ducklake_data_path) as con:
        migrate(con)
        feed_map = load.register_sources(con, source_rows(configured))
        load.start_run(con, run_id, "ingest", started)
        # Sources another live worker holds are skipped (and their pages with them).
        claim = load.claim_due_feeds(
            con,
            run_id,
            [feed_id for feed_id, _ in feed_map.values()],
            started,
            settings.lease_s,
            all_feeds,
        )
        due = claim.due
        counts["feeds_leased_elsewhere"] = claim.leased_elsewhere
        robots = [RobotsRecord(*row) for row in load.robots_records(con)]
        hints = load.publisher_hints(con)
    jobs = []
    for d in due:
        job = FeedJob(
            d.feed_id,
            d.publisher_id,
            d.url,
            d.etag,
            d.last_modified,
            consecutive_failures=d.consecutive_failures,
            entries_per_day=d.entries_per_day,
            source_type=d.source_type,
            poll_interval_s=d.poll_interval_s,
            last_success_at=d.last_success_at,
        )
        policy = job_policy(job, settings)
        jobs.append(replace(job, conditional=not d.needs_unconditional(started, policy)))
    with fetching_run(db, run_id, settings, robots, counts) as client:
        counts["feeds_total"] = len(jobs)
        progress.add_total("feeds", len(jobs))
        by_host: dict[str, list[FeedJob]] = defaultdict(list)
        for job in jobs:
            by_host[host_of(job.url)].append(job)
        feed_futures = [
            fetch_feeds.submit(host, batch, settings, run_id) for host, batch in by_host.items()
        ]

        scheduled: set[str] = set()
        pages = PageTasks(settings, run_id)
        for group, outcomes in enumerate(_completed_in_groups(feed_futures)):
            page_jobs = _load_feed_outcomes(
                db,
                run_id,
                outcomes,
                counts,
                scheduled,
                hints,
                check_retries=group == 0,
                lease_s=settings.lease_s,
            )
            progress.add_total("pages", len(page_jobs))
            pages.add(page_jobs)
            pages.top_up()

        _load_pages_as_done(db, run_id, pages, counts, settings, client)
    clock = client.clock
    with clock.timing("finish"), open_warehouse(db, clock=clock) as con:
        load.finish_run(con, run_id, datetime.now(UTC), "completed", counts)
        errors_by_class, per_source = run_report_data(con, run_id)
        emit_health_events(con, datetime.now(UTC))
    with clock.timing("search_refresh"):
        refresh_search(db)
    summary = {"run_id": run_id, "status": "completed", **counts}
    publish_run_report(summary, errors_by_class, per_source)
    # Where the run's time went, in thread-seconds (flows.clients.StageClock).
    summary["stage_seconds"] = clock.seconds()
    logger.info("run %s completed: %s; seconds by stage: %s", run_id, counts, clock.seconds())
    return summary


def _extract_workers(settings: Settings) -> int:
    """Extraction processes for this run: only when tasks run as threads of this process
    (process and Dask workers extract where they run, already in parallel)."""
    context = FlowRunContext.get()
    runner = context.task_runner if context is not None else None
    if not isinstance(runner, ThreadPoolTaskRunner):
        return 0
    return pool_workers(settings.extract_processes)


class PageTasks:
    """The run's page tasks: batches of one host's pages, submitted a few at a time.

    At most ``page_tasks_in_flight`` tasks are submitted and not yet taken by the loader, so
    a run's memory does not follow its size: when the warehouse loads more slowly than pages
    arrive, fetching waits instead of finished pages piling up. Batches are queued round-robin
    over hosts, so the tasks in flight spread over hosts (each host's politeness limits it,
    and a window full of one host would leave the others idle)."""

    def __init__(self, settings: Settings, run_id: str) -> None:
        self.settings = settings
        self.run_id = run_id
        self.limit = settings.page_tasks_in_flight or 2 * settings.concurrency
        self.queue: deque[tuple[str, list[PageJob]]] = deque()
        self.in_flight: list[PrefectFuture[list[PageResult]]] = []

    def add(self, jobs: list[PageJob]) -> None:
        by_host: dict[str, list[PageJob]] = defaultdict(list)
        for job in jobs:
            by_host[host_of(job.url)].append(job)
        per_host = [
            [(host, chunk) for chunk in _chunks(host_jobs, self.settings.page_batch_size)]
            for host, host_jobs in by_host.items()
        ]
        for batches in zip_longest(*per_host):
            self.queue.extend(batch for batch in batches if batch is not None)

    def top_up(self) -> None:
        while self.queue and len(self.in_flight) < self.limit:
            host, chunk = self.queue.popleft()
            self.in_flight.append(fetch_pages.submit(host, chunk, self.settings, self.run_id))

    def next_done(self) -> list[PageResult] | None:
        """The results of the next task to finish (None when none is left); the free slot
        goes to the next queued batch at once."""
        self.top_up()
        if not self.in_flight:
            return None
        finished = next(as_completed(self.in_flight))
        self.in_flight.remove(finished)
        self.top_up()
        return finished.result()

    @property
    def done(self) -> bool:
        return not self.in_flight and not self.queue


def _load_pages_as_done(
    db: str,
    run_id: str,
    pages: PageTasks,
    counts: dict[str, int],
    settings: Settings,
    client: RunClient,
) -> None:
    """Load page batches as they finish, several batches per transaction (opening the file and
    checkpointing on close cost more than loading 25 pages). Finished results are held only
    until loaded, and ``pages`` keeps only a few tasks in flight, so a run holds a bounded
    number of pages, however many it fetches.
    The run ``client`` brings the dedup fingerprints extraction computed, and the clock."""
    buffered: list[PageResult] = []
    while (results := pages.next_done()) is not None:
        buffered.extend(results)
        del results
        if len(buffered) >= settings.load_batch_pages or pages.done:
            _load_page_results(db, run_id, buffered, counts, settings, client)
            buffered = []


def refresh_search(db: str) -> None:
    """Refresh the full-text index once per run, when articles changed (it indexes only
    those): its own short step (it holds the write lock), in a child process
    (flows.search_refresh)."""
    problem = refresh_in_child(db)
    if problem is not None:
        get_run_logger().warning("search index not refreshed: %s", problem)


@contextmanager
def fetching_run(
    db: str,
    run_id: str,
    settings: Settings,
    robots: list[RobotsRecord],
    counts: dict[str, int],
) -> Iterator[RunClient]:
    """The run's HTTP client (and extraction workers) for the block. Afterwards what it learnt
    about robots.txt is stored; a block that raised also marks the run failed, with its counts
    so far, before the error goes on."""
    client = open_run_client(run_id, settings, robots, _extract_workers(settings))
    try:
        yield client
    except BaseException as exc:
        _close_client(db, run_id)
        with open_warehouse(db) as con:
            load.fail_run(con, run_id, exc, counts)
        raise
    _close_client(db, run_id)


def _close_client(db: str, run_id: str) -> None:
    """Store what the run learnt about robots.txt: the fetches, and the cache for next runs."""
    client = close_run_client(run_id)
    if client is None:
        return
    fetches = [fetch_log(r, "robots", ref) for r, ref in client.drain_robots_fetches()]
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
    hints: dict[int, load.PublisherHints],
    check_retries: bool,
    lease_s: float,
) -> list[PageJob]:
    """Store a group of hosts' feed and sitemap results; return the pages to fetch for them:
    those this run claimed (a page another live run is fetching is left to it)."""
    frames = []
    for o in outcomes:
        if o.fetch.not_modified:
            counts["feeds_not_modified"] += 1
        elif o.failed_class:
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
        batch = load.load_feed_batch_claiming(
            con,
            run_id,
            fetches_frame([f for o in outcomes for f in (o.fetch, *o.extra_fetches)]),
            entries,
            _state_frame(outcomes),
            find_pages=bool(frames) or check_retries,
            now=datetime.now(UTC),
            lease_s=lease_s,
        )
    todo = batch.pages
    counts["entries_new"] += batch.entries_new
    counts["pages_leased_elsewhere"] += batch.pages_leased_elsewhere
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
                discovered_via=row["discovered_via"] or "feed",
                hints=source_hints(hints.get(row["publisher_id"]), row["language"]),
            )
        )
    return jobs


def source_hints(
    publisher: load.PublisherHints | None, language: str | None = None
) -> SourceHints | None:
    """The extraction hints of one page: its publisher's selectors, and the language its
    source gave (a news sitemap's ``news:language``), else the publisher's."""
    language = language or (publisher.language if publisher else None)
    if publisher is None and language is None:
        return None
    return SourceHints(
        body_selector=publisher.body_selector if publisher else None,
        prune_selectors=publisher.prune_selectors if publisher else (),
        language=language,
    )


def politeness_overrides(publishers: list[Publisher]) -> dict[str, HostPoliteness]:
    """Per-host politeness from the publishers that set ``per_host_delay_s`` or
    ``per_host_concurrency``: for the hosts of their feeds and sitemaps (``host[:port]``) and
    their domain (with its subdomains). Where publishers share a host, the most cautious
    value wins (the longest delay, the fewest requests in flight)."""
    merged: dict[str, HostPoliteness] = {}
    for p in publishers:
        if p.per_host_delay_s is None and p.per_host_concurrency is None:
            continue
        keys = {host_of(url) for url in (*p.feeds, *p.sitemaps)}
        if p.domain:
            keys.add(p.domain.strip().lower().removeprefix("www."))
        for key in keys:
            if not key:
                continue
            mine = HostPoliteness(delay_s=p.per_host_delay_s, concurrency=p.per_host_concurrency)
            known = merged.get(key)
            if known is not None:
                delays = [d for d in (known.delay_s, mine.delay_s) if d is not None]
                limits = [c for c in (known.concurrency, mine.concurrency) if c is not None]
                mine = HostPoliteness(
                    delay_s=max(delays) if delays else None,
                    concurrency=min(limits) if limits else None,
                )
            merged[key] = mine
    return merged


def _empty_candidates() -> pl.DataFrame:
    return entries_frame(0, []).with_columns(pl.lit(None, dtype=pl.Int32()).alias("publisher_id"))


def _load_page_results(
    db: str,
    run_id: str,
    results: list[PageResult],
    counts: dict[str, int],
    settings: Settings,
    client: RunClient,
) -> None:
    counts["pages_fetched"] += len(results)
    counts["articles_failed"] += sum(1 for r in results if r.fetch.error_class)
    counts["articles_dropped"] += sum(1 for r in results if r.fetch.drop_reason)
    clock = client.clock
    with clock.timing("load"):
        frames = article_frames(results, datetime.now(UTC))
        fetches = fetches_frame([r.fetch for r in results])
    with open_warehouse(db, clock=clock) as con:
        # The run's leases renewed in the batch's own transaction (a commit of its own would
        # cost a lake another write token and snapshot per batch).
        with clock.timing("load"), transaction(con):
            loaded = load.load_pages(con, run_id, fetches, frames)
            load.renew_leases(con, run_id, datetime.now(UTC) + timedelta(seconds=settings.lease_s))
        with clock.timing("dedup"):
            clustered = dedup_pending(
                con, datetime.now(UTC), settings.dedup_window_days, client.fingerprints
            )
    counts["articles_new"] += loaded.new
    counts["articles_updated"] += loaded.updated
    counts["articles_unchanged"] += loaded.unchanged
    counts["articles_copies"] += clustered.joined
