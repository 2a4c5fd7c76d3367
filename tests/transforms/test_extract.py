from datetime import UTC, datetime

from transforms.extract import MIN_WORDS, extract_article
from transforms.records import Dropped, DropReason, ExtractedArticle

BODY = " ".join(
    [
        "The regional council approved the new tram line on Monday after a debate that lasted",
        "well into the night. The line will connect the northern suburbs with the university",
        "campus and the central station. Construction is expected to begin next spring and to",
        "last about three years, according to the transport department. Opponents said the",
        "budget of 240 million euros was far too high for a city of this size.",
    ]
)

PAGE = f"""<!doctype html><html lang="en-GB"><head><meta charset="utf-8">
<title>Tram line approved | City Times</title>
<link rel="canonical" href="https://citytimes.example/2026/11/tram.html">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Council approves tram line", "datePublished": "2026-11-09T18:30:00+01:00",
 "dateModified": "2026-11-10T08:00:00+01:00", "keywords": "transport, council",
 "isAccessibleForFree": false,
 "author": [{{"@type": "Person", "name": "By Ruth Okafor"}},
            {{"@type": "Organization", "name": "Reuters"}}]}}</script>
</head><body><article><h1>Council approves tram line</h1><p>{BODY}</p>
<p>{BODY.replace("tram", "bus")}</p></article></body></html>"""

FETCHED = datetime(2026, 11, 20, tzinfo=UTC)


def test_extracts_text_and_metadata_from_jsonld() -> None:
    article = extract_article(
        PAGE.encode(),
        "https://citytimes.example/2026/11/tram.html",
        content_type="text/html; charset=utf-8",
        fetched_at=FETCHED,
    )
    assert isinstance(article, ExtractedArticle)
    assert article.title == "Council approves tram line"
    assert article.text.startswith("The regional council approved")
    assert "Council approves tram line" not in article.text.split("\n")[0]
    assert article.published_at == datetime(2026, 11, 9, 17, 30, tzinfo=UTC)
    assert article.modified_at == datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
    assert article.date_source == "jsonld"
    assert article.authors == ("Ruth Okafor",)
    assert article.agencies == ("Reuters",)
    assert article.tags == ("transport", "council")
    assert article.language == "en"
    assert article.is_paywalled is True
    assert article.charset == "utf-8" and article.charset_source == "http"
    assert article.word_count > MIN_WORDS
    assert len(article.content_hash) == 32


def test_dates_after_the_fetch_are_not_believed() -> None:
    article = extract_article(
        PAGE,
        "https://citytimes.example/x",
        fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
        feed_published_at=datetime(2026, 10, 31, tzinfo=UTC),
    )
    assert isinstance(article, ExtractedArticle)
    assert article.published_at == datetime(2026, 10, 31, tzinfo=UTC)
    assert article.date_source == "feed"


def test_drop_reasons_for_bad_pages() -> None:
    cases = {
        DropReason.EMPTY: b"",
        DropReason.NOT_HTML: bytes(range(256)) * 40,
        DropReason.NO_ARTICLE: b"<html><head><title>Home</title></head><body></body></html>",
        DropReason.TOO_SHORT: b"<html><body><article><p>Not found.</p></article></body></html>",
    }
    for reason, page in cases.items():
        result = extract_article(page, "https://x.example/p")
        assert isinstance(result, Dropped), reason
        assert result.reason is reason, (reason, result)


def test_deeply_nested_page_does_not_crash() -> None:
    page = "<html><body>" + "<div>" * 10_000 + "text" + "</div>" * 10_000 + "</body></html>"
    result = extract_article(page, "https://x.example/deep")
    assert isinstance(result, Dropped | ExtractedArticle)


def test_too_large_page_is_dropped() -> None:
    page = "<html><body><p>" + "word " * 2_000_000 + "</p></body></html>"
    result = extract_article(page, "https://x.example/big")
    assert isinstance(result, Dropped)
    assert result.reason is DropReason.TOO_LARGE


def test_canonical_url_comes_from_the_page_when_on_the_same_site() -> None:
    body = "<p>" + "The council voted on the harbor plan after a long debate. " * 10 + "</p>"

    def canonical(link: str) -> str:
        page = (
            f"<html><head><link rel='canonical' href='{link}'></head>"
            f"<body><article>{body}</article></body></html>"
        )
        result = extract_article(page, "https://m.site.example/amp/news/story.html?utm_source=x")
        assert isinstance(result, ExtractedArticle)
        return result.canonical_url

    assert canonical("https://www.site.example/news/story.html") == (
        "https://www.site.example/news/story.html"
    )
    # Another site's canonical (a syndication partner) and a home-page canonical are ignored.
    fetched = "https://m.site.example/amp/news/story.html"
    assert canonical("https://other.example/x.html") == fetched
    assert canonical("/") == fetched


def test_placeholder_dates_are_not_believed() -> None:
    body = "<p>" + "The council voted on the harbor plan after a long debate. " * 10 + "</p>"
    for placeholder in ("0001-01-01T00:00:00", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"):
        page = (
            '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
            f'"datePublished": "{placeholder}"}}</script></head>'
            f"<body><article>{body}</article></body></html>"
        )
        result = extract_article(page, "https://x.example/news/story.html")
        assert isinstance(result, ExtractedArticle)
        assert result.published_at is None or result.published_at.year >= 1991, placeholder
