"""Feed bytes to :class:`ParsedFeed`: RSS 0.9x/1.0/2.0 and Atom through feedparser.

Bodies that declare XML entities are refused before feedparser sees them: feedparser is safe from
external entities but not from quadratic/exponential internal expansion.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from transforms.records import FeedEntry, ParsedFeed
from transforms.urls import resolve

__all__ = ["parse_feed"]

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<body)", re.I | re.S)
# SAX messages of a document that stops before its end: entries before the cut are usable.
_TRUNCATION = ("no element found", "unclosed token", "not well-formed")
# Problems feedparser reports that do not make a feed wrong in practice.
_BENIGN_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")


def _utc(struct: time.struct_time | None) -> datetime | None:
    if struct is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _kind(version: str) -> str | None:
    if not version:
        return None
    if version.startswith("atom"):
        return "atom"
    if version in ("rss090", "rss10"):
        return "rdf"
    return "rss"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _entry(raw: Any, feed_url: str) -> FeedEntry | None:
    link = raw.get("link") or ""
    guid = raw.get("id") or ""
    if not link and guid.startswith(("http://", "https://")):
        link = guid
    if not link:
        return None
    url = resolve(feed_url, link)
    if not url.startswith(("http://", "https://")):
        return None
    title = _text(raw.get("title"))
    if not guid:
        # Without an id the link is the identity; title and date only when the link is missing.
        guid = url
    authors = tuple(
        dict.fromkeys(
            name
            for name in (_text(a.get("name")) for a in raw.get("authors", []) if hasattr(a, "get"))
            if name
        )
    )
    if not authors and raw.get("author"):
        authors = (str(raw["author"]).strip(),)
    tags = tuple(
        dict.fromkeys(
            term for term in (_text(t.get("term")) for t in raw.get("tags", []) or []) if term
        )
    )
    # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed, with a
    # DeprecationWarning; we want each date for what it is.
    published = _utc(dict.get(raw, "published_parsed")) or _utc(dict.get(raw, "created_parsed"))
    updated = _utc(dict.get(raw, "updated_parsed"))
    return FeedEntry(
        guid=str(guid)[:2000],
        url=url,
        title=title,
        summary=_text(raw.get("summary")),
        published_at=published or updated,
        updated_at=updated,
        authors=authors,
        tags=tags,
    )


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed body fetched from ``url``. Never raises for bad input: the error is a value."""
    if not body.strip():
        return ParsedFeed(None, None, (), error_class="not_a_feed", error="empty body")
    if _ENTITY_DECL.search(body[:65536]):
        return ParsedFeed(
            None,
            None,
            (),
            error_class="unsafe_xml",
            error="document declares XML entities; refused before parsing (entity expansion)",
        )
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True
    )
    kind = _kind(parsed.get("version", ""))
    entries: dict[str, FeedEntry] = {}
    for raw in parsed.entries:
        entry = _entry(raw, url)
        if entry is not None and entry.guid not in entries:
            entries[entry.guid] = entry
    feed_meta = parsed.get("feed", {})
    title = _text(feed_meta.get("title"))
    ttl = feed_meta.get("ttl")
    ttl_minutes = int(ttl) if isinstance(ttl, str) and ttl.strip().isdigit() else None
    encoding = parsed.get("encoding")
    error_class = error = None
    if kind is None and not entries:
        if _HTML_START.match(body[:4096]):
            error_class, error = "not_a_feed", "body is an HTML page, not RSS/Atom"
        else:
            exc = parsed.get("bozo_exception")
            error_class = "not_a_feed"
            error = f"no RSS/Atom structure found ({exc})" if exc else "no RSS/Atom structure found"
    elif parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        name = type(exc).__name__
        message = str(exc)
        if name not in _BENIGN_BOZO and any(t in message for t in _TRUNCATION):
            error_class = "parse_error"
            error = f"ill-formed XML ({message}); {len(entries)} entries recovered"
    return ParsedFeed(
        kind=kind,
        title=title,
        entries=tuple(entries.values()),
        encoding=encoding,
        ttl_minutes=ttl_minutes,
        error_class=error_class,
        error=error,
    )


def synthetic_guid(*parts: str) -> str:
    """A stable id for an item that has neither id nor link."""
    return "sha1:" + hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
