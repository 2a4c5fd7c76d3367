from datetime import UTC, datetime
from pathlib import Path

import pytest

from transforms.feeds import parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Example News</title><link>https://example.com/</link><ttl>30</ttl>
<item><title>First</title><link>/news/1.html</link><guid isPermaLink="false">n-1</guid>
<pubDate>Tue, 03 Nov 2026 09:30:00 -0500</pubDate><dc:creator>Ann Lee</dc:creator>
<category>Politics</category></item>
<item><title>Second</title><link>https://example.com/news/2.html</link></item>
<item><title>No link at all</title><description>skipped</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title><id>urn:x</id>
<updated>2026-11-05T10:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link href="https://example.org/a"/>
<published>2026-11-04T08:00:00+01:00</published><updated>2026-11-05T10:00:00Z</updated>
<author><name>Bo Chen</name></author></entry></feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.net/"><title>RDF News</title><link>https://example.net/</link>
<items><rdf:Seq><rdf:li rdf:resource="https://example.net/x"/></rdf:Seq></items></channel>
<item rdf:about="https://example.net/x"><title>X</title><link>https://example.net/x</link>
<dc:date>2026-11-06T12:00:00+01:00</dc:date></item></rdf:RDF>"""


def test_rss2_entries_resolve_relative_links_and_convert_dates_to_utc() -> None:
    feed = parse_feed(RSS, "https://example.com/feed.rss")
    assert feed.kind == "rss"
    assert feed.error_class is None
    assert feed.title == "Example News"
    assert feed.ttl_minutes == 30
    first, second = feed.entries
    assert first.url == "https://example.com/news/1.html"
    assert first.guid == "n-1"
    assert first.published_at == datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
    assert first.authors == ("Ann Lee",)
    assert first.tags == ("Politics",)
    assert second.guid == "https://example.com/news/2.html"  # no guid: the link is the identity


def test_atom_and_rdf_kinds_and_dates() -> None:
    atom = parse_feed(ATOM, "https://example.org/atom.xml")
    assert atom.kind == "atom"
    (entry,) = atom.entries
    assert entry.published_at == datetime(2026, 11, 4, 7, 0, tzinfo=UTC)
    assert entry.updated_at == datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    assert entry.authors == ("Bo Chen",)
    rdf = parse_feed(RDF, "https://example.net/rss.rdf")
    assert rdf.kind == "rdf"
    assert rdf.entries[0].published_at == datetime(2026, 11, 6, 11, 0, tzinfo=UTC)


def test_html_page_is_not_a_feed() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"
    feed = parse_feed(page, "https://example.com/feed")
    assert feed.error_class == "not_a_feed"
    assert "HTML" in (feed.error or "")
    assert feed.entries == ()


def test_truncated_feed_is_a_parse_error_with_recovered_entries() -> None:
    cut = RSS[: RSS.index(b"<item><title>Second")] + b"<item><title>Seco"
    feed = parse_feed(cut, "https://example.com/feed.rss")
    assert feed.error_class == "parse_error"
    assert [e.guid for e in feed.entries] == ["n-1"]


def test_entity_declarations_are_refused_before_parsing() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">
    <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
    <rss><channel><title>&b;</title></channel></rss>"""
    feed = parse_feed(bomb, "https://example.com/feed")
    assert feed.error_class == "unsafe_xml"


def test_empty_body() -> None:
    assert parse_feed(b"  \n", "https://example.com/feed").error_class == "not_a_feed"


@pytest.mark.corpus
def test_every_corpus_feed_parses_with_entries(corpus: Path) -> None:
    counts = {}
    for path in sorted((corpus / "feeds").iterdir()):
        if path.suffix not in (".xml", ".rss", ".atom", ".rdf"):
            continue
        feed = parse_feed(path.read_bytes(), "https://feeds.example.com/" + path.name)
        counts[path.name] = len(feed.entries)
        assert feed.entries, f"{path.name}: no entries ({feed.error_class}: {feed.error})"
        assert feed.kind in ("rss", "atom", "rdf"), path.name
    print("entries per corpus feed:", counts)
    assert len(counts) >= 30
