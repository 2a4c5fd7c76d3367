"""The fast paths of pre-cleaning and of the meta-tag reader give what the plain code gave.

Each helper is compared with the straightforward implementation it replaced, on markup chosen
to hit the edges of its shortcut: blank and whitespace chunks, text crossing the read limits
inside and between elements, chains of wrappers, camel case and Greek capital sigma in class
names, hrefs that urljoin treats specially, repeated and empty meta tags.
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree
from lxml import html as lxml_html

from transforms import clean, metadata

# --- the implementations the fast paths replaced -------------------------------------------------


def _ref_first_text(element: Any, limit: int) -> str:
    collected = ""
    for chunk in element.itertext():
        collected += chunk
        if len(collected.strip()) >= limit:
            break
    return collected.strip()


def _ref_tokens(element: Any) -> tuple[set[str], list[str]]:
    parts: list[str] = []
    for name, value in element.attrib.items():
        if name in ("class", "id", "role", "aria-label", "aria-roledescription", "itemprop") or (
            name.startswith("data-") and name not in ("data-src", "data-srcset", "data-href")
        ):
            text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", value) if name != "aria-label" else value
            parts.append(text.lower())
    words = [w for part in parts for w in re.split(r"[^a-z0-9]+", part) if w]
    joined = {part.replace("-", "").replace("_", "") for p in parts for part in p.split()}
    return set(words) | joined, words


def _ref_flags(element: Any) -> tuple[bool, ...]:
    tokens, words = _ref_tokens(element)
    pairs = set(itertools.pairwise(words))
    return (
        bool(tokens & clean.CAPTION_TOKENS),
        bool(tokens & clean.BYLINE_TOKENS),
        bool(tokens & clean.RELATED_TOKENS) or any(p in pairs for p in clean.RELATED_PHRASES),
        bool(tokens & clean.PROMO_TOKENS) or any(p in pairs for p in clean.PROMO_PHRASES),
        bool(tokens & clean._MEDIA_TEXT_TOKENS),
        bool(tokens & clean._CREDIT_CHILD_TOKENS),
        bool(tokens & clean._CREDIT_ELEMENT_TOKENS),
    )


def _ref_caption_like(element: Any) -> bool:
    text = " ".join("".join(element.itertext()).split())
    if not text or len(text) > 160 or len(text.split()) > 25 or text.endswith(":"):
        return False
    if next(iter(element.iter("a")), None) is not None:
        return False
    if _ref_flags(element)[4]:
        return True
    following = element.getnext()
    if (
        following is not None
        and isinstance(following.tag, str)
        and clean.CREDIT_LINE.match(_ref_first_text(following, 40))
    ):
        return True
    children = [c for c in element if isinstance(c.tag, str)]
    return (
        len(children) == 1
        and not (element.text or "").strip()
        and not (children[0].tail or "").strip()
        and children[0].tag in ("strong", "b", "em", "i", "small")
    )


def _ref_is_image_only(element: Any) -> bool:
    if element.tag in ("img", "picture"):
        return True
    if element.tag not in ("figure", "div", "span", "a", "p") or _ref_first_text(element, 1):
        return False
    return next(iter(element.iter("img")), None) is not None


def _ref_meta(tree: Any, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            found = tree.xpath(f'//meta[@{attr}="{name}"]/@content')
            if found and str(found[0]).strip():
                return str(found[0]).strip()
    return None


# --- markup ---------------------------------------------------------------------------------------

LONG = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " * 3
PAGES = [
    f"<div><p>{LONG}</p></div>",
    # text crossing 80 and 130 characters inside inline elements and at their boundaries
    "<div>  <p>" + "a" * 79 + "<b>b</b>" + "c" * 49 + "<i>dd</i> tail</p></div>",
    "<div><span>" + "x" * 80 + "</span><span>" + "y" * 50 + "</span>z</div>",
    # indentation chunks, blank chunks between words, non-breaking spaces (blank to strip())
    "<section>\n    <div>\n      <div>\n        <p>  Foto: dpa  </p>\n      </div>\n"
    "    </div>\n  <p>" + LONG + "</p></section>",
    "<div>\u00a0\u2009<span>\u00a0</span>\n<a href='/x'>Read more</a>\u00a0: "
    + "w " * 60
    + "</div>",
    "<div><div><div><h2>Short title</h2><p>" + LONG + "</p></div></div></div>",
    "<section>Lead: <div><p>" + LONG + "</p></div></section>",  # own text before the chain
    "<div><!-- c --><div><p>" + LONG + "</p></div></div>",  # a comment first, then the chain
    "<div><!--" + "x" * 200 + "--><p>short</p></div>",  # a comment's text is not text
    "<div><div><div><p>" + "word " * 40 + "</p></div></div></div>",
    "<div>   <div>  </div><p>" + LONG + "</p></div>",
    "<ul><li><a href='a.html'>One headline here</a></li><li><a href='/b'>Two</a> x</li></ul>",
    "<div><!-- a comment --><p>after a comment " + LONG + "</p>tail<!-- c2 -->more</div>",
    "<div><span></span><p></p><div> \n </div></div>",
    "<aside><small>© Jane Doe</small><cite>Photo: AFP</cite><figcaption>Cap</figcaption></aside>",
    # after an image: a caption, a caption with its credit line, a long block without links
    "<div><div><img src='/i.jpg'></div><p><em>The harbour at dawn</em></p><p>Foto: dpa</p>"
    "<div>" + "<p>" + LONG * 4 + "</p>" * 3 + "</div><span class='imagetext'>Boats</span></div>",
    "<div><img src='/h.jpg'><p><em>The harbour at dawn, seen from the pier"
    + " " * 400
    + "</em></p></div>",
    "<div><picture><img src='/j.jpg'></picture><div><p>" + "word " * 30 + "</p></div>"
    "<p>   </p><figure><img src='/k.jpg'></figure><p>A caption: </p><a><img src='/l'></a></div>",
]


def _elements(page: str) -> list[Any]:
    root = lxml_html.fromstring(f"<html><body>{page}</body></html>")
    return [e for e in root.iter() if isinstance(e.tag, str)]


@pytest.mark.parametrize("page", PAGES)
def test_text_starts_and_texts_match_the_plain_reads(page: str) -> None:
    elements = _elements(page)
    reader = clean._StartReader()  # asked in document order, as the walk does
    for element in elements:
        expected = (_ref_first_text(element, 80), _ref_first_text(element, 130))
        assert clean._text_starts(element) == expected
        if element.tag in clean._TEXT_START_TAGS:
            assert reader(element) == expected
        for limit in (1, 40, 80, 130):
            assert clean._first_text(element, limit) == _ref_first_text(element, limit)
        whole = "".join(element.itertext())
        assert clean._raw_text(element) == whole
        assert clean._text(element) == " ".join(whole.split())
        assert clean._has_text(element) == bool(_ref_first_text(element, 1))
        for count in (1, 2, 3):
            assert clean._has_descendants(element, "p", count) == (
                len(element.findall(".//p")) >= count
            )
        assert clean._is_image_only(element) == _ref_is_image_only(element)
        assert clean._caption_like(element) == _ref_caption_like(element)
        link_texts: dict[Any, str] = {}
        assert clean._link_list(element, link_texts) == clean._link_list(element)
        assert all(text == clean._text(anchor) for anchor, text in link_texts.items())


@pytest.mark.parametrize(
    "attributes",
    [
        "",
        'class="article-body mt-4"',
        'class="imageCaption"',
        'class="ReadMore"',
        'class="read" id="more"',  # a phrase across two attributes
        'id="follow" class="us"',
        'aria-label="Read More"',  # prose: no camel-case split
        'aria-label="SignUp" class="x"',
        'class="ΟΔΟΣ credit"',  # Greek capital sigma lower-cases by position
        'class="a-ΣΣ-b sign_up"',
        'data-src="/related.jpg" data-module="Newsletter"',
        'style="color: red" title="related"',  # neither is a token attribute
        'data-testid="social-follow-us" role="complementary"',
        'itemprop="description" class="  --  __ "',
        'class="mostRead" data-v-1a2b=""',
    ],
)
def test_token_flags_match_the_plain_tokenizer(attributes: str) -> None:
    element = lxml_html.fromstring(f"<div {attributes}>x</div>")
    assert tuple(clean._tokens(element)) == _ref_flags(element)


@pytest.mark.parametrize(
    "base",
    [
        "https://example.com/news/2024/story.html",
        "http://Example.COM:8080/a/b/?q=1#frag",
        "https://user:pw@host.de/dir/",
        "ftp://host/x/y",
        "example.com/a",
        "http:/no-netloc/a",
    ],
)
@pytest.mark.parametrize(
    "href",
    [
        "/",
        "/a/b.html",
        "/a//b",
        "/a/./b",
        "/a/../b",
        "/.well-known",
        "/a;params",
        "/a?x=1",
        "/a?",
        "/a#top",
        "//cdn.example.com/x.js",
        "/ünï/çødé",
        "/a\x01b",
        "relative/path",
        "../up",
        "?only=query",
        "mailto:x@example.com",
    ],
)
def test_site_root_shortcut_matches_urljoin(base: str, href: str) -> None:
    assert clean._Collector(base)._join(base, href) == urljoin(base, href)


def test_inline_links_are_those_a_paragraph_loop_meets_first() -> None:
    root = lxml_html.fromstring(
        "<html><body><p>a <a href='/1'>one</a></p><div><a href='/2'>two</a></div>"
        "<p><a href='/3'>three</a> <a href='/1'>again</a></p></body></html>"
    )
    # Nested paragraphs cannot come out of the HTML parser, but preclean takes any tree.
    outer = root.find(".//p")
    inner = etree.SubElement(outer, "p")
    etree.SubElement(inner, "a", href="/4").text = "four"
    etree.SubElement(outer, "a", href="/5").text = "five"
    expected: list[tuple[str, str]] = []
    seen: set[str] = set()
    for paragraph in root.iter("p"):
        for anchor in paragraph.iter("a"):
            url = urljoin("https://h/", anchor.get("href"))
            if url not in seen:
                seen.add(url)
                expected.append((url, anchor.text))
    collector = clean._Collector("https://h/")
    clean._collect_inline_links(collector, root)
    assert [(link.url, link.anchor_text) for link in collector.links] == expected


def test_a_sibling_removed_with_a_figure_is_still_looked_at() -> None:
    # The figure takes the caption after it (dom.caption); the walk then still meets that
    # caption, detached, and its class makes it a caption element once more.
    root = lxml_html.fromstring(
        "<html><body><article><figure><img src='/a.jpg'></figure>"
        "<p class='imagecaption'><em>Harbour at dawn</em></p>"
        "<p>" + LONG + "</p></article></body></html>"
    )
    result = clean.preclean(root, "https://example.com/story")
    assert [(span.rule, span.text) for span in result.removed] == [
        ("dom.caption", "Harbour at dawn"),
        ("dom.caption", "Harbour at dawn"),
    ]
    assert [(i.url, i.caption, i.credit) for i in result.images] == [
        ("https://example.com/a.jpg", "Harbour at dawn", None)
    ]


def test_nothing_inside_a_removed_box_is_looked_at() -> None:
    root = lxml_html.fromstring(
        "<html><body><div class='related'><p>Foto: dpa</p>"
        "<a href='/x'>A headline about the harbour</a></div>"
        "<p>" + LONG + "</p></body></html>"
    )
    result = clean.preclean(root, "https://example.com/story")
    assert result.images == ()
    assert [span.rule for span in result.removed] == ["dom.related"]
    assert [(link.url, link.kind) for link in result.links] == [
        ("https://example.com/x", "related")
    ]


META_PAGE = """<html><head>
<meta property="og:title" content="  ">
<meta name="og:title" content="Second">
<meta property="og:title" content="Third">
<meta property="og:url">
<meta itemprop="og:url" content="https://example.com/c">
<meta name="description" content="">
<meta property="description" content=" Desc ">
<meta property="article:tag" content="one"><meta property="article:tag" content=" ">
<meta name="keywords" property="article:tag" content="a, b">
</head><body><meta name="author" content="In Body"><p>x</p>
<meta name="author" content="Later"></body></html>"""


def test_meta_tags_read_once_match_one_query_per_lookup() -> None:
    tree = metadata.parse_html(META_PAGE)
    tags = metadata._MetaTags(tree)
    names = ["og:title", "og:url", "description", "author", "keywords", "article:tag", "nope"]
    for size in (1, 2):
        for chosen in itertools.permutations(names, size):
            assert metadata._meta(tags, *chosen) == _ref_meta(tree, *chosen)
    assert tags.article_tags == tree.xpath('//meta[@property="article:tag"]/@content')


# --- attribute-token prefilter, credit-tail search start, story links, headline links -----------

_PHRASE_VALUES = [
    value
    for first, second in (*clean.RELATED_PHRASES, *clean.PROMO_PHRASES)
    for value in (
        f"{first}-{second}",
        f"{first} {second}",
        f"{first}_{second}",
        f"{first}{second.title()}",
        f"x-{first}",
        f"{second}-{first}",
    )
]


@pytest.mark.parametrize(
    "attributes",
    [
        *(f'class="{token}"' for token in sorted(clean._FLAGGING_TOKENS)),
        *(f'class="x{token.upper()}y"' for token in sorted(clean._FLAGGING_TOKENS)),
        *(f'class="{value}"' for value in _PHRASE_VALUES),
        'class="a" id="lire"',  # the one-letter first word and its second word apart
        'class="lire a"',
        'class="a-d"',  # a part is "ad" once "-" is left out
        'class="news_letter" id="x"',
        'data-x="A_Lire" aria-label="A lire"',
        'class="heAd upload"',
        'class="\u212aey share"',  # the Kelvin sign lower-cases to an ASCII "k"
        'class="İtem ΣHARE"',  # lower-casing that adds a character, and a capital sigma
        'class="grid col-6 mt-4" id="post-12345"',
    ],
)
def test_token_prefilter_matches_the_plain_tokenizer(attributes: str) -> None:
    element = lxml_html.fromstring(f"<div {attributes}>x</div>")
    assert tuple(clean._tokens(element)) == _ref_flags(element)


@pytest.mark.parametrize(
    "words",
    [["ad", "ads", "advert", "up", "lire"], ["read", "readmore", "more"], ["x"], ["ab", "b"]],
)
@pytest.mark.parametrize(
    "text", ["", "a", "heading", "xreadmorex", "bab", "uplink", "ad-lire", "mmorrea", "ads"]
)
def test_trie_pattern_finds_any_of_its_words(words: list[str], text: str) -> None:
    found = re.compile(clean._any_of_pattern(words)).search(text) is not None
    assert found == any(word in text for word in words)


CREDIT_TAIL_LINES = [
    "Boats in the harbour. © Nordic Images / Erik Sand",
    "© dpa. Boats in the harbour",
    "Boats in the harbour! Photo: AP",
    "Who took it? STR/AFP via Getty Images",
    "The harbour at dawn (c) 2020 Jane Doe",
    "Dockworkers unload containers.AFP / x",  # \b right after the sentence end
    "a.b/afp",
    "x.Reuters/Jane Doe",
    "Crédit : Jane Doe. And then a sentence",
    "Image: Jane Doe?",
    "Foto: dpa",
    "no credit here at all",
    "ends with a dot.",
    "...",
    "Photo: " + "x" * 130,
    "Sentence one. Photo: " + "x" * 130,
    "Mixed case PHOTO: AP / Getty",
]


@pytest.mark.parametrize("line", CREDIT_TAIL_LINES)
def test_credit_tail_search_from_the_last_sentence_end(line: str) -> None:
    full = clean.CREDIT_TAIL.search(line)
    started = clean.CREDIT_TAIL.search(line, clean._after_last_sentence_end(line))
    assert (full and full.span()) == (started and started.span())


def _ref_story_link(url: str, text: str) -> bool:
    if not urlsplit(url).path.strip("/"):
        return False
    return (
        len(clean._WORD_RUN.findall(text)) >= clean.RELATED_MIN_WORDS
        or len(clean._CJK_CHAR.findall(text)) >= clean.RELATED_MIN_CJK
    )


@pytest.mark.parametrize(
    "url", ["https://h/", "https://h", "https://h/a/b", "https://h//", "https://h/?q=1", "/x"]
)
@pytest.mark.parametrize(
    "text", ["", "Politik", "Three word headline", "東京で大雨警報が発令された", "トップ", "a b"]
)
def test_story_link_test_order_changes_nothing(url: str, text: str) -> None:
    assert clean._story_link(url, text) == _ref_story_link(url, text)


HEADLINE_LINKS_PAGE = (
    "<html><body><a href='/1'>One two three four</a><a href='/2'>one two three</a>"
    "<a href='/3'></a><a href='/4'>  \n  </a><a href='/5'>one<b>two</b>three four</a>"
    "<a href='/6'>one <b>two</b> three</a><a href='/7'><img src='/i.jpg'></a>"
    "<a href='/8'>a\u00a0b\u2009c d</a><a href='/9'><span><a>x y z w</a></span></a>"
    "<p>one two <a href='/10'>three four five six</a> tail words here</p></body></html>"
)


def test_headline_links_match_the_itertext_count() -> None:
    from transforms.extract import _headline_links

    root = lxml_html.fromstring(HEADLINE_LINKS_PAGE)
    expected = sum(1 for a in root.iter("a") if len(" ".join(a.itertext()).split()) >= 4)
    assert _headline_links(root) == expected
    anchor = root.find(".//a")
    assert _headline_links(anchor) == 1  # the element itself counts, as with iter("a")
