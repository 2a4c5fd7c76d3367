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
``dom.link_list``      a list of headline links with no prose (related-article list): items that
                       are all link, a short label and a link, or teaser cards (a linked heading
                       and its summary)
``dom.promo``          newsletter, share, follow, ad-label, cookie and consent blocks; tooltips and
                       hover cards; a promo box without paragraphs (a donation appeal)
``line.credit``        a photo-credit line ("Foto: …", "© dpa", "STR/AFP via Getty Images")
``line.caption``       a line equal to a known caption, or a caption ending in a credit
``line.read_more``     a read-more / related label line ("READ MORE: …", "Lesen Sie auch: …")
``line.agency``        an agency tag line ("mit dpa", "(AFP)", "Quelle: ntv.de")
``line.title``         the headline again: a line equal to the title, or one of the first two
                       lines made mostly of the words of the title, ``<title>``, ``og:title`` or
                       ``<h1>`` (a kicker and the headline, the headline in another wording)
``line.end_note``      the last lines when they are notes, not story: "… contributed to this
                       report", contact and e-mail lines, newsletter / subscribe / donate /
                       follow-us appeals, a closing note naming the author, a closing profile
                       (a press release's "Acme is a global provider …", a writer's bio, a
                       Japanese personnel profile)
``line.tags``          a tag or filing line ("Filed under: …", "Tags: …", "Schlagwörter: …")
=====================  =========================================================================
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from lxml import etree

from transforms.records import Image, Link, RemovedSpan

__all__ = ["Precleaned", "clean_lines", "preclean", "remove_keeping_tail"]


@dataclass(frozen=True, slots=True)
class Precleaned:
    images: tuple[Image, ...]
    links: tuple[Link, ...]
    removed: tuple[RemovedSpan, ...]


# --- vocabularies -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
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
        # A card that pops up over a linked name ("rollover-people", "tooltip"): hidden until
        # hovered, and its text (the name again, the person's latest headlines) lands in the
        # middle of the sentence that links the name.
        "tooltip",
        "popover",
        "hovercard",
        "rollover",
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
    r"read more|read also|also read|read next|see more|more on this( story| topic)?"
    r"|related( stories| articles| content| coverage| news)?|see also|more from|more stories"
    r"|more news|more:|more :"
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
    r"|関連記事|関連ニュース|関連キーワード|関連リンク|相关阅读|相关新闻|相關新聞|관련\s?기사"
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
# A descendant with one of these tokens (or a <small>/<cite>) holds the credit of a caption.
_CREDIT_CHILD_TOKENS = frozenset(
    {
        "credit",
        "credits",
        "copyright",
        "photographer",
        "source",
        "attribution",
        "bildquelle",
        "fotocredit",
        "author",
    }
)
# A caption element with one of these tokens is all credit, no caption.
_CREDIT_ELEMENT_TOKENS = frozenset(
    {
        "credit",
        "credits",
        "copyright",
        "photographer",
        "bildquelle",
        "fotocredit",
        "attribution",
        "photocredit",
        "imagecredit",
    }
)

# --- element features ---------------------------------------------------------------------------
#
# preclean looks at every candidate element of a page (several hundred), so what it asks about
# one element is kept cheap: attribute tokens are worked out once per distinct set of attributes,
# whole texts are read in C, and the start of a text is read only as far as needed, from
# ``element.text`` first.

_TOKEN_ATTRIBUTES = frozenset(
    {"class", "id", "role", "aria-label", "aria-roledescription", "itemprop"}
)
_URL_DATA_ATTRIBUTES = frozenset({"data-src", "data-srcset", "data-href"})


class _Phrases(NamedTuple):
    pairs: frozenset[tuple[str, str]]
    first_words: frozenset[str]


_RELATED = _Phrases(frozenset(RELATED_PHRASES), frozenset(a for a, _ in RELATED_PHRASES))
_PROMO = _Phrases(frozenset(PROMO_PHRASES), frozenset(a for a, _ in PROMO_PHRASES))


def _has_phrase(tokens: set[str], words: list[str], phrases: _Phrases) -> bool:
    """Whether two consecutive ``words`` are one of the ``phrases``."""
    # words are among the tokens: without a phrase's first word there is no phrase to look for.
    if tokens.isdisjoint(phrases.first_words):
        return False
    return any(pair in phrases.pairs for pair in itertools.pairwise(words))


class _Tokens(NamedTuple):
    """Which vocabularies the lower-case tokens of an element's class, id, role, aria-label and
    data-* attributes hit (see :func:`_tokens_of`)."""

    caption: bool
    byline: bool
    related: bool
    promo: bool
    media_text: bool
    credit_child: bool
    credit_element: bool


_NO_TOKENS = _Tokens(False, False, False, False, False, False, False)
# Every token that sets a flag on its own.
_FLAG_TOKENS = (
    CAPTION_TOKENS
    | BYLINE_TOKENS
    | RELATED_TOKENS
    | PROMO_TOKENS
    | _MEDIA_TEXT_TOKENS
    | _CREDIT_CHILD_TOKENS
    | _CREDIT_ELEMENT_TOKENS
)
# ... and every first word of a phrase: most elements have none of these.
_FLAGGING_TOKENS = _FLAG_TOKENS | _RELATED.first_words | _PROMO.first_words


# A cheap test that most attribute values fail (ids, layout and utility classes): every token
# is a run of the lower-cased values with "-" and "_" left out (camel-case splitting only adds
# "-"), so values where no flagging token occurs as a substring have no flagging token. A
# one-letter first word of a phrase ("a" of "a lire") occurs in nearly every value: it is left
# out, and the word it must come before stands for it (without that word there is no phrase,
# and such a first word flags nothing else). One regex search in C instead of the tokenizer.
_ONE_LETTER_FIRST_WORDS = {
    first for first in _RELATED.first_words | _PROMO.first_words if len(first) == 1
} - _FLAG_TOKENS


def _any_of_pattern(words: Iterable[str]) -> str:
    """A regex that ``search()`` finds wherever one of ``words`` occurs, as a trie: the re
    module tries the branches of a flat alternation one by one at each position (~6 µs a
    value for these ~150 words), a trie's only by their first character (<1 µs). A word that
    another starts with ends its branch: finding it is enough."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(trie)


_FLAGGING_SUBSTRINGS = re.compile(
    _any_of_pattern(
        (_FLAGGING_TOKENS - _ONE_LETTER_FIRST_WORDS)
        | {
            second
            for first, second in (*RELATED_PHRASES, *PROMO_PHRASES)
            if first in _ONE_LETTER_FIRST_WORDS
        }
    )
)


def _tokens(element: Any) -> _Tokens:
    items = element.items()
    if not items:
        return _NO_TOKENS
    # Only the token-bearing attributes are the cache key: href, src and style values differ on
    # nearly every element, class and id values repeat all over a page and across pages.
    if _TOKEN_ATTRIBUTES.issuperset(element.keys()):
        return _tokens_of(tuple(items))  # the usual case, class and id only: nothing to leave out
    return _tokens_of(
        tuple(
            (name, value)
            for name, value in items
            if name in _TOKEN_ATTRIBUTES
            or (name.startswith("data-") and name not in _URL_DATA_ATTRIBUTES)
        )
    )


# Small on purpose: many keys belong to one page (ids), and a large cache of long-lived entries
# (8192) cost more in the garbage collector's full passes than its extra hits saved.
@lru_cache(maxsize=1024)
def _tokens_of(attributes: tuple[tuple[str, str], ...]) -> _Tokens:
    """The tokens of attribute values (camel case split, aria-label as it is) are their runs
    of letters and digits, in order, and their space-separated parts without "-" and "_"
    ("read-more" is also "readmore")."""
    # One string for all values: a space ends a run and a part just as the end of a value does,
    # and no camel-case boundary or lower-casing rule looks across it.
    text = " ".join([value for _, value in attributes])
    lowered = text.lower()
    if not _FLAGGING_SUBSTRINGS.search(lowered.replace("-", "").replace("_", "")):
        return _NO_TOKENS  # see _FLAGGING_SUBSTRINGS
    if lowered != text:  # most values are lower case: no camel case to split (a slow regex)
        lowered = " ".join(
            [
                value if name == "aria-label" else _CAMEL.sub("-", value)
                for name, value in attributes
            ]
        ).lower()
    text = lowered
    words = _WORD.findall(text)
    tokens = set(words)
    tokens.update(text.replace("-", "").replace("_", "").split())
    if tokens.isdisjoint(_FLAGGING_TOKENS):
        return _NO_TOKENS
    return _Tokens(
        not tokens.isdisjoint(CAPTION_TOKENS),
        not tokens.isdisjoint(BYLINE_TOKENS),
        not tokens.isdisjoint(RELATED_TOKENS) or _has_phrase(tokens, words, _RELATED),
        not tokens.isdisjoint(PROMO_TOKENS) or _has_phrase(tokens, words, _PROMO),
        not tokens.isdisjoint(_MEDIA_TEXT_TOKENS),
        not tokens.isdisjoint(_CREDIT_CHILD_TOKENS),
        not tokens.isdisjoint(_CREDIT_ELEMENT_TOKENS),
    )


def _raw_text(element: Any) -> str:
    """All text in ``element`` (not its tail): the same string as ``"".join(itertext())``,
    built in C by libxml2 instead of by a Python-level walk."""
    if not len(element):  # no children: the element's own text is all (a link, a label)
        return element.text or ""
    return str(etree.tostring(element, method="text", encoding="unicode", with_tail=False))


def _text(element: Any) -> str:
    if not len(element):  # as in _raw_text; inlined, this is called for every link
        text = element.text
        return " ".join(text.split()) if text else ""
    return " ".join(_raw_text(element).split())


def _has_descendants(element: Any, tag: str, count: int) -> bool:
    """Whether ``element`` has at least ``count`` descendants ``tag`` (stops counting there)."""
    return next(itertools.islice(element.iterdescendants(tag), count - 1, None), None) is not None


def _link_text_share(
    element: Any, text_length: int, link_texts: dict[Any, str] | None = None
) -> float:
    """The share of ``element``'s text that is link text; the texts of its links are put in
    ``link_texts`` (when given) for a caller that goes on to list the links."""
    if text_length == 0:
        return 0.0
    linked = 0
    for anchor in element.iter("a"):
        text = _text(anchor)
        if link_texts is not None:
            link_texts[anchor] = text
        linked += len(text)
    return min(linked / text_length, 1.0)


def remove_keeping_tail(element: Any) -> None:
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


# What makes urljoin do more with a path than put the base's scheme and host before it.
_NOT_PLAIN_PATH = re.compile(r"[;?#]|/\.")


# A link of a removed box is kept (as a "related" link) only when it reads like a headline: at
# least this many words, or CJK characters (each carries about a word), and a path below the
# site's root. Menus and section lists are removed as boxes just as related-article lists are,
# but their links ("Politik", "World News", "トップ", a home page) are sections, not stories: on
# the corpus they were ~78 % of the links of removed boxes (102 a page), and filled the links
# table with navigation.
RELATED_MIN_WORDS = 3
RELATED_MIN_CJK = 8
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD_RUN = re.compile(r"[^\W_]+")


def _story_link(url: str, text: str) -> bool:
    """Whether a link of a removed box points at a story (see RELATED_MIN_WORDS)."""
    # The text test first: most links of removed boxes are short menu labels, and the regexes
    # cost less than urlsplit (both tests are pure, so their order changes nothing).
    if (
        len(_WORD_RUN.findall(text)) < RELATED_MIN_WORDS
        and len(_CJK_CHAR.findall(text)) < RELATED_MIN_CJK
    ):
        return False
    return bool(urlsplit(url).path.strip("/"))


class _Collector:
    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.images: list[Image] = []
        self.links: list[Link] = []
        self.removed: list[RemovedSpan] = []
        self._seen_links: set[str] = set()
        # The same hrefs come up again and again (menus, teasers, the inline-link pass), and
        # urljoin parses the base address anew on each call.
        self._urls: dict[str, str | None] = {}
        self._base_prefix: str | None = None  # "https://host" of base_url, once parsed
        self.starts = _StartReader()  # the text starts of the elements of this walk

    def _join(self, base: str, value: str) -> str:
        """``urljoin(base, value)`` (``base`` is the non-empty ``base_url``).

        A site-root path ("/a/b.html": no "//" start, no ";?#", no "." or ".." segment) on an
        http(s) base comes out of urljoin as "scheme://netloc" + path, untouched; that prefix is
        worked out once. Anything else goes to urljoin itself.
        """
        if value[:1] == "/" and value[1:2] != "/" and not _NOT_PLAIN_PATH.search(value):
            if self._base_prefix is None:
                scheme, netloc = urlsplit(base)[:2]
                self._base_prefix = f"{scheme}://{netloc}" if scheme in ("http", "https") else ""
            if self._base_prefix:
                return self._base_prefix + value
        return urljoin(base, value)

    def url(self, value: str | None) -> str | None:
        if not value:
            return None
        if value in self._urls:
            return self._urls[value]
        resolved = self._resolve(value)
        self._urls[value] = resolved
        return resolved

    def _resolve(self, value: str) -> str | None:
        if value.startswith(("data:", "javascript:", "#")):
            return None
        value = value.strip().split()[0]
        if value.startswith(("http://", "https://")) or not self.base_url:
            return value
        return self._join(self.base_url, value)

    def add_links(self, element: Any, kind: str, link_texts: dict[Any, str] | None = None) -> None:
        for anchor in element.iter("a"):
            url = self.url(anchor.get("href"))
            if not url:
                continue
            text = link_texts.get(anchor) if link_texts else None
            if text is None:
                text = _text(anchor)
            if not text or (kind == "related" and not _story_link(url, text)):
                continue
            # (url, kind) is never in this set of URLs, so every related link is kept, repeats
            # included; the URLs only keep the inline-link pass from listing them again.
            if (url, kind) not in self._seen_links:
                self._seen_links.add(url)
                self.links.append(Link(url, text[:500], kind))

    def drop(
        self,
        element: Any,
        rule: str,
        *,
        links: str | None = None,
        text: str | None = None,
        link_texts: dict[Any, str] | None = None,
    ) -> None:
        """Remove ``element``; ``text`` is its :func:`_text` and ``link_texts`` the texts of some
        of its links when the caller has them already (nothing has changed since)."""
        if text is None:
            text = _text(element)
        if links:
            self.add_links(element, links, link_texts)
        if text:
            self.removed.append(RemovedSpan(rule, text[:2000]))
        remove_keeping_tail(element)


def _prose_chars(element: Any, text_length: int) -> int:
    """Characters of text outside links: how much of a block is running prose."""
    return int(text_length * (1.0 - _link_text_share(element, text_length)))


def _box_like(element: Any, text: str, promo: bool = False) -> bool:
    """Small, or mostly links, or without running prose: a box, not the article body.

    Class names lie in both directions ("article-share-wrapper" around the whole story), so
    a block with several hundred characters of unlinked paragraph text is never a box. A
    ``promo`` block (newsletter, donation …) of under 2000 characters without a single ``<p>``
    always is: story text is set in paragraphs. (A "teaser" block without them can be the
    story's lead.)
    """
    if len(text) <= 250:
        return True
    if (
        element.get("itemprop") in ("articleBody", "text")
        or element.find('.//*[@itemprop="articleBody"]') is not None
    ):
        return False
    if promo and len(text) < 2000 and not _has_descendants(element, "p", 1):
        return True
    prose = _prose_chars(element, len(text))
    if prose >= 500:
        return False
    if _link_text_share(element, len(text)) >= 0.5:
        return True
    return prose < 250 and len(text) < 2000


def _split_credit(text: str, credit_elements: list[Any]) -> tuple[str | None, str | None]:
    credits = [credit for credit in map(_text, credit_elements) if credit]
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
    return [
        child
        for child in element.iterdescendants()
        if isinstance(child.tag, str)
        and (_tokens(child).credit_child or child.tag in ("small", "cite"))
    ]


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
    text = _text(element)
    caption, credit = _split_credit(text, _credit_children(element))
    if caption and _tokens(element).credit_element:
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
    collector.drop(element, "dom.caption", text=text)


_CANDIDATE_TAGS = frozenset({*_BLOCKS, "figcaption", "picture", "small", "cite"}) - _PROTECTED


def preclean(root: Any, base_url: str | None = None) -> Precleaned:
    """Remove noise elements from the lxml tree ``root`` in place; report what went where.

    A depth-first walk that does not descend into what it removed, so each element is looked
    at once (deeply nested pages stay linear). Only candidate tags are ever handled, so the
    walk goes over those alone, listed up front in document order: the tree only loses
    subtrees on the way, so a removed element's candidate descendants are the entries right
    after it, and are skipped. A following sibling that a rule removes together with the
    element it belongs to (a caption after a figure, links after a bare label) is still looked
    at, detached, as it always was.
    """
    collector = _Collector(base_url)
    # A Python reference to every node until the walk is done: lxml then hands back the same
    # proxy objects instead of building new ones (each through lxml.html's Python-level class
    # lookup) every time itertext(), iter(), getprevious() … pass a node.
    nodes = list(root.iter())
    candidates = list(root.iter(*_CANDIDATE_TAGS))
    index = 0
    while index < len(candidates):
        element = candidates[index]
        index += 1
        if _handle(collector, element):
            index += sum(1 for _ in element.iterdescendants(*_CANDIDATE_TAGS))
    _collect_inline_links(collector, root)
    del nodes
    return Precleaned(tuple(collector.images), tuple(collector.links), tuple(collector.removed))


def _first_text(element: Any, limit: int = 80) -> str:
    """The start of an element's text, without joining all of it."""
    text: str | None = element.text
    if text:
        stripped = text.strip()
        if len(stripped) >= limit:
            return stripped  # itertext() starts with the element's own text, and it is enough
    collected = ""
    for chunk in element.itertext():
        collected += chunk
        if len(collected.strip()) >= limit:
            break
    return collected.strip()


# Tags that mostly hold a line or a paragraph, not a page section (see _text_starts).
_SMALL_TAGS = frozenset({"p", "span", "li", "small", "cite"})
_FEW_DESCENDANTS = 12


def _few_descendants(element: Any) -> bool:
    return next(itertools.islice(element.iterdescendants(), _FEW_DESCENDANTS, None), None) is None


def _text_starts(element: Any) -> tuple[str, str]:
    """``_first_text(element, _LABEL_START)`` and ``_first_text(element, _CREDIT_START)``, read
    together: the shorter is where the same read first reaches its limit."""
    text: str | None = element.text
    if text:
        stripped = text.strip()
        if len(stripped) >= _CREDIT_START:
            return stripped, stripped
    # Most small elements hold less text than either limit: then both are all of it, which
    # libxml2 reads faster than itertext() does. (For a page section, reading all its text
    # would cost more than reading its start, hence the size guess.)
    if element.tag in _SMALL_TAGS or _few_descendants(element):
        stripped = _raw_text(element).strip()
        if len(stripped) < _LABEL_START:
            return stripped, stripped
    label_start = None
    # The loop of _first_text, minus work that cannot change its result: leading whitespace
    # is stripped in the end anyway, and a blank chunk (indentation) leaves the stripped text
    # as it was, so it can only matter once text follows it.
    collected = ""
    for chunk in element.itertext():
        if not collected:
            chunk = chunk.lstrip()
        elif chunk.isspace():
            collected += chunk
            continue
        if not chunk:
            continue
        collected += chunk
        if len(collected) < _LABEL_START:  # stripping never lengthens
            continue
        stripped = collected.rstrip()
        if label_start is None and len(stripped) >= _LABEL_START:
            label_start = stripped
        if len(stripped) >= _CREDIT_START:
            break
    stripped = collected.strip()
    return (stripped if label_start is None else label_start), stripped


class _StartReader:
    """:func:`_text_starts` for the elements of one walk, read once down a chain of wrappers.

    In ``<div> <div> <p>Text…`` every element's text starts where the innermost one's does:
    an element whose own text is blank and whose first child is an element has that child's
    starts, whenever the child's text alone reaches the limits (the blank text strips away, and
    the read stops inside the child). So one read serves the whole chain, and the walk, which
    meets the chain's elements next and in this order, finds their starts here. Nothing can
    change their text in between: the walk removes nothing inside an element before it has
    looked at the element itself.
    """

    def __init__(self) -> None:
        self._known: dict[Any, tuple[str, str]] = {}

    def __call__(self, element: Any) -> tuple[str, str]:
        known = self._known.get(element)
        if known is not None:
            return known
        chain = []
        node = element
        while True:
            text = node.text
            if (text and not text.isspace()) or not len(node):
                break
            first = node[0]
            # Only elements the walk asks about; never a comment (its text is not text).
            if first.tag not in _TEXT_START_TAGS:
                break
            chain.append(first)
            node = first
        if not chain:
            return _text_starts(element)
        starts = _text_starts(node)
        if len(starts[1]) >= _CREDIT_START:
            for member in chain:
                self._known[member] = starts
            return starts
        self._known[node] = starts  # too short to stand for the chain, right for itself
        return _text_starts(element)


# Prefix lengths of the credit-line test and the read-more label test in _handle.
_CREDIT_START = 130
_LABEL_START = 80
_CREDIT_TEXT_TAGS = frozenset({"small", "span", "p", "div", "cite"})
_LABEL_TAGS = frozenset({"p", "div", "aside", "li", "span", "section"})
_TEXT_START_TAGS = _CREDIT_TEXT_TAGS | _LABEL_TAGS


def _is_credit_text(element: Any, start: str) -> bool:
    """A short element whose whole text is a credit: "© André Schmidt", "Foto: dpa".

    ``start`` is ``_first_text(element, _CREDIT_START)``."""
    if not start or not CREDIT_LINE.match(start):
        return False
    text = _text(element)
    return len(text) <= 120 and not _has_descendants(element, "p", 1)


def _has_text(element: Any) -> bool:
    """Whether there is any non-blank text in ``element`` (``bool(_first_text(element, 1))``)."""
    text: str | None = element.text
    if text and text.strip():
        return True
    # Stops at the first chunk with text: the element before a caption may be the whole story.
    return any(chunk.strip() for chunk in element.itertext())


def _is_image_only(element: Any) -> bool:
    if element.tag in ("img", "picture"):
        return True
    # Without children there is no image inside, whatever the text (the common case: a <p>).
    if element.tag not in ("figure", "div", "span", "a", "p") or not len(element):
        return False
    return not _has_text(element) and next(iter(element.iter("img")), None) is not None


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


_CAPTION_PREFIX = 400


def _caption_like(element: Any) -> bool:
    """Short, link-free text set apart as a caption: all bold/italic/small, or in a block
    whose class says it describes the media. Plain short paragraphs after an image are
    often the article's first lines, so they are left alone."""
    # The link test first: it is cheap, and it rules out most long blocks.
    if next(iter(element.iter("a")), None) is not None:
        return False
    raw = _raw_text(element)
    # A block of page text can follow an image too: no need to normalise all of it when its
    # start is already too long (normalised, a prefix is never longer than the whole).
    if len(raw) > _CAPTION_PREFIX and len(" ".join(raw[:_CAPTION_PREFIX].split())) > 160:
        return False
    text = " ".join(raw.split())
    if not text or len(text) > 160 or len(text.split()) > 25 or text.endswith(":"):
        return False
    if _tokens(element).media_text:
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
    """Look at one candidate element; return True when it was removed.

    Nothing here changes the tree before a rule fires and returns, so what is read about the
    element (tokens, the start of its text) holds for all the tests.
    """
    tag = element.tag
    if tag == "figure":
        _figure(collector, element)
        return True
    tokens = _tokens(element)
    if tag == "figcaption" or (tokens.caption and tag not in ("ul", "ol")):
        if len(_text(element)) <= 600 and not _has_descendants(element, "p", 3):
            _caption_element(collector, element)
            return True
        return False
    # The start of the text, read once for the credit, caption and label tests below. An
    # element without text passes none of them (a caption has text), so they are skipped.
    label_start, credit_start = collector.starts(element) if tag in _TEXT_START_TAGS else ("", "")
    if tag in _CREDIT_TEXT_TAGS and _is_credit_text(element, credit_start):
        _caption_element(collector, element)
        return True
    if (
        tag in ("p", "div", "span")
        and label_start
        and _follows_image(element)
        and _caption_like(element)
    ):
        _caption_element(collector, element)
        return True
    if tokens.byline and tag not in ("ul", "ol", "section"):
        text = _text(element)
        # A byline or dateline is short and is not a sentence (quotes and prose end in one).
        if (
            len(text) <= 120
            and not text.endswith((".", '"', "”", "»", "!", "?"))
            and not _has_descendants(element, "p", 2)
        ):
            collector.drop(element, "dom.byline", text=text)
            return True
    if tokens.related or tokens.promo:
        text = _text(element)
        if _box_like(element, text, promo=not tokens.related):
            if tokens.related:
                collector.drop(element, "dom.related", links="related", text=text)
            else:
                collector.drop(element, "dom.promo", text=text)
            return True
    if tag in _LABEL_TAGS and label_start and READ_MORE_LABEL.match(label_start):
        return _label_box(collector, element, _text(element))
    if tag in ("ul", "ol"):
        link_texts: dict[Any, str] = {}
        if _link_list(element, link_texts):
            collector.drop(element, "dom.link_list", links="related", link_texts=link_texts)
            return True
    return False


def _label_box(collector: _Collector, element: Any, text: str) -> bool:
    """A short block starting with a read-more label and holding links: "READ MORE: …"."""
    if not text or len(text) > 300 or not READ_MORE_LABEL.match(text):
        return False
    if next(iter(element.iter("a")), None) is not None:
        collector.drop(element, "dom.label", links="related", text=text)
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
                and next(iter(sibling.iter("a")), None) is not None
                and _link_text_share(sibling, len(sibling_text)) > 0.5
            ):
                collector.drop(sibling, "dom.label", links="related", text=sibling_text)
        collector.drop(element, "dom.label")
        return True
    return False


def _link_list(element: Any, link_texts: dict[Any, str] | None = None) -> bool:
    """A list whose items are headline links and nothing else (a related-articles list).

    The texts of the links read on the way are put in ``link_texts`` (when given)."""
    items = list(element.iterchildren("li"))
    if len(items) < 2:
        return False
    linked = 0
    for li in items:
        li_text = _text(li)
        if li_text and _link_item(li, li_text, link_texts):
            linked += 1
    return linked >= LINK_LIST_SHARE * len(items)


# A list item that is a label and a headline link ("Warnung: <a>…</a>") has at most this many
# characters outside its link.
LINK_ITEM_LABEL = 40
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")


def _link_item(li: Any, li_text: str, link_texts: dict[Any, str] | None = None) -> bool:
    """A list item that points elsewhere: all link text; or a short label and a link
    ("Neue Allianz? <a>Europäer reagieren …</a>"); or a teaser card, whose heading is a link
    and whose other text is the teaser's summary."""
    share = _link_text_share(li, len(li_text), link_texts)
    if share >= LINK_ITEM_SHARE:
        return True
    if share >= 0.5 and len(li_text) * (1.0 - share) <= LINK_ITEM_LABEL:
        return True
    for heading in li.iter(*_HEADINGS):
        if next(iter(heading.iter("a")), None) is not None:
            return True
        for ancestor in heading.iterancestors():  # <li><a><h3>…</h3></a>
            if ancestor is li:
                break
            if ancestor.tag == "a":
                return True
    return False


# Links inside paragraphs, each once, in document order: what a loop over root.iter("p") and
# each paragraph's iter("a") meets first (a link in nested paragraphs comes up again, and is
# skipped as seen).
_INLINE_ANCHORS = etree.XPath("descendant-or-self::p//a")


def _collect_inline_links(collector: _Collector, root: Any) -> None:
    for anchor in _INLINE_ANCHORS(root):
        url = collector.url(anchor.get("href"))
        if not url or url in collector._seen_links:
            continue
        text = _text(anchor)
        if text:
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
# A time and a date without words around them: "5:45 AM PST 11/19/2019 by",
# "November 19, 2019 / 12:21 AM / Updated 14 hours ago", "Updated at 1:23 p.m.".
TIME_DATE_LINE = re.compile(
    r"^\W*(\d{1,2}:\d{2}\s*[ap]\.?m\.?\b.{0,30}\d{1,2}/\d{1,2}/\d{2,4}\W*(by)?\W*$"
    r"|.{0,30}\d{4}\s*/\s*\d{1,2}:\d{2}\s*[ap]\.?m\.?\b.{0,40}$"
    r"|(updated|published|posted) at \d{1,2}[:.]\d{2}\s*([ap]\.?m\.?)?\W*$)",
    re.I,
)
# A tag or filing line: "Filed under: Politics | Europe", "Tags: …", "Schlagwörter: …".
TAG_LINE = re.compile(
    r"^\W{0,3}(filed under|tags?|tagged( with)?|topics|schlagw(ö|o)rte?r?|mots[- ]clés"
    r"|etiquetas|argomenti|emneord|taggar)\s*:",
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
    r"|lesezeit:? \d+ min\.?|\d+:\d+ min\.?.*"
    r"|(reading time|tempo de leitura|tiempo de lectura|temps de lecture|tempo di lettura"
    r"|leestijd|czas czytania):? \d+ \w+\.?)\W*$",
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
    if not 0 < len(words) <= 3 or len(line) > 25:
        return False
    # A Chinese or Japanese sentence has no spaces: its characters count as words here.
    return len(_words(line)) <= 3 and not line.rstrip().endswith(_SENTENCE_ENDS)


_SENTENCE_ENDS = (".", ":", "?", "!", "。", "！", "？", "：")


def clean_lines(
    text: str,
    known: Iterable[str] = (),
    title: str | None = None,
    authors: Iterable[str] = (),
    headlines: Iterable[str] = (),
) -> tuple[str, tuple[RemovedSpan, ...]]:
    """Drop credit, caption, read-more, agency-tag, byline, date, UI and menu lines that
    survived extraction, the headline at the top and the end notes at the bottom.

    ``known`` are caption and credit strings collected from the page: a line equal to one of
    them is a leaked caption. A line repeating the ``title`` is not article text, and neither
    is a first line made of the words of the title or of the page's other ``headlines`` (its
    ``<h1>`` and ``<title>``): a headline with a kicker, or the headline in another wording.
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
    _mark_headline(lines, rules, [title or "", *headlines])
    _mark_end_notes(lines, rules, [a for a in author_norm if len(a.split()) >= 2])
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


# A first line is the headline again when this share of its words are headline words.
HEADLINE_SHARE = 0.6
_HEADLINE_LINES = 2
_HEADLINE_MAX_CHARS = 200
_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


def _words(text: str) -> list[str]:
    # A soft hyphen (U+00AD) splits a word only where a line may break.
    return _WORDS.findall(unicodedata.normalize("NFKC", text).replace("\u00ad", "").casefold())


def _mark_headline(lines: list[str], rules: list[str | None], headlines: list[str]) -> None:
    """Mark the first lines (at most two, each short) that are made of headline words.

    A headline comes back above the story in many shapes: with a kicker ("Umbau des Weissen
    Hauses Trump plant …"), in the visible wording while the metadata has the SEO one, with
    the site's name. Body text shares some words with its headline, never almost all of them.
    """
    vocabulary = {word for headline in headlines for word in _words(headline)}
    if not vocabulary:
        return
    checked = 0
    for index, line in enumerate(lines):
        if checked == _HEADLINE_LINES or index == len(lines) - 1:
            return
        if rules[index] is not None:
            continue  # already gone (a dateline, a byline): look at the next line
        checked += 1
        words = _words(line)
        if (
            not words
            or len(line) > _HEADLINE_MAX_CHARS
            or sum(word in vocabulary for word in words) < HEADLINE_SHARE * len(words)
        ):
            return
        rules[index] = "line.title"


# End notes: who contributed or reported, how to reach the author, newsletter, subscription,
# donation and follow-us appeals. Only at the very end of the text (prose can say these
# words), each line short, a few lines at most.
_END_NOTE_LINES = 4
_END_NOTE_MAX_CHARS = 300
END_NOTE = re.compile(
    r"^\W*([\w.'’-]+,?\s+){1,30}(contributed|contributing)\s+(to\s+)?(this\s+)?"
    r"(report|reporting|story|article)"
    r"|^\W*(with|additional)\s+(files|reporting|reports?|writing)\s+(from|by)\b"
    r"|^\W*(mit|avec|with|con)\s+(agenturmaterial|material von|agences|agencies)\b"
    r"|^\W*((e-?mail|write to|reach|contact|follow)\b.{0,80}"
    r"(@|twitter|facebook|instagram|linkedin|x\.com)|(twitter|x)\.com/\w+\W*$)"
    r"|newsletter|\bsubscribe\b|abonnier|whatsapp|\bdonat(e|ion)"
    r"|unterstütze?n? sie|support (independent|our) journalism"
    r"|\bfollow us\b|folgen sie uns|suivez-nous|síguenos|seguici|siga-nos|volg ons"
    r"|^\W*end of (the )?article\W*$|fehler gefunden|^\W*explore further\W*$"
    r"|\bjoin\b.{0,40}\bconversations?\b|\bmore to follow\b|\bthis is a breaking( news)? story",
    re.I,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_EMAIL_LINE_MAX_CHARS = 120
# A closing profile of the company or of a person: a press release's boilerplate ("Acme is a
# global provider of …", "Acme is headquartered in …"), a writer's bio ("Jane Roe covers
# politics …"), a Japanese personnel profile (the name, 氏, its reading in kana, then the
# career year by year). A proper name starts it, not a pronoun or an article ("He is a …",
# "The agency is a …" are story).
_PROFILE_MAX_CHARS = 1000
PROFILE_NOTE = re.compile(
    r"^(?i:(?!(he|she|it|they|this|that|there|these|those|we|i|you|the|a|an)\s))"
    r"[A-Z][\w.&'’-]*(\s+[A-Z][\w.&'’-]*){0,5},?\s+"
    r"((is|are)\s+(a|an|the|headquartered|based)\b|(covers|writes|reports)\s)"
    r"|^[^\s（(]{1,8}\s?[^\s（(]{0,8}氏\s?[（(][\u3040-\u309f・ー]+[）)].{0,60}?\d+年"
)
# A short note in brackets next to an end note: "（1月14日就任。…）" under a profile.
_BRACKET_NOTE = re.compile(r"^[（(][^（）()]{1,80}[）)]$")


# An end note about the author names them near its start: "Jane Roe is our correspondent in …".
_AUTHOR_NOTE_START = 80


def _end_note(line: str, authors: list[str]) -> bool:
    if len(line) <= _PROFILE_MAX_CHARS and PROFILE_NOTE.match(line):
        return True
    if len(line) > _END_NOTE_MAX_CHARS:
        return False
    if authors:
        start = _norm(line[:_AUTHOR_NOTE_START])
        if any(author in start for author in authors):
            return True
    return bool(
        END_NOTE.search(line) or (len(line) <= _EMAIL_LINE_MAX_CHARS and _EMAIL.search(line))
    )


def _mark_end_notes(lines: list[str], rules: list[str | None], authors: list[str]) -> None:
    """Mark the end notes at the bottom of the text, from the last line up to the first line
    that is not one (lines other rules removed are passed over). ``authors`` are the page's
    author names of two words or more, normalised."""
    marked = 0
    for index in range(len(lines) - 1, 0, -1):
        if rules[index] is not None:
            continue
        if marked == _END_NOTE_LINES:
            return
        line = lines[index]
        if not _end_note(line, authors) and not (
            _BRACKET_NOTE.match(line) and (marked or _end_note(lines[index - 1], authors))
        ):
            return
        rules[index] = "line.end_note"
        marked += 1


def _after_last_sentence_end(line: str) -> int:
    """Where a CREDIT_TAIL match can start at the earliest: after the last ".", "!" or "?".

    A match runs to the end of the line and holds none of them, so searching from there finds
    what a search of the whole line finds, without trying the pattern's two long agency
    alternations at every position of a sentence. (``search(line, pos)`` still sees the
    character before ``pos`` for ``\b``.)"""
    return max(line.rfind("."), line.rfind("!"), line.rfind("?")) + 1


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
    if length <= 80 and (
        DATELINE.match(stripped) or URL_LINE.match(stripped) or TIME_DATE_LINE.match(stripped)
    ):
        return "line.dateline"
    if length <= 200 and TAG_LINE.match(stripped):
        return "line.tags"
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
    if length <= 300 and CREDIT_TAIL.search(stripped, _after_last_sentence_end(stripped)):
        # "Dockworkers unload containers. © Nordic Images / Erik Sand": a caption with its credit.
        before = CREDIT_TAIL.split(stripped, maxsplit=1)[0]
        if len(before) < 250:
            return "line.caption" if before.strip() else "line.credit"
    return None
