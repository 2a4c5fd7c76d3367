"""Feed and sitemap discovery, pure parts: candidates, sitemap parsing, verdicts and ranking."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from transforms.discovery import (
    MAX_SITEMAP_BYTES,
    MAX_SITEMAP_URLS,
    Candidate,
    SitemapResult,
    assess,
    feed_candidates,
    parse_sitemap,
    sitemap_candidates,
)
from transforms.feeds import parse_feed
from transforms.records import FeedEntry, ParsedFeed

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SITE = "https://www.example.com/news/today.html"

PAGE = """<!doctype html><html><head>
<link rel="alternate" type="application/rss+xml" title="Main" href="/feed.rss">
<link rel="alternate" type="application/feed+json" title="JSON" href="feed.json">
<link rel="alternate" type="application/atom+xml" href="https://www.example.com/comments/feed">
<link rel="stylesheet" type="text/css" href="/style.css">
<link rel="alternate" hreflang="de" href="/de/">
</head><body>
<a href="/about">About</a>
<a href="/podcast.rss">Podcast</a>
<a href="/syndication">RSS</a>
<a href="/feed.rss">again</a>
<a href="mailto:x@example.com">feed</a>
</body></html>"""


def _urls(candidates: list[Candidate]) -> list[tuple[str, str]]:
    return [(c.url, c.found_via) for c in candidates]


def test_feed_candidates_resolve_links_anchors_and_common_paths() -> None:
    found = feed_candidates(PAGE, SITE)
    by_url = {c.url: c for c in found}
    assert _urls(found)[:5] == [
        ("https://www.example.com/feed.rss", "link-alternate"),
        ("https://www.example.com/news/feed.json", "link-alternate"),  # relative to the page
        ("https://www.example.com/comments/feed", "link-alternate"),
        ("https://www.example.com/podcast.rss", "anchor"),
        ("https://www.example.com/syndication", "anchor"),  # by its text
    ]
    assert by_url["https://www.example.com/news/feed.json"].kind_hint == "json"
    assert by_url["https://www.example.com/feed.rss"].title == "Main"
    assert "https://www.example.com/about" not in by_url
    assert "https://www.example.com/style.css" not in by_url
    # Each address once, whichever way it was seen first.
    assert len(found) == len({c.url for c in found})
    common = [c.url for c in found if c.found_via == "common-path"]
    assert "https://www.example.com/feed" in common
    assert "https://www.example.com/feed.json" in common


def test_feed_candidates_honour_base_href_and_survive_junk() -> None:
    page = '<html><head><base href="https://cdn.example.com/x/"><link rel="alternate" '
    page += 'type="application/rss+xml" href="rss.xml"></head></html>'
    assert feed_candidates(page, SITE)[0].url == "https://cdn.example.com/x/rss.xml"
    only_common = feed_candidates("", SITE)
    assert {c.found_via for c in only_common} == {"common-path"}


def test_sitemap_candidates_from_robots_and_common_paths() -> None:
    robots = "User-agent: *\nDisallow: /x\nSITEMAP: /maps/index.xml # ours\nSitemap: https://o.example/s.xml\n"
    found = sitemap_candidates(robots, "https://www.example.com/page")
    assert _urls(found)[:3] == [
        ("https://www.example.com/maps/index.xml", "robots"),
        ("https://o.example/s.xml", "robots"),
        ("https://www.example.com/sitemap.xml", "common-path"),
    ]
    assert all(c.is_sitemap for c in found)
    assert len(sitemap_candidates(None, "https://www.example.com")) == 3


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc> https://www.example.com/2026/11/30/a.html </loc>
    <news:news><news:publication><news:name>Ex</news:name><news:language>en</news:language>
    </news:publication><news:publication_date>2026-11-30T08:00:00+01:00</news:publication_date>
    <news:title>A story</news:title></news:news></url>
  <url><loc>https://www.example.com/2026/11/29/b.html</loc><lastmod>2026-11-29</lastmod></url>
</urlset>"""

INDEX = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>/news.xml</loc></sitemap><sitemap><loc><![CDATA[https://www.example.com/p.xml.gz]]></loc></sitemap>
</sitemapindex>"""

URLSET = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.example.com/about</loc><lastmod>2020-01-01</lastmod></url></urlset>"""


def test_sitemap_index_urlset_and_news() -> None:
    index = parse_sitemap(INDEX, "https://www.example.com/sitemap_index.xml")
    assert index.kind == "index" and index.error_class is None
    assert index.sitemaps == (
        "https://www.example.com/news.xml",
        "https://www.example.com/p.xml.gz",
    )

    plain = parse_sitemap(URLSET, "https://www.example.com/sitemap.xml")
    assert plain.kind == "urlset" and not plain.is_news
    assert plain.urls[0].lastmod == datetime(2020, 1, 1, tzinfo=UTC)

    news = parse_sitemap(NEWS_SITEMAP, "https://www.example.com/news.xml")
    assert news.kind == "urlset" and news.is_news
    first, second = news.urls
    assert first.url == "https://www.example.com/2026/11/30/a.html"
    assert first.publication_date == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert (first.title, first.language) == ("A story", "en")
    assert second.publication_date is None and second.lastmod is not None


def test_sitemap_gzip_by_magic_bytes_and_bomb_cap() -> None:
    packed = parse_sitemap(gzip.compress(NEWS_SITEMAP), "https://www.example.com/n.xml.gz")
    assert packed.is_news and len(packed.urls) == 2
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 10) + b"</urlset>")
    assert parse_sitemap(bomb, "https://x.example/s.xml.gz").error_class == "too_large"
    assert parse_sitemap(b"\x1f\x8bnot gzip", "https://x.example/s.gz").error_class == "parse_error"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaa">]><urlset>&a;</urlset>',
        b'<!DOCTYPE urlset SYSTEM "file:///etc/passwd"><urlset/>',
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE u [<!ENTITY a "x">]><urlset/>'.encode(
            "utf-16"
        ),
    ],
)
def test_sitemap_refuses_doctype_and_entities(body: bytes) -> None:
    result = parse_sitemap(body, "https://x.example/s.xml")
    assert result.error_class == "unsafe_xml", result
    assert result.urls == ()


def test_sitemap_url_cap_keeps_the_first() -> None:
    row = b"<url><loc>https://x.example/a</loc></url>"
    body = b"<urlset>" + row * (MAX_SITEMAP_URLS + 5) + b"</urlset>"
    result = parse_sitemap(body, "https://x.example/s.xml")
    assert result.error_class == "too_large"
    assert len(result.urls) == MAX_SITEMAP_URLS


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        (b"", "not_a_sitemap"),
        (b"User-agent: *\nSitemap: /s.xml\n", "not_a_sitemap"),
        (b'<rss version="2.0"><channel/></rss>', "not_a_sitemap"),
        (b"<urlset><url><loc>x</url>", "parse_error"),
    ],
)
def test_sitemap_errors_are_values(body: bytes, error_class: str) -> None:
    assert parse_sitemap(body, "https://x.example/s.xml").error_class == error_class


def _feed(urls: list[str], age_days: float = 1.0, title: str = "News") -> ParsedFeed:
    entries = tuple(
        FeedEntry(guid=u, url=u, published_at=NOW - timedelta(days=age_days + i))
        for i, u in enumerate(urls)
    )
    return ParsedFeed("rss", title, entries)


ON_SITE = [f"https://www.example.com/2026/11/{n}.html" for n in range(10)]


def test_assess_keeps_fresh_on_site_and_drops_the_rest_with_reasons() -> None:
    main = Candidate("https://www.example.com/feed.rss", "rss", "link-alternate")
    kept = assess(main, _feed(ON_SITE), SITE, NOW)
    assert kept.keep and kept.reason.startswith("ok")

    off = assess(main, _feed([f"https://other.example/{n}" for n in range(5)]), SITE, NOW)
    assert not off.keep and off.reason.startswith("off-site")
    stale = assess(main, _feed(ON_SITE, age_days=90), SITE, NOW)
    assert not stale.keep and stale.reason.startswith("stale")
    empty = assess(main, ParsedFeed("rss", "x", ()), SITE, NOW)
    assert not empty.keep and empty.reason.startswith("empty")
    html = assess(
        main, parse_feed(b"<html><body>hi</body></html>", main.url, "text/html"), SITE, NOW
    )
    assert not html.keep and html.reason.startswith("not_a_feed")
    # A subdomain is the same site (registrable domain).
    cdn = assess(main, _feed([u.replace("www.", "news.") for u in ON_SITE]), SITE, NOW)
    assert cdn.keep


def test_assess_ranks_main_feed_above_comments_and_guesses() -> None:
    feed = _feed(ON_SITE)
    main = assess(
        Candidate("https://www.example.com/feed.rss", "rss", "link-alternate"), feed, SITE, NOW
    )
    comments = assess(
        Candidate("https://www.example.com/comments/feed", "atom", "link-alternate"),
        feed,
        SITE,
        NOW,
    )
    guessed = assess(
        Candidate("https://www.example.com/rss", "rss", "common-path"), feed, SITE, NOW
    )
    section = assess(
        Candidate("https://www.example.com/category/sport/feed", "rss", "anchor"), feed, SITE, NOW
    )
    assert comments.keep and "comments" in comments.reason
    assert main.score > guessed.score > comments.score
    assert main.score > section.score
    small = assess(
        Candidate("https://www.example.com/feed.rss", "rss", "link-alternate"),
        _feed(ON_SITE[:2], age_days=20),
        SITE,
        NOW,
    )
    assert main.score > small.score  # more entries, fresher


def test_assess_sitemaps() -> None:
    candidate = Candidate("https://www.example.com/news.xml", "sitemap", "robots")
    news = assess(candidate, parse_sitemap(NEWS_SITEMAP, candidate.url), SITE, NOW)
    assert news.keep and "news sitemap" in news.reason
    assert not assess(candidate, parse_sitemap(URLSET, candidate.url), SITE, NOW).keep
    index = assess(candidate, parse_sitemap(INDEX, candidate.url), SITE, NOW)
    assert not index.keep and "index" in index.reason
    broken = assess(candidate, SitemapResult(None, error_class="parse_error", error="x"), SITE, NOW)
    assert broken.reason == "parse_error: x"
    later = NOW + timedelta(days=400)
    assert assess(
        candidate, parse_sitemap(NEWS_SITEMAP, candidate.url), SITE, later
    ).reason.startswith("stale")


@pytest.mark.corpus
def test_corpus_sitemaps_read_or_rejected_with_reason(corpus: Path) -> None:
    files = sorted((corpus / "sitemaps").iterdir())
    assert files
    outcomes: dict[str, str] = {}
    for path in files:
        result = parse_sitemap(path.read_bytes(), f"https://corpus.example/{path.name}")
        if result.kind is None:
            assert result.error_class and result.error, path.name
            outcomes[path.name] = result.error_class
        else:
            assert result.error_class is None, (path.name, result.error)
            assert result.urls or result.sitemaps, path.name
            outcomes[path.name] = "news" if result.is_news else result.kind
    assert outcomes["advertools-broken-sitemap.xml"] == "parse_error"
    assert outcomes["advertools-robots.txt"] == "not_a_sitemap"
    assert outcomes["advertools-nytimes-news-sitemap.xml"] == "news"
    assert outcomes["advertools-sitemapindex.xml"] == "index"
    assert outcomes["trafilatura-sitemapindex-cdata.xml"] == "index"
    assert outcomes["advertools-urlset-gzipped.xml.gz"] == "urlset"
    assert outcomes["advertools-urlset-named-gz-but-plain.xml.gz"] == "urlset"
    gz = parse_sitemap(
        (corpus / "sitemaps" / "trafilatura-sitemaps.org-urlset.xml.gz").read_bytes(),
        "https://c.example/",
    )
    plain = parse_sitemap(
        (corpus / "sitemaps" / "trafilatura-sitemaps.org-urlset.xml").read_bytes(),
        "https://c.example/",
    )
    assert [u.url for u in gz.urls] == [u.url for u in plain.urls]
    nyt = parse_sitemap(
        (corpus / "sitemaps" / "advertools-nytimes-news-sitemap.xml").read_bytes(),
        "https://c.example/",
    )
    # Spaces around <loc> are not part of the address.
    assert all(u.url == u.url.strip() and u.publication_date for u in nyt.urls)
