"""Full-text search: the extension loads offline, demo articles are found by their own title
words, stemming works per language, and new loads show up."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import DemoRuns
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import ExtractedArticle, FetchLog
from transforms.text import content_hash
from transforms.urls import url_key
from warehouse import load
from warehouse.db import connect
from warehouse.migrate import migrate
from warehouse.search import (
    INDEX_SCHEMA,
    SearchError,
    ensure_index,
    fts_extension_path,
    index_status,
    load_fts,
    refresh_search_index,
    search,
)

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _copy(db: Path, to: Path) -> Path:
    target = to / db.name
    shutil.copy(db, target)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy(wal, target.with_name(target.name + ".wal"))
    return target


@pytest.fixture(scope="module")
def indexed_db(demo_runs: DemoRuns, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo warehouse; its ingest runs built the search index already."""
    db = _copy(demo_runs.db, tmp_path_factory.mktemp("search"))
    con = connect(db)
    try:
        migrate(con)
        assert index_status(con).fresh
        assert refresh_search_index(con) is False  # nothing changed: no rebuild
        assert ensure_index(con, force=True) is True
    finally:
        con.close()
    return db


@pytest.fixture
def ro(indexed_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(indexed_db, read_only=True)
    yield con
    con.close()


def test_the_extension_loads_from_the_package_without_network(tmp_path: Path) -> None:
    path = fts_extension_path()
    assert path.is_file() and path.suffix == ".duckdb_extension"
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # anything fetched or installed would have to come from here: nothing can
            "extension_directory": str(tmp_path / "extensions"),
            "custom_extension_repository": "http://127.0.0.1:9/nowhere",
        },
    )
    load_fts(con)
    loaded = con.execute(
        "select loaded, installed from duckdb_extensions() where extension_name = 'fts'"
    ).fetchone()
    assert loaded == (True, False)  # loaded by path, never installed
    assert con.execute("select stem('ferries', 'english')").fetchone() == ("ferri",)
    assert not (tmp_path / "extensions").exists()


def _distinctive_words(manifest: list[dict[str, Any]], item: dict[str, Any]) -> list[str]:
    """Title words (5+ letters) that no other demo title uses."""

    def words(title: str) -> set[str]:
        return {w.lower() for w in re.findall(r"[^\W\d_]{5,}", title)}

    df = Counter(w for a in manifest for w in words(a["title"]))
    return sorted(w for w in words(item["title"]) if df[w] == 1)


def test_demo_articles_are_found_by_their_own_title_words(
    ro: duckdb.DuckDBPyConnection, demo_manifest: list[dict[str, Any]], demo_runs: DemoRuns
) -> None:
    notes: list[str] = []
    checked = 0
    # Wire copies share their text by design: their own headline is not enough to tell them apart.
    for item in [a for a in demo_manifest if not a["syndication_group"]][::3]:
        words = _distinctive_words(demo_manifest, item)[:3]
        if len(words) < 2:
            continue
        hits = search(ro, " ".join(words), limit=3, on_note=notes.append)
        assert hits, words
        assert hits[0].url == demo_runs.base + item["path"], (words, [h.title for h in hits])
        assert hits[0].title == item["title"]
        assert hits[0].publisher == item["publisher"]
        assert hits[0].date == datetime.fromisoformat(item["published_utc"]).date()
        assert hits[0].score > 0
        checked += 1
    assert checked >= 5
    assert notes == []  # the stored index was current: no temporary one


def test_snippet_shows_the_first_match(
    ro: duckdb.DuckDBPyConnection, demo_manifest: list[dict[str, Any]], demo_runs: DemoRuns
) -> None:
    item = demo_manifest[0]
    first_sentence = item["body_first_sentence"]
    word = max(re.findall(r"[^\W\d_]{6,}", first_sentence), key=len)
    hits = search(ro, word, limit=50)
    hit = next(h for h in hits if h.url == demo_runs.base + item["path"])
    assert word.lower() in hit.snippet.lower()
    assert len(hit.snippet) <= 240


def test_filters(
    ro: duckdb.DuckDBPyConnection, demo_manifest: list[dict[str, Any]], demo_runs: DemoRuns
) -> None:
    german = next(a for a in demo_manifest if a["language"] == "de")
    words = " ".join(_distinctive_words(demo_manifest, german)[:3])
    assert search(ro, words, language="de")[0].url == demo_runs.base + german["path"]
    assert search(ro, words, language="en") == [] or all(
        h.language == "en" for h in search(ro, words, language="en")
    )
    publisher = german["publisher"]
    assert {h.publisher for h in search(ro, "der die und", publisher=publisher.upper())} == {
        publisher
    }
    cutoff = date(2026, 11, 20)
    late = search(ro, "the", since=cutoff, limit=100)
    assert late and all(h.published_at and h.published_at.date() >= cutoff for h in late)
    with pytest.raises(SearchError, match="no words"):
        search(ro, " ?! ")


def _page(feed_id: int, publisher_id: int, url: str, title: str, text: str) -> PageResult:
    article = ExtractedArticle(
        url=url,
        canonical_url=url,
        title=title,
        text=text,
        language="en",
        published_at=T0,
        modified_at=None,
        date_source="jsonld",
        word_count=len(text.split()),
        content_hash=content_hash(text),
        extractor_version="test",
    )
    fetch = FetchLog(url=url, kind="page", requested_at=T0, status=200, url_key=url_key(url))
    return PageResult(fetch, article, url_key(url), feed_id, publisher_id)


def test_a_new_load_shows_up_in_search(indexed_db: Path, tmp_path: Path) -> None:
    db = _copy(indexed_db, tmp_path)
    url = "https://late.example/2026/11/zeppelin.html"
    with connect(db) as con:
        ids = load.register_sources(
            con, [load.SourceRow("Late News", "late.example", "GB", "en", "https://late.example/f")]
        )
        feed_id, publisher_id = ids["https://late.example/f"]
        pages = [
            _page(
                feed_id,
                publisher_id,
                url,
                "Zeppelins return to the harbour skies",
                "Two zeppelins circled the harbour on Sunday, the first airships seen there "
                "since the old hangar closed. Crowds gathered on the quay to watch.",
            )
        ]
        load.load_pages(
            con, "run-late", fetches_frame([p.fetch for p in pages]), article_frames(pages, T0)
        )
    # Read-only, before any refresh: the stored index is stale, a temporary one finds it.
    notes: list[str] = []
    with connect(db, read_only=True) as ro:
        assert index_status(ro).state == "stale"
        hits = search(ro, "zeppelin airship", on_note=notes.append)
        stale_hits = search(ro, "zeppelin airship", allow_stale=True)
    assert hits and hits[0].url == url and hits[0].publisher == "Late News"
    assert "zeppelins" in hits[0].snippet.lower()
    assert len(notes) == 1 and "temporary index" in notes[0]
    assert stale_hits == []  # the stored index predates the load
    # The ingest side refreshes; then the stored index finds it.
    with connect(db) as con:
        assert refresh_search_index(con) is True
        assert index_status(con).fresh
    notes.clear()
    with connect(db, read_only=True) as ro:
        hits = search(ro, "zeppelins", on_note=notes.append)
    assert [h.url for h in hits] == [url]
    assert notes == []


def test_an_edit_makes_the_index_stale(indexed_db: Path, tmp_path: Path) -> None:
    db = _copy(indexed_db, tmp_path)
    with connect(db) as con:
        assert index_status(con).fresh
        con.execute(
            "update articles set text = text || ' Quokkas were also seen.', "
            "content_hash = 'edited' where article_id = (select min(article_id) from articles)"
        )
        assert index_status(con).state == "stale"
        first = con.execute("select min(article_id) from articles").fetchone()
        assert first is not None
        assert [h.article_id for h in search(con, "quokkas")] == [first[0]]
        assert ensure_index(con) is True
        assert index_status(con).fresh


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A warehouse with hand-made articles in several languages."""
    con = connect(tmp_path / "tiny.duckdb")
    migrate(con)
    con.execute("insert into publishers (name, domain) values ('Multi', 'multi.example')")
    docs = [
        ("en", "Ferry service resumes", "The ferry is running again after the storm."),
        ("en", "Bridge repairs", "Repairs to the bridges continue through December."),
        ("de", "Neue Fähre für die Insel", "Die Fähre fährt ab Montag zweimal täglich."),
        ("de", "Hafen wächst", "Der Hafen wird bis 2030 erweitert."),
        ("ja", "東京の天気", "東京都では明日も晴れの天気が続く見込みです。"),
        ("fr", "Les élections municipales", "Les électeurs votent dimanche."),
        ("pl", "Wybory", "Wyborcy głosują w niedzielę."),
    ]
    for n, (language, title, text) in enumerate(docs, start=1):
        con.execute(
            "insert into articles (url_key, canonical_url, url, publisher_id, title, text, "
            "language, published_at, first_seen_at, last_seen_at, content_hash) "
            "values (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
            [
                f"k{n}",
                f"https://multi.example/{n}",
                f"https://multi.example/{n}",
                title,
                text,
                language,
                T0,
                T0,
                T0,
                f"h{n}",
            ],
        )
    yield con
    con.close()


@pytest.mark.parametrize("indexed", [False, True], ids=["temporary-index", "stored-index"])
def test_stemming_and_scripts(tiny: duckdb.DuckDBPyConnection, indexed: bool) -> None:
    if indexed:
        assert ensure_index(tiny)
        assert tiny.execute(
            "select count(*) from duckdb_schemas() where schema_name = ?", [INDEX_SCHEMA]
        ).fetchone() == (1,)

    def titles(query: str, **kw: Any) -> list[str | None]:
        return [h.title for h in search(tiny, query, **kw)]

    assert titles("ferries")[0] == "Ferry service resumes"  # English stemming
    assert titles("bridge repair")[0] == "Bridge repairs"
    assert titles("Fähren")[0] == "Neue Fähre für die Insel"  # German stemming, umlauts
    assert titles("FAHRE")[0] == "Neue Fähre für die Insel"  # case and accents folded
    assert titles("天気")[0] == "東京の天気"  # Japanese: character bigrams
    assert "東京都では明日も晴れの天気" in search(tiny, "晴れ")[0].snippet
    assert titles("élection")[0] == "Les élections municipales"
    assert titles("wybory") == ["Wybory"]  # no stemmer for Polish: exact words
    assert titles("ferries", language="de") == []
    assert titles("hafen", publisher="multi.example") == ["Hafen wächst"]


def test_no_index_and_empty_warehouse(tmp_path: Path) -> None:
    con = connect(tmp_path / "empty.duckdb")
    migrate(con)
    assert index_status(con).state == "missing"
    assert search(con, "anything") == []
    assert ensure_index(con) is True
    assert index_status(con).fresh
    assert search(con, "anything") == []
    con.close()
