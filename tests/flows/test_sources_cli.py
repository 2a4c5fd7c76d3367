"""`newsdesk sources ...` as a user runs it: a loopback site built in tmp_path (see
test_discover.py), real sources files and real DuckDB warehouse files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import Result
from typer.testing import CliRunner

from flows.cli import app
from flows.demo import DemoServer, Route
from flows.sources import load_sources, source_rows
from warehouse.db import connect
from warehouse.load import register_sources
from warehouse.migrate import migrate

runner = CliRunner()
LOOPBACK = ["--allow-private", "127.0.0.1/32"]
# Feeds are judged fresh against the real clock, so the site's dates follow it.
RECENT = datetime.now(UTC) - timedelta(days=1)

SOURCES = """\
# Our sources: this comment must survive every edit.

# Russian state media, English edition
[[publisher]]
name = "RT"
language = "en"
feeds = ["https://www.rt.com/rss/"]  # the only feed

# the BBC
[[publisher]]
name = "BBC News"
country = "GB"
feeds = [
    "https://feeds.bbci.co.uk/news/world/rss.xml",  # world
    "https://feeds.bbci.co.uk/news/rss.xml",
]
poll_interval_s = 600

# the last one
[[publisher]]
name = "NPR"
feeds = ["https://feeds.npr.org/1001/rss.xml"]
"""


@pytest.fixture(autouse=True)
def _no_politeness_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loopback sites are ours: no need to wait a second between requests to them.
    monkeypatch.setenv("NEWSDESK_PER_HOST_DELAY_S", "0")


def _flat(result: Result) -> str:
    """The output with rich's line wrapping undone (it wraps at 80 columns under the runner)."""
    return " ".join(result.output.split())


def _invoke(*args: str) -> Result:
    return runner.invoke(app, ["sources", *args])


def _add(url: str, files: tuple[Path, Path], *options: str) -> Result:
    sources, db = files
    return _invoke("add", url, *options, "--sources", str(sources), "--db", str(db), *LOOPBACK)


def _rss(title: str, base: str, prefix: str) -> str:
    day = format_datetime(RECENT, usegmt=True)
    items = "".join(
        f"<item><title>{title} {n}</title><link>{base}/{prefix}/{n}.html</link>"
        f"<guid>{prefix}-{n}</guid><pubDate>{day}</pubDate></item>"
        for n in range(1, 4)
    )
    channel = f"<channel><title>{title}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _atom(base: str) -> str:
    stamp = RECENT.strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = "".join(
        f'<entry><title>A {n}</title><link href="{base}/news/a{n}.html"/>'
        f"<id>urn:courier:a{n}</id><updated>{stamp}</updated></entry>"
        for n in range(1, 3)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Courier (Atom)</title><id>urn:courier</id><updated>{stamp}</updated>"
        f"{entries}</feed>"
    )


# Every page the Courier's feeds and news sitemap name.
ARTICLES = ("1", "2", "3", "a1", "a2", "j1", "j2", "s1")
TOPICS = (
    "harbour dredging",
    "school budgets",
    "bridge repairs",
    "library hours",
    "ferry fares",
    "tram tracks",
    "park lighting",
    "water rates",
)


def _article(name: str) -> str:
    topic = TOPICS[ARTICLES.index(name)]
    paragraphs = "".join(
        f"<p>Paragraph {n} on {topic}: the council heard residents speak for an hour about "
        f"{topic}, and officials promised figures on {topic} before the next meeting.</p>"
        for n in range(1, 7)
    )
    return (
        f"<!doctype html><html lang='en'><head><title>{topic.title()}</title></head><body>"
        f"<article><h1>{topic.title()}</h1>{paragraphs}</article></body></html>"
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[DemoServer, DemoServer]]:
    """The publisher's site, advertising feeds in every way (and two that do not work), and a
    second loopback server: another port, so another site."""
    other_dir = tmp_path / "other"
    _write(other_dir, {"feed.rss": _rss("Elsewhere", "{{BASE}}", "wire")})
    with DemoServer(data_dir=other_dir) as other:
        stamp = RECENT.strftime("%Y-%m-%dT%H:%M:%SZ")
        json_feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Courier JSON",
            "items": [
                {"id": f"j{n}", "url": f"{{{{BASE}}}}/news/j{n}.html", "date_published": stamp}
                for n in range(1, 3)
            ],
        }
        news_sitemap = (
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            "<url><loc>{{BASE}}/news/1.html</loc><news:news><news:publication>"
            "<news:name>Courier</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{stamp}</news:publication_date>"
            "<news:title>One</news:title></news:news></url>"
            # Only in the sitemap: a following ingest takes it from there.
            "<url><loc>{{BASE}}/news/s1.html</loc><news:news><news:publication>"
            "<news:name>Courier</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{stamp}</news:publication_date>"
            "<news:title>Sitemap only</news:title></news:news></url></urlset>"
        )
        _write(
            tmp_path / "pub",
            {
                "index.html": (
                    "<!doctype html><html><head><title>Front page | The Courier</title>"
                    '<meta property="og:site_name" content="The Courier">'
                    '<link rel="alternate" type="application/rss+xml" title="Courier" '
                    'href="/news/feed.rss">'
                    '<link rel="alternate" type="application/atom+xml" href="news/atom.xml">'
                    '<link rel="alternate" type="application/feed+json" href="feed.json">'
                    '<link rel="alternate" type="application/rss+xml" title="Comments" '
                    'href="comments/feed.rss">'
                    '<link rel="alternate" type="application/rss+xml" href="/gone.rss">'
                    '<link rel="alternate" type="application/rss+xml" '
                    f'href="{other.base_url}/feed.rss">'
                    "</head><body><h1>The Courier</h1></body></html>"
                ),
                "news/feed.rss": _rss("Courier", "{{BASE}}", "news"),
                "news/atom.xml": _atom("{{BASE}}"),
                "feed.json": json.dumps(json_feed),
                "comments/feed.rss": _rss("Comments on Courier", "{{BASE}}", "news"),
                "robots.txt": "User-agent: *\nAllow: /\nSitemap: {{BASE}}/maps/index.xml\n",
                "maps/index.xml": (
                    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    "<sitemap><loc>{{BASE}}/news-sitemap.xml</loc></sitemap>"
                    "<sitemap><loc>{{BASE}}/maps/pages.xml</loc></sitemap>"
                    "</sitemapindex>"
                ),
                "news-sitemap.xml": news_sitemap,
                "maps/pages.xml": (
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    "<url><loc>{{BASE}}/about.html</loc></url></urlset>"
                ),
                **{f"news/{name}.html": _article(name) for name in ARTICLES},
            },
        )
        routes = {"/data.json": Route(200, b'{"a": 1}', {"Content-Type": "application/json"})}
        with DemoServer(data_dir=tmp_path / "pub", routes=routes) as site:
            yield site, other


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[DemoServer]:
    """A site without a feed; one page links a feed that redirects in a loop; the homepage of
    /loop-home redirects in a loop itself."""
    _write(
        tmp_path / "bare",
        {
            "index.html": "<!doctype html><html><head><title>Bare</title></head></html>",
            "looping.html": (
                "<!doctype html><html><head><title>Loop</title>"
                '<link rel="alternate" type="application/rss+xml" href="/loop.rss"></head></html>'
            ),
        },
    )
    routes = {
        "/loop.rss": Route(302, b"", {"Location": "/loop2.rss"}),
        "/loop2.rss": Route(302, b"", {"Location": "/loop.rss"}),
        "/loop-home": Route(302, b"", {"Location": "/loop-home2"}),
        "/loop-home2": Route(302, b"", {"Location": "/loop-home"}),
    }
    with DemoServer(data_dir=tmp_path / "bare", routes=routes) as server:
        yield server


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A sources file with comments, and the warehouse path (no file yet)."""
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    return sources, tmp_path / "w.duckdb"


def _warehouse(sources: Path, db: Path) -> None:
    """The warehouse as an ingest would leave it: sources registered, some feed history."""
    con = connect(db)
    try:
        migrate(con)
        register_sources(con, source_rows(load_sources(sources)))
        con.execute(
            "update feed_state set last_success_at = timestamptz '2026-11-30 10:00:00+00', "
            "consecutive_failures = 2 where feed_id = "
            "(select feed_id from feeds where url = 'https://feeds.bbci.co.uk/news/rss.xml')"
        )
    finally:
        con.close()


def _feeds(db: Path) -> dict[str, tuple[str, bool]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select f.url, p.name, f.enabled from feeds f join publishers p using (publisher_id)"
        ).fetchall()
    finally:
        con.close()
    return {url: (name, enabled) for url, name, enabled in rows}


# --- add -------------------------------------------------------------------------------------


def test_add_keeps_working_feeds_and_news_sitemap(
    sites: tuple[DemoServer, DemoServer], files: tuple[Path, Path]
) -> None:
    site, other = sites
    sources, db = files
    base = site.base_url
    result = _add(base + "/", files)
    assert result.exit_code == 0, result.output
    out = result.output
    # Every candidate with its verdict; the broken and foreign ones dropped with the reason.
    assert f"DROP {other.base_url}/feed.rss [link-alternate] off-site" in out
    assert f"DROP {base}/gone.rss [link-alternate] dead: http_4xx (HTTP 404)" in out
    assert f"DROP {base}/maps/pages.xml [sitemap-index] not a news sitemap" in out
    assert f"NOT CHOSEN {base}/comments/feed.rss: comments feed" in out
    assert 'name: "The Courier" (from og:site_name' in _flat(result)
    assert '"The Courier": 3 feed(s), 1 news sitemap(s)' in _flat(result)

    text = sources.read_text(encoding="utf-8")
    assert text.startswith(SOURCES.rstrip("\n") + "\n\n# added ")  # the rest untouched
    added = load_sources(sources)[-1]
    assert added.name == "The Courier"
    assert added.domain == "127.0.0.1"
    assert set(added.feeds) == {
        f"{base}/news/feed.rss",  # link tag, absolute path
        f"{base}/news/atom.xml",  # link tag, relative path
        f"{base}/feed.json",  # JSON Feed
    }
    assert added.sitemaps == [f"{base}/news-sitemap.xml"]  # robots.txt -> index -> news
    assert added.enabled

    registered = _feeds(db)
    for url in added.feeds:
        assert registered[url] == ("The Courier", True)
    assert f"{other.base_url}/feed.rss" not in registered
    # Each address was fetched once.
    paths = [path for path, _ in site.requests]
    assert len(paths) == len(set(paths))


def test_add_dry_run_writes_nothing(
    sites: tuple[DemoServer, DemoServer], files: tuple[Path, Path]
) -> None:
    site, _ = sites
    sources, db = files
    before = sources.read_bytes()
    result = _add(site.base_url + "/", files, "--dry-run", "--name", "Courier", "--language", "EN")
    assert result.exit_code == 0, result.output
    assert "KEEP feed #1" in result.output and "off-site" in result.output
    assert "dry run, nothing written" in _flat(result)
    assert '[[publisher]]\nname = "Courier"\ndomain = "127.0.0.1"\nlanguage = "en"' in (
        result.output
    )
    assert sources.read_bytes() == before
    assert not db.exists()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/missing.html", "HTTP 404"),
        ("/data.json", "not an HTML page (Content-Type application/json)"),
    ],
)
def test_add_refuses_a_page_that_is_missing_or_not_html(
    sites: tuple[DemoServer, DemoServer], files: tuple[Path, Path], path: str, expected: str
) -> None:
    site, _ = sites
    sources, db = files
    before = sources.read_bytes()
    result = _add(site.base_url + path, files)
    assert result.exit_code == 1, result.output
    assert expected in _flat(result)
    assert "Nothing written" in _flat(result)
    assert sources.read_bytes() == before
    assert not db.exists()
    assert [p for p, _ in site.requests] == [path]  # the page only: no candidates tried


def test_add_refuses_a_site_without_feeds(bare: DemoServer, files: tuple[Path, Path]) -> None:
    sources, db = files
    before = sources.read_bytes()
    result = _add(bare.base_url + "/", files)
    assert result.exit_code == 1, result.output
    flat = _flat(result)
    assert "no usable feed or news sitemap" in flat and "Nothing written" in flat
    # What was tried, and why it was dropped.
    assert f"DROP {bare.base_url}/feed [common-path] dead: http_4xx (HTTP 404)" in result.output
    assert f"DROP {bare.base_url}/sitemap.xml [common-path] dead" in result.output
    assert sources.read_bytes() == before
    assert not db.exists()


def test_add_refuses_redirect_loops(bare: DemoServer, files: tuple[Path, Path]) -> None:
    sources, db = files
    before = sources.read_bytes()
    looping_feed = _add(bare.base_url + "/looping.html", files)
    assert looping_feed.exit_code == 1, looping_feed.output
    assert f"DROP {bare.base_url}/loop.rss [link-alternate] dead: redirect_loop" in (
        looping_feed.output
    )
    assert "no usable feed or news sitemap" in _flat(looping_feed)
    looping_page = _add(bare.base_url + "/loop-home", files)
    assert looping_page.exit_code == 1, looping_page.output
    assert "could not fetch it: redirect_loop" in _flat(looping_page)
    assert sources.read_bytes() == before
    assert not db.exists()


def test_add_refuses_a_name_in_use(
    sites: tuple[DemoServer, DemoServer], files: tuple[Path, Path]
) -> None:
    site, _ = sites
    sources, _ = files
    before = sources.read_bytes()
    for name in ("RT", "rt"):
        taken = _add(site.base_url + "/", files, "--name", name)
        assert taken.exit_code == 1, taken.output
        flat = _flat(taken)
        assert 'a publisher named "RT" is already in' in flat and "(line 4)" in flat
        assert 'give another --name, or `newsdesk sources remove "RT"` first' in flat
    assert site.requests == []  # refused before any request
    assert sources.read_bytes() == before

    # The site's own name, once taken, is refused the same way (after discovery names it).
    first = _add(site.base_url + "/", files)
    assert first.exit_code == 0, first.output
    after_first = sources.read_bytes()
    again = _add(site.base_url + "/", files)
    assert again.exit_code == 1, again.output
    assert 'a publisher named "The Courier" is already in' in _flat(again)
    assert sources.read_bytes() == after_first

    # Under another name, every feed is already someone else's: nothing left to add.
    other_name = _add(site.base_url + "/", files, "--name", "Courier 2")
    assert other_name.exit_code == 1, other_name.output
    assert "already in" in other_name.output and 'under publisher "The Courier"' in (
        other_name.output
    )
    assert sources.read_bytes() == after_first


def test_add_bad_usage_exits_2(files: tuple[Path, Path]) -> None:
    sources, db = files
    for args in (
        ["ftp://example.com/"],
        ["https://example.com/", "--language", "english"],
        ["https://example.com/", "--name", ""],
    ):
        result = _invoke("add", *args, "--sources", str(sources), "--db", str(db))
        assert result.exit_code == 2, result.output
    assert sources.read_text(encoding="utf-8") == SOURCES


def test_add_creates_a_missing_sources_file(
    sites: tuple[DemoServer, DemoServer], tmp_path: Path
) -> None:
    site, _ = sites
    sources = tmp_path / "new" / "sources.toml"
    sources.parent.mkdir()
    result = _add(site.base_url + "/", (sources, tmp_path / "w.duckdb"))
    assert result.exit_code == 0, result.output
    assert [p.name for p in load_sources(sources)] == ["The Courier"]
    assert sources.read_text(encoding="utf-8").startswith("# added ")


# --- a sources file with a mistake ------------------------------------------------------------


def test_every_command_reports_a_typo_with_its_line(
    sites: tuple[DemoServer, DemoServer], files: tuple[Path, Path]
) -> None:
    site, _ = sites
    sources, db = files
    sources.write_text(
        SOURCES.replace('feeds = ["https://www.rt.com', 'feds = ["https://www.rt.com')
    )
    before = sources.read_bytes()
    expected = f"{sources}:7: publisher \"RT\": unknown setting 'feds' (did you mean 'feeds'?)"
    for args in (
        [],
        ["list"],
        ["show", "NPR"],
        ["disable", "NPR"],
        ["enable", "NPR"],
        ["remove", "NPR"],
        ["add", site.base_url + "/", *LOOPBACK],
    ):
        result = _invoke(*args, "--sources", str(sources), "--db", str(db))
        assert result.exit_code == 1, (args, result.output)
        assert expected in _flat(result), (args, result.output)
    assert sources.read_bytes() == before
    assert site.requests == []
    assert not db.exists()


def test_bad_url_in_a_multiline_array_names_its_line(files: tuple[Path, Path]) -> None:
    sources, _ = files
    sources.write_text(SOURCES.replace('"https://feeds.bbci.co.uk/news/rss.xml"', '"htp://x"'))
    result = _invoke("list", "--sources", str(sources))
    assert result.exit_code == 1
    assert (
        f'{sources}:15: publisher "BBC News": feeds[1]: URL must be http(s) with a host: '
        "'htp://x'"
    ) in _flat(result)


# --- list, show, disable, enable, remove ------------------------------------------------------


def test_list_show_disable_enable_remove_round_trip(files: tuple[Path, Path]) -> None:
    sources, db = files
    _warehouse(sources, db)
    common = ["--sources", str(sources), "--db", str(db)]

    listed = _invoke("list", *common, "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert list(rows) == ["RT", "BBC News", "NPR"]
    assert rows["BBC News"] | {"last_success_at": None} == {
        "name": "BBC News",
        "enabled": True,
        "feeds": 2,
        "sitemaps": 0,
        "language": None,
        "last_success_at": None,
        "failures": 2,
    }
    assert rows["BBC News"]["last_success_at"].startswith("2026-11-30T10:00")
    assert rows["RT"]["failures"] == 0

    shown = _invoke("show", "BBC News", *common, "--format", "json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert detail["settings"]["poll_interval_s"] == "600.0"
    assert detail["settings"]["per_host_delay_s"].endswith("(global)")
    assert detail["settings"]["defined_at"] == f"{sources}:10"
    assert [(s["kind"], s["in_file"], s["enabled"]) for s in detail["sources"]] == [
        ("feed", True, True),
        ("feed", True, True),
    ]
    as_table = _invoke("show", "BBC News", *common)
    assert as_table.exit_code == 0 and "poll_interval_s" in as_table.output

    # disable: a line added after `name =`, every comment where it was; feeds disabled.
    disabled = _invoke("disable", "bbc news", *common)
    assert disabled.exit_code == 0, disabled.output
    assert "history is kept" in _flat(disabled) and "2 feed(s) disabled" in _flat(disabled)
    expected = SOURCES.replace('name = "BBC News"\n', 'name = "BBC News"\nenabled = false\n')
    assert sources.read_text(encoding="utf-8") == expected
    feeds = _feeds(db)
    assert feeds["https://feeds.bbci.co.uk/news/rss.xml"] == ("BBC News", False)
    assert feeds["https://www.rt.com/rss/"] == ("RT", True)
    again = _invoke("disable", "BBC News", *common)
    assert again.exit_code == 0 and "already disabled" in _flat(again)
    assert sources.read_text(encoding="utf-8") == expected
    listed = _invoke("list", *common, "--format", "json")
    assert [r["enabled"] for r in json.loads(listed.stdout)] == [True, False, True]

    enabled = _invoke("enable", "BBC News", *common)
    assert enabled.exit_code == 0, enabled.output
    assert sources.read_text(encoding="utf-8") == expected.replace(
        "enabled = false", "enabled = true"
    )
    assert _feeds(db)["https://feeds.bbci.co.uk/news/rss.xml"] == ("BBC News", True)

    # remove: the entry and the comment above it go; the file's header comment stays.
    removed = _invoke("remove", "RT", *common)
    assert removed.exit_code == 0, removed.output
    assert "history (entries, articles, fetches) are kept" in _flat(removed)
    text = sources.read_text(encoding="utf-8")
    assert text.startswith("# Our sources: this comment must survive every edit.\n\n# the BBC\n")
    assert "Russian state media" not in text and "rt.com" not in text
    assert "# world\n" in text and "# the last one\n" in text
    assert _feeds(db)["https://www.rt.com/rss/"] == ("RT", False)  # kept, not polled

    missing = _invoke("show", "RT", *common)
    assert missing.exit_code == 1
    assert f'no publisher named "RT" in {sources}' in _flat(missing)
    close = _invoke("disable", "BBC", *common)
    assert close.exit_code == 1 and 'did you mean "BBC News"?' in _flat(close)

    last = _invoke("remove", "NPR", *common)
    assert last.exit_code == 0, last.output
    assert sources.read_text(encoding="utf-8").endswith(
        '"https://feeds.bbci.co.uk/news/rss.xml",\n]\npoll_interval_s = 600\n'
    )
    assert [p.name for p in load_sources(sources)] == ["BBC News"]


def test_writes_without_a_warehouse_change_the_file_only(files: tuple[Path, Path]) -> None:
    sources, db = files
    result = _invoke("disable", "NPR", "--sources", str(sources), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert f"no warehouse at {db}: only the file changed" in _flat(result)
    assert not db.exists()
    assert not load_sources(sources)[2].enabled


def test_a_locked_warehouse_is_named_and_nothing_is_written(files: tuple[Path, Path]) -> None:
    sources, db = files
    _warehouse(sources, db)
    before = sources.read_bytes()
    script = (
        "import duckdb, sys, time\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    # Another process holding the warehouse read-write, as an ingest loading a batch does.
    with subprocess.Popen(
        [sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            for args in (["disable", "NPR"], ["remove", "NPR"]):
                result = _invoke(*args, "--sources", str(sources), "--db", str(db), "--wait", "0")
                assert result.exit_code == 1, result.output
                flat = _flat(result)
                assert "is held by another process" in flat and "nothing written" in flat
        finally:
            holder.kill()
    assert sources.read_bytes() == before
    assert [p for p in sources.parent.iterdir() if p.name.endswith(".tmp")] == []


# --- `newsdesk sources` without a command, as before -------------------------------------------


def test_sources_without_a_command_still_lists_feeds(files: tuple[Path, Path]) -> None:
    sources, db = files
    _warehouse(sources, db)
    overview = _invoke("--sources", str(sources), "--db", str(db), "--format", "json")
    assert overview.exit_code == 0, overview.output
    feeds = json.loads(overview.stdout)
    assert len(feeds) == 4 and all(f["in_file"] for f in feeds)
    health = _invoke("--health", "--db", str(db), "--format", "csv")
    assert health.exit_code == 0, health.output
    assert health.stdout.startswith("publisher,feed_url,last_success_at,failures")
    # Group options reach the commands.
    listed = _invoke("--sources", str(sources), "--db", str(db), "list", "--format", "csv")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0] == (
        "name,enabled,feeds,sitemaps,language,last_success_at,failures"
    )
    misuse = _invoke("--health", "list")
    assert misuse.exit_code == 2


def test_a_following_ingest_loads_feed_and_sitemap_articles_once(
    prefect_harness: None, sites: tuple[DemoServer, DemoServer], files: tuple[Path, Path]
) -> None:
    from flows.ingest import ingest

    site, _ = sites
    sources, db = files
    assert _add(site.base_url + "/", files).exit_code == 0
    added = load_sources(sources)[-1]
    ingest(
        db=str(db),
        publishers=[added.model_dump()],
        all_feeds=True,
        overrides={"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0},
    )
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select url, discovered_via from articles").fetchall()
        keys = con.execute("select count(*), count(distinct url_key) from articles").fetchone()
    finally:
        con.close()
    via = {url.removeprefix(site.base_url + "/news/"): how for url, how in rows}
    assert set(via) == {f"{name}.html" for name in ARTICLES}
    assert via["s1.html"] == "sitemap"  # only the news sitemap lists it
    assert via["1.html"] == "feed"  # both list it: one article, credited to the feed
    assert keys is not None and keys[0] == keys[1] == len(ARTICLES)
    pages = [path for path, _ in site.requests if path.endswith(".html")]
    assert sorted(pages) == sorted(set(pages))  # each page fetched once


# --- on a DuckLake ----------------------------------------------------------------------------


def test_commands_work_on_a_lake_and_retry_its_conflicts(
    new_lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``ducklake:`` target is no file: the commands must not take it for a missing
    warehouse; a write that conflicts with another writer is run again."""
    from flows import sources_cli
    from warehouse import load

    monkeypatch.setenv("NEWSDESK_DUCKLAKE_DATA_PATH", str(tmp_path / "lake") + "/")
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    setup = connect(new_lake, data_path=str(tmp_path / "lake") + "/")
    migrate(setup)
    register_sources(setup, source_rows(load_sources(sources)))
    setup.close()
    common = ["--sources", str(sources), "--db", new_lake]

    listed = _invoke("list", *common, "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert "failures" in json.loads(listed.stdout)[0]  # health came from the lake
    shown = _invoke("show", "BBC News", *common, "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert [s["enabled"] for s in json.loads(shown.stdout)["sources"]] == [True, True]
    overview = _invoke(*common)
    assert overview.exit_code == 0, overview.output

    disabled = _invoke("disable", "BBC News", *common)
    assert disabled.exit_code == 0, disabled.output
    assert "2 feed(s) disabled" in _flat(disabled)

    def lake_feeds() -> dict[str, bool]:
        con = connect(new_lake, read_only=True)
        try:
            return dict(con.execute("select url, enabled from feeds").fetchall())
        finally:
            con.close()

    assert lake_feeds()["https://feeds.bbci.co.uk/news/rss.xml"] is False

    # Another writer commits while `enable` is between its change and its commit: the commit
    # conflicts, the file is put back, and the change runs again and commits.
    other = connect(new_lake)
    calls: list[int] = []
    inner = sources_cli._register

    def racing(publisher: object) -> object:
        change = inner(publisher)  # type: ignore[arg-type]

        def run(con: duckdb.DuckDBPyConnection) -> int:
            calls.append(1)
            if len(calls) == 1:
                load.start_run(other, "elsewhere", "ingest", datetime.now(UTC))
            return change(con)

        return run

    monkeypatch.setattr(sources_cli, "_register", racing)
    try:
        enabled = _invoke("enable", "BBC News", *common)
    finally:
        other.close()
    assert enabled.exit_code == 0, enabled.output
    assert len(calls) == 2
    assert lake_feeds()["https://feeds.bbci.co.uk/news/rss.xml"] is True
    assert next(p for p in load_sources(sources) if p.name == "BBC News").enabled
