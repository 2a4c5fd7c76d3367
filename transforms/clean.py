"""Noise removal around the extractor: DOM pre-cleaning before trafilatura, line rules after it.

What is removed is kept as data, not thrown away: image captions and credits become
:class:`Image` records, read-more and related-article targets become :class:`Link` records, and
every removal is a :class:`RemovedSpan` naming the rule that removed it.

Elements are recognised by structure — tag names, class/id/aria/role/data tokens, link density,
short labels in many languages — never by one site's markup.

Rule ids (``removed_spans.rule``):

=====================  =========================================================================
``dom.figure``         ``<figure>`` and picture wrappers (caption and credit kept in ``images``)
``dom.caption``        caption / credit / copyright elements outside figures
``dom.related``        read-more, related, teaser, "more on this", most-read boxes
``dom.label``          a short "Read more:"-style label and the link(s) it introduces
``dom.link_list``      a list of headline links with no prose (related-article list)
``dom.promo``          newsletter, share, follow, ad-label, cookie and consent blocks
``line.credit``        a photo-credit line ("Foto: …", "© dpa", "STR/AFP via Getty Images")
``line.caption``       a line equal to a known caption, or a caption ending in a credit
``line.read_more``     a read-more / related label line ("READ MORE: …", "Lesen Sie auch: …")
``line.agency``        an agency tag line ("mit dpa", "(AFP)", "Quelle: ntv.de")
=====================  =========================================================================
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from transforms.records import Image, Link, RemovedSpan

__all__ = ["Precleaned", "clean_lines", "preclean"]


@dataclass(frozen=True, slots=True)
class Precleaned:
    images: tuple[Image, ...]
    links: tuple[Link, ...]
    removed: tuple[RemovedSpan, ...]


# --- vocabularies -------------------------------------------------------------------------------

_SPLIT_TOKENS = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

CAPTION_TOKENS = frozenset(
    {
        "caption",
        "captions",
        "figcaption",
        "credit",
        "credits",
        "copyright",
        "photocredit",
        "imagecredit",
        "bildunterschrift",
        "bildquelle",
        "bildnachweis",
        "fotocredit",
        "legende",
        "legend",
        "photographer",
        "fotograf",
        "attribution",
        "imgcredit",
        "mediacaption",
        "imagecaption",
        "photocaption",
        "wp-caption-text",
    }
)
RELATED_TOKENS = frozenset(
    {
        "related",
        "relatedarticles",
        "relatedcontent",
        "relatedlinks",
        "relatedstories",
        "readmore",
        "readalso",
        "alsoread",
        "moreon",
        "morestories",
        "morenews",
        "mostread",
        "mostpopular",
        "popular",
        "trending",
        "recommended",
        "recommendations",
        "recommendation",
        "teaser",
        "teasers",
        "inlineteaser",
        "outbrain",
        "taboola",
        "lesetipp",
        "lesetipps",
        "weiterlesen",
        "artikelempfehlung",
        "empfehlung",
        "empfehlungen",
        "mehrzumthema",
        "alireaussi",
        "lireaussi",
        "voiraussi",
        "leermas",
        "leggianche",
        "leiatambem",
        "czytajwiecej",
        "lesogsa",
        "lasaven",
        "meistgelesen",
        "topstories",
        "nextarticle",
        "upnext",
        "youmayalsolike",
        "pluspopulaires",
        "relacionadas",
        "correlati",
    }
)
PROMO_TOKENS = frozenset(
    {
        "newsletter",
        "newsletters",
        "subscribe",
        "subscription",
        "signup",
        "share",
        "sharing",
        "sharebar",
        "shareservices",
        "sharetools",
        "social",
        "socialmedia",
        "follow",
        "followus",
        "ad",
        "ads",
        "advert",
        "adverts",
        "advertisement",
        "adslot",
        "adunit",
        "anzeige",
        "werbung",
        "publicite",
        "sponsored",
        "promo",
        "promotion",
        "cookie",
        "cookies",
        "consent",
        "gdpr",
        "cmp",
        "banner",
        "donate",
        "donation",
        "commentcount",
        "breadcrumb",
        "breadcrumbs",
    }
)
# Two-token phrases as they appear split: "read-more", "more-on-this", "lesen-sie-auch" …
RELATED_PHRASES = (
    ("read", "more"),
    ("read", "also"),
    ("also", "read"),
    ("more", "on"),
    ("see", "also"),
    ("more", "stories"),
    ("most", "read"),
    ("most", "popular"),
    ("you", "may"),
    ("lesen", "sie"),
    ("mehr", "zum"),
    ("a", "lire"),
    ("lire", "aussi"),
    ("leggi", "anche"),
    ("next", "article"),
    ("up", "next"),
    ("more", "from"),
)
PROMO_PHRASES = (("sign", "up"), ("follow", "us"), ("share", "this"), ("ad", "label"))

_LABELS = (
    r"read more|read also|also read|more on this( story| topic)?|related( stories| articles"
    r"| content| coverage| news)?|see also|more from|more stories|more news|more:|more :"
    r"|recommended|you may also like|don'?t miss|watch:|listen:"
    r"|lesen sie (auch|mehr|hier)|mehr zum thema|mehr dazu|auch interessant|weiterlesen"
    r"|lies auch|zum thema|das könnte sie auch interessieren|empfehlungen"
    r"|à lire aussi|a lire aussi|lire aussi|voir aussi|lire la suite|sur le même sujet"
    r"|lee también|leer más|lea también|te puede interesar|más información"
    r"|leggi anche|leggi l'articolo|per approfondire|potrebbe interessarti"
    r"|leia também|leia mais|veja também|saiba mais"
    r"|lees ook|lees meer|meer over"
    r"|czytaj (też|także|więcej|również)|zobacz (też|także)"
    r"|читайте также|читать также|подробнее|по теме|смотрите также"
    r"|ayrıca (okuyun|bakınız)|ilgili haberler|devamını oku"
    r"|les også|les mer|læs også|læs mere|läs även|läs också|läs mer"
)
READ_MORE_LABEL = re.compile(rf"^\W{{0,3}}({_LABELS})(?!\w)\s*[:：»>›→\-–—|]*", re.I)

_CREDIT_WORDS = (
    r"foto|fotos|photo|photos|photograph|image|images|picture|pictures|bild|bilder|credit"
    r"|credits|crédit|crédits|crédito|credito|fotografía|zdjęcie|fot\.|kuva|billede|bilde"
    r"|illustration|grafik|grafiken|quelle|source|fonte|fuente|источник|фото|kaynak"
)
CREDIT_LINE = re.compile(
    rf"^[(<\[\s]{{0,3}}(({_CREDIT_WORDS})(\s+credit)?\s*[:：]|[©ⓒ]|\(c\)\s|copyright\b)", re.I
)
_AGENCY = (
    r"afp|ap|reuters|dpa|epa|efe|ansa|anp|apa|kna|epd|sda|keystone|ntb|tt|ritzau|imago"
    r"|ap photo|picture alliance|getty images|getty|shutterstock|istock|xinhua|tass|ria novosti"
    r"|pa|pa images|pa media|aap|bloomberg|anadolu|sipa|abaca|zuma|alamy|dapd|ddp"
)
CREDIT_TAIL = re.compile(
    rf"(©|\(c\)\s|photo:|foto:|image:|bild:|credit:|crédit\s?:|/\s*({_AGENCY})\b"
    rf"|\bvia getty images\b|\b({_AGENCY})\s*/\s*\w)[^.!?]{{0,120}}$",
    re.I,
)
AGENCY_LINE = re.compile(
    rf"^\(?\s*(mit|with|avec|con|com|met|z|med)\s+({_AGENCY})(\s*[,/und&and]+\s*({_AGENCY}))*"
    rf"\s*\)?\.?$|^\(?({_AGENCY})(\s*[,/]\s*({_AGENCY}))*\)?\.?$"
    r"|^(quelle|source|fonte|fuente|kilde|källa|źródło)\s*:\s*\S.{0,60}$"
    r"|^©\s*dpa-infocom.*$|^dpa\s*:.*$",
    re.I,
)


def _tokens(element: Any) -> tuple[set[str], list[str]]:
    """Lower-case tokens of class, id, role, aria-label, data-* names of an element."""
    parts: list[str] = []
    for name, value in element.attrib.items():
        if name in ("class", "id", "role", "aria-label", "aria-roledescription", "itemprop") or (
            name.startswith("data-") and name not in ("data-src", "data-srcset", "data-href")
        ):
            text = _CAMEL.sub("-", str(value)) if name != "aria-label" else str(value)
            parts.append(text.lower())
    words = [w for part in parts for w in _SPLIT_TOKENS.split(part) if w]
    joined = {part.replace("-", "").replace("_", "") for p in parts for part in p.split()}
    return set(words) | joined, words


def _has_phrase(words: list[str], phrases: Iterable[tuple[str, str]]) -> bool:
    pairs = set(itertools.pairwise(words))
    return any(p in pairs for p in phrases)


def _text(element: Any) -> str:
    return " ".join("".join(element.itertext()).split())


def _link_text_share(element: Any, text_length: int) -> float:
    if text_length == 0:
        return 0.0
    linked = sum(len(" ".join("".join(a.itertext()).split())) for a in element.iter("a"))
    return min(linked / text_length, 1.0)


def _remove(element: Any) -> None:
    """Detach ``element`` but keep its tail text (the text after it belongs to the parent)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


# A list item whose text is this much link text is a link, not prose; a list with this share
# of such items is navigation or a related-articles list.
LINK_ITEM_SHARE = 0.8
LINK_LIST_SHARE = 0.8
_PROTECTED = frozenset({"html", "body", "main", "article", "head"})
_BLOCKS = (
    "div",
    "section",
    "aside",
    "ul",
    "ol",
    "p",
    "span",
    "nav",
    "footer",
    "header",
    "figure",
    "li",
    "dl",
    "table",
    "form",
)


class _Collector:
    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.images: list[Image] = []
        self.links: list[Link] = []
        self.removed: list[RemovedSpan] = []
        self._seen_links: set[str] = set()

    def url(self, value: str | None) -> str | None:
        if not value or value.startswith(("data:", "javascript:", "#")):
            return None
        value = value.strip().split()[0]
        if value.startswith(("http://", "https://")) or not self.base_url:
            return value
        return urljoin(self.base_url, value)

    def add_links(self, element: Any, kind: str) -> None:
        for anchor in element.iter("a"):
            url = self.url(anchor.get("href"))
            text = _text(anchor)
            if url and text and (url, kind) not in self._seen_links:
                self._seen_links.add(url)
                self.links.append(Link(url, text[:500], kind))

    def drop(self, element: Any, rule: str, *, links: str | None = None) -> None:
        text = _text(element)
        if links:
            self.add_links(element, links)
        if text:
            self.removed.append(RemovedSpan(rule, text[:2000]))
        _remove(element)


def _prose_chars(element: Any, text_length: int) -> int:
    """Characters of text outside links: how much of a block is running prose."""
    return int(text_length * (1.0 - _link_text_share(element, text_length)))


def _box_like(element: Any, text: str) -> bool:
    """Small, or mostly links, or without running prose: a box, not the article body.

    Class names lie in both directions ("article-share-wrapper" around the whole story), so
    a block with several hundred characters of unlinked paragraph text is never a box.
    """
    if len(text) <= 250:
        return True
    if (
        element.get("itemprop") in ("articleBody", "text")
        or element.find('.//*[@itemprop="articleBody"]') is not None
    ):
        return False
    prose = _prose_chars(element, len(text))
    if prose >= 500:
        return False
    if _link_text_share(element, len(text)) >= 0.5:
        return True
    return prose < 250 and len(text) < 2000


def _split_credit(text: str, credit_elements: list[Any]) -> tuple[str | None, str | None]:
    credits = [_text(c) for c in credit_elements if _text(c)]
    caption = text
    for listed in credits:
        caption = caption.replace(listed, " ")
    caption = " ".join(caption.split())
    credit: str | None = " ".join(credits) or None
    if credit is None:
        match = CREDIT_TAIL.search(caption)
        if match and match.start() > 0:
            credit = caption[match.start() :].strip(" |·-–—")
            caption = caption[: match.start()].strip(" |·-–—")
        elif CREDIT_LINE.match(caption):
            caption, credit = "", caption
    return caption or None, credit


def _credit_children(element: Any) -> list[Any]:
    found = []
    for child in element.iter():
        if child is element or not isinstance(child.tag, str):
            continue
        tokens, _ = _tokens(child)
        if tokens & {
            "credit",
            "credits",
            "copyright",
            "photographer",
            "source",
            "attribution",
            "bildquelle",
            "fotocredit",
            "author",
        } or child.tag in ("small", "cite"):
            found.append(child)
    return found


def _figure(collector: _Collector, element: Any) -> None:
    images = [img for img in element.iter("img")] or [None]
    caption_el = next(iter(element.iter("figcaption")), None)
    caption = credit = None
    if caption_el is not None:
        caption, credit = _split_credit(_text(caption_el), _credit_children(caption_el))
    else:
        caption, credit = _split_credit(_text(element), _credit_children(element))
    following = element.getnext()
    if following is not None and isinstance(following.tag, str) and _caption_like(following):
        extra_caption, extra_credit = _split_credit(_text(following), _credit_children(following))
        caption = caption or extra_caption
        credit = credit or extra_credit
        collector.drop(following, "dom.caption")
    for img in images:
        url = None
        alt = None
        if img is not None:
            url = collector.url(img.get("src") or img.get("data-src") or img.get("data-original"))
            alt = (img.get("alt") or "").strip() or None
        collector.images.append(Image(len(collector.images), url, caption, credit, alt))
    collector.drop(element, "dom.figure")


def _caption_element(collector: _Collector, element: Any) -> None:
    caption, credit = _split_credit(_text(element), _credit_children(element))
    tokens, _ = _tokens(element)
    if caption and tokens & {
        "credit",
        "credits",
        "copyright",
        "photographer",
        "bildquelle",
        "fotocredit",
        "attribution",
        "photocredit",
        "imagecredit",
    }:
        caption, credit = None, " ".join(filter(None, [caption, credit]))
    previous = collector.images[-1] if collector.images else None
    if previous is not None and (previous.caption is None or previous.credit is None):
        collector.images[-1] = Image(
            previous.position,
            previous.url,
            previous.caption or caption,
            previous.credit or credit,
            previous.alt,
        )
    else:
        collector.images.append(Image(len(collector.images), None, caption, credit, None))
    collector.drop(element, "dom.caption")


def preclean(root: Any, base_url: str | None = None) -> Precleaned:
    """Remove noise elements from the lxml tree ``root`` in place; report what went where.

    A depth-first walk that does not descend into what it removed, so each element is looked
    at once (deeply nested pages stay linear).
    """
    collector = _Collector(base_url)
    stack = [root]
    while stack:
        element = stack.pop()
        if isinstance(element.tag, str) and not _handle(collector, element):
            stack.extend(reversed(element))
    _collect_inline_links(collector, root)
    return Precleaned(tuple(collector.images), tuple(collector.links), tuple(collector.removed))


_CANDIDATE_TAGS = frozenset({*_BLOCKS, "figcaption", "picture", "small", "cite"})


def _first_text(element: Any, limit: int = 80) -> str:
    """The start of an element's text, without joining all of it."""
    collected = ""
    for chunk in element.itertext():
        collected += chunk
        if len(collected.strip()) >= limit:
            break
    return collected.strip()


def _is_credit_text(element: Any) -> bool:
    """A short element whose whole text is a credit: "© André Schmidt", "Foto: dpa"."""
    start = _first_text(element, 130)
    if not start or not CREDIT_LINE.match(start):
        return False
    text = _text(element)
    return len(text) <= 120 and not element.findall(".//p")


def _is_image_only(element: Any) -> bool:
    if element.tag in ("img", "picture"):
        return True
    if element.tag not in ("figure", "div", "span", "a", "p") or _first_text(element, 1):
        return False
    return next(iter(element.iter("img")), None) is not None


def _follows_image(element: Any) -> bool:
    previous = element.getprevious()
    if previous is not None:
        return isinstance(previous.tag, str) and _is_image_only(previous)
    # First child of a wrapper that itself follows an image: <div><picture/></div><div><p>…
    parent = element.getparent()
    return (
        parent is not None
        and parent.tag in ("div", "span")
        and (
            (sibling := parent.getprevious()) is not None
            and isinstance(sibling.tag, str)
            and _is_image_only(sibling)
        )
    )


BYLINE_TOKENS = frozenset(
    {
        "byline",
        "bylines",
        "dateline",
        "timestamp",
        "publishdate",
        "pubdate",
        "published",
        "updated",
        "author",
        "authors",
        "articledate",
        "postdate",
        "postmeta",
        "entrymeta",
        "readtime",
        "readingtime",
    }
)
_MEDIA_TEXT_TOKENS = frozenset(
    {
        "infotext",
        "mediainfo",
        "media",
        "imagetext",
        "bildtext",
        "desc",
        "description",
        "imagedescription",
        "phototext",
        "subtitle",
    }
)


def _caption_like(element: Any) -> bool:
    """Short, link-free text set apart as a caption: all bold/italic/small, or in a block
    whose class says it describes the media. Plain short paragraphs after an image are
    often the article's first lines, so they are left alone."""
    text = _text(element)
    if not text or len(text) > 160 or len(text.split()) > 25 or text.endswith(":"):
        return False
    if next(iter(element.iter("a")), None) is not None:
        return False
    tokens, _ = _tokens(element)
    if tokens & _MEDIA_TEXT_TOKENS:
        return True
    following = element.getnext()
    if (
        following is not None
        and isinstance(following.tag, str)
        and CREDIT_LINE.match(_first_text(following, 40))
    ):
        return True  # a caption line followed by its credit line
    children = [c for c in element if isinstance(c.tag, str)]
    own_text = (element.text or "").strip()
    return (
        len(children) == 1
        and not own_text
        and not (children[0].tail or "").strip()
        and children[0].tag in ("strong", "b", "em", "i", "small")
    )


def _handle(collector: _Collector, element: Any) -> bool:
    """Look at one element; return True when it was removed."""
    tag = element.tag
    if tag in _PROTECTED or tag not in _CANDIDATE_TAGS:
        return False
    if tag == "figure":
        _figure(collector, element)
        return True
    tokens, words = _tokens(element)
    if tag == "figcaption" or (tokens & CAPTION_TOKENS and tag not in ("ul", "ol")):
        if len(_text(element)) <= 600 and not element.findall(".//p")[2:]:
            _caption_element(collector, element)
            return True
        return False
    if tag in ("small", "span", "p", "div", "cite") and _is_credit_text(element):
        _caption_element(collector, element)
        return True
    if tag in ("p", "div", "span") and _follows_image(element) and _caption_like(element):
        _caption_element(collector, element)
        return True
    if tokens & BYLINE_TOKENS and tag not in ("ul", "ol", "section"):
        text = _text(element)
        # A byline or dateline is short and is not a sentence (quotes and prose end in one).
        if (
            len(text) <= 120
            and not text.endswith((".", '"', "”", "»", "!", "?"))
            and not (element.findall(".//p")[1:])
        ):
            collector.drop(element, "dom.byline")
            return True
    if tokens:
        related = bool(tokens & RELATED_TOKENS) or _has_phrase(words, RELATED_PHRASES)
        promo = bool(tokens & PROMO_TOKENS) or _has_phrase(words, PROMO_PHRASES)
        if related or promo:
            text = _text(element)
            if _box_like(element, text):
                if related:
                    collector.drop(element, "dom.related", links="related")
                else:
                    collector.drop(element, "dom.promo")
                return True
    if tag in ("p", "div", "aside", "li", "span", "section") and READ_MORE_LABEL.match(
        _first_text(element)
    ):
        return _label_box(collector, element, _text(element))
    if tag in ("ul", "ol") and _link_list(element):
        collector.drop(element, "dom.link_list", links="related")
        return True
    return False


def _label_box(collector: _Collector, element: Any, text: str) -> bool:
    """A short block starting with a read-more label and holding links: "READ MORE: …"."""
    if not text or len(text) > 300 or not READ_MORE_LABEL.match(text):
        return False
    anchors = list(element.iter("a"))
    if anchors:
        collector.drop(element, "dom.label", links="related")
        return True
    # A bare label ("Read more") whose links follow in the next sibling.
    label_only = READ_MORE_LABEL.sub("", text).strip() == ""
    sibling = element.getnext()
    if label_only:
        if sibling is not None and isinstance(sibling.tag, str):
            sibling_text = _text(sibling)
            if (
                sibling_text
                and len(sibling_text) < 400
                and list(sibling.iter("a"))
                and _link_text_share(sibling, len(sibling_text)) > 0.5
            ):
                collector.drop(sibling, "dom.label", links="related")
        collector.drop(element, "dom.label")
        return True
    return False


def _link_list(element: Any) -> bool:
    """A list whose items are headline links and nothing else (a related-articles list)."""
    items = [li for li in element if isinstance(li.tag, str) and li.tag == "li"]
    if len(items) < 2:
        return False
    linked = 0
    for li in items:
        li_text = _text(li)
        if li_text and _link_text_share(li, len(li_text)) >= LINK_ITEM_SHARE:
            linked += 1
    return linked >= LINK_LIST_SHARE * len(items)


def _collect_inline_links(collector: _Collector, root: Any) -> None:
    for paragraph in root.iter("p"):
        for anchor in paragraph.iter("a"):
            url = collector.url(anchor.get("href"))
            text = _text(anchor)
            if url and text and url not in collector._seen_links:
                collector._seen_links.add(url)
                collector.links.append(Link(url, text[:500], "inline"))


# --- line rules ---------------------------------------------------------------------------------


_MONTHS = (
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|januar|februar|märz|mai|juni|juli"
    r"|oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre"
    r"|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre"
    r"|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre"
    r"|ottobre|dicembre"
)
DATELINE = re.compile(
    r"^\W*((published|updated|posted|last updated|modified|stand|aktualisiert|veröffentlicht"
    r"|erstellt|publié|mis à jour|publicado|actualizado|pubblicato|aggiornato|publisert"
    r"|oppdatert)\b[^\n]{0,40})?"
    r"(\d{4}-\d{2}-\d{2}(t[\d:.]+([+-]\d{2}:?\d{2}|z)?)?"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}(,?\s*\d{1,2}[:.]\d{2}(\s*(uhr|h|am|pm))?)?"
    rf"|((mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?((\d{{1,2}}\.?\s+({_MONTHS})\w*\.?,?\s+\d{{4}})"
    rf"|(({_MONTHS})\w*\.?\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}}))"
    r"(,?\s*(at\s+)?\d{1,2}[:.]\d{2}(\s*(am|pm|uhr|h|[a-z]{2,4}))?)?"
    r"|\d+\s+(minutes?|hours?|days?|stunden?|minuten?|tagen?)\s+ago)\W*$",
    re.I,
)
BYLINE = re.compile(
    r"^(by|von|par|por|di|door|av|af|przez|от|written by|text:|texte:)\s+"
    r"[\w'’.-]+(\s+[\w'’.-]+){0,5}(\s*(,|and|und|et|y|e|og|&)\s*[\w'’.-]+(\s+[\w'’.-]+){0,4})*$",
    re.I,
)
URL_LINE = re.compile(r"^(https?://|www\.)\S+$", re.I)
UI_LINE = re.compile(
    r"^\W*(share|share this|share on \w+|tweet|email|print|print article|order reprints|text size"
    r"|updated|published|aktualisiert|veröffentlicht|mis à jour|actualizado|aggiornato"
    r"|comments?|\d+ comments?|join the conversation|join our commenting forum|sign in|log in"
    r"|subscribe|subscribe now|advertisement|anzeige|werbung|publicité|thank you|loading\.*"
    r"|an error has occurred.*|close|menu|search|home|skip to (main )?content|back to top"
    r"|teilen|artikel teilen|drucken|kommentare|partager|imprimer|compartir|condividi|by"
    r"|listen to (this )?article|audio|video|watch|play|min read|\d+ min(\.|ute)? read"
    r"|lesezeit:? \d+ min\.?|\d+:\d+ min\.?.*)\W*$",
    re.I,
)
_MENU_RUN = 4


_CONNECTORS = frozenset(
    {
        "and",
        "und",
        "et",
        "y",
        "e",
        "og",
        "&",
        "von",
        "van",
        "de",
        "der",
        "la",
        "le",
        "di",
        "da",
        "del",
        "du",
        "af",
        "av",
        ",",
    }
)


def _names_only(line: str) -> bool:
    """After the "By" word, only capitalised name tokens and connectors: "By Ann Lee and Bo"."""
    if line.endswith((".", "!", "?")):
        return False
    tokens = line.replace(",", " , ").split()[1:]
    if tokens and tokens[0].endswith(":"):
        tokens = tokens[1:]
    names = [t for t in tokens if t.lower() not in _CONNECTORS]
    return bool(names) and all(t[0].isupper() for t in names)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _menu_item(line: str) -> bool:
    words = line.strip(" -–•*|").split()
    ends_sentence = line.rstrip().endswith((".", ":", "?", "!"))
    return 0 < len(words) <= 3 and len(line) <= 25 and not ends_sentence


def clean_lines(
    text: str,
    known: Iterable[str] = (),
    title: str | None = None,
    authors: Iterable[str] = (),
) -> tuple[str, tuple[RemovedSpan, ...]]:
    """Drop credit, caption, read-more, agency-tag, byline, date, UI and menu lines that
    survived extraction.

    ``known`` are caption and credit strings collected from the page: a line equal to one of
    them is a leaked caption. A line repeating the ``title`` is not article text.
    """
    known_norm = {_norm(k) for k in known if k and len(k) >= 8}
    title_norm = _norm(title) if title else None
    author_norm = {_norm(a) for a in authors if a}
    lines = text.split("\n")
    rules: list[str | None] = [
        "line.byline"
        if _norm(line.strip(" -–•*|")) in author_norm
        else _line_rule(line, known_norm, title_norm)
        for line in lines
    ]
    # Runs of very short lines are navigation menus or tag clouds, not prose.
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and rules[end] is None and _menu_item(lines[end]):
            end += 1
        if end - start >= _MENU_RUN:
            for index in range(start, end):
                rules[index] = "line.menu"
        start = max(end, start + 1)
    kept = [line for line, rule in zip(lines, rules, strict=True) if rule is None]
    removed = tuple(
        RemovedSpan(rule, line) for line, rule in zip(lines, rules, strict=True) if rule
    )
    return "\n".join(kept), removed


def _line_rule(line: str, known: set[str], title: str | None = None) -> str | None:
    stripped = line.strip()
    if not stripped:
        return None
    length = len(stripped)
    norm = _norm(stripped)
    if norm in known:
        return "line.caption"
    if title and (norm == title or _norm(stripped.lstrip("-–•*| ")) == title):
        return "line.title"
    if length <= 80 and (DATELINE.match(stripped) or URL_LINE.match(stripped)):
        return "line.dateline"
    if length <= 60 and UI_LINE.match(stripped):
        return "line.ui"
    if length <= 80 and BYLINE.match(stripped) and _names_only(stripped):
        return "line.byline"
    if length <= 160 and CREDIT_LINE.match(stripped):
        return "line.credit"
    if length <= 200 and READ_MORE_LABEL.match(stripped):
        return "line.read_more"
    if length <= 80 and AGENCY_LINE.match(stripped):
        return "line.agency"
    if length <= 300 and CREDIT_TAIL.search(stripped):
        # "Dockworkers unload containers. © Nordic Images / Erik Sand": a caption with its credit.
        before = CREDIT_TAIL.split(stripped, maxsplit=1)[0]
        if len(before) < 250:
            return "line.caption" if before.strip() else "line.credit"
    return None
