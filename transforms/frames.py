"""Records to polars frames with fixed schemas: the only shape the warehouse loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from transforms.records import ExtractedArticle, FeedEntry, FetchLog
from transforms.urls import url_key

__all__ = [
    "ARTICLE_SCHEMA",
    "ENTRY_SCHEMA",
    "FETCH_SCHEMA",
    "ArticleFrames",
    "PageResult",
    "article_frames",
    "entries_frame",
    "fetches_frame",
]

UTC_TS = pl.Datetime("us", "UTC")

FETCH_SCHEMA: dict[str, pl.DataType] = {
    "url": pl.String(),
    "final_url": pl.String(),
    "kind": pl.String(),
    "feed_id": pl.Int32(),
    "url_key": pl.String(),
    "requested_at": UTC_TS,
    "status": pl.Int32(),
    "bytes": pl.Int64(),
    "elapsed_ms": pl.Int32(),
    "content_type": pl.String(),
    "charset": pl.String(),
    "charset_source": pl.String(),
    "error_class": pl.String(),
    "error": pl.String(),
    "drop_reason": pl.String(),
    "robots_decision": pl.String(),
    "redirects": pl.String(),
    "retry_after_s": pl.Float64(),
    "warc_path": pl.String(),
    "warc_offset": pl.Int64(),
    "discovered_via": pl.String(),
    "captured_at": UTC_TS,
}

ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "feed_id": pl.Int32(),
    "guid": pl.String(),
    "url": pl.String(),
    "url_key": pl.String(),
    "title": pl.String(),
    "summary": pl.String(),
    "published_at": UTC_TS,
    "updated_at": UTC_TS,
    "authors": pl.List(pl.String()),
    "tags": pl.List(pl.String()),
    "language": pl.String(),
    "discovered_via": pl.String(),
}

ARTICLE_SCHEMA: dict[str, pl.DataType] = {
    "fetch_index": pl.Int32(),
    "fetch_id": pl.Int64(),
    "url_key": pl.String(),
    "canonical_url": pl.String(),
    "url": pl.String(),
    "publisher_id": pl.Int32(),
    "feed_id": pl.Int32(),
    "title": pl.String(),
    "text": pl.String(),
    "description": pl.String(),
    "language": pl.String(),
    "language_source": pl.String(),
    "html_lang": pl.String(),
    "published_at": UTC_TS,
    "modified_at": UTC_TS,
    "date_source": pl.String(),
    "seen_at": UTC_TS,
    "word_count": pl.Int32(),
    "content_hash": pl.String(),
    "extractor_version": pl.String(),
    "is_paywalled": pl.Boolean(),
    "charset": pl.String(),
    "charset_source": pl.String(),
    "discovered_via": pl.String(),
    "captured_at": UTC_TS,
}
AUTHOR_SCHEMA: dict[str, pl.DataType] = {
    "url_key": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "position": pl.Int32(),
}
TAG_SCHEMA: dict[str, pl.DataType] = {"url_key": pl.String(), "name": pl.String()}
IMAGE_SCHEMA: dict[str, pl.DataType] = {
    "url_key": pl.String(),
    "position": pl.Int32(),
    "url": pl.String(),
    "caption": pl.String(),
    "credit": pl.String(),
    "alt": pl.String(),
}
LINK_SCHEMA: dict[str, pl.DataType] = {
    "url_key": pl.String(),
    "url": pl.String(),
    "anchor_text": pl.String(),
    "kind": pl.String(),
}
REMOVED_SCHEMA: dict[str, pl.DataType] = {
    "url_key": pl.String(),
    "position": pl.Int32(),
    "rule": pl.String(),
    "text": pl.String(),
}
RAW_SCHEMA: dict[str, pl.DataType] = {
    "fetch_index": pl.Int32(),
    "url": pl.String(),
    "content_type": pl.String(),
    "fetched_at": UTC_TS,
    "encoding": pl.String(),
    "body": pl.Binary(),
}


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page's fetch and, when an article was kept, the article with where it came from."""

    fetch: FetchLog
    article: ExtractedArticle | None
    url_key: str
    feed_id: int | None
    publisher_id: int | None
    raw_body: bytes | None = None  # zlib-compressed page bytes, kept for re-extraction
    fetch_id: int | None = None  # set when re-extracting a stored fetch (no new fetch row)


@dataclass(frozen=True, slots=True)
class ArticleFrames:
    """Everything one batch of pages loads, as typed frames keyed by url_key / fetch_index."""

    articles: pl.DataFrame
    authors: pl.DataFrame
    tags: pl.DataFrame
    images: pl.DataFrame
    links: pl.DataFrame
    removed: pl.DataFrame
    raw_pages: pl.DataFrame


def fetches_frame(fetches: Sequence[FetchLog]) -> pl.DataFrame:
    rows = [{name: getattr(f, name) for name in FETCH_SCHEMA} for f in fetches]
    return pl.DataFrame(rows, schema=FETCH_SCHEMA)


def entries_frame(feed_id: int, entries: Sequence[FeedEntry]) -> pl.DataFrame:
    rows = [
        {
            "feed_id": feed_id,
            "guid": e.guid,
            "url": e.url,
            "url_key": url_key(e.url),
            "title": e.title,
            "summary": e.summary,
            "published_at": e.published_at,
            "updated_at": e.updated_at,
            "authors": list(e.authors),
            "tags": list(e.tags),
            "language": e.language,
            "discovered_via": e.discovered_via,
        }
        for e in entries
    ]
    return pl.DataFrame(rows, schema=ENTRY_SCHEMA)


def article_frames(pages: Sequence[PageResult], seen_at: datetime) -> ArticleFrames:
    """Frames for a batch; ``fetch_index`` points into ``pages`` (and so into its fetch rows)."""
    articles: list[dict[str, object]] = []
    authors: list[dict[str, object]] = []
    tags: list[dict[str, object]] = []
    images: list[dict[str, object]] = []
    links: list[dict[str, object]] = []
    removed: list[dict[str, object]] = []
    raw: list[dict[str, object]] = []
    for index, page in enumerate(pages):
        if page.raw_body is not None:
            raw.append(
                {
                    "fetch_index": index,
                    "url": page.fetch.final_url or page.fetch.url,
                    "content_type": page.fetch.content_type,
                    "fetched_at": page.fetch.requested_at,
                    "encoding": "zlib",
                    "body": page.raw_body,
                }
            )
        a = page.article
        if a is None:
            continue
        key = page.url_key
        articles.append(
            {
                "fetch_index": index,
                "fetch_id": page.fetch_id,
                "url_key": key,
                "canonical_url": a.canonical_url,
                "url": a.url,
                "publisher_id": page.publisher_id,
                "feed_id": page.feed_id,
                "title": a.title,
                "text": a.text,
                "description": a.description,
                "language": a.language,
                "language_source": a.language_source,
                "html_lang": a.html_lang,
                "published_at": a.published_at,
                "modified_at": a.modified_at,
                "date_source": a.date_source,
                "seen_at": seen_at,
                "word_count": a.word_count,
                "content_hash": a.content_hash,
                "extractor_version": a.extractor_version,
                "is_paywalled": a.is_paywalled,
                "charset": a.charset,
                "charset_source": a.charset_source,
                "discovered_via": page.fetch.discovered_via,
                "captured_at": page.fetch.captured_at,
            }
        )
        position = 0
        for kind, names in (("person", a.authors), ("agency", a.agencies)):
            for name in names:
                authors.append({"url_key": key, "name": name, "kind": kind, "position": position})
                position += 1
        tags.extend({"url_key": key, "name": tag} for tag in a.tags)
        images.extend(
            {
                "url_key": key,
                "position": i.position,
                "url": i.url,
                "caption": i.caption,
                "credit": i.credit,
                "alt": i.alt,
            }
            for i in a.images
        )
        links.extend(
            {"url_key": key, "url": link.url, "anchor_text": link.anchor_text, "kind": link.kind}
            for link in a.links
        )
        removed.extend(
            {"url_key": key, "position": n, "rule": span.rule, "text": span.text}
            for n, span in enumerate(a.removed)
        )
    return ArticleFrames(
        articles=pl.DataFrame(articles, schema=ARTICLE_SCHEMA).unique(
            "url_key", keep="last", maintain_order=True
        ),
        authors=pl.DataFrame(authors, schema=AUTHOR_SCHEMA).unique(
            ["url_key", "name", "kind"], maintain_order=True
        ),
        tags=pl.DataFrame(tags, schema=TAG_SCHEMA).unique(maintain_order=True),
        images=pl.DataFrame(images, schema=IMAGE_SCHEMA).unique(
            ["url_key", "position"], keep="last", maintain_order=True
        ),
        links=pl.DataFrame(links, schema=LINK_SCHEMA).unique(
            ["url_key", "url", "kind"], keep="first", maintain_order=True
        ),
        removed=pl.DataFrame(removed, schema=REMOVED_SCHEMA).unique(
            ["url_key", "position"], keep="last", maintain_order=True
        ),
        raw_pages=pl.DataFrame(raw, schema=RAW_SCHEMA),
    )
