"""Bad pages get a recorded drop reason or a bounded, crash-free extraction."""

from __future__ import annotations

import time

from transforms.extract import extract_article
from transforms.records import Dropped, DropReason, ExtractedArticle

PARAGRAPH = (
    "The regional council approved the new tram line on Monday after a long debate about "
    "costs, routes and the noise that construction would bring to the old town. "
)


def _timed(page: str | bytes, limit_s: float, **kwargs: object) -> ExtractedArticle | Dropped:
    started = time.perf_counter()
    result = extract_article(page, "https://x.example/page", **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert elapsed < limit_s, f"took {elapsed:.1f}s"
    return result


def test_empty_and_whitespace() -> None:
    for page in (b"", b"   \n\t ", ""):
        result = _timed(page, 1)
        assert isinstance(result, Dropped) and result.reason is DropReason.EMPTY


def test_binary_payload() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 200
    result = _timed(png, 2)
    assert isinstance(result, Dropped) and result.reason is DropReason.NOT_HTML


def test_twenty_megabytes_is_refused_quickly() -> None:
    page = ("<html><body>" + "<p>" + PARAGRAPH * 3 + "</p>" * 1) * 1 + "<p>x</p>" * 2_600_000
    assert len(page) > 20_000_000
    result = _timed(page.encode(), 5)
    assert isinstance(result, Dropped) and result.reason is DropReason.TOO_LARGE


def test_ten_thousand_levels_of_nesting() -> None:
    page = "<html><body>" + "<div>" * 10_000 + f"<p>{PARAGRAPH * 3}</p>" + "</div>" * 10_000
    result = _timed(page, 20)
    assert isinstance(result, Dropped | ExtractedArticle)


def test_wrong_declared_charset_still_decodes() -> None:
    body = "<p>" + "Les élèves ont manifesté devant le lycée à Besançon. " * 10 + "</p>"
    page = f"<html><head><meta charset='utf-8'></head><body><article>{body}</article></body></html>"
    result = _timed(page.encode("latin-1"), 5, content_type="text/html; charset=utf-8")
    assert isinstance(result, ExtractedArticle)
    assert "élèves" in result.text and "Besançon" in result.text
    assert result.charset_source == "detected"


def test_soft_404_page() -> None:
    page = (
        "<html><head><title>Page not found | Daily News</title></head><body><h1>Sorry</h1>"
        f"<p>{PARAGRAPH}</p><ul><li><a href='/'>Home</a></li></ul></body></html>"
    )
    result = _timed(page, 5)
    assert isinstance(result, Dropped) and result.reason is DropReason.NO_ARTICLE
    assert "error page" in result.detail


def test_section_front() -> None:
    teasers = "".join(
        f"<li><h3><a href='/story-{i}.html'>Council debates plan number {i} for the harbor</a>"
        f"</h3><p>A short teaser about plan {i}.</p></li>"
        for i in range(12)
    )
    page = (
        "<html><head><meta property='og:type' content='website'><title>City Times</title></head>"
        f"<body><main><ul>{teasers}</ul></main></body></html>"
    )
    result = _timed(page, 5)
    assert isinstance(result, Dropped) and result.reason is DropReason.NO_ARTICLE
