"""Backfill listings: which pages a window holds, from a site's sitemaps or from the Wayback
Machine's snapshots of its feeds and sitemaps; and the values the backfill stages share.

A listing is read once per run, while the job is planned; each page it names is filed under the
chunk its date falls in (see :mod:`flows.backfill`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from flows.clients import RunClient
from flows.http import HttpResult
from flows.ingest import (
    FEED_ACCEPT,
    fetch_log,
)
from flows.settings import Settings
from transforms.archives import (
    Snapshot,
    parse_wayback_cdx,
    wayback_capture_url,
    wayback_cdx_query,
)
from transforms.discovery import parse_sitemap, sitemap_candidates
from transforms.feeds import parse_feed
from transforms.frames import PageResult
from transforms.records import TRANSIENT_ERROR_CLASSES, FetchLog
from transforms.urls import url_key

__all__ = [
    "CAPTURE_SLACK",
    "MAX_INDEX_PAGES",
    "BackfillError",
    "ChunkFailed",
    "ChunkOutcome",
    "PageTarget",
    "SitemapListing",
    "Window",
    "cdx_snapshots",
    "get_listing",
    "list_sitemap_pages",
    "list_wayback_pages",
    "listing_fetch",
    "looks_like_sitemap",
]

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


@dataclass(slots=True)
class ChunkOutcome:
    index: int
    pages: list[PageResult] = field(default_factory=list)
    other_fetches: list[FetchLog] = field(default_factory=list)  # listings, snapshots, problems
    urls_found: int = 0
    error_class: str | None = None  # set: the chunk is not done (see error)
    error: str | None = None
    next_offset: int | None = None  # WARC: more records from here (the chunk goes on)


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


def listing_fetch(result: HttpResult, kind: str, via: str, client: RunClient) -> FetchLog:
    return fetch_log(result, kind, client.capture(result, kind), discovered_via=via)


def get_listing(
    client: RunClient, url: str, kind: str, via: str, fetches: list[FetchLog], accept: str
) -> HttpResult:
    """Fetch an archive listing; transient trouble fails the chunk (it is retried next run)."""
    result = client.fetcher.get(url, accept=accept, respect_robots=False)
    fetches.append(listing_fetch(result, kind, via, client))
    if result.error_class in TRANSIENT_ERROR_CLASSES:
        raise ChunkFailed(result.error_class or "", f"{url}: {result.error}")
    return result


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
        if looks_like_sitemap(start):
            queue.append((start, 0, False))
            continue
        robots = client.fetcher.get(start.rstrip("/") + "/robots.txt", respect_robots=False)
        listing.fetches.append(listing_fetch(robots, "robots", "sitemap", client))
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
            listing.fetches.append(listing_fetch(result, "sitemap", "sitemap", client))
            if not (guessed and result.status == 404):
                listing.problems.append(f"{url}: {result.error_class}: {result.error}")
            continue
        parsed = parse_sitemap(result.body, result.final_url or url)
        listing.fetches.append(
            fetch_log(
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


def looks_like_sitemap(url: str) -> bool:
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


def cdx_snapshots(
    client: RunClient,
    settings: Settings,
    url: str,
    since: datetime,
    until: datetime,
    fetches: list[FetchLog],
    limit: int | None = None,
) -> list[Snapshot]:
    """Every capture of ``url`` in the window (resume keys followed)."""
    snapshots: list[Snapshot] = []
    resume_key: str | None = None
    for _ in range(MAX_INDEX_PAGES):
        query = wayback_cdx_query(
            settings.wayback_cdx_url, url, since, until, limit=limit, resume_key=resume_key
        )
        result = get_listing(client, query, "index", "wayback", fetches, "application/json")
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
    for source in sources:
        try:
            snapshots = cdx_snapshots(
                client,
                settings,
                source,
                window.since,
                window.until + CAPTURE_SLACK,
                listing.fetches,
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
            listing.fetches.append(
                fetch_log(
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
    return listing
