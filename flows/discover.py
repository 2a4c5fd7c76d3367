"""Discover a publisher's feeds and news sitemap from any page of its site.

:func:`discover` fetches the page, its robots.txt and every candidate
(:mod:`transforms.discovery`) once, follows sitemap indexes one level deep, and reports the kept
feeds (ranked), the kept news sitemaps and every dropped candidate with its reason. Nothing is
written: the report is what a ``newsdesk sources add URL --dry-run`` would print
(:func:`report_lines`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flows.http import Fetcher, HttpResult
from flows.settings import Settings
from transforms.discovery import (
    Candidate,
    SitemapResult,
    Verdict,
    assess,
    feed_candidates,
    parse_sitemap,
    sitemap_candidates,
)
from transforms.feeds import parse_feed
from transforms.records import ParsedFeed
from transforms.urls import canonical_url

__all__ = ["MAX_FETCHES", "Assessed", "DiscoveryReport", "discover", "report_lines"]

# One discovery should cost a site a few dozen requests at most, whatever its page lists.
MAX_FETCHES = 40
# Children of one sitemap index that are looked at (news sitemaps are listed early in practice).
MAX_INDEX_CHILDREN = 20
_HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class Assessed:
    """One candidate after fetching: the verdict, and what the fetch or parse found."""

    candidate: Candidate
    verdict: Verdict
    kind: str | None = None  # rss | atom | rdf | json | index | urlset | None (not read)
    items: int = 0  # feed entries or sitemap URLs
    status: int | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryReport:
    url: str
    site_url: str  # the page's final address (after redirects): what "on-site" means
    feeds: tuple[Assessed, ...] = ()  # kept, best first
    news_sitemaps: tuple[Assessed, ...] = ()  # kept, best first
    dropped: tuple[Assessed, ...] = ()
    error_class: str | None = None  # page_not_found | not_html | fetch_failed
    error: str | None = None

    @property
    def news_sitemap(self) -> Assessed | None:
        return self.news_sitemaps[0] if self.news_sitemaps else None


def _text(result: HttpResult) -> str:
    charset = "utf-8"
    for param in (result.content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return result.body.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return result.body.decode("utf-8", errors="replace")


def _is_html(result: HttpResult) -> bool:
    media = (result.content_type or "").split(";")[0].strip().lower()
    if media in _HTML_TYPES:
        return True
    # Servers without a Content-Type still send pages that start like one.
    head = result.body[:1024].lstrip().lower()
    return not media and head.startswith((b"<!doctype html", b"<html"))


def _page_error(url: str, page: HttpResult) -> DiscoveryReport | None:
    if page.status == 404 or page.status == 410:
        return DiscoveryReport(
            url, url, error_class="page_not_found", error=f"HTTP {page.status} for {url}"
        )
    if not page.ok:
        detail = page.error or f"HTTP {page.status}"
        return DiscoveryReport(
            url, url, error_class="fetch_failed", error=f"{page.error_class}: {detail}"
        )
    if not _is_html(page):
        return DiscoveryReport(
            url,
            page.final_url or url,
            error_class="not_html",
            error=f"not an HTML page (Content-Type {page.content_type or 'missing'})",
        )
    return None


def _dead(candidate: Candidate, result: HttpResult) -> Assessed:
    if result.error_class:
        status = f" (HTTP {result.status})" if result.status else ""
        reason = f"dead: {result.error_class}{status}"
    else:
        reason = f"dead: HTTP {result.status}"
    return Assessed(candidate, Verdict(False, reason), status=result.status)


def discover(
    url: str, settings: Settings, now: datetime, fetcher: Fetcher | None = None
) -> DiscoveryReport:
    """Find and judge the feeds and news sitemaps of the site ``url`` belongs to.

    Never raises for a bad site: a page that is missing, unreachable or not HTML gives a report
    with ``error_class`` set. ``now`` decides freshness (passed in so runs are repeatable).
    """
    own = fetcher is None
    client = fetcher or Fetcher(settings)
    try:
        return _discover(url, client, now)
    finally:
        if own:
            client.close()


def _discover(url: str, fetcher: Fetcher, now: datetime) -> DiscoveryReport:
    page = fetcher.get(url, accept=_HTML_ACCEPT)
    failed = _page_error(url, page)
    if failed is not None:
        return failed
    site_url = page.final_url or url
    parts = urlsplit(site_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    robots = fetcher.get(origin + "/robots.txt", accept="text/plain", respect_robots=False)
    robots_txt = _text(robots) if robots.ok else None

    # (candidate, depth): depth 1 is a child of a sitemap index, whose own children are not
    # followed (one level), so a cycle of indexes ends there; `seen` stops repeats earlier.
    # Advertised candidates before guessed ones (common paths), so an address that is both is
    # reported by its stronger signal; likewise an index's children go to the front below.
    found = [*feed_candidates(_text(page), site_url), *sitemap_candidates(robots_txt, origin)]
    ordered = sorted(found, key=lambda c: c.found_via == "common-path")
    queue: deque[tuple[Candidate, int]] = deque((c, 0) for c in ordered)
    seen: set[str] = {canonical_url(site_url)}
    kept_feeds: list[Assessed] = []
    kept_sitemaps: list[Assessed] = []
    dropped: list[Assessed] = []
    fetches = 0
    while queue:
        candidate, depth = queue.popleft()
        key = canonical_url(candidate.url)
        if key in seen:
            continue
        seen.add(key)
        if fetches >= MAX_FETCHES:
            dropped.append(Assessed(candidate, Verdict(False, "skipped: fetch budget spent")))
            continue
        fetches += 1
        accept = _SITEMAP_ACCEPT if candidate.is_sitemap else _FEED_ACCEPT
        result = fetcher.get(candidate.url, accept=accept)
        if not result.ok:
            dropped.append(_dead(candidate, result))
            continue
        parsed: ParsedFeed | SitemapResult
        if candidate.is_sitemap:
            parsed = parse_sitemap(result.body, result.final_url or candidate.url)
            items = len(parsed.urls) or len(parsed.sitemaps)
            if parsed.kind == "index" and depth == 0:
                children = parsed.sitemaps[:MAX_INDEX_CHILDREN]
                queue.extendleft(
                    (Candidate(child, "sitemap", "sitemap-index"), depth + 1)
                    for child in reversed(children)
                )
        else:
            parsed = parse_feed(result.body, result.final_url or candidate.url, result.content_type)
            items = len(parsed.entries)
        verdict = assess(candidate, parsed, site_url, now)
        if isinstance(parsed, SitemapResult) and parsed.kind == "index" and depth > 0:
            verdict = Verdict(False, "nested sitemap index: not followed (one level only)")
        assessed = Assessed(candidate, verdict, parsed.kind, items, result.status)
        if not verdict.keep:
            dropped.append(assessed)
        elif candidate.is_sitemap:
            kept_sitemaps.append(assessed)
        else:
            kept_feeds.append(assessed)

    def rank(items: list[Assessed]) -> tuple[Assessed, ...]:
        return tuple(sorted(items, key=lambda a: -a.verdict.score))

    return DiscoveryReport(
        url,
        site_url,
        feeds=rank(kept_feeds),
        news_sitemaps=rank(kept_sitemaps),
        dropped=tuple(dropped),
    )


def report_lines(report: DiscoveryReport) -> list[str]:
    """A human-readable summary, one line per candidate (for ``--dry-run``)."""
    if report.error_class:
        return [f"discover {report.url}: {report.error_class}: {report.error}"]
    lines = [
        f"discover {report.url}: {len(report.feeds)} feed(s) kept, "
        f"{len(report.news_sitemaps)} news sitemap(s) kept, {len(report.dropped)} dropped"
    ]
    for label, kept in (("feed", report.feeds), ("news-sitemap", report.news_sitemaps)):
        for rank, item in enumerate(kept, 1):
            title = f" {item.candidate.title!r}" if item.candidate.title else ""
            lines.append(
                f"  KEEP {label} #{rank} {item.verdict.score:5.2f} {item.candidate.url}{title}"
                f" [{item.candidate.found_via}] {item.verdict.reason}"
            )
    for item in report.dropped:
        lines.append(
            f"  DROP {item.candidate.url} [{item.candidate.found_via}] {item.verdict.reason}"
        )
    return lines
