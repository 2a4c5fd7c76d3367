"""JSON Feed 1.0 / 1.1 (https://jsonfeed.org) to the same :class:`ParsedFeed` as RSS and Atom.

feedparser does not read JSON Feed. Items become :class:`FeedEntry` records the rest of the
pipeline cannot tell from RSS items: ``id`` is the GUID, ``url`` (else ``external_url``) the
link, dates are converted to UTC, ``authors`` (1.1) or ``author`` (1.0) give the names.
"""

from __future__ import annotations

import json
from typing import Any

from transforms.metadata import parse_datetime
from transforms.records import FeedEntry, ParsedFeed
from transforms.urls import resolve

__all__ = ["MAX_JSON_FEED_BYTES", "looks_like_json_feed", "parse_json_feed"]

MAX_JSON_FEED_BYTES = 10_000_000
_JSON_TYPES = ("application/feed+json", "application/json")


def looks_like_json_feed(body: bytes, content_type: str | None) -> bool:
    """A JSON Feed by its media type, or a JSON object naming the jsonfeed.org version."""
    if content_type and content_type.split(";")[0].strip().lower() in _JSON_TYPES:
        return True
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"jsonfeed.org/version" in body[:4096]


def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _author_list(node: dict[str, Any]) -> list[Any]:
    """``authors`` (1.1) or the single ``author`` (1.0)."""
    authors = node.get("authors")
    if isinstance(authors, list):
        return authors
    return [node["author"]] if isinstance(node.get("author"), dict) else []


def _authors(item: dict[str, Any], feed: dict[str, Any]) -> tuple[str, ...]:
    raw = _author_list(item) or _author_list(feed)  # items inherit the feed's authors
    names = [_text(a.get("name")) for a in raw if isinstance(a, dict)]
    return tuple(dict.fromkeys(n for n in names if n))


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """Parse a JSON Feed body; bad input is a value (``not_a_feed``, ``too_large``)."""
    if len(body) > MAX_JSON_FEED_BYTES:
        return ParsedFeed(
            None,
            None,
            (),
            error_class="too_large",
            error=f"JSON feed over {MAX_JSON_FEED_BYTES} bytes",
        )
    try:
        feed = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return ParsedFeed(
            None,
            None,
            (),
            error_class="not_a_feed",
            error=f"not JSON ({type(exc).__name__}: {exc})"[:300],
        )
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        return ParsedFeed(
            None,
            None,
            (),
            error_class="not_a_feed",
            error="JSON without a jsonfeed.org version: not a JSON Feed",
        )
    items = feed.get("items")
    entries: dict[str, FeedEntry] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            continue
        absolute = resolve(url, link)
        if not absolute.startswith(("http://", "https://")):
            continue
        guid = str(item.get("id") or absolute)[:2000]
        if guid in entries:
            continue
        raw_tags = item.get("tags")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
        published = parse_datetime(item.get("date_published"))
        updated = parse_datetime(item.get("date_modified"))
        entries[guid] = FeedEntry(
            guid=guid,
            url=absolute,
            title=_text(item.get("title")),
            summary=_text(item.get("summary")) or _text(item.get("content_text")),
            published_at=published or updated,
            updated_at=updated,
            authors=_authors(item, feed),
            tags=tuple(dict.fromkeys(t.strip() for t in tags if isinstance(t, str) and t.strip())),
        )
    return ParsedFeed(
        kind="json",
        title=_text(feed.get("title")),
        entries=tuple(entries.values()),
        encoding="utf-8",
    )
