"""Every page of the bundled demo site comes out clean; the manifest is hand-written truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transforms.extract import extract_article
from transforms.records import ExtractedArticle

SITE = Path(__file__).resolve().parents[2] / "demo" / "site"
BASE = "http://127.0.0.1:8642"


def _extract(item: dict[str, Any]) -> ExtractedArticle:
    raw = (SITE / item["path"].lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())
    result = extract_article(raw, BASE + item["path"], content_type="text/html; charset=utf-8")
    assert isinstance(result, ExtractedArticle), (item["path"], result)
    return result


def test_no_caption_credit_or_read_more_text_remains(demo_manifest: list[dict[str, Any]]) -> None:
    for item in demo_manifest:
        article = _extract(item)
        text = article.text
        for noise in [*item["noise"], *item["captions"], *item["credits"]]:
            assert noise not in text, (item["path"], noise)
        assert item["body_first_sentence"] in text, item["path"]
        assert item["body_last_sentence"] in text, item["path"]


def test_each_image_caption_and_credit_is_kept_as_data(
    demo_manifest: list[dict[str, Any]],
) -> None:
    for item in demo_manifest:
        article = _extract(item)
        captions = {image.caption for image in article.images}
        credits = {image.credit for image in article.images}
        for caption in item["captions"]:
            assert caption in captions, (item["path"], caption, captions)
        for credit in item["credits"]:
            assert credit in credits, (item["path"], credit, credits)
        related = [link for link in article.links if link.kind == "related"]
        assert related, item["path"]
        assert {span.rule for span in article.removed} & {"dom.figure", "dom.caption"}, item["path"]


def test_metadata_of_demo_pages(demo_manifest: list[dict[str, Any]]) -> None:
    for item in demo_manifest:
        article = _extract(item)
        assert article.title == item["title"]
        assert list(article.authors) == item["authors"]
        assert list(article.agencies) == ([item["agency"]] if item["agency"] else [])
        assert list(article.tags) == item["tags"]
        assert article.is_paywalled is item["paywalled"]
        assert article.language == item["language"]
        assert article.language_source == "html_lang"
        assert article.date_source == "jsonld"
