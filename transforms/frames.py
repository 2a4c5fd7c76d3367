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
}

ARTICLE_SCHEMA: dict[str, pl.DataType] = {
    "fetch_index": pl.Int32(),
    "url_key": pl.String(),
    "canonical_url": pl.String(),
    "url": pl.String(),
    "publisher_id": pl.Int32(),
    "feed_id": pl.Int32(),
    "title": pl.String(),
    "text": pl.String(),
    "description": pl.String(),
    "language": pl.String(),
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
}
AUTHOR_SCHEMA: dict[str, pl.DataType] = {
    "url_key": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "position": pl.Int32(),
}
TAG_SCHEMA: dict[str, pl.DataType] = {"url_key": pl.String(), "name": pl.String()}


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page's fetch and, when an article was kept, the article with where it came from."""

    fetch: FetchLog
    article: ExtractedArticle | None
    url_key: str
    feed_id: int | None
    publisher_id: int | None


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
        }
        for e in entries
    ]
    return pl.DataFrame(rows, schema=ENTRY_SCHEMA)


def article_frames(
    pages: Sequence[PageResult], seen_at: datetime
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Articles, their authors and their tags; ``fetch_index`` points into ``pages``."""
    articles: list[dict[str, object]] = []
    authors: list[dict[str, object]] = []
    tags: list[dict[str, object]] = []
    for index, page in enumerate(pages):
        a = page.article
        if a is None:
            continue
        articles.append(
            {
                "fetch_index": index,
                "url_key": page.url_key,
                "canonical_url": a.canonical_url,
                "url": a.url,
                "publisher_id": page.publisher_id,
                "feed_id": page.feed_id,
                "title": a.title,
                "text": a.text,
                "description": a.description,
                "language": a.language,
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
            }
        )
        position = 0
        for kind, names in (("person", a.authors), ("agency", a.agencies)):
            for name in names:
                authors.append(
                    {"url_key": page.url_key, "name": name, "kind": kind, "position": position}
                )
                position += 1
        tags.extend({"url_key": page.url_key, "name": tag} for tag in a.tags)
    return (
        pl.DataFrame(articles, schema=ARTICLE_SCHEMA).unique(
            "url_key", keep="last", maintain_order=True
        ),
        pl.DataFrame(authors, schema=AUTHOR_SCHEMA).unique(
            ["url_key", "name", "kind"], maintain_order=True
        ),
        pl.DataFrame(tags, schema=TAG_SCHEMA).unique(maintain_order=True),
    )
