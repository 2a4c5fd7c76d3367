"""discover() against a loopback site built in tmp_path: which candidates are kept or dropped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.demo import DemoServer, Route
from flows.discover import DiscoveryReport, discover, report_lines
from flows.http import Fetcher
from flows.settings import Settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(allow_private=["127.0.0.1/32"], per_host_delay_s=0.0)


def _rss(title: str, base: str, prefix: str, day: str = "Sat, 28 Nov 2026") -> str:
    items = "".join(
        f"<item><title>{title} {n}</title><link>{base}/{prefix}/{n}.html</link>"
        f"<guid>{prefix}-{n}</guid><pubDate>{day} 0{n}:00:00 GMT</pubDate></item>"
        for n in range(1, 4)
    )
    channel = f"<channel><title>{title}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[DemoServer, DemoServer]]:
    """The publisher's site, and a second loopback server (another port: another site)."""
    other_dir = tmp_path / "other"
    _write(other_dir, {"feed.rss": _rss("Elsewhere", "{{BASE}}", "wire")})
    with DemoServer(data_dir=other_dir) as other:
        site_dir = tmp_path / "pub"
        json_feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Courier JSON",
            "items": [
                {
                    "id": f"j{n}",
                    "url": f"{{{{BASE}}}}/news/j{n}.html",
                    "title": f"J {n}",
                    "date_published": "2026-11-20T10:00:00Z",
                }
                for n in range(1, 3)
            ],
        }
        news_sitemap = (
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            "<url><loc>{{BASE}}/news/1.html</loc><news:news><news:publication>"
            "<news:name>Courier</news:name><news:language>en</news:language></news:publication>"
            "<news:publication_date>2026-11-30T08:00:00Z</news:publication_date>"
            "<news:title>One</news:title></news:news></url></urlset>"
        )
        _write(
            site_dir,
            {
                "index.html": (
                    "<!doctype html><html><head><title>Courier</title>"
                    '<link rel="alternate" type="application/rss+xml" title="Courier" '
                    'href="/news/feed.rss">'
                    '<link rel="alternate" type="application/feed+json" href="feed.json">'
                    '<link rel="alternate" type="application/rss+xml" title="Comments" '
                    'href="comments/feed.rss">'
                    '<link rel="alternate" type="application/rss+xml" '
                    f'href="{other.base_url}/feed.rss">'
                    "</head><body>"
                    '<a href="/gone.rss">Old RSS</a> <a href="/archive/old.xml">Archive feed</a>'
                    "</body></html>"
                ),
                "news/feed.rss": _rss("Courier", "{{BASE}}", "news"),
                "feed.json": json.dumps(json_feed),
                "comments/feed.rss": _rss("Comments on Courier", "{{BASE}}", "news"),
                "archive/old.xml": _rss("Archive", "{{BASE}}", "old", day="Mon, 02 Mar 2020"),
                "robots.txt": "User-agent: *\nAllow: /\nSitemap: {{BASE}}/maps/index.xml\n",
                "maps/index.xml": (
                    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    "<sitemap><loc>{{BASE}}/news-sitemap.xml</loc></sitemap>"
                    "<sitemap><loc>{{BASE}}/maps/pages.xml</loc></sitemap>"
                    "<sitemap><loc>{{BASE}}/maps/index.xml</loc></sitemap>"  # itself: loop guard
                    "</sitemapindex>"
                ),
                "news-sitemap.xml": news_sitemap,
                "maps/pages.xml": (
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    "<url><loc>{{BASE}}/about.html</loc></url></urlset>"
                ),
            },
        )
        routes = {
            "/data.json": Route(200, b'{"a": 1}', {"Content-Type": "application/json"}),
        }
        with DemoServer(data_dir=site_dir, routes=routes) as site:
            yield site, other


def _run(url: str) -> DiscoveryReport:
    with Fetcher(SETTINGS) as fetcher:
        return discover(url, SETTINGS, NOW, fetcher=fetcher)


def test_discover_keeps_ranks_and_drops_with_reasons(sites: tuple[DemoServer, DemoServer]) -> None:
    site, other = sites
    base = site.base_url
    report = _run(base + "/")
    assert report.error_class is None
    assert [a.candidate.url for a in report.feeds] == [
        f"{base}/news/feed.rss",  # link-alternate, relative href resolved
        f"{base}/feed.json",  # JSON Feed
        f"{base}/comments/feed.rss",  # kept, but ranked last
    ]
    assert report.feeds[1].kind == "json" and report.feeds[1].items == 2
    assert "comments" in report.feeds[2].verdict.reason
    assert report.news_sitemap is not None
    assert report.news_sitemap.candidate.url == f"{base}/news-sitemap.xml"
    assert report.news_sitemap.candidate.found_via == "sitemap-index"

    dropped = {a.candidate.url: a.verdict.reason for a in report.dropped}
    assert dropped[f"{other.base_url}/feed.rss"].startswith("off-site")
    assert dropped[f"{base}/gone.rss"] == "dead: http_4xx (HTTP 404)"
    assert dropped[f"{base}/archive/old.xml"].startswith("stale")
    assert dropped[f"{base}/maps/index.xml"].startswith("sitemap index")
    assert dropped[f"{base}/maps/pages.xml"].startswith("not a news sitemap")
    assert dropped[f"{base}/feed"].startswith("dead")  # a common path that is not there

    # Every address fetched once: the news sitemap is both a common path and in the index,
    # and the index lists itself.
    paths = [path for path, _ in site.requests]
    assert len(paths) == len(set(paths))
    assert paths.count("/maps/index.xml") == 1

    lines = report_lines(report)
    assert lines[0].startswith(f"discover {base}/: 3 feed(s) kept, 1 news sitemap(s) kept")
    assert any("KEEP feed #1" in line and "/news/feed.rss" in line for line in lines)
    assert any(line.startswith("  DROP") and "off-site" in line for line in lines)


def test_discover_page_not_found_and_not_html(sites: tuple[DemoServer, DemoServer]) -> None:
    site, _ = sites
    missing = _run(site.base_url + "/missing.html")
    assert missing.error_class == "page_not_found"
    assert "404" in (missing.error or "")
    assert not missing.feeds and not missing.dropped
    data = _run(site.base_url + "/data.json")
    assert data.error_class == "not_html"
    assert "application/json" in (data.error or "")
    assert report_lines(data) == [f"discover {site.base_url}/data.json: not_html: {data.error}"]
    # Nothing but the page was asked for.
    assert [p for p, _ in site.requests] == ["/missing.html", "/data.json"]


def test_discover_owns_its_fetcher_when_none_given(sites: tuple[DemoServer, DemoServer]) -> None:
    site, _ = sites
    report = discover(site.base_url + "/", SETTINGS, NOW)
    assert len(report.feeds) == 3
