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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run

from flows import progress
from flows.archive_files import RecordProblem, iter_archive, warc_files
from flows.captures import captures_root
from flows.clients import RunClient, close_run_client, open_run_client, run_client
from flows.http import HttpResult
from flows.ingest import (
    FEED_ACCEPT,
    PageJob,
    _fetch_log,
    fetch_page,
    open_warehouse,
    politeness_overrides,
    refresh_search,
)
from flows.robots import RobotsRecord
from flows.settings import Settings
from flows.sources import Publisher, SourcesError, load_sources, source_rows
from transforms.archives import (
    ArchivedResponse,
    Crawl,
    Snapshot,
    chunk_window,
    crawls_for_window,
    parse_cc_index,
    parse_collinfo,
    parse_warc_member,
    parse_wayback_cdx,
    wayback_capture_url,
    wayback_cdx_query,
)
from transforms.archives import cc_index_query as cc_query
from transforms.archives import cc_range as range_header
from transforms.discovery import parse_sitemap, sitemap_candidates
from transforms.extract import SourceHints, extract_article
from transforms.feeds import parse_feed
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import TRANSIENT_ERROR_CLASSES, Dropped, FetchLog
from transforms.urls import host_of, url_key
from warehouse import load
from warehouse.backfill import (
    ChunkCounts,
    ChunkPlan,
    ChunkRow,
    close_job,
    fail_chunk,
    finish_chunk,
    job_id_for,
    open_job,
    publishers_for_domains,
)
from warehouse.dedup import dedup_pending
from warehouse.migrate import migrate

__all__ = ["VIAS", "BackfillError", "backfill", "check_request"]

Via = Literal["sitemap", "wayback", "commoncrawl", "warc"]
VIAS: tuple[str, ...] = ("sitemap", "wayback", "commoncrawl", "warc")
UNITS = ("day", "week", "month")
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_SITEMAP_DEPTH = 3
# A capture of a page is looked for from its publication up to this long after the chunk.
CAPTURE_SLACK = timedelta(days=30)
MAX_INDEX_PAGES = 1000
UNDATED = "undated"


class BackfillError(Exception):
    """The backfill cannot start as asked; the message says what to change."""


class ChunkFailed(Exception):
    """A chunk's listing could not be read now (archive down, rate limited): retry later."""

    def __init__(self, error_class: str, error: str) -> None:
        super().__init__(f"{error_class}: {error}")
        self.error_class = error_class
        self.error = error


@dataclass(frozen=True, slots=True)
class PageTarget:
    """A page a chunk takes, with what the listing said about it."""

    url: str
    published_at: datetime | None = None
    title: str | None = None
    language: str | None = None  # a news sitemap's news:language


@dataclass(frozen=True, slots=True)
class ChunkJob:
    """Everything one chunk task needs, as plain values."""

    index: int
    label: str
    via: str
    starts_at: datetime | None
    ends_at: datetime | None
    publisher_id: int | None = None
    pages: tuple[PageTarget, ...] = ()  # sitemap, wayback: the pages listed for this chunk
    site: str | None = None  # commoncrawl: the URL pattern, e.g. "example.com/*"
    crawls: tuple[Crawl, ...] = ()  # commoncrawl
    path: str | None = None  # warc: the file
    hints: SourceHints | None = None  # the configured publisher's extraction hints


@dataclass(slots=True)
class ChunkOutcome:
    index: int
    pages: list[PageResult] = field(default_factory=list)
    other_fetches: list[FetchLog] = field(default_factory=list)  # listings, snapshots, problems
    urls_found: int = 0
    error_class: str | None = None  # set: the chunk is not done (see error)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime | None
    until: datetime | None

    def holds(self, moment: datetime | None) -> bool:
        if moment is None:
            return True
        if self.since is not None and moment < self.since:
            return False
        return not (self.until is not None and moment >= self.until)


# --- taking pages ----------------------------------------------------------------------------


def _archived_page(
    result: HttpResult,
    original_url: str,
    *,
    via: str,
    captured_at: datetime | None,
    publisher_id: int | None,
    body: bytes | None = None,
    content_type: str | None = None,
    feed_published_at: datetime | None = None,
    feed_title: str | None = None,
    capture: Any = None,
    hints: SourceHints | None = None,
) -> PageResult:
    """Extract an archived response as the page at ``original_url`` (not the archive's)."""
    key = url_key(original_url)
    common: dict[str, Any] = {
        "capture": capture,
        "url_key": key,
        "discovered_via": via,
        "captured_at": captured_at,
        "robots_decision": "archive",
    }
    if result.error_class:
        return PageResult(_fetch_log(result, "page", **common), None, key, None, publisher_id)
    extracted = extract_article(
        result.body if body is None else body,
        original_url,
        content_type=content_type or result.content_type,
        fetched_at=captured_at or result.requested_at,
        feed_published_at=feed_published_at,
        feed_title=feed_title,
        hints=hints,
    )
    if isinstance(extracted, Dropped):
        fetch = _fetch_log(
            result,
            "page",
            drop_reason=extracted.reason.value,
            error=extracted.detail or None,
            **common,
        )
        return PageResult(fetch, None, key, None, publisher_id)
    fetch = _fetch_log(
        result,
        "page",
        charset=extracted.charset,
        charset_source=extracted.charset_source,
        **common,
    )
    return PageResult(fetch, extracted, key, None, publisher_id)


def _in_window(page: PageResult, window: Window) -> PageResult:
    """Drop an article whose own date is outside the window (kept as a fetch with a reason)."""
    article = page.article
    if article is None or window.holds(article.published_at):
        return page
    assert article.published_at is not None
    since = f"{window.since:%Y-%m-%d}" if window.since else "…"
    until = f"{window.until:%Y-%m-%d}" if window.until else "…"
    fetch = replace(
        page.fetch,
        drop_reason="outside_window",
        error=f"published {article.published_at:%Y-%m-%d %H:%M}Z, outside {since} – {until}",
    )
    return replace(page, fetch=fetch, article=None)


def _listing_fetch(result: HttpResult, kind: str, via: str, client: RunClient) -> FetchLog:
    return _fetch_log(result, kind, client.capture(result, kind), discovered_via=via)


def _get_listing(
    client: RunClient, url: str, kind: str, via: str, outcome: ChunkOutcome, accept: str
) -> HttpResult:
    """Fetch an archive listing; transient trouble fails the chunk (it is retried next run)."""
    result = client.fetcher.get(url, accept=accept, respect_robots=False)
    outcome.other_fetches.append(_listing_fetch(result, kind, via, client))
    if result.error_class in TRANSIENT_ERROR_CLASSES:
        raise ChunkFailed(result.error_class or "", f"{url}: {result.error}")
    return result


# --- sitemap ---------------------------------------------------------------------------------


@dataclass(slots=True)
class SitemapListing:
    pages: list[tuple[PageTarget, datetime | None]] = field(default_factory=list)
    fetches: list[FetchLog] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sitemaps_read: int = 0


def list_sitemap_pages(
    client: RunClient,
    starts: Sequence[str],
    window: Window,
    settings: Settings,
) -> SitemapListing:
    """Read sitemaps from ``starts`` (sitemap URLs or site origins: robots.txt ``Sitemap:``
    lines and the usual paths), following indexes with loop and depth limits. Returns the pages
    whose date may fall in the window, each with the date the chunk is chosen by."""
    listing = SitemapListing()
    queue: list[tuple[str, int, bool]] = []  # url, depth, guessed (a common path)
    for start in starts:
        if _looks_like_sitemap(start):
            queue.append((start, 0, False))
            continue
        robots = client.fetcher.get(start.rstrip("/") + "/robots.txt", respect_robots=False)
        listing.fetches.append(_listing_fetch(robots, "robots", "sitemap", client))
        text = robots.body.decode("utf-8", "replace") if robots.ok else None
        for candidate in sitemap_candidates(text, start):
            queue.append((candidate.url, 0, candidate.found_via != "robots"))
    seen: set[str] = set()
    taken: set[str] = set()
    while queue:
        url, depth, guessed = queue.pop(0)
        if url in seen:
            continue
        if listing.sitemaps_read >= settings.backfill_max_sitemaps:
            listing.problems.append(
                f"more than {settings.backfill_max_sitemaps} sitemaps; the rest were not read"
            )
            break
        seen.add(url)
        listing.sitemaps_read += 1
        result = client.fetcher.get(url, accept=SITEMAP_ACCEPT, respect_robots=False)
        if result.error_class:
            listing.fetches.append(_listing_fetch(result, "sitemap", "sitemap", client))
            if not (guessed and result.status == 404):
                listing.problems.append(f"{url}: {result.error_class}: {result.error}")
            continue
        parsed = parse_sitemap(result.body, result.final_url or url)
        listing.fetches.append(
            _fetch_log(
                result,
                "sitemap",
                client.capture(result, "sitemap"),
                discovered_via="sitemap",
                error_class=parsed.error_class if not parsed.urls and not parsed.sitemaps else None,
                error=parsed.error,
            )
        )
        if parsed.error_class and not (guessed and parsed.error_class == "not_a_sitemap"):
            listing.problems.append(f"{url}: {parsed.error_class}: {parsed.error}")
        for child in parsed.sitemaps:
            if child in seen or child == url:
                listing.problems.append(f"{url}: lists {child} again (a loop); not followed")
            elif depth + 1 > MAX_SITEMAP_DEPTH:
                listing.problems.append(
                    f"{url}: index nested deeper than {MAX_SITEMAP_DEPTH}; {child} not read"
                )
            else:
                queue.append((child, depth + 1, False))
        for entry in parsed.urls:
            if entry.url in taken:
                continue
            if len(taken) >= settings.backfill_max_urls:
                listing.problems.append(
                    f"more than {settings.backfill_max_urls} page URLs; the rest were not taken"
                )
                queue.clear()
                break
            chosen = _sitemap_date(entry.publication_date, entry.lastmod, window)
            if chosen is False:
                continue
            taken.add(entry.url)
            target = PageTarget(entry.url, entry.publication_date, entry.title, entry.language)
            listing.pages.append((target, chosen))
    return listing


def _looks_like_sitemap(url: str) -> bool:
    path = url.split("?", 1)[0].lower()
    return path.endswith((".xml", ".xml.gz", ".gz")) or "sitemap" in path.rsplit("/", 1)[-1]


def _sitemap_date(
    published: datetime | None, lastmod: datetime | None, window: Window
) -> datetime | Literal[False] | None:
    """The date a listed page is filed under, None for "undated", False to skip it.

    A news publication date is exact. ``lastmod`` is the last change, never before
    publication: a page changed before the window was published before it too, but one
    changed after the window may have been published inside it (filed as undated, and the
    page's own date decides)."""
    if published is not None:
        return published if window.holds(published) else False
    if lastmod is not None:
        if window.since is not None and lastmod < window.since:
            return False
        return lastmod if window.holds(lastmod) else None
    return None


def _page_hints(hints: SourceHints | None, target: PageTarget) -> SourceHints | None:
    if target.language is None:
        return hints
    return replace(hints or SourceHints(), language=target.language)


def _take_live_pages(
    client: RunClient, job: ChunkJob, targets: Iterable[PageTarget], via: str
) -> list[PageResult]:
    results = []
    for target in targets:
        page_job = PageJob(
            target.url,
            url_key(target.url),
            None,
            job.publisher_id,
            target.published_at,
            target.title,
            discovered_via=via,
            hints=_page_hints(job.hints, target),
        )
        results.append(fetch_page(client, page_job))
        progress.advance(job.label)
    return results


# --- wayback ---------------------------------------------------------------------------------


def _cdx_snapshots(
    client: RunClient,
    settings: Settings,
    url: str,
    since: datetime,
    until: datetime,
    outcome: ChunkOutcome,
    limit: int | None = None,
) -> list[Snapshot]:
    """Every capture of ``url`` in the window (resume keys followed)."""
    snapshots: list[Snapshot] = []
    resume_key: str | None = None
    for _ in range(MAX_INDEX_PAGES):
        query = wayback_cdx_query(
            settings.wayback_cdx_url, url, since, until, limit=limit, resume_key=resume_key
        )
        result = _get_listing(client, query, "index", "wayback", outcome, "application/json")
        if result.error_class and result.status != 404:
            raise ChunkFailed(result.error_class or "archive_error", f"{query}: {result.error}")
        page = parse_wayback_cdx(result.body, result.status or 0, result.content_type)
        if page.error_class:
            raise ChunkFailed(page.error_class, f"{query}: {page.error}")
        snapshots.extend(page.snapshots)
        if not page.resume_key or (limit is not None and len(snapshots) >= limit):
            break
        resume_key = page.resume_key
    return snapshots


def _listed_pages(body: bytes, url: str, window: Window) -> list[PageTarget]:
    """The pages a feed or sitemap snapshot lists, dated inside the window (or undated)."""
    head = body[:2048].lstrip()
    if b"<urlset" in head or b"<sitemapindex" in head:
        sitemap = parse_sitemap(body, url)
        return [
            PageTarget(u.url, u.publication_date or u.lastmod, u.title)
            for u in sitemap.urls
            if window.holds(u.publication_date or u.lastmod)
        ]
    feed = parse_feed(body, url)
    return [
        PageTarget(e.url, e.published_at or e.updated_at, e.title)
        for e in feed.entries
        if window.holds(e.published_at or e.updated_at)
    ]


def list_wayback_pages(
    client: RunClient, sources: Sequence[str], window: Window, settings: Settings
) -> SitemapListing:
    """The pages that archived snapshots of the feeds (or sitemaps) list for the window.

    A page published inside the window may first show up in a snapshot taken after it, so
    snapshots are read up to :data:`CAPTURE_SLACK` past the window; identical snapshots are
    collapsed by the archive (``collapse=digest``). Each page is filed under its feed date, or
    the snapshot's capture time when the feed gives none."""
    assert window.since is not None and window.until is not None
    listing = SitemapListing()
    taken: set[str] = set()
    outcome = ChunkOutcome(-1)
    for source in sources:
        try:
            snapshots = _cdx_snapshots(
                client, settings, source, window.since, window.until + CAPTURE_SLACK, outcome
            )
        except ChunkFailed as exc:
            raise BackfillError(
                f"the Wayback Machine could not list snapshots of {source}: {exc}; "
                "run the backfill again later"
            ) from exc
        if not snapshots:
            listing.problems.append(f"{source}: the archive has no capture in the window")
        for snapshot in snapshots:
            listing.sitemaps_read += 1
            capture_url = wayback_capture_url(settings.wayback_web_url, snapshot.timestamp, source)
            result = client.fetcher.get(capture_url, accept=FEED_ACCEPT, respect_robots=False)
            outcome.other_fetches.append(
                _fetch_log(
                    result,
                    "feed",
                    client.capture(result, "feed"),
                    discovered_via="wayback",
                    captured_at=snapshot.captured_at,
                )
            )
            if result.error_class:
                listing.problems.append(f"{capture_url}: {result.error_class}: {result.error}")
                continue
            for target in _listed_pages(result.body, source, window):
                key = url_key(target.url)
                if key in taken:
                    continue
                taken.add(key)
                filed = target.published_at or snapshot.captured_at
                listing.pages.append((target, filed if window.holds(filed) else None))
    listing.fetches = outcome.other_fetches
    return listing


def _wayback_chunk(client: RunClient, job: ChunkJob, settings: Settings) -> ChunkOutcome:
    outcome = ChunkOutcome(job.index, urls_found=len(job.pages))
    for target in job.pages:
        outcome.pages.append(_wayback_page(client, job, settings, target, outcome))
        progress.advance(job.label)
    return outcome


def _wayback_page(
    client: RunClient, job: ChunkJob, settings: Settings, target: PageTarget, outcome: ChunkOutcome
) -> PageResult:
    """The first capture of the page after its publication, raw (``id_``); the live page when
    the archive has none."""
    assert job.starts_at is not None and job.ends_at is not None
    since = target.published_at or job.starts_at
    captures = _cdx_snapshots(
        client, settings, target.url, since, job.ends_at + CAPTURE_SLACK, outcome, limit=1
    )
    if not captures:
        return _take_live_pages(client, job, [target], "wayback")[0]
    snapshot = captures[0]
    capture_url = wayback_capture_url(settings.wayback_web_url, snapshot.timestamp, target.url)
    result = client.fetcher.get(capture_url, accept="text/html", respect_robots=False)
    return _archived_page(
        result,
        target.url,
        via="wayback",
        captured_at=snapshot.captured_at,
        publisher_id=job.publisher_id,
        feed_published_at=target.published_at,
        feed_title=target.title,
        capture=client.capture(result, "page"),
        hints=_page_hints(job.hints, target),
    )


# --- common crawl ----------------------------------------------------------------------------


def _commoncrawl_chunk(client: RunClient, job: ChunkJob, settings: Settings) -> ChunkOutcome:
    assert job.starts_at is not None and job.ends_at is not None and job.site is not None
    outcome = ChunkOutcome(job.index)
    chosen: dict[str, Snapshot] = {}
    for crawl in crawls_for_window(job.crawls, job.starts_at, job.ends_at):
        for page_number in range(MAX_INDEX_PAGES):
            query = cc_query(crawl.cdx_api, job.site, job.starts_at, job.ends_at, page=page_number)
            result = _get_listing(client, query, "index", "commoncrawl", outcome, "*/*")
            page = parse_cc_index(result.body, result.status or 0)
            if page.error_class:
                raise ChunkFailed(page.error_class, f"{query}: {page.error}")
            if not page.snapshots:
                break
            for snapshot in page.snapshots:
                if snapshot.filename is None or snapshot.offset is None or not snapshot.length:
                    continue
                key = url_key(snapshot.url)
                # The earliest capture is the nearest to publication (later ones may be edits).
                if key not in chosen or snapshot.captured_at < chosen[key].captured_at:
                    chosen[key] = snapshot
    outcome.urls_found = len(chosen)
    progress.add_total(job.label, len(chosen))
    for snapshot in chosen.values():
        outcome.pages.append(_commoncrawl_page(client, job, settings, snapshot))
        progress.advance(job.label)
    return outcome


def _commoncrawl_page(
    client: RunClient, job: ChunkJob, settings: Settings, snapshot: Snapshot
) -> PageResult:
    assert snapshot.offset is not None and snapshot.length is not None
    record_url = settings.cc_data_url.rstrip("/") + "/" + (snapshot.filename or "").lstrip("/")
    result = client.fetcher.get(
        record_url,
        respect_robots=False,
        extra_headers={"Range": range_header(snapshot.offset, snapshot.length)},
    )
    capture = client.capture(result, "page")
    if result.error_class:
        return _archived_page(
            result,
            snapshot.url,
            via="commoncrawl",
            captured_at=snapshot.captured_at,
            publisher_id=job.publisher_id,
            capture=capture,
        )
    try:
        record = parse_warc_member(result.body)
    except ValueError as exc:
        failed = replace(result, error_class="warc_unreadable", error=str(exc))
        return _archived_page(
            failed,
            snapshot.url,
            via="commoncrawl",
            captured_at=snapshot.captured_at,
            publisher_id=job.publisher_id,
            capture=capture,
        )
    return _record_page(result, record, job, "commoncrawl", capture)


def _record_page(
    result: HttpResult, record: ArchivedResponse, job: ChunkJob, via: str, capture: Any = None
) -> PageResult:
    if not record.is_html:
        key = url_key(record.url)
        fetch = _fetch_log(
            result,
            "page",
            capture,
            url_key=key,
            discovered_via=via,
            captured_at=record.captured_at,
            drop_reason="not_html",
            error=f"archived {record.content_type or 'untyped'} response, not HTML",
        )
        return PageResult(fetch, None, key, None, job.publisher_id)
    if record.status is not None and not 200 <= record.status < 300:
        key = url_key(record.url)
        fetch = _fetch_log(
            result,
            "page",
            capture,
            url_key=key,
            discovered_via=via,
            captured_at=record.captured_at,
            drop_reason="archived_error_page",
            error=f"the archive holds a {record.status} answer for this URL, not the article",
        )
        return PageResult(fetch, None, key, None, job.publisher_id)
    page = _archived_page(
        result,
        record.url,
        via=via,
        captured_at=record.captured_at,
        publisher_id=job.publisher_id,
        body=record.body,
        content_type=record.content_type,
        capture=capture,
    )
    if record.truncated and page.article is not None:
        note = f"archived record incomplete: {record.truncated}; extracted what was there"
        page = replace(page, fetch=replace(page.fetch, error=note))
    return page


# --- warc --------------------------------------------------------------------------------------


def _warc_chunk(job: ChunkJob) -> ChunkOutcome:
    """Every record of one local WARC/ARC file through the normal extraction path."""
    assert job.path is not None
    outcome = ChunkOutcome(job.index)
    now = datetime.now(UTC)
    for offset, item in iter_archive(Path(job.path)):
        outcome.urls_found += 1
        progress.advance(job.label)
        if isinstance(item, RecordProblem):
            if item.error_class == "not_html":
                fetch = FetchLog(
                    url=item.url or f"warc:{job.path}#{offset}",
                    kind="page",
                    requested_at=now,
                    url_key=url_key(item.url) if item.url else None,
                    drop_reason="not_html",
                    error=item.error,
                    warc_path=job.path,
                    warc_offset=offset,
                    discovered_via="warc",
                )
            else:
                fetch = FetchLog(
                    url=item.url or f"warc:{job.path}#{item.offset or offset}",
                    kind="page",
                    requested_at=now,
                    error_class=item.error_class,
                    error=item.error,
                    warc_path=job.path,
                    warc_offset=item.offset if item.offset is not None else offset,
                    discovered_via="warc",
                )
            outcome.other_fetches.append(fetch)
            continue
        result = HttpResult(
            url=item.url,
            requested_at=now,
            final_url=item.url,
            status=item.status,
            body=item.body,
            headers={"content-type": item.content_type} if item.content_type else {},
        )
        page = _record_page(result, item, job, "warc")
        fetch = replace(page.fetch, warc_path=job.path, warc_offset=offset)
        outcome.pages.append(replace(page, fetch=fetch))
    return outcome


# --- the chunk task --------------------------------------------------------------------------


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
            outcome.pages = _take_live_pages(client, job, job.pages, "sitemap")
        elif job.via == "wayback":
            outcome = _wayback_chunk(client, job, settings)
        elif job.via == "commoncrawl":
            outcome = _commoncrawl_chunk(client, job, settings)
        else:
            outcome = _warc_chunk(job)
    except ChunkFailed as exc:
        logger.warning("chunk %s: %s", job.label, exc)
        return ChunkOutcome(job.index, error_class=exc.error_class, error=exc.error)
    outcome.pages = [_in_window(page, window) for page in outcome.pages]
    transient = [p.fetch for p in outcome.pages if p.fetch.error_class in TRANSIENT_ERROR_CLASSES]
    if transient:
        # The rest is loaded; the chunk stays to do so these pages are tried again.
        outcome.error_class = "pages_transient"
        outcome.error = (
            f"{len(transient)} page(s) failed for now, e.g. {transient[0].url}: "
            f"{transient[0].error_class}; run the backfill again to retry them"
        )
    return outcome


# --- the flow --------------------------------------------------------------------------------


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
    with open_warehouse(db) as con:
        migrate(con)
        load.start_run(con, run_id, "backfill", started)
        publisher_id = None
        if configured is not None:
            feed_map = load.register_sources(con, source_rows([configured]))
            publisher_id = next(iter(feed_map.values()))[1] if feed_map else None
        elif url:
            publisher_id = publishers_for_domains(con, [host_of(url)])[host_of(url)]
        robots = [RobotsRecord(*row) for row in load.robots_records(con)]
    client = open_run_client(run_id, settings, robots)
    counts: dict[str, int] = dict.fromkeys(load.RUN_COUNTERS, 0)
    totals = ChunkCounts()
    try:
        plan = _plan(client, via, window, chunk, configured, url, path, publisher_id, settings)
        for problem in plan.problems:
            logger.warning("backfill %s: %s", plan.target, problem)
        job_id = job_id_for(via, plan.target, window.since, named_until, plan.unit)
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
        todo = [c for c in chunks if c.status != "done" and c.label in plan.jobs_by_label]
        logger.info(
            "backfill %s: %d chunks, %d to do (%d done before)",
            job_id,
            len(chunks),
            len(todo),
            sum(c.status == "done" for c in chunks),
        )
        progress.add_total("chunks", len(todo))
        futures = []
        for row in todo:
            job = replace(plan.jobs_by_label[row.label], index=row.index)
            if via != "warc":  # a file's record count is known once it has been read
                progress.add_total(row.label, len(job.pages))
            futures.append(run_chunk.submit(job, settings, run_id, window))
        failed = 0
        for future in as_completed(futures):
            outcome = future.result()
            chunk_row = next(c for c in todo if c.index == outcome.index)
            done = _load_chunk(db, run_id, job_id, chunk_row, outcome, settings, counts)
            totals = _add(totals, done)
            failed += outcome.error_class is not None
            progress.advance("chunks")
        with open_warehouse(db) as con:
            status = close_job(con, job_id, datetime.now(UTC))
    except BaseException as exc:
        _close_client(db, run_id)
        with open_warehouse(db) as con:
            load.fail_run(con, run_id, exc, counts)
        raise
    _close_client(db, run_id)
    with open_warehouse(db) as con:
        load.finish_run(con, run_id, datetime.now(UTC), "completed", counts)
    refresh_search(db)
    summary: dict[str, Any] = {
        "run_id": run_id,
        "job_id": job_id,
        "status": status,
        "chunks": len(chunks),
        "chunks_run": len(todo),
        "chunks_failed": failed,
        "problems": plan.problems,
        **{name: getattr(totals, name) for name in ChunkCounts.__dataclass_fields__},
    }
    logger.info("backfill %s %s: %s", job_id, status, summary)
    return summary


def _add(a: ChunkCounts, b: ChunkCounts) -> ChunkCounts:
    return ChunkCounts(*(getattr(a, n) + getattr(b, n) for n in ChunkCounts.__dataclass_fields__))


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
            starts = [url if _looks_like_sitemap(url) else _origin(url)]
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
    fetches = [_listing_fetch(result, "index", "commoncrawl", client)]
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
    db: str,
    run_id: str,
    job_id: str,
    chunk: ChunkRow,
    outcome: ChunkOutcome,
    settings: Settings,
    counts: dict[str, int],
) -> ChunkCounts:
    """Load a chunk's pages and mark it done in one transaction (or record why it is not)."""
    now = datetime.now(UTC)
    pages = outcome.pages
    fetches = fetches_frame([p.fetch for p in pages] + outcome.other_fetches)
    frames = article_frames(pages, now)
    failures = sum(1 for p in pages if p.fetch.error_class) + sum(
        1 for f in outcome.other_fetches if f.error_class and f.kind == "page"
    )
    with open_warehouse(db) as con, load.transaction(con):
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
        if outcome.error_class is None:
            finish_chunk(con, job_id, chunk.index, chunk_counts, run_id, now)
        else:
            fail_chunk(
                con, job_id, chunk.index, outcome.error_class, outcome.error or "", run_id, now
            )
    with open_warehouse(db) as con:
        dedup_pending(con, now, settings.dedup_window_days)
    counts["pages_fetched"] += len(pages)
    counts["articles_new"] += loaded.new
    counts["articles_unchanged"] += loaded.unchanged
    counts["articles_dropped"] += chunk_counts.articles_dropped
    counts["articles_failed"] += failures
    return chunk_counts


def _close_client(db: str, run_id: str) -> None:
    client = close_run_client(run_id)
    if client is None:
        return
    fetches = [_fetch_log(r, "robots", ref) for r, ref in client.drain_robots_fetches()]
    records = [(r.origin, r.body, r.status, r.fetched_at) for r in client.store.records()]
    with open_warehouse(db) as con:
        load.store_robots(con, run_id, fetches_frame(fetches), records)
