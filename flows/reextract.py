"""The ``reextract`` flow: run the current extractor again on stored raw pages, no fetching.

Articles whose text changes get a new version (the old text stays in ``article_versions``);
every re-extracted article records the ``extractor_version`` that produced it, and its removed
spans, images and links are replaced by what the current rules find — its publisher's extraction
hints included (as the warehouse holds them from the last registration of the sources file).
"""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import progress
from flows.captures import CaptureError, captures_root, read_capture
from flows.ingest import open_warehouse, refresh_search, source_hints
from flows.settings import Settings
from transforms.extract import extract_article
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import Dropped, FetchLog
from warehouse import load
from warehouse.migrate import migrate

__all__ = ["StoredPage", "reextract", "select_stored_pages"]

BATCH_SIZE = 50


StoredPage = tuple[
    int,
    str,
    str,
    int | None,
    int | None,
    str | None,
    datetime,
    bytes | None,
    str | None,
    int | None,
    datetime | None,
    str | None,
    str | None,
]
"""(fetch_id, url_key, url, feed_id, publisher_id, content_type, fetched_at, zlib body or None,
warc_path, warc_offset, and what the listing source said: published_at, title, language)"""


def select_stored_pages(
    con: Any, since: datetime | None, publisher: str | None
) -> list[StoredPage]:
    """Articles whose page is stored (a WARC capture, or a body in ``raw_pages``), optionally
    first seen since a date / of one publisher; with the evidence of the feed or sitemap entry
    that listed it (the same the ingest extraction had)."""
    rows = con.execute(
        """
        with listed as (
            select feed_id, url_key, arg_min(published_at, guid) as published_at,
                   arg_min(title, guid) as title, arg_min(language, guid) as language
            from entries group by feed_id, url_key
        )
        select f.fetch_id, a.url_key, a.url, a.feed_id, a.publisher_id,
               coalesce(r.content_type, f.content_type), f.requested_at, r.body,
               f.warc_path, f.warc_offset, e.published_at, e.title, e.language
        from articles a
        join fetches f on f.fetch_id = a.fetch_id
        left join raw_pages r on r.fetch_id = a.fetch_id
        left join publishers p on p.publisher_id = a.publisher_id
        left join listed e on e.feed_id = a.feed_id and e.url_key = a.url_key
        where (r.body is not null or f.warc_path is not null)
          and ($since is null or a.first_seen_at >= $since)
          and ($publisher is null or p.name = $publisher)
        order by a.article_id
        """,
        {"since": since, "publisher": publisher},
    ).fetchall()
    return [tuple(row) for row in rows]


def _page_bytes(page: StoredPage, captures: str) -> bytes:
    body, warc_path, warc_offset = page[7], page[8], page[9]
    if warc_path is not None and warc_offset is not None:
        return read_capture(captures, warc_path, warc_offset).body
    if body is None:
        raise CaptureError(f"fetch {page[0]}: no capture and no stored body")
    return zlib.decompress(body)


@task(name="reextract-batch", cache_policy=NO_CACHE)
def reextract_batch(
    pages: list[StoredPage],
    captures: str,
    hints: dict[int, load.PublisherHints] | None = None,
) -> list[PageResult]:
    """Re-extract a batch; ``hints`` are the publishers' extraction hints by publisher_id."""
    logger = get_run_logger()
    hints = hints or {}
    results = []
    for page in pages:
        fetch_id, key, url, feed_id, publisher_id, content_type, fetched_at = page[:7]
        listed_at, listed_title, listed_language = page[10:13]
        try:
            data = _page_bytes(page, captures)
        except CaptureError as exc:
            logger.warning("fetch %s (%s): capture unreadable: %s", fetch_id, url, exc)
            data = b""
        extracted = extract_article(
            data,
            url,
            content_type=content_type,
            fetched_at=fetched_at,
            feed_published_at=listed_at,
            feed_title=listed_title,
            hints=source_hints(
                hints.get(publisher_id) if publisher_id is not None else None, listed_language
            ),
        )
        fetch = FetchLog(url=url, kind="page", requested_at=fetched_at, url_key=key)
        article = None if isinstance(extracted, Dropped) else extracted
        results.append(PageResult(fetch, article, key, feed_id, publisher_id, fetch_id=fetch_id))
        progress.advance("pages")
    return results


@flow(name="reextract")
def reextract(
    db: str = "data/newsdesk.duckdb",
    since: datetime | None = None,
    publisher: str | None = None,
) -> dict[str, Any]:
    """Re-extract stored pages (all, or first seen ``since`` / of one ``publisher``)."""
    logger = get_run_logger()
    run_id = str(flow_run.id or uuid.uuid4())
    captures = str(captures_root(db, Settings().captures_dir))
    with open_warehouse(db) as con:
        migrate(con)
        load.start_run(con, run_id, "reextract", datetime.now(UTC))
        pages = select_stored_pages(con, since, publisher)
        hints = load.publisher_hints(con)
    counts = dict.fromkeys(load.RUN_COUNTERS, 0)
    progress.add_total("pages", len(pages))
    try:
        futures = [
            reextract_batch.submit(pages[start : start + BATCH_SIZE], captures, hints)
            for start in range(0, len(pages), BATCH_SIZE)
        ]
        for future in futures:
            results = future.result()
            counts["articles_dropped"] += sum(1 for r in results if r.article is None)
            kept = [r for r in results if r.article is not None]
            with open_warehouse(db) as con:
                loaded = load.load_pages(
                    con,
                    run_id,
                    fetches_frame([]),
                    article_frames(kept, datetime.now(UTC)),
                    refresh_unchanged=True,
                )
            counts["articles_updated"] += loaded.updated
            counts["articles_unchanged"] += loaded.unchanged
    except BaseException as exc:
        with open_warehouse(db) as con:
            load.fail_run(con, run_id, exc, counts)
        raise
    with open_warehouse(db) as con:
        load.finish_run(con, run_id, datetime.now(UTC), "completed", counts)
    refresh_search(db)
    logger.info("re-extracted %d stored pages: %s", len(pages), counts)
    return {"run_id": run_id, "status": "completed", "pages": len(pages), **counts}
