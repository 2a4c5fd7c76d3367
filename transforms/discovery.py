"""Finding a publisher's feeds and news sitemaps from any page of its site (pure: no I/O, no clock).

Three steps, each a function here, with the fetching left to :mod:`flows.discover`:

* candidates: :func:`feed_candidates` reads a page's ``<link rel="alternate">`` tags, anchors that
  look like feeds and the paths CMSs commonly use; :func:`sitemap_candidates` reads robots.txt's
  ``Sitemap:`` lines and the common sitemap paths;
* parsing: feeds go through :func:`transforms.feeds.parse_feed`; sitemaps through
  :func:`parse_sitemap` (lxml, hardened: no DTD, no entities, no network, size and URL caps);
* judging: :func:`assess` keeps a feed that parses, has entries, links mostly to the site itself
  and is fresh, and scores it so the main feed ranks above category and comments feeds.

A "site" is a registrable domain (:func:`transforms.urls.registrable_domain`). An IP-literal host
has no registrable domain, so there the site is ``host:port``: two services on one address are
two sites (this is also what lets the loopback tests put an "off-site" feed on 127.0.0.1).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from transforms.metadata import parse_datetime, parse_html
from transforms.records import ParsedFeed
from transforms.urls import canonical_url, host_of, registrable_domain, resolve

__all__ = [
    "COMMON_FEED_PATHS",
    "COMMON_SITEMAP_PATHS",
    "FRESH_DAYS",
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "NEWS_NS",
    "Candidate",
    "SitemapResult",
    "SitemapUrl",
    "Verdict",
    "assess",
    "feed_candidates",
    "parse_sitemap",
    "site_of",
    "sitemap_candidates",
]

COMMON_FEED_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/feeds/",
    "/index.xml",
    "/feed.json",
)
COMMON_SITEMAP_PATHS = ("/sitemap.xml", "/news-sitemap.xml", "/sitemap_index.xml")
# sitemaps.org protocol limits: 50,000 URLs and 50 MiB uncompressed per sitemap file.
MAX_SITEMAP_URLS = 50_000
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
# A feed whose newest entry is older than this is not a live source worth polling.
FRESH_DAYS = 30
# At least this share of a feed's entry links must be on the site: a feed of another site's
# articles (a partner widget, an aggregator) would ingest someone else's news under this name.
MIN_ON_SITE_SHARE = 0.5
# Anchors are a weak signal and a page may hold thousands: only the first few are tried.
MAX_ANCHOR_CANDIDATES = 20
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"

_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/rdf+xml": "rdf",
    "application/feed+json": "json",
    "application/json": "json",  # JSON Feed 1.0 sites often still announce this
}
# The last path segment of a feed-like link: /rss, /feed/, /atom.xml, /news.rss, /feeds/all ...
_FEED_PATH = re.compile(
    r"(?:^|/)(?:rss|atom|feeds?)(?:/|\.|$)|\.(?:rss|atom|xml)$|[/.]rss\d?", re.I
)
_FEED_TEXT = re.compile(r"^\W*(?:rss|atom|feed|rss feed|atom feed|news ?feed|subscribe)\W*$", re.I)
# Feeds that follow a site but are not its news: comments, one category/tag/author.
_COMMENTS = re.compile(r"comment", re.I)
_SECTION = re.compile(r"/(?:category|categories|tag|tags|author|topic|topics)/", re.I)
_VIA_SCORE = {
    "link-alternate": 3.0,  # the publisher's own advertisement
    "robots": 2.0,
    "sitemap-index": 2.0,
    "anchor": 1.5,
    "common-path": 1.0,  # a guess that happened to answer
}
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An address that may be a feed or sitemap, and how it was found."""

    url: str
    kind_hint: str | None  # rss | atom | rdf | json | feed | sitemap | None (unknown)
    found_via: str  # link-alternate | anchor | common-path | robots | sitemap-index
    title: str | None = None

    @property
    def is_sitemap(self) -> bool:
        return self.kind_hint == "sitemap"


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    url: str
    lastmod: datetime | None = None
    # Google News fields, when the sitemap has them.
    publication_date: datetime | None = None
    title: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class SitemapResult:
    """A parsed sitemap. ``error_class`` is set when it was not (wholly) read."""

    kind: str | None  # index | urlset | None
    urls: tuple[SitemapUrl, ...] = ()
    sitemaps: tuple[str, ...] = ()  # children of an index
    sitemap_lastmods: tuple[datetime | None, ...] = ()  # their lastmod, in the same order
    is_news: bool = False
    error_class: str | None = None  # not_a_sitemap | unsafe_xml | too_large | parse_error
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    keep: bool
    reason: str
    score: float = 0.0


# --- candidates ---------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _http_url(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base`` when it is an http(s) address, else None."""
    if not href or not href.strip():
        return None
    try:
        url = resolve(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url.split("#", 1)[0]


def _kind_from_path(url: str) -> str:
    path = urlsplit(url).path.lower()
    if path.endswith(".json"):
        return "json"
    if "atom" in path:
        return "atom"
    if "rss" in path or path.endswith(".rdf"):
        return "rss"
    return "feed"


def _text_of(node: Any) -> str | None:
    text = " ".join("".join(node.itertext()).split())
    return text or None


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """First sighting wins, so the strongest signal (listed first) is the one reported."""
    seen: set[str] = set()
    kept = []
    for candidate in candidates:
        key = canonical_url(candidate.url)
        if key not in seen:
            seen.add(key)
            kept.append(candidate)
    return kept


def feed_candidates(html: str, page_url: str) -> list[Candidate]:
    """Feed addresses a page advertises or hints at, strongest signal first, deduplicated by
    canonical URL: ``<link rel="alternate">`` with a feed type, feed-looking anchors, then the
    common paths on the page's origin."""
    tree = parse_html(html) if html.strip() else None
    found: list[Candidate] = []
    if tree is not None:
        base = page_url
        # A <base href> changes what every relative link on the page means.
        for node in tree.iter("base"):
            base = _http_url(page_url, node.get("href")) or page_url
            break
        for node in tree.iter("link"):
            rels = (node.get("rel") or "").lower().split()
            media = (node.get("type") or "").split(";")[0].strip().lower()
            if "alternate" not in rels or media not in _FEED_TYPES:
                continue
            url = _http_url(base, node.get("href"))
            if url:
                title = " ".join((node.get("title") or "").split()) or None
                found.append(Candidate(url, _FEED_TYPES[media], "link-alternate", title))
        anchors = 0
        for node in tree.iter("a"):
            if anchors >= MAX_ANCHOR_CANDIDATES:
                break
            url = _http_url(base, node.get("href"))
            if url is None:
                continue
            text = _text_of(node)
            path = urlsplit(url).path
            if _FEED_PATH.search(path) or (text and _FEED_TEXT.match(text)):
                anchors += 1
                found.append(Candidate(url, _kind_from_path(url), "anchor", text))
    origin = _origin(page_url)
    for path in COMMON_FEED_PATHS:
        found.append(Candidate(origin + path, _kind_from_path(path), "common-path"))
    return _dedupe(found)


def sitemap_candidates(robots_txt: str | None, origin: str) -> list[Candidate]:
    """Sitemaps robots.txt names (``Sitemap:`` lines, any case), then the common paths."""
    origin = _origin(origin)
    found: list[Candidate] = []
    for line in (robots_txt or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "sitemap":
            # Comments may follow the value on the same line.
            url = _http_url(origin + "/", value.split("#", 1)[0].strip())
            if url:
                found.append(Candidate(url, "sitemap", "robots"))
    for path in COMMON_SITEMAP_PATHS:
        found.append(Candidate(origin + path, "sitemap", "common-path"))
    return _dedupe(found)


# --- sitemaps -----------------------------------------------------------------------------


def _sitemap_error(error_class: str, error: str) -> SitemapResult:
    return SitemapResult(None, error_class=error_class, error=error)


def _gunzip(body: bytes) -> bytes | SitemapResult:
    """Decompress a gzip body, stopping at the cap so a gzip bomb costs at most the cap."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        return _sitemap_error("parse_error", f"bad gzip data: {exc}")
    if len(data) > MAX_SITEMAP_BYTES or inflater.unconsumed_tail:
        return _sitemap_error(
            "too_large", f"decompressed sitemap exceeds {MAX_SITEMAP_BYTES} bytes; refused"
        )
    return data


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(node: Any, name: str, namespace: str | None = None) -> str | None:
    for child in node:
        if not isinstance(child.tag, str) or _local(child.tag) != name:
            continue
        if namespace is not None and etree.QName(child.tag).namespace != namespace:
            continue
        text = " ".join((child.text or "").split())
        return text or None
    return None


def _news_fields(url_node: Any) -> tuple[datetime | None, str | None, str | None] | None:
    for child in url_node:
        if isinstance(child.tag, str) and child.tag == f"{{{NEWS_NS}}}news":
            language = None
            for publication in child.iter(f"{{{NEWS_NS}}}publication"):
                language = _child_text(publication, "language", NEWS_NS)
            published = parse_datetime(_child_text(child, "publication_date", NEWS_NS))
            return published, _child_text(child, "title", NEWS_NS), language
    return None


def parse_sitemap(body: bytes, url: str) -> SitemapResult:
    """Parse a sitemap (plain or gzip) fetched from ``url``. Never raises for bad input.

    ``kind`` is ``index`` (``sitemaps`` holds the children) or ``urlset`` (``urls``, with the
    Google News fields when present; ``is_news`` when any URL has them). Errors: ``not_a_sitemap``
    (empty, not XML, another root element), ``unsafe_xml`` (a DOCTYPE or entity declaration:
    refused, a sitemap needs neither), ``too_large`` (over :data:`MAX_SITEMAP_BYTES`, or over
    :data:`MAX_SITEMAP_URLS` URLs: the first ones are kept), ``parse_error`` (ill-formed).
    """
    if body.startswith(_GZIP_MAGIC):
        # By magic bytes, not by name: ".xml.gz" files are often served already decompressed.
        unpacked = _gunzip(body)
        if isinstance(unpacked, SitemapResult):
            return unpacked
        body = unpacked
    if len(body) > MAX_SITEMAP_BYTES:
        return _sitemap_error("too_large", f"sitemap exceeds {MAX_SITEMAP_BYTES} bytes; refused")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 (the protocol says UTF-8, but be exact): transcode so the checks below see
        # characters, not bytes that hide "<!ENTITY" between zeros.
        text = body.decode("utf-16", errors="replace").lstrip("\ufeff")
        body = re.sub(r"^(<\?xml[^>]*?encoding=)[\"'][^\"']*[\"']", r'\1"utf-8"', text).encode()
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return _sitemap_error("not_a_sitemap", "empty body")
    if not head.startswith(b"<"):
        return _sitemap_error("not_a_sitemap", "body is not XML")
    if _DECLARATION.search(body):
        return _sitemap_error("unsafe_xml", "DOCTYPE or entity declaration; refused unparsed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return _sitemap_error("parse_error", f"ill-formed XML: {exc}")
    # The byte search above misses a declaration in UTF-16 text; the parsed tree does not.
    if root.getroottree().docinfo.internalDTD is not None:
        return _sitemap_error("unsafe_xml", "DOCTYPE declaration; refused")
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        return _sitemap_error("not_a_sitemap", f"root element is <{kind}>, not a sitemap")
    error_class = error = None
    if kind == "sitemapindex":
        children: list[str] = []
        lastmods: list[datetime | None] = []
        for node in root:
            if _local(node.tag) != "sitemap":
                continue
            if len(children) >= MAX_SITEMAP_URLS:
                error_class, error = "too_large", f"over {MAX_SITEMAP_URLS} sitemaps; first kept"
                break
            child = _http_url(url, _child_text(node, "loc"))
            if child:
                children.append(child)
                lastmods.append(parse_datetime(_child_text(node, "lastmod")))
        return SitemapResult(
            "index",
            sitemaps=tuple(children),
            sitemap_lastmods=tuple(lastmods),
            error_class=error_class,
            error=error,
        )
    urls: list[SitemapUrl] = []
    is_news = False
    for node in root:
        if _local(node.tag) != "url":
            continue
        if len(urls) >= MAX_SITEMAP_URLS:
            error_class, error = "too_large", f"over {MAX_SITEMAP_URLS} URLs; first kept"
            break
        loc = _http_url(url, _child_text(node, "loc"))
        if loc is None:
            continue
        lastmod = parse_datetime(_child_text(node, "lastmod"))
        news = _news_fields(node)
        if news is None:
            urls.append(SitemapUrl(loc, lastmod))
        else:
            is_news = True
            urls.append(SitemapUrl(loc, lastmod, *news))
    return SitemapResult(
        "urlset", urls=tuple(urls), is_news=is_news, error_class=error_class, error=error
    )


# --- judging ------------------------------------------------------------------------------


def site_of(url: str) -> str:
    """The site an address belongs to: its registrable domain, or ``host:port`` for an IP."""
    host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    if not host:
        return ""
    if ":" in host or host.replace(".", "").isdigit():
        return host_of(url)
    return registrable_domain(host)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _judge(
    links: list[str], dates: list[datetime], site_url: str, now: datetime, what: str
) -> tuple[Verdict | None, float]:
    """The checks feeds and news sitemaps share: on-site links and freshness. Returns a drop
    verdict, or None and the freshness bonus (0..1)."""
    site = site_of(site_url)
    on_site = sum(1 for link in links if site_of(link) == site)
    if on_site < MIN_ON_SITE_SHARE * len(links):
        return (
            Verdict(False, f"off-site: {on_site} of {len(links)} {what} links are on {site}"),
            0.0,
        )
    if not dates:
        # Undated items cannot be judged stale; keep them, but without a freshness bonus.
        return None, 0.0
    age_days = (_aware(now) - max(dates)).total_seconds() / 86_400
    if age_days > FRESH_DAYS:
        newest = max(dates).date().isoformat()
        return (
            Verdict(False, f"stale: newest {what} {newest} ({age_days:.0f} days old)"),
            0.0,
        )
    return None, max(0.0, 1.0 - max(age_days, 0.0) / FRESH_DAYS)


def _assess_feed(candidate: Candidate, feed: ParsedFeed, site_url: str, now: datetime) -> Verdict:
    if not feed.entries:
        if feed.error_class:
            return Verdict(False, f"{feed.error_class}: {feed.error}")
        return Verdict(False, "empty: the feed has no entries")
    dates = [d for e in feed.entries if (d := e.published_at or e.updated_at) is not None]
    dropped, freshness = _judge([e.url for e in feed.entries], dates, site_url, now, "entry")
    if dropped is not None:
        return dropped
    score = _VIA_SCORE.get(candidate.found_via, 1.0)
    score += min(len(feed.entries), 50) / 50 + freshness
    # The main feed is what an ingest source should be; comments and one-section feeds follow
    # it and are kept only as alternatives.
    path_and_title = f"{urlsplit(candidate.url).path} {feed.title or ''} {candidate.title or ''}"
    notes = [f"{feed.kind or 'feed'}, {len(feed.entries)} entries"]
    if _COMMENTS.search(path_and_title):
        score -= 4.0
        notes.append("comments feed")
    elif _SECTION.search(urlsplit(candidate.url).path):
        score -= 1.0
        notes.append("section feed")
    if feed.error_class:
        score -= 0.5
        notes.append(f"{feed.error_class}")
    if not dates:
        notes.append("undated")
    return Verdict(True, "ok: " + ", ".join(notes), round(score, 3))


def _assess_sitemap(sitemap: SitemapResult, site_url: str, now: datetime) -> Verdict:
    if sitemap.kind is None:
        return Verdict(False, f"{sitemap.error_class}: {sitemap.error}")
    if sitemap.kind == "index":
        return Verdict(False, f"sitemap index of {len(sitemap.sitemaps)} sitemaps")
    if not sitemap.urls:
        return Verdict(False, "empty: the sitemap has no URLs")
    if not sitemap.is_news:
        # A plain urlset lists the whole site, old pages included: not a source of new articles.
        return Verdict(False, f"not a news sitemap ({len(sitemap.urls)} URLs)")
    dates = [d for u in sitemap.urls if (d := u.publication_date or u.lastmod) is not None]
    dropped, freshness = _judge([u.url for u in sitemap.urls], dates, site_url, now, "URL")
    if dropped is not None:
        return dropped
    score = 2.0 + min(len(sitemap.urls), 1000) / 1000 + freshness
    return Verdict(True, f"ok: news sitemap, {len(sitemap.urls)} URLs", round(score, 3))


def assess(
    candidate: Candidate, parsed: ParsedFeed | SitemapResult, site_url: str, now: datetime
) -> Verdict:
    """Keep or drop a fetched candidate, with the reason and a ranking score (higher first).

    A feed is kept when it has entries, at least half its entry links are on the site of
    ``site_url`` and its newest entry is at most :data:`FRESH_DAYS` old at ``now`` (undated
    feeds are kept). A sitemap is kept when it is a Google News urlset passing the same checks.
    """
    if isinstance(parsed, SitemapResult):
        return _assess_sitemap(parsed, site_url, now)
    return _assess_feed(candidate, parsed, site_url, now)
