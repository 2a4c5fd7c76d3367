"""Page metadata with provenance: JSON-LD first, then meta tags; the caller adds feed and
extractor evidence. Dates come out in UTC and never later than the fetch time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from trafilatura.utils import load_html

__all__ = ["PageMetadata", "date_from_url", "parse_datetime", "parse_html", "read_page_metadata"]

_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "liveblogposting",
    "webpage",
    "socialmediaposting",
    "techarticle",
    "scholarlyarticle",
}
_AGENCY_TYPES = {"organization", "newsmediaorganization", "corporation"}
_BYLINE_PREFIX = re.compile(r"^\s*(by|von|par|por|di|door|af|av|przez|от|tarafından)\s+", re.I)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None = None
    published_at: datetime | None = None
    published_source: str | None = None
    modified_at: datetime | None = None
    authors: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    section: str | None = None
    description: str | None = None
    is_accessible_for_free: bool | None = None
    html_lang: str | None = None
    canonical_url: str | None = None  # <link rel="canonical">, else og:url
    og_url: str | None = None
    og_type: str | None = None
    jsonld_types: tuple[str, ...] = ()
    has_article_jsonld: bool = False


EARLIEST_DATE = datetime(1991, 1, 1, tzinfo=UTC)


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 (with or without offset; naive means UTC) to an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    if re.fullmatch(r".*[+-]\d{4}", text):  # +0100 -> +01:00
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        return None
    # Nothing on the web was published before it existed: year-1 and 1970 placeholder dates
    # are template defaults, not facts.
    return parsed if parsed >= EARLIEST_DATE else None


_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[-_]|$)"
)


def date_from_url(url: str | None) -> datetime | None:
    """``/2026/11/05/`` style dates in a URL path (a day, so midnight UTC)."""
    if not url:
        return None
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        found = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None
    return found if found >= EARLIEST_DATE else None


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _walk(node["@graph"])


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type", [])
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).lower() for v in values}


def _names(value: Any) -> tuple[list[str], list[str]]:
    """People and organisations named by a JSON-LD author value."""
    people: list[str] = []
    orgs: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            people.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            (orgs if _types(item) & _AGENCY_TYPES else people).append(item["name"])
    return people, orgs


def clean_author(name: str) -> str:
    return " ".join(_BYLINE_PREFIX.sub("", name).split()).strip(" ,;")


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    if isinstance(value, list):
        return [str(k).strip() for k in value if str(k).strip()]
    return []


_META_ATTRIBUTES = ("property", "name", "itemprop")
# Compiled once: tree.xpath() compiles its expression on every call.
_META_TAGS = etree.XPath("//meta")
_JSONLD_TEXTS = etree.XPath('//script[@type="application/ld+json"]/text()')
_ROOT_LANG = etree.XPath("/html/@lang")
_ANY_HTML_LANG = etree.XPath("//html/@lang")
_CANONICAL_HREFS = etree.XPath('//link[@rel="canonical"]/@href')


class _MetaTags:
    """The page's ``<meta>`` tags, read in one pass.

    ``content`` maps (attribute, value) to the ``content`` of the first tag (in document order)
    that has both, which is what ``//meta[@attribute="value"]/@content`` finds first.
    """

    def __init__(self, tree: Any) -> None:
        self.content: dict[tuple[str, str], str] = {}
        self.article_tags: list[str] = []
        for meta in _META_TAGS(tree):
            content = meta.get("content")
            if content is None:
                continue
            for attr in _META_ATTRIBUTES:
                value = meta.get(attr)
                if value is not None:
                    self.content.setdefault((attr, value), content)
            if meta.get("property") == "article:tag":
                self.article_tags.append(content)


def _meta(tags: _MetaTags, *names: str) -> str | None:
    for name in names:
        for attr in _META_ATTRIBUTES:
            found = tags.content.get((attr, name))
            if found is not None and found.strip():
                return found.strip()
    return None


def read_page_metadata(tree: Any, fetched_at: datetime | None = None) -> PageMetadata:
    """Read JSON-LD and meta tags of a parsed page (an lxml tree)."""
    article: dict[str, Any] | None = None
    seen_types: list[str] = []
    for script in _JSONLD_TEXTS(tree):
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue
        for node in _walk(data):
            seen_types.extend(sorted(_types(node)))
            if _types(node) & _ARTICLE_TYPES and (article is None or "webpage" in _types(article)):
                article = node
    people: list[str] = []
    orgs: list[str] = []
    title = published = modified = None
    published_source = None
    tags: list[str] = []
    section = description = None
    free: bool | None = None
    if article is not None:
        title = article.get("headline") if isinstance(article.get("headline"), str) else None
        published = parse_datetime(article.get("datePublished"))
        published_source = "jsonld" if published else None
        modified = parse_datetime(article.get("dateModified"))
        people, orgs = _names(article.get("author"))
        tags = _keywords(article.get("keywords"))
        raw_section = article.get("articleSection")
        section = raw_section if isinstance(raw_section, str) else None
        raw_desc = article.get("description")
        description = raw_desc if isinstance(raw_desc, str) else None
        access = article.get("isAccessibleForFree")
        if isinstance(access, bool):
            free = access
        elif isinstance(access, str) and access.lower() in ("true", "false"):
            free = access.lower() == "true"
    metas = _MetaTags(tree)
    if published is None:
        published = parse_datetime(
            _meta(metas, "article:published_time", "datePublished", "pubdate", "date")
        )
        published_source = "meta" if published else None
    if modified is None:
        modified = parse_datetime(_meta(metas, "article:modified_time", "dateModified"))
    if not people:
        meta_author = _meta(metas, "author", "article:author")
        if meta_author and not meta_author.startswith("http"):
            people = [meta_author]
    if not tags:
        tags = _keywords(_meta(metas, "keywords", "news_keywords") or "")
        tags += [t for t in metas.article_tags if t.strip()]
    title = title or _meta(metas, "og:title", "twitter:title")
    description = description or _meta(metas, "description", "og:description")
    if fetched_at is not None:
        # A date after the fetch is a template or time-zone error, not a fact.
        published = published if published and published <= fetched_at else None
        modified = modified if modified and modified <= fetched_at else None
        if published is None:
            published_source = None
    lang = _ROOT_LANG(tree) or _ANY_HTML_LANG(tree)
    canonical = _CANONICAL_HREFS(tree) or [_meta(metas, "og:url")]
    return PageMetadata(
        title=" ".join(title.split()) if title else None,
        published_at=published,
        published_source=published_source,
        modified_at=modified,
        authors=tuple(dict.fromkeys(a for a in (clean_author(p) for p in people) if a)),
        agencies=tuple(dict.fromkeys(o.strip() for o in orgs if o.strip())),
        tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())),
        section=section,
        description=description,
        is_accessible_for_free=free,
        html_lang=str(lang[0]).strip().lower() or None if lang else None,
        canonical_url=str(canonical[0]).strip() if canonical and canonical[0] else None,
        og_url=_meta(metas, "og:url"),
        og_type=(_meta(metas, "og:type") or "").lower() or None,
        jsonld_types=tuple(dict.fromkeys(seen_types)),
        has_article_jsonld=article is not None and _types(article) != {"webpage"},
    )


def parse_html(text: str) -> Any:
    """lxml tree of a page, or None when it has no elements.

    trafilatura's own loader: it drops comments and processing instructions, which otherwise
    split text nodes and make trafilatura miss paragraphs (measured on the corpus pages).
    """
    try:
        return load_html(text)
    except (ValueError, lxml_html.etree.ParserError):
        return None
