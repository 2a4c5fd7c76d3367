"""Per-source extraction hints: prune selectors and a body selector applied before the generic
rules, reported as ``source.prune`` / ``source.body`` spans, and a language fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transforms.extract import SourceHints, apply_source_hints, extract_article, selector_problem
from transforms.metadata import parse_html
from transforms.records import Dropped, ExtractedArticle

DEMO_SITE = Path(__file__).resolve().parents[2] / "demo" / "site"
URL = "https://hints.example/2026/11/harbor.html"

FIRST = (
    "The harbor authority approved an expansion of the container terminal on Tuesday, adding "
    "berth space for the larger ships that now call at the port every week."
)
JUNK = (
    "Members get our printed almanac of tide tables, ferry timetables and fishing quotas for "
    "only nine euros a month, delivered to your door."
)
LAST = (
    "Work starts in spring and is expected to last three years, the authority said in a "
    "statement published on its website on Tuesday evening."
)
SIDEBAR = (
    "Weather outlook for the coast this week: mild with showers on Thursday and a chance of "
    "fog in the mornings near the islands and the inner harbor."
)


def _page(lang: str | None = "en") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return f"""<!DOCTYPE html><html{lang_attr}><head><meta charset="utf-8">
<title>Harbor expansion approved | Hints Daily</title>
<meta property="og:type" content="article"></head>
<body>
<nav class="menu"><a href="/">Home</a> <a href="/local">Local</a></nav>
<div id="layout">
  <article class="story">
    <h1>Harbor expansion approved</h1>
    <div class="body">
      <p>{FIRST}</p>
      <div class="almanac-box"><p>{JUNK}</p></div>
      <p>{LAST}</p>
    </div>
  </article>
  <div class="rail"><p>{SIDEBAR}</p><script>var tracking = "never text";</script></div>
</div>
</body></html>"""


def _extract(page: str, hints: SourceHints | None = None) -> ExtractedArticle:
    article = extract_article(page, URL, hints=hints)
    assert not isinstance(article, Dropped), article
    return article


def test_without_hints_the_generic_extractor_keeps_the_site_specific_box() -> None:
    article = _extract(_page())
    assert JUNK in article.text
    assert not [r for r in article.removed if r.rule.startswith("source.")]


def test_prune_selector_removes_the_element_and_reports_it() -> None:
    article = _extract(_page(), SourceHints(prune_selectors=(".almanac-box",)))
    assert JUNK not in article.text
    assert FIRST in article.text and LAST in article.text
    spans = [r for r in article.removed if r.rule == "source.prune"]
    assert [s.text for s in spans] == [JUNK]
    # Source spans come first: they were removed before every generic rule.
    assert article.removed[0].rule == "source.prune"


def test_body_selector_keeps_only_that_subtree_and_reports_the_rest() -> None:
    plain = _extract(_page())
    article = _extract(_page(), SourceHints(body_selector="article.story"))
    assert FIRST in article.text and LAST in article.text
    assert SIDEBAR not in article.text
    (body,) = [r for r in article.removed if r.rule == "source.body"]
    assert SIDEBAR in body.text and "Home Local" in body.text
    assert "tracking" not in body.text  # script text is not page text
    assert body.text.index("Home") < body.text.index("Weather")  # document order
    assert plain.title == article.title  # metadata still read from the whole page


def test_prune_and_body_together() -> None:
    hints = SourceHints(body_selector="article.story", prune_selectors=(".almanac-box", "h1"))
    article = _extract(_page(), hints)
    rules = [r.rule for r in article.removed]
    assert rules[:3] == ["source.prune", "source.prune", "source.body"]
    assert JUNK not in article.text and SIDEBAR not in article.text
    assert article.title == "Harbor expansion approved"


def test_selectors_matching_nothing_change_nothing() -> None:
    plain = _extract(_page())
    hinted = _extract(_page(), SourceHints(body_selector="#nope", prune_selectors=(".nope",)))
    assert hinted.text == plain.text
    assert hinted.removed == plain.removed


def test_bad_selectors_are_ignored_not_raised() -> None:
    plain = _extract(_page())
    hinted = _extract(_page(), SourceHints(body_selector="div[", prune_selectors=("::!!", "")))
    assert hinted.text == plain.text
    assert selector_problem("div[") is not None
    assert selector_problem("  ") == "empty selector"
    assert selector_problem("article.story > p:last-of-type") is None


def test_hints_never_remove_the_page_itself() -> None:
    tree = parse_html(_page())
    removed = apply_source_hints(tree, SourceHints(prune_selectors=("html", "body", "head")))
    assert removed == ()
    assert FIRST in " ".join(tree.itertext())
    article = _extract(_page(), SourceHints(body_selector="body"))
    assert not [r for r in article.removed if r.rule.startswith("source.")]


def test_nested_matches_are_removed_once() -> None:
    hints = SourceHints(prune_selectors=("div.almanac-box", "div.almanac-box p", "p"))
    tree = parse_html(_page())
    removed = apply_source_hints(tree, hints)
    texts = [r.text for r in removed]
    assert texts.count(JUNK) == 1
    assert FIRST in texts and LAST in texts and SIDEBAR in texts


def test_tail_text_of_a_pruned_element_is_kept() -> None:
    page = (
        "<html><body><div id='x'><p>Keep this first sentence of the text here.<span class='ad'>"
        "AD</span> and this tail after the span stays in the paragraph.</p></div></body></html>"
    )
    tree = parse_html(page)
    removed = apply_source_hints(tree, SourceHints(prune_selectors=("span.ad",)))
    assert [r.text for r in removed] == ["AD"]
    text = " ".join(" ".join(tree.itertext()).split())
    assert "AD" not in text and "and this tail after the span" in text


@pytest.mark.parametrize(
    ("lang", "hint", "expected"),
    [
        (None, "de-DE", ("de", "source")),
        ("en", "de", ("en", "html_lang")),
        (None, None, (None, None)),
        (None, "not a language tag", (None, None)),
    ],
)
def test_language_hint_is_only_a_fallback(
    lang: str | None, hint: str | None, expected: tuple[str | None, str | None]
) -> None:
    article = _extract(_page(lang), SourceHints(language=hint))
    assert (article.language, article.language_source) == expected


def test_language_only_hints_do_not_touch_the_markup() -> None:
    plain = _extract(_page())
    hinted = _extract(_page(), SourceHints(language="en"))
    assert hinted.removed == plain.removed and hinted.text == plain.text


def test_demo_pages_with_a_publishers_hints() -> None:
    """On the real demo pages: the last body paragraph pruned, the article element kept."""
    manifest = json.loads((DEMO_SITE / "manifest.json").read_text(encoding="utf-8"))
    hints = SourceHints(
        body_selector="article.story", prune_selectors=("div.story-body > p:last-of-type",)
    )
    harbor = [m for m in manifest if m["publisher"] == "The Harbor Courier"]
    assert len(harbor) >= 10
    for item in harbor:
        page = (DEMO_SITE / item["path"].lstrip("/")).read_bytes()
        article = _extract(page.decode("utf-8"), hints)
        assert item["body_first_sentence"] in article.text, item["path"]
        assert item["body_last_sentence"] not in article.text, item["path"]
        prune = [r.text for r in article.removed if r.rule == "source.prune"]
        assert any(item["body_last_sentence"] in text for text in prune), item["path"]
        assert any(r.rule == "source.body" for r in article.removed), item["path"]
