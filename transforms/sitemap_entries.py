"""Sitemaps as live sources: which child sitemaps of an index to read, and which URLs of a
urlset become entries (pure: no I/O, no clock — the caller passes the time window).

Parsing itself is :func:`transforms.discovery.parse_sitemap` (hardened, capped). A sitemap URL
becomes a :class:`FeedEntry` with ``guid`` = the URL, ``title`` = ``news:title``,
``published_at`` = ``news:publication_date`` (else ``lastmod``), ``updated_at`` = ``lastmod``,
``language`` = ``news:language`` and ``discovered_via = 'sitemap'``. Only URLs newer than the
window start are kept; undated URLs only when the caller says so (a source's first fetch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from transforms.discovery import SitemapResult, SitemapUrl
from transforms.records import FeedEntry, ParsedFeed
from transforms.urls import canonical_url

__all__ = [
    "MAX_CHILD_SITEMAPS",
    "MAX_SITEMAP_DEPTH",
    "MAX_SITEMAP_ENTRIES",
    "choose_children",
    "index_lastmods",
    "sitemap_entries",
    "sitemap_feed",
    "sitemap_key",
    "sitemap_kind",
]

# Child sitemaps fetched per fetch of one source, over all levels of its indexes.
MAX_CHILD_SITEMAPS = 20
# The source is depth 0; an index's children depth 1; a nested index's children depth 2. An
# index found at the last depth is not followed.
MAX_SITEMAP_DEPTH = 2
# Entries taken from one fetch of one source, newest first (a Google News sitemap holds at most
# 1,000 URLs; a plain urlset may hold 50,000 of a whole site).
MAX_SITEMAP_ENTRIES = 2000


def sitemap_key(url: str) -> str:
    """The identity of a sitemap address, for loop detection."""
    try:
        return canonical_url(url)
    except ValueError:
        return url


def index_lastmods(index: SitemapResult) -> dict[str, datetime]:
    """``{child sitemap key: lastmod}`` of a parsed sitemap index; children without a
    readable lastmod are left out (the caller then goes by the order of the list)."""
    return {
        sitemap_key(child): lastmod
        for child, lastmod in zip(index.sitemaps, index.sitemap_lastmods, strict=True)
        if lastmod is not None
    }


def choose_children(
    children: Sequence[str], lastmods: dict[str, datetime], limit: int
) -> list[str]:
    """At most ``limit`` children of an index, the most promising first: newest ``lastmod``
    first when the index gives dates (undated ones after them, later-listed first), else the
    last listed first (sitemaps are usually appended to)."""
    unique = list(dict.fromkeys(children))
    order = {url: position for position, url in enumerate(unique)}

    def rank(url: str) -> tuple[int, float, int]:
        lastmod = lastmods.get(sitemap_key(url))
        return (0, -lastmod.timestamp(), -order[url]) if lastmod else (1, 0.0, -order[url])

    return sorted(unique, key=rank)[: max(limit, 0)]


def _date_of(item: SitemapUrl) -> datetime | None:
    dates = [d for d in (item.publication_date, item.lastmod) if d is not None]
    return max(dates) if dates else None


def sitemap_entries(
    urls: Iterable[SitemapUrl],
    since: datetime,
    *,
    take_undated: bool,
    limit: int = MAX_SITEMAP_ENTRIES,
) -> tuple[FeedEntry, ...]:
    """Entries for the URLs dated after ``since`` (the newer of publication date and lastmod),
    plus the undated ones when ``take_undated``; newest first, one per URL, at most ``limit``."""
    dated: list[tuple[datetime, int, SitemapUrl]] = []
    undated: list[SitemapUrl] = []
    for position, item in enumerate(urls):
        when = _date_of(item)
        if when is None:
            if take_undated:
                undated.append(item)
        elif when > since:
            dated.append((when, position, item))
    dated.sort(key=lambda d: (d[0], -d[1]), reverse=True)
    entries: dict[str, FeedEntry] = {}
    for item in [d[2] for d in dated] + undated:
        if len(entries) >= limit:
            break
        if item.url in entries:
            continue
        entries[item.url] = FeedEntry(
            guid=item.url,
            url=item.url,
            title=item.title,
            published_at=item.publication_date or item.lastmod,
            updated_at=item.lastmod,
            language=item.language,
            discovered_via="sitemap",
        )
    return tuple(entries.values())


def sitemap_kind(top: SitemapResult, news: bool) -> str:
    """What ``feeds.kind`` says of a sitemap source: sitemap-index | news-sitemap | sitemap."""
    if top.kind == "index":
        return "sitemap-index"
    return "news-sitemap" if news else "sitemap"


def sitemap_feed(
    kind: str | None,
    entries: tuple[FeedEntry, ...],
    error_class: str | None = None,
    error: str | None = None,
) -> ParsedFeed:
    """A sitemap source's fetch in the shape the rest of the pipeline takes from feeds."""
    return ParsedFeed(kind, None, entries, error_class=error_class, error=error)
