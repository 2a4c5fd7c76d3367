import json
from datetime import UTC, datetime

from transforms.feeds import parse_feed

FEED_11 = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "JSON News",
    "home_page_url": "https://json.example/",
    "authors": [{"name": "Desk Editor"}],
    "items": [
        {
            "id": "j-1",
            "url": "/2026/11/first.html",
            "title": "First  story",
            "summary": "A summary.",
            "date_published": "2026-11-20T10:00:00+01:00",
            "date_modified": "2026-11-21T08:00:00Z",
            "authors": [{"name": "Ana Ruiz"}, {"name": "Ana Ruiz"}],
            "tags": ["Politics", " ", "Politics", "City"],
        },
        {"id": "j-2", "external_url": "https://other.example/x", "content_text": "Text only."},
        {"id": "j-3", "content_html": "<p>No link: skipped</p>"},
        {"id": "j-1", "url": "https://json.example/dup.html"},
    ],
}


def test_json_feed_items_become_entries_like_rss() -> None:
    feed = parse_feed(json.dumps(FEED_11).encode(), "https://json.example/feed.json")
    assert (feed.kind, feed.title, feed.error_class) == ("json", "JSON News", None)
    first, second = feed.entries
    assert first.guid == "j-1" and first.url == "https://json.example/2026/11/first.html"
    assert first.title == "First story"
    assert first.published_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert first.updated_at == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert first.authors == ("Ana Ruiz",)
    assert first.tags == ("Politics", "City")
    assert second.url == "https://other.example/x"
    assert second.summary == "Text only."
    assert second.authors == ("Desk Editor",)  # inherited from the feed


def test_json_feed_1_0_author_and_bad_json() -> None:
    feed_10 = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Old",
        "items": [{"id": "1", "url": "https://x.example/a", "author": {"name": "Bo"}}],
    }
    parsed = parse_feed(json.dumps(feed_10).encode(), "https://x.example/feed.json")
    assert parsed.entries[0].authors == ("Bo",)
    broken = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "u", "application/feed+json"
    )
    assert broken.error_class == "not_a_feed"
    other_json = parse_feed(b'{"hello": "world"}', "u", "application/json")
    assert other_json.error_class == "not_a_feed"
