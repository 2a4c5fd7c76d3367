"""parse_feed: RSS/Atom/RDF through feedparser, and the gate in front of it for hostile bodies."""

import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from transforms.feeds import MAX_ATTRIBUTES, MAX_LOOSE_BYTES, MAX_MARKUP, parse_feed

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
    """Every real feed in corpus/feeds/ keeps its entries through the gate and the budget."""
    counts = {}
    print(f"\n{'feed':52} {'entries':>7} {'kind':5} {'error_class':12} {'ms':>5}")
    for path in sorted((corpus / "feeds").iterdir()):
        if path.suffix not in (".xml", ".rss", ".atom", ".rdf"):
            continue
        started = time.perf_counter()
        feed = parse_feed(path.read_bytes(), "https://feeds.example.com/" + path.name)
        ms = (time.perf_counter() - started) * 1000
        counts[path.name] = len(feed.entries)
        row = f"{path.name:52} {len(feed.entries):7} {feed.kind!s:5} {feed.error_class!s:12}"
        print(f"{row} {ms:5.0f}")
        assert feed.entries, f"{path.name}: no entries ({feed.error_class}: {feed.error})"
        assert feed.kind in ("rss", "atom", "rdf"), path.name
        # Real feeds are far inside the budget and declare no entities; only ill-formed XML
        # (a missing end tag) may be reported.
        assert feed.error_class in (None, "parse_error"), f"{path.name}: {feed.error}"
    print("entries per corpus feed:", counts)
    assert len(counts) >= 30


# --- hostile bodies the corpus does not have: variants that got past the old byte-level gate ---


def _quadratic(entity_chars: int, references: int, declaration: str = "") -> str:
    """A quadratic-blowup RSS document (no '&' in the entity, so feedparser keeps it as "safe")."""
    value = "A" * entity_chars
    return (
        f'<?xml version="1.0"{declaration}?>\n<!DOCTYPE rss [\n<!ENTITY a "{value}">\n]>\n'
        '<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<link>https://example.com/1</link><description>{'&a;' * references}</description>"
        "</item></channel></rss>"
    )


def _utf7(text: str) -> bytes:
    # Python's UTF-7 codec writes '<' and '!' directly; a hostile server spells them out.
    spelled = text.replace("<", "+ADw-").replace(">", "+AD4-").replace("!", "+ACE-")
    return spelled.encode("ascii")


ENCODED_BOMBS = {
    # 5,000 x 5,000 characters = 25 MB if expanded; the old gate searched raw bytes for
    # b"<!ENTITY", which these do not contain (or not where it looked).
    "utf-16le with BOM": b"\xff\xfe"
    + _quadratic(5000, 5000, ' encoding="utf-16"').encode("utf-16-le"),
    "utf-16be without BOM": _quadratic(5000, 5000, ' encoding="utf-16be"').encode("utf-16-be"),
    "utf-32le with BOM": b"\xff\xfe\x00\x00"
    + _quadratic(5000, 5000, ' encoding="utf-32"').encode("utf-32-le"),
    "utf-7": b'<?xml version="1.0" encoding="utf-7"?>'
    + _utf7(_quadratic(5000, 5000).split("?>", 1)[1]),
    "prolog padded past 64 KiB": _quadratic(5000, 5000)
    .replace("?>\n", "?>\n<!--" + "x" * 70_000 + "-->\n", 1)
    .encode(),
}


@pytest.mark.parametrize("name", sorted(ENCODED_BOMBS))
def test_entity_declarations_are_refused_in_any_encoding(name: str) -> None:
    started = time.perf_counter()
    feed = parse_feed(ENCODED_BOMBS[name], "https://example.com/feed")
    assert time.perf_counter() - started < 1.0
    assert feed.error_class == "unsafe_xml", (name, feed.error_class, feed.error)
    assert "entit" in (feed.error or "")


def test_entity_declared_after_the_first_element_like_text_is_refused() -> None:
    """feedparser's prolog ends at the first '<' + letter, even inside a comment; expat's does
    not, and expat expands what the DOCTYPE declares (the expat pass catches this one)."""
    body = (
        b'<?xml version="1.0"?><!-- <x --><!--' + b"p" * 70_000 + b"-->"
        b'<!DOCTYPE rss [<!ENTITY a "' + b"A" * 1000 + b'">]>'
        b'<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    )
    feed = parse_feed(body, "https://example.com/feed")
    assert feed.error_class == "unsafe_xml", feed.error


def test_a_body_is_never_read_as_a_local_file_name(tmp_path: Path) -> None:
    """feedparser.parse(bytes) tries the bytes as a path first: a server answering '/dev/zero'
    exhausted memory, one answering a local path had that file parsed as its feed."""
    local = tmp_path / "local-feed.xml"
    local.write_bytes(RSS)
    feed = parse_feed(str(local).encode(), "https://example.com/feed")
    assert feed.entries == ()
    assert feed.error_class == "not_a_feed"
    started = time.perf_counter()
    assert parse_feed(b"/dev/zero", "https://example.com/feed").error_class == "not_a_feed"
    assert time.perf_counter() - started < 1.0


def test_an_element_with_too_many_attributes_is_refused() -> None:
    """xml.sax looks attributes up linearly, so feedparser's strict parse is quadratic in them."""
    attributes = " ".join(f'a{i}="1"' for i in range(MAX_ATTRIBUTES + 1))
    body = (
        '<rss version="2.0"><channel><item><link>https://example.com/1</link>'
        f"<x {attributes}/></item></channel></rss>"
    ).encode()
    feed = parse_feed(body, "https://example.com/feed")
    assert feed.error_class == "unsafe_xml"
    assert "attributes" in (feed.error or "")
    fine = body.replace(f' a{MAX_ATTRIBUTES}="1"'.encode(), b"")
    assert parse_feed(fine, "https://example.com/feed").error_class is None


def _items(count: int, closed: bool = True) -> bytes:
    items = "".join(
        f"<item><title>Item {i}</title><link>https://example.com/{i}</link></item>"
        for i in range(count)
    )
    tail = "</channel></rss>" if closed else ""
    return f'<rss version="2.0"><channel><title>Big</title>{items}{tail}'.encode()


def test_a_feed_over_the_markup_budget_is_cut_after_its_last_whole_item() -> None:
    body = _items(MAX_MARKUP)  # ~8 markup characters per item: far over the budget
    started = time.perf_counter()
    feed = parse_feed(body, "https://example.com/feed")
    assert time.perf_counter() - started < 5.0
    assert feed.error_class == "too_large"
    assert "entries recovered" in (feed.error or "")
    n = len(feed.entries)
    assert 1000 < n < MAX_MARKUP // 4
    # The first items, whole and in order; nothing half-read.
    assert [e.title for e in feed.entries] == [f"Item {i}" for i in range(n)]


def test_an_ill_formed_feed_within_the_budget_is_parsed_whole() -> None:
    body = _items(500, closed=False)
    feed = parse_feed(body, "https://example.com/feed")
    assert len(feed.entries) == 500
    assert feed.error_class == "parse_error"


def test_an_unclosed_tag_cannot_make_the_loose_parser_take_gigabytes() -> None:
    """feedparser's sgmllib tag regex needs ~150 bytes per byte of an unclosed tag (8 MB of
    bare attribute names: 1.3 GB); ill-formed bodies are cut to MAX_LOOSE_BYTES first."""
    body = _items(3, closed=False) + b"<x " + b"a " * 4_000_000
    tracemalloc.start()
    try:
        started = time.perf_counter()
        feed = parse_feed(body, "https://example.com/feed")
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(feed.entries) == 3
    assert feed.error_class == "too_large"
    assert seconds < 5.0
    # ~155 bytes per byte parsed loose, plus the body and its UTF-8 copy.
    assert peak < 155 * MAX_LOOSE_BYTES + 3 * len(body), peak


def test_a_feed_cut_mid_cdata_is_a_parse_error_with_its_entries() -> None:
    cut = RSS.replace(b"<title>Second</title>", b"<title><![CDATA[Sec")
    cut = cut[: cut.index(b"Sec") + 3]
    feed = parse_feed(cut, "https://example.com/feed.rss")
    assert feed.error_class == "parse_error"
    assert [e.guid for e in feed.entries] == ["n-1"]


def test_blank_lines_before_the_root_cost_nothing() -> None:
    """feedparser's prolog regexes are quadratic in a run of blank lines (40 kB: 4 s)."""
    body = b'<?xml version="1.0"?>' + b"\n" * 400_000 + _items(3)
    started = time.perf_counter()
    feed = parse_feed(body, "https://example.com/feed")
    assert time.perf_counter() - started < 1.0
    assert len(feed.entries) == 3
    assert feed.error_class is None


@pytest.mark.parametrize("codec", ["utf-8", "utf-16-le"])
def test_a_long_first_line_cannot_stall_the_declaration_sniffer(codec: str) -> None:
    """feedparser reads the encoding from the first line with a backtracking regex: 1,000
    unterminated ``encoding="`` on one 1 MB line took 90 s."""
    attack = '<?xml version="1.0" ' + ('encoding="' + "a" * 1000) * 1000
    started = time.perf_counter()
    feed = parse_feed(attack.encode(codec), "https://example.com/feed")
    assert time.perf_counter() - started < 1.0
    assert feed.error_class == "unsafe_xml"
    # The same trap after a proper declaration, on a one-line (minified) feed.
    declared = "utf-16" if codec.startswith("utf-16") else codec
    minified = f'<?xml version="1.0" encoding="{declared}"?>' + _items(3).decode()
    minified = minified.replace(
        "<title>Big</title>", "<title>" + 'encoding="x ' * 2000 + "</title>"
    )
    bom = "\ufeff" if codec.startswith("utf-16") else ""
    started = time.perf_counter()
    feed = parse_feed((bom + minified).encode(codec), "https://example.com/feed")
    assert time.perf_counter() - started < 1.0
    assert [e.title for e in feed.entries] == ["Item 0", "Item 1", "Item 2"]


def test_items_sharing_a_guid_but_not_a_link_are_both_kept() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>A</title><link>https://x.example/a</link><guid>same</guid></item>
    <item><title>B</title><link>https://x.example/b</link><guid>same</guid></item>
    <item><title>A again</title><link>https://x.example/a?utm_source=rss</link><guid>same</guid>
    </item></channel></rss>"""
    feed = parse_feed(body, "https://x.example/feed")
    assert [e.url for e in feed.entries] == ["https://x.example/a", "https://x.example/b"]
    assert len({e.guid for e in feed.entries}) == 2
