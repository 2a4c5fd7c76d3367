"""Article page (bytes or str) to :class:`ExtractedArticle`, or a :class:`Dropped` reason.

Steps: decode with a recorded charset decision, parse once with lxml, read metadata (JSON-LD, meta
tags), apply the source's own hints when it has any, extract the main text with trafilatura, tidy
it. Bad pages are values, never exceptions.

Source hints (:class:`SourceHints`, from the sources file, for a site the generic extractor gets
wrong) act before the generic rules and are reported like them in ``removed``:

=====================  =========================================================================
``source.prune``       an element matching one of the source's ``prune_selectors`` (CSS)
``source.body``        the text outside the source's ``body_selector`` element: only that
                       element's subtree goes on to pre-cleaning and the extractor
=====================  =========================================================================
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import trafilatura
from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError
from trafilatura.metadata import extract_metadata

from transforms.clean import clean_lines, preclean, remove_keeping_tail
from transforms.decode import decode_document
from transforms.metadata import (
    PageMetadata,
    date_from_url,
    parse_datetime,
    parse_html,
    read_page_metadata,
)
from transforms.records import Dropped, DropReason, ExtractedArticle, RemovedSpan
from transforms.text import content_hash, tidy_text, word_count
from transforms.urls import article_url, canonical_url, prefer_canonical, resolve

__all__ = [
    "EXTRACTOR_VERSION",
    "MAX_HTML_CHARS",
    "MIN_WORDS",
    "SourceHints",
    "apply_source_hints",
    "extract_article",
    "selector_problem",
]

MAX_HTML_CHARS = 8_000_000
TRAFILATURA_OPTIONS: dict[str, Any] = {"favor_recall": True, "include_tables": True}
MIN_WORDS = 15
SECTION_FRONT_MAX_PARAGRAPH = 45
# Agencies named as authors are kept apart from people (a byline "Reuters" is not a person).
KNOWN_AGENCIES = frozenset(
    {
        "reuters",
        "afp",
        "ap",
        "associated press",
        "dpa",
        "epd",
        "kna",
        "ansa",
        "efe",
        "apa",
        "sda",
        "pa",
        "pa media",
        "anp",
        "belga",
        "tass",
        "ria novosti",
        "xinhua",
        "kyodo",
        "aap",
        "upi",
        "bloomberg",
        "agence france-presse",
        "europa press",
        "continental press agency",
    }
)


def _own_version() -> str:
    try:
        return version("newsdesk")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


EXTRACTOR_VERSION = f"newsdesk-{_own_version()}+trafilatura-{trafilatura.__version__}"


def _looks_binary(text: str) -> bool:
    head = text[:4096]
    if not head:
        return False
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\f") + head.count("\ufffd")
    return controls / len(head) > 0.05


def _language(tag: str | None) -> str | None:
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


_ERROR_TITLE = re.compile(
    r"\b(404|410|page not found|not found|seite nicht gefunden|page introuvable"
    r"|página no encontrada|pagina non trovata|strona nie została znaleziona"
    r"|error 404|erreur 404|fehler 404)\b",
    re.I,
)
_LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "website"}


def _error_page(tree: Any, meta: PageMetadata) -> str | None:
    """A soft 404: served with 200 but titled as an error."""
    title = " ".join(tree.xpath("//title//text()")).strip()
    if title and _ERROR_TITLE.search(title) and not meta.has_article_jsonld:
        return f"error page (title {title[:80]!r})"
    return None


MAX_H1 = 3
_HEAD_TITLES = etree.XPath(
    "/html/head/title//text() | /html/head/meta[@property='og:title' or @name='twitter:title']"
    "/@content"
)


def _headlines(tree: Any) -> list[str]:
    """The page's headline in its other wordings: ``<title>``, ``og:title`` / ``twitter:title``
    and the first ``<h1>`` texts (the headline as the page shows it)."""
    found = [str(text) for text in _HEAD_TITLES(tree)]
    found += [" ".join(e.itertext()) for e in itertools.islice(tree.iter("h1"), MAX_H1)]
    return [text for text in (" ".join(f.split()) for f in found) if text]


HEADLINE_LINK_WORDS = 4


def _headline_links(tree: Any) -> int:
    """Links whose text (``" ".join(itertext())``) has at least HEADLINE_LINK_WORDS words."""
    count = 0
    for a in tree.iter("a"):
        # Without children, itertext() gives the link's own text alone: read it without a walk
        # (most links; ~0.13 ms a page).
        text = " ".join(a.itertext()) if len(a) else a.text or ""
        if len(text.split()) >= HEADLINE_LINK_WORDS:
            count += 1
    return count


def _section_front(meta: PageMetadata, headline_links: int, body: str) -> str | None:
    """A listing page: listing markup, many headline links, and no paragraph long enough to be
    article prose (teaser "deks" are one or two sentences)."""
    if meta.has_article_jsonld or meta.og_type == "article":
        return None
    listing = meta.og_type == "website" or bool(_LISTING_TYPES & set(meta.jsonld_types))
    longest = max((word_count(line) for line in body.split("\n")), default=0)
    if listing and headline_links >= 8 and longest < SECTION_FRONT_MAX_PARAGRAPH:
        return (
            f"section front ({headline_links} headline links, longest paragraph "
            f"{longest} words, no article markup)"
        )
    return None


def _page_canonical(url: str, meta: PageMetadata) -> str:
    """The page's own canonical address (``rel=canonical``, else ``og:url``) when it is on the
    same site and sensible (see :func:`transforms.urls.prefer_canonical`), else the URL we
    fetched; in canonical spelling, and still fetchable."""
    rel = meta.canonical_url if meta.canonical_url != meta.og_url else None
    chosen = prefer_canonical(url, rel, meta.og_url)
    for candidate in (rel, meta.og_url):
        if candidate:
            try:
                resolved = resolve(url, candidate)
            except ValueError:
                continue
            if article_url(resolved) == chosen:
                return canonical_url(resolved)
    return canonical_url(url)


# --- source hints -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceHints:
    """What one source's pages are extracted with besides the generic rules.

    ``prune_selectors`` (CSS) are removed from the page first; then, when ``body_selector``
    matches, only the first matching element's subtree is left in the body. ``language`` (a
    BCP 47 tag, e.g. a news sitemap's ``news:language`` or the publisher's language) is used
    when neither the page nor the extractor names one (``language_source = 'source'``).
    """

    body_selector: str | None = None
    prune_selectors: tuple[str, ...] = ()
    language: str | None = None

    @property
    def changes_markup(self) -> bool:
        return bool(self.body_selector or self.prune_selectors)


# Elements a hint never removes or narrows to: that would leave no page at all.
_HINT_PROTECTED = frozenset({"html", "head", "body"})
_INVISIBLE = frozenset({"script", "style", "noscript", "template"})
MAX_SPAN_CHARS = 2000


@lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector | None:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, ValueError, TypeError):
        return None


def selector_problem(selector: str) -> str | None:
    """Why ``selector`` is not a usable CSS selector, or None when it is."""
    if not selector.strip():
        return "empty selector"
    try:
        CSSSelector(selector, translator="html")
    except (SelectorError, ValueError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _visible_text(element: Any) -> str:
    if not isinstance(element.tag, str) or element.tag in _INVISIBLE:
        return ""
    parts = element.xpath(
        ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
        " or ancestor::template)]"
    )
    return " ".join(" ".join(str(p) for p in parts).split())


def _attached(element: Any, root: Any) -> bool:
    """Whether ``element`` is still in the tree of ``root`` (an earlier match may have taken
    its ancestor away)."""
    top = element
    for ancestor in element.iterancestors():
        top = ancestor
    return top is root


def _narrow(body: Any, keep: Any) -> str:
    """Leave only ``keep`` (a descendant of ``body``) in ``body``; return the visible text that
    was outside it, in document order as far as the path from ``keep`` up allows."""
    before: list[str] = []
    after: list[str] = []
    node = keep
    while node is not body:
        parent = node.getparent()
        if parent is None:
            break
        own: list[str] = [parent.text or ""]
        later: list[str] = [node.tail or ""]
        seen_node = False
        for sibling in parent:
            if sibling is node:
                seen_node = True
                continue
            text = " ".join(filter(None, [_visible_text(sibling), (sibling.tail or "").strip()]))
            (later if seen_node else own).append(text)
        before[:0] = own
        after.extend(later)
        node = parent
    keep.tail = None
    keep.getparent().remove(keep)
    for child in list(body):
        body.remove(child)
    body.text = None
    body.append(keep)
    return " ".join(" ".join(before + after).split())


def apply_source_hints(root: Any, hints: SourceHints) -> tuple[RemovedSpan, ...]:
    """Apply a source's prune and body selectors to the lxml tree ``root`` in place; return
    what was removed, as ``source.prune`` / ``source.body`` spans. A selector that does not
    parse or matches nothing changes nothing."""
    removed: list[RemovedSpan] = []
    for css in hints.prune_selectors:
        selector = _compiled(css)
        if selector is None:
            continue
        for element in selector(root):
            if element.tag in _HINT_PROTECTED or not _attached(element, root):
                continue
            text = _visible_text(element)
            remove_keeping_tail(element)
            if text:
                removed.append(RemovedSpan("source.prune", text[:MAX_SPAN_CHARS]))
    if hints.body_selector:
        selector = _compiled(hints.body_selector)
        body = next(iter(root.iter("body")), None)
        matches = selector(root) if selector is not None and body is not None else []
        keep = next(
            (
                m
                for m in matches
                if m.tag not in _HINT_PROTECTED and any(a is body for a in m.iterancestors())
            ),
            None,
        )
        if keep is not None:
            outside = _narrow(body, keep)
            if outside:
                removed.append(RemovedSpan("source.body", outside[:MAX_SPAN_CHARS]))
    return tuple(removed)


class _FallbackMetadata:
    """trafilatura's metadata of the page, computed on first use (see ``extract_article``)."""

    def __init__(self, tree: Any, url: str | None, params: dict[str, Any], known: Any) -> None:
        self._tree, self._url, self._params = tree, url, params
        self._doc = known

    @property
    def doc(self) -> Any:
        if self._doc is None:
            # As bare_extraction would call it (its `fast` flag lands on `extensive`).
            self._doc = extract_metadata(self._tree, self._url, self._params, False, None)
        return self._doc

    def title(self) -> str | None:
        return self.doc.title.strip() if self.doc.title else None


def extract_article(
    page: str | bytes,
    url: str | None = None,
    *,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
    feed_published_at: datetime | None = None,
    feed_title: str | None = None,
    hints: SourceHints | None = None,
) -> ExtractedArticle | Dropped:
    """Extract the clean text and metadata of one article page.

    ``fetched_at`` bounds every date (nothing is published after we saw it); feed evidence is
    used when the page has none of its own. ``hints`` are the source's own (see
    :class:`SourceHints`): applied after the page's metadata is read, before every generic rule.
    """
    if isinstance(page, bytes):
        if not page.strip():
            return Dropped(DropReason.EMPTY, "no bytes")
        decoded = decode_document(page, content_type)
        text, charset, charset_source = decoded.text, decoded.charset, decoded.source
    else:
        text, charset, charset_source = page, None, None
    if not text.strip():
        return Dropped(DropReason.EMPTY, "only whitespace")
    if len(text) > MAX_HTML_CHARS:
        return Dropped(DropReason.TOO_LARGE, f"{len(text)} characters > {MAX_HTML_CHARS}")
    if _looks_binary(text):
        return Dropped(DropReason.NOT_HTML, "binary content")
    tree = parse_html(text)
    if tree is None:
        return Dropped(DropReason.NOT_HTML, "no HTML elements")
    meta = read_page_metadata(tree, fetched_at)
    error_page = _error_page(tree, meta)
    if error_page:
        return Dropped(DropReason.NO_ARTICLE, error_page)
    hinted = apply_source_hints(tree, hints) if hints and hints.changes_markup else ()
    headline_links = _headline_links(tree)
    headlines = _headlines(tree)
    cleaned = preclean(tree, url or meta.canonical_url)
    params: dict[str, Any] = {"extensive_search": False, "original_date": True}
    if fetched_at is not None:
        params["max_date"] = fetched_at.date().isoformat()
    # trafilatura's own metadata (htmldate above all) costs ~4 ms a page and only fills gaps in
    # ours: with a URL it is computed later, and only when a gap needs it. Without one,
    # trafilatura needs it for the URL the text's links resolve against.
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            with_metadata=url is None,
            date_extraction_params=params,
            **TRAFILATURA_OPTIONS,
        )
    except RecursionError:
        return Dropped(DropReason.NOT_HTML, "document nested too deeply")
    if doc is None or isinstance(doc, dict) or not doc.text:
        return Dropped(DropReason.NO_ARTICLE, "extractor found no main text")
    # bare_extraction worked on a copy: ``tree`` is still the page it was given.
    fallback = _FallbackMetadata(tree, url, params, doc if url is None else None)
    title = meta.title or fallback.title() or feed_title
    known = [s for image in cleaned.images for s in (image.caption, image.credit) if s]
    body, line_removals = clean_lines(tidy_text(doc.text), known, title, meta.authors, headlines)
    body = tidy_text(body)
    section_front = _section_front(meta, headline_links, body)
    if section_front:
        return Dropped(DropReason.NO_ARTICLE, section_front)
    words = word_count(body)
    if words < MIN_WORDS:
        return Dropped(DropReason.TOO_SHORT, f"{words} words < {MIN_WORDS}")

    published, date_source = meta.published_at, meta.published_source
    feed_date_usable = feed_published_at is not None and (
        fetched_at is None or feed_published_at <= fetched_at
    )
    if published is None and feed_date_usable:
        published, date_source = feed_published_at, "feed"
    url_date = date_from_url(url)
    if (
        published is None
        and url_date is not None
        and (fetched_at is None or url_date <= fetched_at)
    ):
        published, date_source = url_date, "url"
    if published is None and fallback.doc.date:
        published = parse_datetime(fallback.doc.date)
        date_source = "extractor" if published else None

    people = list(meta.authors)
    if not people and fallback.doc.author:
        people = [a.strip() for a in fallback.doc.author.split(";") if a.strip()]
    agencies = list(meta.agencies)
    for name in list(people):
        if name.casefold() in KNOWN_AGENCIES:
            people.remove(name)
            agencies.append(name)
    tags = list(meta.tags) or [
        t for t in (fallback.doc.categories or []) + (fallback.doc.tags or []) if t
    ]
    base_url = url or meta.canonical_url or ""
    language_source: str | None = "html_lang"
    language = _language(meta.html_lang)
    if language is None:
        language, language_source = _language(fallback.doc.language), "extractor"
    if language is None and hints is not None:
        language, language_source = _language(hints.language), "source"
    if language is None:
        language_source = None
    return ExtractedArticle(
        url=base_url,
        canonical_url=_page_canonical(base_url, meta) if base_url else "",
        title=title,
        text=body,
        language=language,
        published_at=published,
        modified_at=meta.modified_at,
        date_source=date_source,
        authors=tuple(dict.fromkeys(people)),
        agencies=tuple(dict.fromkeys(agencies)),
        tags=tuple(dict.fromkeys(tags)),
        description=meta.description or fallback.doc.description,
        is_paywalled=None
        if meta.is_accessible_for_free is None
        else not meta.is_accessible_for_free,
        charset=charset,
        charset_source=charset_source,
        word_count=words,
        content_hash=content_hash(body),
        extractor_version=EXTRACTOR_VERSION,
        language_source=language_source,
        html_lang=meta.html_lang,
        images=cleaned.images,
        links=cleaned.links,
        removed=hinted + cleaned.removed + line_removals,
    )
