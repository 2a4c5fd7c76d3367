"""Sitemap URLs to entries: the time window, undated URLs, order and caps; which children of an
index are read first."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

from transforms.discovery import SitemapResult, SitemapUrl, parse_sitemap
from transforms.sitemap_entries import (
    choose_children,
    index_lastmods,
    sitemap_entries,
    sitemap_kind,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def _news(url: str, published: datetime, title: str, lang: str = "en") -> SitemapUrl:
    return SitemapUrl(url, None, published, title, lang)


def test_only_urls_after_the_window_start_newest_first() -> None:
    urls = [
        _news("https://n.example/a", NOW - timedelta(hours=5), "A"),
        _news("https://n.example/b", NOW - timedelta(hours=1), "B", "de"),
        _news("https://n.example/old", NOW - timedelta(days=3), "Old"),
        SitemapUrl("https://n.example/undated"),
    ]
    entries = sitemap_entries(urls, NOW - timedelta(hours=6), take_undated=False)
    assert [e.url for e in entries] == ["https://n.example/b", "https://n.example/a"]
    b = entries[0]
    assert (b.guid, b.title, b.language, b.discovered_via) == (b.url, "B", "de", "sitemap")
    assert b.published_at == NOW - timedelta(hours=1)
    assert b.updated_at is None


def test_undated_urls_only_when_asked_and_after_the_dated_ones() -> None:
    urls = [SitemapUrl("https://n.example/undated"), SitemapUrl("https://n.example/new", NOW)]
    first = sitemap_entries(urls, NOW - timedelta(days=2), take_undated=True)
    assert [e.url for e in first] == ["https://n.example/new", "https://n.example/undated"]
    later = sitemap_entries(urls, NOW - timedelta(days=2), take_undated=False)
    assert [e.url for e in later] == ["https://n.example/new"]


def test_lastmod_counts_and_is_the_updated_date() -> None:
    # Published long ago but modified now: an edit worth seeing (pages_to_fetch decides).
    url = SitemapUrl("https://n.example/edited", NOW, NOW - timedelta(days=30), "E", "en")
    (entry,) = sitemap_entries([url], NOW - timedelta(hours=1), take_undated=False)
    assert entry.published_at == NOW - timedelta(days=30)
    assert entry.updated_at == NOW
    plain = SitemapUrl("https://n.example/plain", NOW - timedelta(minutes=5))
    (entry,) = sitemap_entries([plain], NOW - timedelta(hours=1), take_undated=False)
    assert entry.published_at == entry.updated_at == NOW - timedelta(minutes=5)
    assert entry.title is None and entry.language is None


def test_one_entry_per_url_and_a_cap() -> None:
    urls = [SitemapUrl(f"https://n.example/{i % 5}", NOW - timedelta(minutes=i)) for i in range(20)]
    entries = sitemap_entries(urls, NOW - timedelta(days=1), take_undated=False)
    assert len(entries) == 5
    assert entries[0].updated_at == NOW  # the newest sighting of /0 wins
    capped = sitemap_entries(urls, NOW - timedelta(days=1), take_undated=False, limit=2)
    assert [e.url for e in capped] == ["https://n.example/0", "https://n.example/1"]


def test_children_newest_lastmod_first_else_last_listed_first() -> None:
    children = [f"https://n.example/s{i}.xml" for i in range(4)]
    dated = {
        "https://n.example/s0.xml": NOW,
        "https://n.example/s2.xml": NOW - timedelta(days=1),
    }
    assert choose_children(children, dated, 3) == [
        "https://n.example/s0.xml",
        "https://n.example/s2.xml",
        "https://n.example/s3.xml",
    ]
    assert choose_children(children, {}, 2) == [
        "https://n.example/s3.xml",
        "https://n.example/s2.xml",
    ]
    assert choose_children([*children, children[0]], {}, 10)[-1] == children[0]


def test_index_lastmods_come_with_the_parsed_index_plain_or_gzip() -> None:
    body = (
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/news.xml</loc><lastmod>2026-11-30T10:00:00Z</lastmod></sitemap>"
        b"<sitemap><loc>https://n.example/old.xml</loc><lastmod>2025-01-01</lastmod></sitemap>"
        b"<sitemap><loc>https://n.example/undated.xml</loc></sitemap>"
        b"</sitemapindex>"
    )
    for data in (body, gzip.compress(body)):
        parsed = parse_sitemap(data, "https://n.example/index.xml")
        assert parsed.kind == "index"
        lastmods = index_lastmods(parsed)
        assert lastmods == {
            "https://n.example/news.xml": datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
            "https://n.example/old.xml": datetime(2025, 1, 1, tzinfo=UTC),
        }
        assert choose_children(parsed.sitemaps, lastmods, 1) == ["https://n.example/news.xml"]
    assert index_lastmods(parse_sitemap(b"<not xml", "https://n.example/")) == {}


def test_kind_of_a_sitemap_source() -> None:
    assert sitemap_kind(SitemapResult("index"), news=True) == "sitemap-index"
    assert sitemap_kind(SitemapResult("urlset"), news=True) == "news-sitemap"
    assert sitemap_kind(SitemapResult("urlset"), news=False) == "sitemap"


def test_google_news_sitemap_end_to_end() -> None:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="{NEWS_NS}">
  <url><loc>https://n.example/2026/11/30/story.html</loc>
    <news:news><news:publication><news:name>N</news:name><news:language>fr</news:language>
    </news:publication><news:publication_date>2026-11-30T09:00:00+01:00</news:publication_date>
    <news:title>Une histoire</news:title></news:news></url>
</urlset>""".encode()
    parsed = parse_sitemap(body, "https://n.example/news.xml")
    (entry,) = sitemap_entries(parsed.urls, NOW - timedelta(days=2), take_undated=True)
    assert entry.title == "Une histoire"
    assert entry.language == "fr"
    assert entry.published_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
