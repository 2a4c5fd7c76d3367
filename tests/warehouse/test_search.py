"""Full-text search: the extension loads offline, demo articles are found by their own title
words, stemming works per language, new loads show up, the index ranks as DuckDB's FTS index
would, and a refresh touches only what changed."""

from __future__ import annotations

import itertools
import json
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
from warehouse import search as search_module
from warehouse.db import WarehouseError, connect
from warehouse.migrate import available_migrations, migrate
from warehouse.search import (
    SearchError,
    ensure_index,
    fts_extension_path,
    index_status,
    load_fts,
    query_terms,
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


def _add_article(
    con: duckdb.DuckDBPyConnection, n: int, language: str | None, title: str, text: str
) -> int:
    """Insert an article straight into the table (publisher 1); returns its id."""
    row = con.execute(
        "insert into articles (url_key, canonical_url, url, publisher_id, title, text, "
        "language, published_at, first_seen_at, last_seen_at, content_hash) "
        "values (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?) returning article_id",
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
            content_hash(text),
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


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
        _add_article(con, n, language, title, text)
    yield con
    con.close()


@pytest.mark.parametrize("indexed", [False, True], ids=["temporary-index", "stored-index"])
def test_stemming_and_scripts(tiny: duckdb.DuckDBPyConnection, indexed: bool) -> None:
    if indexed:
        assert ensure_index(tiny)
        assert tiny.execute("select count(*) from search_documents").fetchone() == (7,)

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


def test_a_warehouse_without_the_index_tables_is_searched_on_the_fly(
    tiny: duckdb.DuckDBPyConnection,
) -> None:
    """A warehouse from before migration 013 (read-only: nobody migrated it yet)."""
    for table in ("search_postings", "search_documents", "search_index_state"):
        tiny.execute(f"drop table {table}")
    status = index_status(tiny)
    assert (status.state, status.pending) == ("missing", 7)
    notes: list[str] = []
    assert search(tiny, "ferries", on_note=notes.append)[0].title == "Ferry service resumes"
    assert len(notes) == 1 and "no search index yet" in notes[0]
    with pytest.raises(WarehouseError, match="run the migrations"):
        ensure_index(tiny)


# --- the index against DuckDB's FTS index, and what a refresh touches -----------------------


def _fts_reference(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB's FTS index over the articles of ``con``, in memory, built as search.py built
    its snapshot index before migration 013: the reference the new index must rank like."""
    load_fts(con)
    terms = search_module._terms_sql
    prepared = con.execute(
        f"select a.article_id, {terms('a.title', 'a.st')} as title, "
        f"{terms('a.text', 'a.st')} as text "
        f"from (select *, {search_module._stemmer_sql('language')} as st from articles) as a"
    ).to_arrow_table()
    ref = duckdb.connect(":memory:")
    load_fts(ref)
    ref.register("prepared", prepared)
    ref.execute("create table documents as select * from prepared")
    ref.execute(
        "pragma create_fts_index('documents', 'article_id', 'title', 'text', stemmer='none', "
        f"stopwords='none', ignore='{search_module._SPLIT}', strip_accents=0, lower=0)"
    )
    return ref


def _assert_ranks_like_fts(con: duckdb.DuckDBPyConnection, queries: list[str]) -> None:
    """Every query finds the articles match_bm25 scores, with its scores, in its order."""
    ref = _fts_reference(con)
    stemmers = search_module._stemmers(con, None)
    found = 0
    for query in queries:
        terms = query_terms(con, query, stemmers)
        rows = ref.execute(
            "select name, score from (select name, "
            "fts_main_documents.match_bm25(name, $q) as score from fts_main_documents.docs) "
            "where score is not null",
            {"q": " ".join(terms)},
        ).fetchall()
        expected = {int(article_id): float(score) for article_id, score in rows}
        hits = search(con, query, limit=1000)
        assert {h.article_id for h in hits} == set(expected), query
        for hit in hits:
            assert hit.score == pytest.approx(expected[hit.article_id], abs=1e-4), query
        for better, worse in itertools.pairwise(hits):
            assert expected[better.article_id] >= expected[worse.article_id] - 1e-9, query
        found += bool(hits)
    assert found >= len(queries) - 1


def _assert_same_terms_as_fts(con: duckdb.DuckDBPyConnection) -> None:
    """The postings and document lengths are the FTS index's, term for term."""
    ref = _fts_reference(con)
    fts_postings = ref.execute(
        "select d.term, docs.name, count(*) from fts_main_documents.terms as t "
        "join fts_main_documents.dict as d using (termid) "
        "join fts_main_documents.docs as docs using (docid) group by all"
    ).fetchall()
    postings = con.execute("select term, article_id, tf from search_postings").fetchall()
    assert len(postings) == len(fts_postings)
    assert set(postings) == set(fts_postings)
    fts_lengths = ref.execute("select name, len from fts_main_documents.docs").fetchall()
    lengths = con.execute("select article_id, length from search_documents").fetchall()
    assert sorted(lengths) == sorted(fts_lengths)


DEMO_QUERIES = [
    "ferry weekend closures",
    "harbour council budget",
    "Nordhafen",
    "storm warning",
    "Fähren Hafen",
    "the",
]


def test_the_demo_ranks_as_the_fts_extension_ranks(ro: duckdb.DuckDBPyConnection) -> None:
    _assert_same_terms_as_fts(ro)
    _assert_ranks_like_fts(ro, DEMO_QUERIES)


def test_many_languages_rank_as_the_fts_extension_ranks(tiny: duckdb.DuckDBPyConnection) -> None:
    assert ensure_index(tiny)
    _assert_same_terms_as_fts(tiny)
    _assert_ranks_like_fts(tiny, ["ferries", "Fähre Hafen", "天気", "élection", "wybory"])


@pytest.fixture(scope="module")
def corpus_db(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus articles' reference titles and texts (17 languages), indexed."""
    manifest = corpus / "articles" / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    db = tmp_path_factory.mktemp("corpus-search") / "corpus.duckdb"
    with connect(db) as con:
        migrate(con)
        con.execute("insert into publishers (name, domain) values ('Corpus', 'corpus.example')")
        for n, row in enumerate(rows, start=1):
            _add_article(con, n, row["language"], row["expected_title"], row["expected_text"])
        assert ensure_index(con)
    return db


@pytest.mark.corpus
def test_the_corpus_ranks_as_the_fts_extension_ranks(corpus_db: Path) -> None:
    with connect(corpus_db, read_only=True) as ro:
        _assert_same_terms_as_fts(ro)
        _assert_ranks_like_fts(
            ro,
            [
                "government election",
                "Regierung Wahl Koalition",
                "police said",
                "climate change energy prices",
                "Москва",
                "東京",
                "Kalifat Hamburg",
            ],
        )


def _index_rows(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple[Any, ...]], ...]:
    postings = con.execute("select term, article_id, tf from search_postings").fetchall()
    documents = con.execute("select article_id, indexed_key, length from search_documents")
    return set(postings), set(documents.fetchall())


def _last_refresh(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = con.execute(
        "select indexed, dropped, full_rebuild, unsorted_postings from search_index_state"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_refresh_touches_only_what_changed(indexed_db: Path, tmp_path: Path) -> None:
    db = _copy(indexed_db, tmp_path)
    query = "quokkas zeppelin harbour ferry"
    with connect(db) as con:
        ids = [r[0] for r in con.execute("select article_id from articles order by 1").fetchall()]
        edited, removed = ids[0], ids[1]
        postings, documents = _index_rows(con)
        added = [
            _add_article(con, 9001, "en", "Quokkas visit the harbour", "Three quokkas swam."),
            _add_article(con, 9002, "de", "Zeppelin über dem Hafen", "Ein Zeppelin kreiste."),
        ]
        con.execute(
            "update articles set text = text || ' Quokkas were also seen.', "
            "content_hash = 'edited' where article_id = ?",
            [edited],
        )
        con.execute("delete from articles where article_id = ?", [removed])
        status = index_status(con)
        assert (status.state, status.pending, status.outdated) == ("stale", 3, 2)
    # Before any refresh a read-only searcher finds the changes (tokenized on the fly).
    notes: list[str] = []
    with connect(db, read_only=True) as ro:
        stale_hits = search(ro, query, limit=100, on_note=notes.append)
    assert len(notes) == 1 and "3 new or changed articles, 2 indexed articles" in notes[0]
    stale_ids = {h.article_id for h in stale_hits}
    assert {edited, *added} <= stale_ids and removed not in stale_ids
    touched = {edited, removed, *added}
    with connect(db) as con:
        assert refresh_search_index(con) is True
        assert _last_refresh(con)[:3] == (3, 2, False)  # indexed, dropped, full rebuild
        assert index_status(con).fresh
        after_postings, after_documents = _index_rows(con)
        # Untouched articles keep exactly their rows; the removed one has none left.
        assert {p for p in after_postings if p[1] not in touched} == {
            p for p in postings if p[1] not in touched
        }
        assert {d for d in after_documents if d[0] not in touched} == {
            d for d in documents if d[0] not in touched
        }
        assert {p[1] for p in after_postings} & touched == {edited, *added}
        # Ranked on the fly before the refresh as the refreshed index ranks now.
        fresh_hits = search(con, query, limit=100)
        assert {h.article_id: h.score for h in fresh_hits} == pytest.approx(
            {h.article_id: h.score for h in stale_hits}, abs=1e-4
        )
        # And the incremental index is the one a full rebuild makes.
        assert ensure_index(con, force=True) is True
        assert _last_refresh(con)[2] is True
        assert _index_rows(con) == (after_postings, after_documents)


def test_a_new_scheme_makes_everything_stale(
    tiny: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ensure_index(tiny)
    before = _index_rows(tiny)
    monkeypatch.setattr(search_module, "SCHEME", "v-test: another preparation")
    status = index_status(tiny)
    assert (status.state, status.pending, status.outdated) == ("stale", 7, 7)
    assert refresh_search_index(tiny) is True
    assert _last_refresh(tiny)[:3] == (7, 7, True)
    assert index_status(tiny).fresh
    assert tiny.execute("select scheme from search_index_state").fetchone() == (
        "v-test: another preparation",
    )
    postings, documents = _index_rows(tiny)
    assert postings == before[0]  # same terms (only the name of the scheme changed)
    assert {d[1] for d in documents}.isdisjoint({d[1] for d in before[1]})  # new keys


def _stored_terms(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("select term from search_postings order by rowid").fetchall()]


def test_appended_postings_are_rewritten_in_term_order(
    tiny: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ensure_index(tiny)
    terms = _stored_terms(tiny)
    assert terms == sorted(terms)  # a full build writes them in term order
    _add_article(tiny, 8, "en", "Aardvarks at the zoo", "Aardvarks arrived at the zoo.")
    monkeypatch.setattr(search_module, "RESORT_SHARE", 1.0)
    assert refresh_search_index(tiny)
    indexed, _, full, unsorted = _last_refresh(tiny)
    assert (indexed, full) == (1, False) and unsorted > 0
    terms = _stored_terms(tiny)
    assert terms != sorted(terms)  # appended after the rest
    _add_article(tiny, 9, "en", "Zebras at the zoo", "Zebras arrived too.")
    monkeypatch.setattr(search_module, "RESORT_SHARE", 0.0)
    assert refresh_search_index(tiny)
    assert _last_refresh(tiny) == (1, 0, False, 0)
    terms = _stored_terms(tiny)
    assert terms == sorted(terms)
    assert [h.title for h in search(tiny, "aardvark zebra")] == [
        "Zebras at the zoo",
        "Aardvarks at the zoo",
    ]


def test_migration_013_replaces_the_snapshot_index(tmp_path: Path) -> None:
    """A warehouse indexed by the code before migration 013 (DuckDB's FTS index in a schema of
    its own, and the record of what it was built from) loses both, and is indexed anew."""
    con = connect(tmp_path / "old.duckdb")
    con.execute(
        "create table schema_migrations (name varchar primary key, checksum varchar not null, "
        "applied_at timestamptz not null)"
    )
    for migration in available_migrations():
        if migration.name < "013":
            con.execute(migration.sql)
            con.execute(
                "insert into schema_migrations values (?, ?, now())",
                [migration.name, migration.checksum],
            )
    con.execute("insert into publishers (name, domain) values ('Multi', 'multi.example')")
    _add_article(con, 1, "en", "Ferry service resumes", "The ferry is running again.")
    load_fts(con)
    con.execute("create table search_documents as select article_id, title, text from articles")
    con.execute("pragma create_fts_index('search_documents', 'article_id', 'title', 'text')")
    con.execute("drop table search_documents")
    con.execute("insert into search_index_state values ('v1', now(), 1, 1, 0, 5)")
    assert migrate(con) == ["013_search_postings.sql"]
    schemas = con.execute("select schema_name from duckdb_schemas() where schema_name like 'fts%'")
    assert schemas.fetchall() == []
    assert index_status(con).state == "missing"
    assert search(con, "ferries")[0].title == "Ferry service resumes"
    assert ensure_index(con) is True
    assert index_status(con).fresh
    con.close()
