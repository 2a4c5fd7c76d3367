"""The ``backfill`` flow: history from sitemaps, the Wayback Machine, Common Crawl or WARC files.

The window is cut into chunks (days, weeks or months; one chunk per file for WARC). Each chunk
is one Prefect task that lists its pages and takes them (live, from the archive, or from the
file); the flow loads each finished chunk's articles and marks it done in one transaction
(:mod:`warehouse.backfill`). Running the same command again resumes the job: done chunks are
skipped, failed and unstarted ones are run.

Dates: ``published_at`` comes from the page (or the feed/sitemap that listed it, when the page
has none); an archive's capture time is kept apart in ``captured_at`` and never taken for a
publication date. Pages whose own date falls outside the window are dropped as
``outside_window``. Archived pages are taken alone: no images, scripts or other resources are
fetched for them, from the archive or live.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run

from flows import progress
from flows.archive_files import warc_files
from flows.backfill_listing import (
    BackfillError,
    ChunkFailed,
    ChunkOutcome,
    PageTarget,
    Window,
    list_sitemap_pages,
    list_wayback_pages,
    listing_fetch,
    looks_like_sitemap,
)
from flows.backfill_pages import (
    ChunkJob,
    commoncrawl_chunk,
    in_window,
    take_live_pages,
    warc_chunk,
    wayback_chunk,
)
from flows.captures import captures_root
from flows.clients import RunClient, run_client
from flows.ingest import (
    fetching_run,
    open_warehouse,
    politeness_overrides,
    refresh_search,
)
from flows.robots import RobotsRecord
from flows.settings import Settings
from flows.sources import Publisher, SourcesError, load_sources, source_rows
from transforms.archives import (
    chunk_window,
    parse_collinfo,
)
from transforms.extract import SourceHints
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import TRANSIENT_ERROR_CLASSES, FetchLog
from transforms.urls import host_of
from warehouse import load
from warehouse.backfill import (
    CHUNK_COUNTS,
    ChunkCounts,
    ChunkPlan,
    ChunkRow,
    claim_chunks,
    close_job,
    fail_chunk,
    finish_chunk,
    job_id_for,
    open_job,
    publishers_for_domains,
    record_progress,
    renew_chunk_leases,
)
from warehouse.db import retry_conflicts
from warehouse.dedup import dedup_pending
from warehouse.migrate import migrate

__all__ = ["VIAS", "BackfillError", "backfill", "check_request"]

Via = Literal["sitemap", "wayback", "commoncrawl", "warc"]
VIAS: tuple[str, ...] = ("sitemap", "wayback", "commoncrawl", "warc")
UNITS = ("day", "week", "month")
UNDATED = "undated"


@task(name="backfill-chunk", task_run_name="backfill-{job.via}-{job.label}", cache_policy=NO_CACHE)
def run_chunk(
    job: ChunkJob,
    settings: Settings,
    run_id: str,
    window: Window,
) -> ChunkOutcome:
    """List and take one chunk's pages. A listing that cannot be read now ends the chunk as
    failed (to be retried); single pages failing are data, like in ``ingest``."""
    logger = get_run_logger()
    client = run_client(run_id, settings)
    try:
        if job.via == "sitemap":
            outcome = ChunkOutcome(job.index, urls_found=len(job.pages))
            outcome.pages = take_live_pages(client, job, job.pages, "sitemap")
        elif job.via == "wayback":
            outcome = wayback_chunk(client, job, settings)
        elif job.via == "commoncrawl":
            outcome = commoncrawl_chunk(client, job, settings)
        else:
            outcome = warc_chunk(job, client.extract)
    except ChunkFailed as exc:
        logger.warning("chunk %s: %s", job.label, exc)
        return ChunkOutcome(job.index, error_class=exc.error_class, error=exc.error)
    outcome.pages = [in_window(page, window) for page in outcome.pages]
    transient = [p.fetch for p in outcome.pages if p.fetch.error_class in TRANSIENT_ERROR_CLASSES]
    if transient:
        # The rest is loaded; the chunk stays to do so these pages are tried again.
        outcome.error_class = "pages_transient"
        outcome.error = (
            f"{len(transient)} page(s) failed for now, e.g. {transient[0].url}: "
            f"{transient[0].error_class}; run the backfill again to retry them"
        )
    return outcome


def _utc(value: datetime | str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BackfillError(f"{name}: not a date: {value!r} (use YYYY-MM-DD)") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _find_publisher(sources: str, name: str) -> Publisher:
    try:
        publishers = load_sources(Path(sources))
    except SourcesError as exc:
        raise BackfillError(str(exc)) from exc
    for publisher in publishers:
        if publisher.name.casefold() == name.casefold():
            return publisher
    names = ", ".join(p.name for p in publishers[:10])
    raise BackfillError(f"no publisher named {name!r} in {sources} (known: {names} …)")


@dataclass(slots=True)
class _Plan:
    target: str
    unit: str
    plans: list[ChunkPlan]
    jobs_by_label: dict[str, ChunkJob]
    listing_fetches: list[FetchLog] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _window_plans(window: Window, unit: str) -> list[ChunkPlan]:
    assert window.since is not None and window.until is not None
    return [
        ChunkPlan(_label(c.start, unit), c.start, c.end)
        for c in chunk_window(window.since, window.until, unit)  # type: ignore[arg-type]
    ]


def _label(start: datetime, unit: str) -> str:
    if unit == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m-%d}"


def check_request(
    via: str,
    since: datetime | str | None,
    until: datetime | str | None,
    publisher: str | None,
    url: str | None,
    path: str | None,
    chunk: str,
) -> Window:
    """The window of a valid request, or :class:`BackfillError` saying what to change (the CLI
    calls this before Prefect starts)."""
    if via not in VIAS:
        raise BackfillError(f"via must be one of {', '.join(VIAS)}, not {via!r}")
    if chunk not in UNITS:
        raise BackfillError(f"chunk must be one of {', '.join(UNITS)}, not {chunk!r}")
    window = Window(_utc(since, "since"), _utc(until, "until"))
    if via != "warc":
        if window.since is None:
            raise BackfillError(f"--since is required with --via {via}")
        if window.until is None:
            # Up to the end of today (UTC): whole-day chunks.
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            window = Window(window.since, today + timedelta(days=1))
        if not (publisher or url):
            raise BackfillError(f"--via {via} needs --publisher NAME or --url URL")
        if publisher and url:
            raise BackfillError("give --publisher or --url, not both")
    elif not path:
        raise BackfillError("--via warc needs --path FILE_OR_DIR")
    elif not Path(path).exists():
        raise BackfillError(f"--path {path}: no such file or folder")
    if window.since and window.until and window.until <= window.since:
        raise BackfillError("--until must be after --since")
    return window


@flow(name="backfill")
def backfill(
    via: str,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    publisher: str | None = None,
    url: str | None = None,
    path: str | None = None,
    db: str = "data/newsdesk.duckdb",
    sources: str = "deploy/sources.toml",
    chunk: str = "day",
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Backfill one publisher (``publisher`` from the sources file), one ``url``, or local
    WARC files (``path``) for ``[since, until)`` (UTC dates; ``until`` defaults to now).

    ``via``: ``sitemap`` (the site's sitemaps, pages fetched live), ``wayback`` (the Wayback
    Machine's snapshots of the publisher's feeds and sitemaps, pages from the archive),
    ``commoncrawl`` (Common Crawl's index for the site, pages from its WARC files) or ``warc``
    (files or a folder; the window is optional). Returns the job's counts.
    """
    window = check_request(via, since, until, publisher, url, path, chunk)
    # The job is named by the window as asked: without --until, running again later resumes
    # the same job, and the days since are added as new chunks.
    named_until = _utc(until, "until")
    logger = get_run_logger()
    settings = Settings(**(overrides or {}))
    settings = settings.model_copy(
        update={"captures_dir": captures_root(db, settings.captures_dir)}
    )
    configured = _find_publisher(sources, publisher) if publisher else None
    if configured is not None:  # its politeness overrides hold for archives' requests too
        overrides_now = politeness_overrides([configured]) | settings.host_politeness
        settings = settings.model_copy(update={"host_politeness": overrides_now})
    run_id = str(flow_run.id or uuid.uuid4())
    started = datetime.now(UTC)
    with open_warehouse(db, settings.ducklake_data_path) as con:
        migrate(con)
        load.start_run(con, run_id, "backfill", started)
        publisher_id = None
        if configured is not None:
            feed_map = load.register_sources(con, source_rows([configured]))
            publisher_id = next(iter(feed_map.values()))[1] if feed_map else None
        elif url:
            publisher_id = publishers_for_domains(con, [host_of(url)])[host_of(url)]
        robots = [RobotsRecord(*row) for row in load.robots_records(con)]
    counts: dict[str, int] = dict.fromkeys(load.RUN_COUNTERS, 0)
    totals = ChunkCounts()
    with fetching_run(db, run_id, settings, robots, counts) as client:
        plan = _plan(client, via, window, chunk, configured, url, path, publisher_id, settings)
        for problem in plan.problems:
            logger.warning("backfill %s: %s", plan.target, problem)
        job_id = job_id_for(via, plan.target, window.since, named_until, plan.unit)
        # Chunks are leased a few at a time (migration 011): workers running the same job
        # share it, each taking the next free chunk when one of its own is loaded.
        unclaimed: dict[int, ChunkRow] = {}
        taken: dict[int, ChunkRow] = {}
        futures = []
        jobs: dict[int, ChunkJob] = {}

        def take(con: duckdb.DuckDBPyConnection, count: int) -> None:
            if not unclaimed:
                return
            got = claim_chunks(
                con,
                job_id,
                sorted(unclaimed),
                run_id,
                datetime.now(UTC),
                settings.lease_s,
                limit=count,
            )
            for index in sorted(got):  # claim_chunks returns only indexes it was given
                row = taken[index] = unclaimed.pop(index)
                job = replace(plan.jobs_by_label[row.label], index=row.index)
                if via == "warc":  # a batch of records at a time, from where the last run stopped
                    job = replace(
                        job,
                        start_offset=row.resume_offset or 0,
                        max_records=settings.backfill_warc_batch,
                    )
                else:  # a file's record count is known once it has been read
                    progress.add_total(row.label, len(job.pages))
                progress.add_total("chunks", 1)
                jobs[row.index] = job
                futures.append(run_chunk.submit(job, settings, run_id, window))

        with open_warehouse(db) as con:
            chunks = open_job(
                con,
                job_id,
                via=via,
                target=plan.target,
                since=window.since,
                until=window.until,
                unit=plan.unit,
                plans=plan.plans,
                run_id=run_id,
                now=started,
                params={"sources": sources, "overrides": overrides or {}},
            )
            load.load_pages(
                con, run_id, fetches_frame(plan.listing_fetches), article_frames([], started)
            )
            unclaimed.update(
                (c.index, c) for c in chunks if c.status != "done" and c.label in plan.jobs_by_label
            )
            logger.info(
                "backfill %s: %d chunks, %d to do (%d done before)",
                job_id,
                len(chunks),
                len(unclaimed),
                sum(c.status == "done" for c in chunks),
            )
            take(con, settings.concurrency)
        failed = 0
        while futures:
            future = next(as_completed(futures))
            futures.remove(future)
            outcome = future.result()
            with open_warehouse(db) as con:
                totals += _load_chunk(
                    con, run_id, job_id, taken[outcome.index], outcome, settings, counts
                )
                if outcome.next_offset is not None and outcome.error_class is None:
                    # The file goes on: its next batch, from the offset just committed.
                    job = replace(jobs[outcome.index], start_offset=outcome.next_offset)
                    jobs[outcome.index] = job
                    futures.append(run_chunk.submit(job, settings, run_id, window))
                    continue
                failed += outcome.error_class is not None
                progress.advance("chunks")
                take(con, 1)
        # What is left was held by other live workers all along (or they finished it).
        counts["chunks_leased_elsewhere"] = len(unclaimed)
        with open_warehouse(db) as con:
            status = close_job(con, job_id, datetime.now(UTC), run_id)
    with open_warehouse(db) as con:
        load.finish_run(con, run_id, datetime.now(UTC), "completed", counts)
    refresh_search(db)
    summary: dict[str, Any] = {
        "run_id": run_id,
        "job_id": job_id,
        "status": status,
        "chunks": len(chunks),
        "chunks_run": len(taken),
        "chunks_leased_elsewhere": counts["chunks_leased_elsewhere"],
        "chunks_failed": failed,
        "problems": plan.problems,
        **{name: getattr(totals, name) for name in CHUNK_COUNTS},
    }
    logger.info("backfill %s %s: %s", job_id, status, summary)
    return summary


def _plan(
    client: RunClient,
    via: str,
    window: Window,
    unit: str,
    configured: Publisher | None,
    url: str | None,
    path: str | None,
    publisher_id: int | None,
    settings: Settings,
) -> _Plan:
    """The job's chunks, and for each what its task needs."""
    if via == "warc":
        assert path is not None
        try:
            files = warc_files(Path(path))
        except Exception as exc:
            raise BackfillError(str(exc)) from exc
        if not files:
            raise BackfillError(f"no WARC or ARC files (.warc, .warc.gz, .arc, .arc.gz) in {path}")
        root = Path(path).resolve()
        jobs = {}
        for file in files:
            # Labelled by the path under the folder given (the job is named by the folder).
            label = str(file.resolve().relative_to(root)) if root.is_dir() else file.name
            jobs[label] = ChunkJob(0, label, via, None, None, path=str(file.resolve()))
        plans = [ChunkPlan(label) for label in jobs]
        return _Plan(str(root), "file", plans, jobs)
    plans = _window_plans(window, unit)
    target = configured.name if configured else (url or "")
    hints = None
    if configured is not None:
        extraction = configured.extraction
        hints = SourceHints(
            body_selector=extraction.body_selector if extraction else None,
            prune_selectors=tuple(extraction.prune_selectors) if extraction else (),
            language=configured.language,
        )
    base = {
        p.label: ChunkJob(0, p.label, via, p.starts_at, p.ends_at, publisher_id, hints=hints)
        for p in plans
    }
    if via in ("sitemap", "wayback"):
        if via == "wayback":
            sources = [*configured.feeds, *configured.sitemaps] if configured else [url or ""]
            listing = list_wayback_pages(client, sources, window, settings)
        elif configured is not None:
            starts = list(configured.sitemaps) or _site_origins(configured)
            listing = list_sitemap_pages(client, starts, window, settings)
        else:
            assert url is not None
            starts = [url if looks_like_sitemap(url) else _origin(url)]
            listing = list_sitemap_pages(client, starts, window, settings)
        by_label: dict[str, list[PageTarget]] = {label: [] for label in base}
        undated: list[PageTarget] = []
        for target_page, filed_at in listing.pages:
            if filed_at is None:
                undated.append(target_page)
                continue
            chunk_label = next(
                (
                    p.label
                    for p in plans
                    if p.starts_at and p.ends_at and p.starts_at <= filed_at < p.ends_at
                ),
                None,
            )
            if chunk_label is None:
                undated.append(target_page)
            else:
                by_label[chunk_label].append(target_page)
        jobs = {label: replace(job, pages=tuple(by_label[label])) for label, job in base.items()}
        plans.append(ChunkPlan(UNDATED, window.since, window.until))
        jobs[UNDATED] = ChunkJob(
            0,
            UNDATED,
            via,
            window.since,
            window.until,
            publisher_id,
            pages=tuple(undated),
            hints=hints,
        )
        problems = list(listing.problems)
        if listing.sitemaps_read and not listing.pages:
            problems.append(f"the {via} listings name no page in the window")
        if not listing.sitemaps_read and via == "sitemap":
            problems.append("no sitemap found (robots.txt Sitemap: lines and the usual paths)")
        return _Plan(target, unit, plans, jobs, listing.fetches, problems)
    # commoncrawl: the crawl list once per run; each chunk asks the crawls that overlap it.
    result = client.fetcher.get(settings.cc_collinfo_url, respect_robots=False)
    fetches = [listing_fetch(result, "index", "commoncrawl", client)]
    if result.error_class:
        raise BackfillError(
            f"Common Crawl's crawl list ({settings.cc_collinfo_url}) could not be read: "
            f"{result.error_class}: {result.error}; try again later"
        )
    try:
        crawls = tuple(parse_collinfo(result.body))
    except ValueError as exc:
        raise BackfillError(f"{settings.cc_collinfo_url}: {exc}") from exc
    if configured is not None:
        domain = configured.domain or host_of(_site_origins(configured)[0])
        pattern = f"*.{domain}" if configured.domain else f"{domain}/*"
    else:
        assert url is not None
        pattern = f"{host_of(url)}/*"
    jobs = {label: replace(job, site=pattern, crawls=crawls) for label, job in base.items()}
    return _Plan(target, unit, plans, jobs, fetches)


def _site_origins(publisher: Publisher) -> list[str]:
    origins = [_origin(u) for u in (*publisher.sitemaps, *publisher.feeds)]
    if publisher.domain:
        origins += [f"https://{publisher.domain}", f"https://www.{publisher.domain}"]
    return list(dict.fromkeys(origins))


def _load_chunk(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    job_id: str,
    chunk: ChunkRow,
    outcome: ChunkOutcome,
    settings: Settings,
    counts: dict[str, int],
) -> ChunkCounts:
    """Load a chunk's pages and mark it done in one transaction (or record why it is not),
    then cluster what it added."""
    now = datetime.now(UTC)
    pages = outcome.pages
    fetches = fetches_frame([p.fetch for p in pages] + outcome.other_fetches)
    failures = sum(1 for p in pages if p.fetch.error_class) + sum(
        1 for f in outcome.other_fetches if f.error_class and f.kind == "page"
    )
    loaded, chunk_counts = _commit_chunk(
        con, run_id, job_id, chunk, outcome, pages, fetches, failures, settings, now
    )
    dedup_pending(con, now, settings.dedup_window_days)
    counts["pages_fetched"] += len(pages)
    counts["articles_new"] += loaded.new
    counts["articles_unchanged"] += loaded.unchanged
    counts["articles_dropped"] += chunk_counts.articles_dropped
    counts["articles_failed"] += failures
    return chunk_counts


@retry_conflicts
def _commit_chunk(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    job_id: str,
    chunk: ChunkRow,
    outcome: ChunkOutcome,
    pages: list[PageResult],
    fetches: pl.DataFrame,
    failures: int,
    settings: Settings,
    now: datetime,
) -> tuple[load.PageLoadCounts, ChunkCounts]:
    """One transaction: a chunk's pages and its mark (done, progress or failed). On a lake, a
    commit that conflicts with another worker's runs again on the new snapshot."""
    # Archives hold sites nobody configured: each page's site becomes its publisher.
    hosts = sorted({host_of(p.article.url) for p in pages if p.article and not p.publisher_id})
    if hosts:
        publishers = publishers_for_domains(con, hosts)
        pages = [
            replace(p, publisher_id=publishers[host_of(p.article.url)])
            if p.article and not p.publisher_id
            else p
            for p in pages
        ]
    frames = article_frames(pages, now)
    loaded = load.load_pages(con, run_id, fetches, frames, keep_existing=True)
    chunk_counts = ChunkCounts(
        urls_found=outcome.urls_found,
        pages_fetched=len(pages),
        articles_new=loaded.new,
        articles_known=loaded.unchanged + loaded.updated,
        articles_dropped=sum(1 for p in pages if p.fetch.drop_reason),
        failures=failures,
    )
    if outcome.error_class is None and outcome.next_offset is not None:
        record_progress(con, job_id, chunk.index, chunk_counts, outcome.next_offset, run_id, now)
    elif outcome.error_class is None:
        finish_chunk(con, job_id, chunk.index, chunk_counts, run_id, now)
    else:
        fail_chunk(con, job_id, chunk.index, outcome.error_class, outcome.error or "", run_id, now)
    # A run still loading chunks is alive: its other chunks stay its own.
    renew_chunk_leases(con, job_id, run_id, now + timedelta(seconds=settings.lease_s))
    return loaded, chunk_counts
