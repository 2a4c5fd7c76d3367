"""The typed records passed between pipeline stages.

A feed body becomes a :class:`ParsedFeed` holding :class:`FeedEntry` items; an article page becomes
an :class:`ExtractedArticle` or, when there is no article to keep, a :class:`Dropped` value that
says why. Records are plain frozen dataclasses so they pickle across task runners and compare in
tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "TRANSIENT_ERROR_CLASSES",
    "DropReason",
    "Dropped",
    "ExtractedArticle",
    "FeedEntry",
    "FetchLog",
    "Image",
    "Link",
    "ParsedFeed",
    "RemovedSpan",
    "article_to_dict",
]


# Fetch error classes worth trying again later; the others need the source (or its
# configuration) to change. Shared by the HTTP layer and the warehouse's retry query.
TRANSIENT_ERROR_CLASSES = frozenset(
    {
        "dns",
        "connect",
        "timeout",
        "protocol",
        "http_429",
        "http_5xx",
        "robots_unavailable",
        "deferred",
    }
)


class DropReason(StrEnum):
    """Why a page produced no article. Expected outcomes, recorded as data, not raised."""

    EMPTY = "empty"  # no bytes, or only whitespace
    NOT_HTML = "not_html"  # binary or another media type
    NO_ARTICLE = "no_article"  # extractor found no main text (section front, error page)
    TOO_SHORT = "too_short"  # main text below the minimum length
    TOO_LARGE = "too_large"  # page beyond the size the extractor accepts


@dataclass(frozen=True, slots=True)
class Dropped:
    reason: DropReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """What one feed (or sitemap) said about one item."""

    guid: str
    url: str
    title: str | None = None
    summary: str | None = None
    published_at: datetime | None = None  # UTC
    updated_at: datetime | None = None  # UTC
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None  # sitemaps: news:language, as written
    discovered_via: str = "feed"  # feed | sitemap: which kind of source listed it


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed body. ``error_class`` is set when the body was not (wholly) a feed."""

    kind: str | None  # rss | atom | rdf | json | sitemap kinds | None when not a feed
    title: str | None
    entries: tuple[FeedEntry, ...]
    encoding: str | None = None
    ttl_minutes: int | None = None
    error_class: str | None = None  # not_a_feed | parse_error | unsafe_xml | too_large
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RemovedSpan:
    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class Image:
    position: int
    url: str | None
    caption: str | None
    credit: str | None
    alt: str | None


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    anchor_text: str
    kind: str  # related | inline


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """Clean text and metadata of one article page."""

    url: str
    canonical_url: str
    title: str | None
    text: str
    language: str | None
    published_at: datetime | None  # UTC
    modified_at: datetime | None  # UTC
    date_source: str | None  # jsonld | meta | feed | extractor
    authors: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None
    is_paywalled: bool | None = None
    charset: str | None = None
    charset_source: str | None = None
    word_count: int = 0
    content_hash: str = ""
    extractor_version: str = ""
    language_source: str | None = None  # html_lang | extractor
    html_lang: str | None = None  # the page's <html lang> as written
    images: tuple[Image, ...] = ()
    links: tuple[Link, ...] = ()
    removed: tuple[RemovedSpan, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchLog:
    """The record of one HTTP exchange (or the attempt at one), without its body."""

    url: str
    kind: str  # feed | page | robots | sitemap
    requested_at: datetime
    final_url: str | None = None
    status: int | None = None
    bytes: int = 0
    elapsed_ms: int = 0
    content_type: str | None = None
    charset: str | None = None
    charset_source: str | None = None
    error_class: str | None = None
    error: str | None = None
    drop_reason: str | None = None
    feed_id: int | None = None
    url_key: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    robots_decision: str | None = None
    redirects: str | None = None  # "301 https://…; 308 https://…"
    retry_after_s: float | None = None
    warc_path: str | None = None  # capture file, relative to the captures folder
    warc_offset: int | None = None
    # Pages: how the URL was found (feed | sitemap | wayback | commoncrawl | warc), and for
    # archived copies when the archive took them — never mistaken for the publication date.
    discovered_via: str | None = None
    captured_at: datetime | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def article_to_dict(article: ExtractedArticle) -> dict[str, object]:
    """A JSON-ready dict of an article (dates as ISO 8601 UTC strings)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "language": article.language,
        "language_source": article.language_source,
        "html_lang": article.html_lang,
        "published_at": iso(article.published_at),
        "modified_at": iso(article.modified_at),
        "date_source": article.date_source,
        "authors": list(article.authors),
        "agencies": list(article.agencies),
        "tags": list(article.tags),
        "description": article.description,
        "is_paywalled": article.is_paywalled,
        "word_count": article.word_count,
        "content_hash": article.content_hash,
        "extractor_version": article.extractor_version,
        "charset": article.charset,
        "charset_source": article.charset_source,
        "images": [
            {
                "position": i.position,
                "url": i.url,
                "caption": i.caption,
                "credit": i.credit,
                "alt": i.alt,
            }
            for i in article.images
        ],
        "links": [
            {"url": x.url, "anchor_text": x.anchor_text, "kind": x.kind} for x in article.links
        ],
        "removed": [{"rule": r.rule, "text": r.text} for r in article.removed],
    }
