"""Backfill chunks taking their pages: live (sitemaps), from the Wayback Machine in raw mode,
from Common Crawl's WARC files by byte range, or from local WARC/ARC files.

Every page goes through the extraction ``ingest`` uses. An archived page is extracted as the page
at its original URL, with the archive's capture time kept apart (``captured_at``); nothing else
(images, scripts) is fetched for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows import progress
from flows.archive_files import RecordProblem, iter_archive
from flows.backfill_listing import (
    CAPTURE_SLACK,
    MAX_INDEX_PAGES,
    ChunkFailed,
    ChunkOutcome,
    PageTarget,
    Window,
    cdx_snapshots,
    get_listing,
)
from flows.clients import RunClient
from flows.http import HttpResult
from flows.ingest import (
    Extractor,
    PageJob,
    extracted_page,
    fetch_log,
    fetch_page,
)
from flows.settings import Settings
from transforms.archives import (
    ArchivedResponse,
    Crawl,
    Snapshot,
    crawls_for_window,
    parse_cc_index,
    parse_warc_member,
    wayback_capture_url,
)
from transforms.archives import cc_index_query as cc_query
from transforms.archives import cc_range as range_header
from transforms.extract import SourceHints, extract_article
from transforms.frames import PageResult
from transforms.records import FetchLog
from transforms.urls import url_key

__all__ = [
    "ChunkJob",
    "commoncrawl_chunk",
    "in_window",
    "take_live_pages",
    "warc_chunk",
    "wayback_chunk",
]


@dataclass(frozen=True, slots=True)
class ChunkJob:
    """Everything one chunk task needs, as plain values."""

    index: int
    label: str
    via: str
    starts_at: datetime | None
    ends_at: datetime | None
    publisher_id: int | None = None
    pages: tuple[PageTarget, ...] = ()  # sitemap, wayback: the pages listed for this chunk
    site: str | None = None  # commoncrawl: the URL pattern, e.g. "example.com/*"
    crawls: tuple[Crawl, ...] = ()  # commoncrawl
    path: str | None = None  # warc: the file
    start_offset: int = 0  # warc: the record to start at (a resumed or continued chunk)
    max_records: int | None = None  # warc: records per task; None: the whole file
    hints: SourceHints | None = None  # the configured publisher's extraction hints


def _archived_page(
    result: HttpResult,
    original_url: str,
    *,
    via: str,
    captured_at: datetime | None,
    publisher_id: int | None,
    body: bytes | None = None,
    content_type: str | None = None,
    feed_published_at: datetime | None = None,
    feed_title: str | None = None,
    capture: Any = None,
    hints: SourceHints | None = None,
    extract: Extractor = extract_article,
) -> PageResult:
    """Extract an archived response as the page at ``original_url`` (not the archive's);
    ``extract``: the run client's (worker processes) or inline."""
    key = url_key(original_url)
    return extracted_page(
        result,
        extract,
        original_url,
        (key, None, publisher_id),
        {
            "capture": capture,
            "url_key": key,
            "discovered_via": via,
            "captured_at": captured_at,
            "robots_decision": "archive",
        },
        body=body,
        content_type=content_type or result.content_type,
        fetched_at=captured_at or result.requested_at,
        feed_published_at=feed_published_at,
        feed_title=feed_title,
        hints=hints,
    )


def in_window(page: PageResult, window: Window) -> PageResult:
    """Drop an article whose own date is outside the window (kept as a fetch with a reason)."""
    article = page.article
    if article is None or window.holds(article.published_at):
        return page
    assert article.published_at is not None
    since = f"{window.since:%Y-%m-%d}" if window.since else "…"
    until = f"{window.until:%Y-%m-%d}" if window.until else "…"
    fetch = replace(
        page.fetch,
        drop_reason="outside_window",
        error=f"published {article.published_at:%Y-%m-%d %H:%M}Z, outside {since} – {until}",
    )
    return replace(page, fetch=fetch, article=None)


def _page_hints(hints: SourceHints | None, target: PageTarget) -> SourceHints | None:
    if target.language is None:
        return hints
    return replace(hints or SourceHints(), language=target.language)


def take_live_pages(
    client: RunClient, job: ChunkJob, targets: Iterable[PageTarget], via: str
) -> list[PageResult]:
    results = []
    for target in targets:
        page_job = PageJob(
            target.url,
            url_key(target.url),
            None,
            job.publisher_id,
            target.published_at,
            target.title,
            discovered_via=via,
            hints=_page_hints(job.hints, target),
        )
        results.append(fetch_page(client, page_job))
        progress.advance(job.label)
    return results


def wayback_chunk(client: RunClient, job: ChunkJob, settings: Settings) -> ChunkOutcome:
    outcome = ChunkOutcome(job.index, urls_found=len(job.pages))
    for target in job.pages:
        outcome.pages.append(_wayback_page(client, job, settings, target, outcome))
        progress.advance(job.label)
    return outcome


def _wayback_page(
    client: RunClient, job: ChunkJob, settings: Settings, target: PageTarget, outcome: ChunkOutcome
) -> PageResult:
    """The first capture of the page after its publication, raw (``id_``); the live page when
    the archive has none."""
    assert job.starts_at is not None and job.ends_at is not None
    since = target.published_at or job.starts_at
    captures = cdx_snapshots(
        client,
        settings,
        target.url,
        since,
        job.ends_at + CAPTURE_SLACK,
        outcome.other_fetches,
        limit=1,
    )
    if not captures:
        return take_live_pages(client, job, [target], "wayback")[0]
    snapshot = captures[0]
    capture_url = wayback_capture_url(settings.wayback_web_url, snapshot.timestamp, target.url)
    result = client.fetcher.get(capture_url, accept="text/html", respect_robots=False)
    return _archived_page(
        result,
        target.url,
        via="wayback",
        captured_at=snapshot.captured_at,
        publisher_id=job.publisher_id,
        feed_published_at=target.published_at,
        feed_title=target.title,
        capture=client.capture(result, "page"),
        hints=_page_hints(job.hints, target),
        extract=client.extract,
    )


def commoncrawl_chunk(client: RunClient, job: ChunkJob, settings: Settings) -> ChunkOutcome:
    assert job.starts_at is not None and job.ends_at is not None and job.site is not None
    outcome = ChunkOutcome(job.index)
    chosen: dict[str, Snapshot] = {}
    for crawl in crawls_for_window(job.crawls, job.starts_at, job.ends_at):
        for page_number in range(MAX_INDEX_PAGES):
            query = cc_query(crawl.cdx_api, job.site, job.starts_at, job.ends_at, page=page_number)
            result = get_listing(
                client, query, "index", "commoncrawl", outcome.other_fetches, "*/*"
            )
            page = parse_cc_index(result.body, result.status or 0)
            if page.error_class:
                raise ChunkFailed(page.error_class, f"{query}: {page.error}")
            if not page.snapshots:
                break
            for snapshot in page.snapshots:
                if snapshot.filename is None or snapshot.offset is None or not snapshot.length:
                    continue
                key = url_key(snapshot.url)
                # The earliest capture is the nearest to publication (later ones may be edits).
                if key not in chosen or snapshot.captured_at < chosen[key].captured_at:
                    chosen[key] = snapshot
    outcome.urls_found = len(chosen)
    progress.add_total(job.label, len(chosen))
    for snapshot in chosen.values():
        outcome.pages.append(_commoncrawl_page(client, job, settings, snapshot))
        progress.advance(job.label)
    return outcome


def _commoncrawl_page(
    client: RunClient, job: ChunkJob, settings: Settings, snapshot: Snapshot
) -> PageResult:
    assert snapshot.offset is not None and snapshot.length is not None
    record_url = settings.cc_data_url.rstrip("/") + "/" + (snapshot.filename or "").lstrip("/")
    result = client.fetcher.get(
        record_url,
        respect_robots=False,
        extra_headers={"Range": range_header(snapshot.offset, snapshot.length)},
    )
    capture = client.capture(result, "page")
    if result.error_class:
        return _archived_page(
            result,
            snapshot.url,
            via="commoncrawl",
            captured_at=snapshot.captured_at,
            publisher_id=job.publisher_id,
            capture=capture,
        )
    try:
        record = parse_warc_member(result.body)
    except ValueError as exc:
        failed = replace(result, error_class="warc_unreadable", error=str(exc))
        return _archived_page(
            failed,
            snapshot.url,
            via="commoncrawl",
            captured_at=snapshot.captured_at,
            publisher_id=job.publisher_id,
            capture=capture,
        )
    return _record_page(result, record, job, "commoncrawl", capture, client.extract)


def _record_page(
    result: HttpResult,
    record: ArchivedResponse,
    job: ChunkJob,
    via: str,
    capture: Any = None,
    extract: Extractor = extract_article,
) -> PageResult:
    dropped = None
    if not record.is_html:
        dropped = ("not_html", f"archived {record.content_type or 'untyped'} response, not HTML")
    elif record.status is not None and not 200 <= record.status < 300:
        dropped = (
            "archived_error_page",
            f"the archive holds a {record.status} answer for this URL, not the article",
        )
    if dropped is not None:
        key = url_key(record.url)
        fetch = fetch_log(
            result,
            "page",
            capture,
            url_key=key,
            discovered_via=via,
            captured_at=record.captured_at,
            drop_reason=dropped[0],
            error=dropped[1],
        )
        return PageResult(fetch, None, key, None, job.publisher_id)
    page = _archived_page(
        result,
        record.url,
        via=via,
        captured_at=record.captured_at,
        publisher_id=job.publisher_id,
        body=record.body,
        content_type=record.content_type,
        capture=capture,
        extract=extract,
    )
    if record.truncated and page.article is not None:
        note = f"archived record incomplete: {record.truncated}; extracted what was there"
        page = replace(page, fetch=replace(page.fetch, error=note))
    return page


def warc_chunk(job: ChunkJob, extract: Extractor = extract_article) -> ChunkOutcome:
    """The records of one local WARC/ARC file from ``job.start_offset`` through the normal
    extraction path: ``job.max_records`` of them at most, then ``next_offset`` says where the
    rest starts (a large file is loaded, and resumed, batch by batch)."""
    assert job.path is not None
    outcome = ChunkOutcome(job.index)
    now = datetime.now(UTC)
    for offset, item in iter_archive(Path(job.path), job.start_offset):
        if job.max_records is not None and outcome.urls_found >= job.max_records:
            outcome.next_offset = offset
            break
        outcome.urls_found += 1
        progress.advance(job.label)
        if isinstance(item, RecordProblem):
            # A non-HTML record is an expected drop; anything else is damage (an error).
            not_html = item.error_class == "not_html"
            where = item.offset if item.offset is not None else offset
            outcome.other_fetches.append(
                FetchLog(
                    url=item.url or f"warc:{job.path}#{where}",
                    kind="page",
                    requested_at=now,
                    url_key=url_key(item.url) if item.url and not_html else None,
                    drop_reason="not_html" if not_html else None,
                    error_class=None if not_html else item.error_class,
                    error=item.error,
                    warc_path=job.path,
                    warc_offset=where,
                    discovered_via="warc",
                )
            )
            continue
        result = HttpResult(
            url=item.url,
            requested_at=now,
            final_url=item.url,
            status=item.status,
            body=item.body,
            headers={"content-type": item.content_type} if item.content_type else {},
        )
        page = _record_page(result, item, job, "warc", extract=extract)
        fetch = replace(page.fetch, warc_path=job.path, warc_offset=offset)
        outcome.pages.append(replace(page, fetch=fetch))
    return outcome
