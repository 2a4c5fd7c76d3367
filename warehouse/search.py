"""Full-text search over article titles and texts: an inverted index in warehouse tables, BM25.

Terms come from the DuckDB FTS extension's Snowball ``stem()``: the PyPI package
``duckdb-extension-fts`` (built for the pinned DuckDB), loaded from that package's folder by
path (:func:`load_fts`): nothing is downloaded at run time, and it works offline. The index
itself is not the extension's (see "The index" below).

**Multilingual tokens.** News comes in many languages, so every title and text is lower-cased,
split on anything that is not a letter or digit, each word stemmed with the Snowball stemmer of
*that article's* language (``STEMMERS``; ``none`` for languages without one, such as Polish or
Japanese) and then stripped of accents. Words written without spaces (Chinese, Japanese, Thai,
Lao, Khmer, Burmese) become overlapping character bigrams. No stop words (BM25's IDF already
gives common words little weight, and an English list would drop real words of other
languages: "die", "also", "will"). Title and text together form one document. A query is
prepared the same way with the stemmers of the languages in the warehouse (or of
``language=``) and the variants are OR-ed: "ferries" finds an English "ferry", "Fähren" a German
"Fähre".

**The index** (migration 013) is two plain tables: ``search_documents`` (one row per indexed
article: its ``indexed_key``, a hash of :data:`SCHEME`, ``content_hash``, title and language
when it was indexed, and its length in terms) and ``search_postings`` (term, article, term
frequency). :func:`refresh_search_index` keeps them up to date at the cost of what changed: it
anti-joins the articles' current keys against ``search_documents`` (new articles, edits and
re-extractions have a key the index lacks; documents whose article is gone or changed have a
key no article has), drops the outdated documents with their postings and indexes the pending
articles — one write transaction (:func:`warehouse.db.transaction`, so a lake's writers take
turns and conflicts are retried). A new :data:`SCHEME` (or a DuckDB whose ``hash()`` changed)
changes every key: everything is pending, and the refresh rebuilds the whole index (as it does
when half the documents are outdated). The ingest, re-extraction and maintenance flows refresh
once after a run's last batch. No keys or indexes on these tables (DuckDB rewrites a table's
whole ART index at every checkpoint; DuckLake has none): the refresh, the only writer, keeps
one document per article and one posting per (term, article).

**Postings in term order.** A query reads only the postings of its terms; DuckDB (and DuckLake,
per file) skips the parts of a table whose min/max statistics exclude them, which works when
the table is stored in term order. A full build writes it so; a refresh appends its postings
(sorted among themselves) after the rest, and once more than :data:`RESORT_SHARE` of the table
was appended that way it rewrites the postings in term order — a constant cost per posting,
amortized, with no tokenizing.

**Ranking** is BM25 computed in SQL over the postings of the query's terms, with the formula
and parameters of the FTS extension's ``match_bm25`` (k1 = 1.2, b = 0.75, idf
``log10((N - df + 0.5) / (df + 0.5) + 1)``; N, average length and df over the documents in the
index), so it ranks as the extension's index over the same articles would (the tests check).

**Following new loads.** :func:`search` works on a read-only connection. When the index is
behind the articles (during a run, or on a warehouse no run has refreshed yet), the pending
articles are tokenized on the fly into a temporary index in memory (a CTE) and scored together
with the stored documents that are still current, so results always include the latest loads
and rank exactly as a fresh index would; ``on_note`` says so. ``allow_stale`` skips that step.

**On a DuckLake** the same tables hold the index (they are plain tables, which a lake takes),
refreshed the same way, and a search reads its status and postings in one snapshot. Every
refresh writes small data files and deletion files to the lake's postings table: merge and
expire them with the rest of the lake (``ducklake_merge_adjacent_files``,
``ducklake_expire_snapshots``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb

from warehouse.db import WarehouseError, retry_conflicts, transaction

__all__ = [
    "SCHEME",
    "STEMMERS",
    "Hit",
    "IndexStatus",
    "SearchError",
    "ensure_index",
    "fts_extension_path",
    "index_status",
    "load_fts",
    "query_terms",
    "refresh_search_index",
    "search",
]

# Bump when the preparation of documents changes: every stored document then counts as stale
# (the scheme is part of each document's key) and the next refresh rebuilds the index.
SCHEME = "v1: lower, split on non-letters, per-language snowball, strip accents, CJK bigrams"
DOCUMENTS = "search_documents"
POSTINGS = "search_postings"
STATE_TABLE = "search_index_state"
# BM25's parameters, as the FTS extension's match_bm25 defaults them (written as the same
# DECIMAL literals, so the arithmetic is the extension's to the last bit).
K1 = "1.2"
B = "0.75"
# Articles tokenized per statement while indexing: bounds the memory a full rebuild takes.
CHUNK_ARTICLES = 2_000
# When at least this share of the stored documents is outdated, clearing the tables and
# indexing every article beats deleting the outdated rows one by one.
FULL_REBUILD_SHARE = 0.5
# Postings are stored in term order, so a query's term filter skips most of the table (DuckDB's
# and DuckLake's min/max statistics; an unsorted scan took 5-10x longer at 10,000 articles). A
# refresh appends its own postings after the rest; once more than this share of them was
# appended so, the refresh rewrites them all in term order. Amortized that is a constant cost
# per new posting, and a query never scans more than about this share of the table whole.
RESORT_SHARE = 0.25
# Session-local work tables of a refresh (temporary: they never reach the warehouse).
_CURRENT = "search_refresh_current"
_PENDING = "search_refresh_pending"
_OUTDATED = "search_refresh_outdated"
_BATCH = "search_refresh_batch"
_SORTING = "search_refresh_sorting"

# ISO 639-1 -> the FTS extension's Snowball stemmers. Missing languages are not stemmed.
STEMMERS: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}

_SPLIT = r"[^\p{L}\p{N}]+"
_UNSPACED = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"
_SNIPPET_BEFORE = 70
_SNIPPET_AFTER = 150


class SearchError(WarehouseError):
    """Search cannot run: the FTS extension is missing or the query has no words."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked search result."""

    article_id: int
    score: float  # BM25; higher is better, comparable only within one search
    published_at: datetime | None  # UTC; first_seen_at when the page gave no date
    publisher: str | None
    title: str | None
    snippet: str  # text around the first matching word, "…" where cut
    url: str  # canonical URL
    language: str | None

    @property
    def date(self) -> date | None:
        return self.published_at.date() if self.published_at else None


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """How the stored index compares with the articles table.

    ``fresh``: every article is indexed as it is now; ``stale``: some are ``pending`` (new,
    edited, re-extracted) or some documents are ``outdated`` (their article changed or is
    gone); ``missing``: never built (or the warehouse predates migration 013)."""

    state: Literal["fresh", "stale", "missing"]
    articles: int  # articles in the warehouse now
    indexed_articles: int | None  # documents in the stored index (None: never built)
    built_at: datetime | None  # UTC: the articles' snapshot the last refresh indexed
    pending: int = 0  # articles whose current version is not indexed
    outdated: int = 0  # documents no article matches any more (edited or gone)

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"


# --- the extension ------------------------------------------------------------------------


def fts_extension_path() -> Path:
    """The ``fts.duckdb_extension`` file shipped by the ``duckdb-extension-fts`` package."""
    version = f"v{duckdb.__version__}"
    hint = f"install it with `pip install duckdb-extension-fts=={duckdb.__version__}`"
    try:
        root = resources.files("duckdb_extension_fts")
    except ModuleNotFoundError as exc:
        raise SearchError(f"the DuckDB FTS extension package is missing: {hint}") from exc
    path = Path(str(root.joinpath("extensions", version, "fts.duckdb_extension")))
    if not path.is_file():
        raise SearchError(f"no FTS extension for DuckDB {version} at {path}: {hint}")
    return path


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the FTS extension into ``con`` from the installed package, by path (no download)."""
    path = str(fts_extension_path()).replace("'", "''")
    try:
        con.execute(f"load '{path}'")
    except duckdb.Error as exc:
        raise SearchError(f"cannot load the DuckDB FTS extension from {path}: {exc}") from exc


# --- preparing documents and queries --------------------------------------------------------


def _stemmer_sql(language_sql: str) -> str:
    """SQL: the stemmer name for an ISO 639 language expression ('none' when unknown)."""
    cases = " ".join(f"when '{code}' then '{name}'" for code, name in sorted(STEMMERS.items()))
    return (
        f"(case lower(split_part(split_part(coalesce({language_sql}, ''), '-', 1), '_', 1)) "
        f"{cases} else 'none' end)"
    )


def _word_terms_sql(word: str, stemmer_sql: str) -> str:
    """SQL: the list of index terms one lower-cased word yields (accents not yet stripped)."""
    return (
        f"(case when regexp_matches({word}, '{_UNSPACED}') and length({word}) > 2 "
        f"then list_transform(range(1, length({word})), lambda i: substr({word}, i, 2)) "
        f"else [stem({word}, {stemmer_sql})] end)"
    )


def _words_sql(text_sql: str) -> str:
    return f"regexp_split_to_array(lower(coalesce({text_sql}, '')), '{_SPLIT}')"


def _terms_sql(text_sql: str, stemmer_sql: str) -> str:
    """SQL: the index terms of a text, as one space-separated string.

    Texts without unspaced scripts (nearly all) take the fast path: one stem per word.
    Accents are stripped once, after stemming (Snowball stemmers expect them).
    """
    words = _words_sql(text_sql)
    mixed = f"flatten(list_transform({words}, lambda w: {_word_terms_sql('w', stemmer_sql)}))"
    plain = f"list_transform({words}, lambda w: stem(w, {stemmer_sql}))"
    return (
        f"strip_accents(trim(array_to_string(case when regexp_matches(coalesce({text_sql}, ''), "
        f"'{_UNSPACED}') then {mixed} else {plain} end, ' ')))"
    )


def _tokens_sql(terms_sql: str) -> str:
    """SQL: the list of terms in a space-separated term string, minus the empty strings (an
    empty title, a text starting with a digit-less symbol …).

    DuckDB's FTS index split a field with its ``tokenize`` (non-letters to spaces, split on
    white space) and dropped empty tokens. Terms of :func:`_terms_sql` hold only letters and
    digits (words are split on everything else before stemming, and neither Snowball nor
    accent stripping adds other characters), so splitting on the spaces between them gives
    the same tokens at a fifth of the cost of the regular expression."""
    return f"list_filter(string_split({terms_sql}, ' '), lambda t: t <> '')"


def _document_terms_sql(where: str = "") -> str:
    """SQL: ``(article_id, terms)`` for the articles (aliased ``a`` in ``where``): the terms of
    title and text together, one list per article, duplicates kept (they are the tf)."""
    stemmer = "a.search_stemmer"
    terms = f"{_terms_sql('a.title', stemmer)} || ' ' || {_terms_sql('a.text', stemmer)}"
    return (
        f"select a.article_id, {_tokens_sql(terms)} as terms "
        f"from (select article_id, title, text, {_stemmer_sql('language')} as search_stemmer "
        f"from articles as a {where}) as a"
    )


def _key_sql(alias: str) -> str:
    """SQL: the key an article's document is stored under; it changes whenever the terms may
    (text, title or language edited, or a new preparation scheme)."""
    scheme = SCHEME.replace("'", "''")
    return (
        f"hash('{scheme}', coalesce({alias}.content_hash, ''), coalesce({alias}.title, ''), "
        f"coalesce({alias}.language, ''))"
    )


def query_terms(con: duckdb.DuckDBPyConnection, query: str, stemmers: Sequence[str]) -> list[str]:
    """The index terms of ``query`` under each of ``stemmers`` (distinct, in query order)."""
    rows = con.execute(
        f"select {_tokens_sql(_terms_sql('$query', 'stemmer'))} from ("
        "  select unnest($stemmers) as stemmer, generate_subscripts($stemmers, 1) as n"
        ") order by n",
        {"query": query, "stemmers": list(stemmers) or ["none"]},
    ).fetchall()
    seen: dict[str, None] = {}
    for (terms,) in rows:
        for term in terms or []:
            seen.setdefault(term, None)
    return list(seen)


# --- index state ---------------------------------------------------------------------------


def _has_index_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has the index tables (migration 013)."""
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name in (?, ?, ?)",
        [DOCUMENTS, POSTINGS, STATE_TABLE],
    ).fetchone()
    return bool(row and row[0] == 3)


def _current_sql() -> str:
    """SQL: the articles as they are now, keyed as their documents would be."""
    return f"select a.article_id, {_key_sql('a')} as indexed_key from articles as a"


# Join condition of a stored document (d) and an article (c) in the version it indexed.
_SAME_VERSION = "d.article_id = c.article_id and d.indexed_key = c.indexed_key"


def _status_sql() -> str:
    """SQL: articles, pending articles, outdated documents, documents."""
    return (
        f"with current as materialized ({_current_sql()}) select "
        "(select count(*) from current), "
        f"(select count(*) from current as c anti join {DOCUMENTS} as d on {_SAME_VERSION}), "
        f"(select count(*) from {DOCUMENTS} as d anti join current as c on {_SAME_VERSION}), "
        f"(select count(*) from {DOCUMENTS})"
    )


def index_status(con: duckdb.DuckDBPyConnection) -> IndexStatus:
    """Whether the stored index matches the articles table (read-only). Costs an anti-join
    of the articles' keys against the documents: no text is read."""
    if not _has_index_tables(con):
        row = con.execute("select count(*) from articles").fetchone()
        articles = int(row[0]) if row else 0
        return IndexStatus("missing", articles, None, None, pending=articles)
    counts = con.execute(_status_sql()).fetchone()
    assert counts is not None
    articles, pending, outdated, documents = (int(n) for n in counts)
    built = con.execute(f"select scheme, refreshed_at from {STATE_TABLE} limit 1").fetchone()
    if built is None:
        return IndexStatus("missing", articles, None, None, pending=pending, outdated=outdated)
    scheme, refreshed_at = built
    fresh = scheme == SCHEME and pending == 0 and outdated == 0
    return IndexStatus(
        "fresh" if fresh else "stale", articles, documents, refreshed_at, pending, outdated
    )


# --- keeping the index up to date ----------------------------------------------------------


def ensure_index(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Bring the stored index up to date with the articles, in one write transaction.

    ``con`` must be a write connection to a migrated warehouse (migration 013), a DuckDB file
    or a DuckLake. Indexes only the articles new or changed since the last refresh and drops
    the documents of changed or deleted ones; ``force`` rebuilds everything. Returns True when
    it wrote (also the first time, however empty the warehouse).
    """
    if not _has_index_tables(con):
        raise WarehouseError(
            f"the warehouse has no {DOCUMENTS} / {POSTINGS} tables: run the migrations first "
            "(warehouse.migrate.migrate)"
        )
    load_fts(con)
    if not force and index_status(con).fresh:
        return False  # read first: on a lake, even an empty write transaction commits a snapshot
    return _update_index(con, force)


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> bool:
    """Index what changed since the last refresh (the ingest side): call on the write
    connection after a run's last batch is loaded, and after re-extraction. Costs what
    changed, not the warehouse (now and then also a re-sort of the postings: see
    :data:`RESORT_SHARE`); a no-op when nothing did. Returns True when it wrote."""
    return ensure_index(con)


@dataclass(frozen=True, slots=True)
class _Refresh:
    """What one refresh did, for the state row."""

    indexed: int  # articles (re)indexed
    dropped: int  # documents dropped
    full: bool  # the whole index rebuilt
    unsorted: int  # postings now stored out of term order (appended since the last sort)


@retry_conflicts
def _update_index(con: duckdb.DuckDBPyConnection, force: bool) -> bool:
    """The refresh, as one transaction (on a lake: retried on the new snapshot when another
    writer committed first)."""
    started = time.monotonic()
    state = con.execute(f"select scheme, unsorted_postings from {STATE_TABLE} limit 1").fetchone()
    try:
        pending, outdated, documents = _mark_changes(con)
        current = state is not None and state[0] == SCHEME
        if current and not force and pending == 0 and outdated == 0:
            return False
        mostly_outdated = outdated >= FULL_REBUILD_SHARE * max(documents, 1)
        if state is None or not current or force or mostly_outdated:
            done = _rebuild(con, documents)
        else:
            done = _apply_changes(con, outdated, int(state[1]))
        _record(con, done, started)
    finally:
        for table in (_CURRENT, _PENDING, _OUTDATED, _BATCH, _SORTING):
            con.execute(f"drop table if exists {table}")
    return True


def _mark_changes(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """Fill the temporary tables of articles to index and of documents to drop; returns
    their sizes and the number of stored documents."""
    # Every article's key, hashed once for both directions.
    con.execute(f"create or replace temporary table {_CURRENT} as {_current_sql()}")
    _mark_pending(con, f"{_CURRENT} as c anti join {DOCUMENTS} as d on {_SAME_VERSION}")
    con.execute(
        f"create or replace temporary table {_OUTDATED} as select d.article_id "
        f"from {DOCUMENTS} as d anti join {_CURRENT} as c on {_SAME_VERSION}"
    )
    row = con.execute(
        f"select (select count(*) from {_PENDING}), (select count(*) from {_OUTDATED}), "
        f"(select count(*) from {DOCUMENTS})"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _mark_pending(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """The articles to index (``c.article_id``, ``c.indexed_key`` of ``source``), each with
    the chunk it is tokenized in."""
    con.execute(
        f"create or replace temporary table {_PENDING} as "
        "select c.article_id, c.indexed_key, "
        f"(row_number() over (order by c.article_id) - 1) // {CHUNK_ARTICLES} as chunk "
        f"from {source}"
    )


def _rebuild(con: duckdb.DuckDBPyConnection, documents: int) -> _Refresh:
    """Empty the index and index every article, writing the postings in term order."""
    con.execute(f"delete from {POSTINGS}")
    con.execute(f"delete from {DOCUMENTS}")
    _mark_pending(con, f"({_current_sql()}) as c")
    con.execute(f"create or replace temporary table {_SORTING} as from {POSTINGS} limit 0")
    indexed, _ = _index_pending(con, _SORTING)
    _insert_sorted(con)
    return _Refresh(indexed, documents, full=True, unsorted=0)


def _apply_changes(con: duckdb.DuckDBPyConnection, outdated: int, unsorted: int) -> _Refresh:
    """Drop the outdated documents and index the pending articles. Their postings are
    appended (in term order among themselves), which a query's term filter cannot skip the
    way it skips most of a table written in term order: past :data:`RESORT_SHARE` of the
    postings, they are all rewritten in term order."""
    _drop_outdated(con)
    indexed, appended = _index_pending(con, POSTINGS)
    unsorted += appended
    row = con.execute(f"select count(*) from {POSTINGS}").fetchone()
    if row is not None and unsorted > RESORT_SHARE * int(row[0]):
        con.execute(f"create or replace temporary table {_SORTING} as from {POSTINGS}")
        con.execute(f"delete from {POSTINGS}")
        _insert_sorted(con)
        unsorted = 0
    return _Refresh(indexed, outdated, full=False, unsorted=unsorted)


def _insert_sorted(con: duckdb.DuckDBPyConnection) -> None:
    """Write the postings gathered in the temporary table into the index, in term order (so
    each row group covers a narrow range of terms, and a query reads few of them)."""
    con.execute(
        f"insert into {POSTINGS} (term, article_id, tf) "
        f"select term, article_id, tf from {_SORTING} order by term, article_id"
    )


def _drop_outdated(con: duckdb.DuckDBPyConnection) -> None:
    """Delete the documents (and postings) of articles that changed or are gone. An article
    has at most one document, so its id alone says which rows go."""
    for table in (POSTINGS, DOCUMENTS):
        con.execute(f"delete from {table} where article_id in (select article_id from {_OUTDATED})")


def _index_pending(con: duckdb.DuckDBPyConnection, postings: str) -> tuple[int, int]:
    """Tokenize the pending articles a chunk at a time: their documents into the index, their
    postings into ``postings``. Returns how many articles and postings were written."""
    chunks = con.execute(
        f"select chunk, min(article_id), max(article_id), count(*) from {_PENDING} "
        "group by chunk order by chunk"
    ).fetchall()
    written = 0
    for chunk, first, last, _ in chunks:
        # The id range lets the scan skip the row groups of other chunks (min/max statistics)
        # instead of reading every article's text once per chunk.
        con.execute(
            f"create or replace temporary table {_BATCH} as "
            f"select t.article_id, p.indexed_key, t.terms from ("
            + _document_terms_sql(
                "where a.article_id between $first and $last and a.article_id in "
                f"(select article_id from {_PENDING} where chunk = $chunk)"
            )
            + f") as t join {_PENDING} as p using (article_id)",
            {"chunk": chunk, "first": first, "last": last},
        )
        con.execute(
            f"insert into {DOCUMENTS} (article_id, indexed_key, length) "
            f"select article_id, indexed_key, len(terms) from {_BATCH}"
        )
        inserted = con.execute(
            f"insert into {postings} (term, article_id, tf) "
            "select term, article_id, count(*) from ("
            f"  select article_id, unnest(terms) as term from {_BATCH}"
            ") group by term, article_id order by term, article_id"
        ).fetchone()
        written += int(inserted[0]) if inserted else 0
    return sum(int(c[3]) for c in chunks), written


def _record(con: duckdb.DuckDBPyConnection, done: _Refresh, started: float) -> None:
    """The state row: what the index now holds and what this refresh did."""
    con.execute(f"delete from {STATE_TABLE}")
    con.execute(
        f"insert into {STATE_TABLE} (scheme, refreshed_at, documents, indexed, dropped, "
        "full_rebuild, unsorted_postings, refresh_ms) "
        f"select ?, now(), (select count(*) from {DOCUMENTS}), ?, ?, ?, ?, ?",
        [
            SCHEME,
            done.indexed,
            done.dropped,
            done.full,
            done.unsorted,
            int((time.monotonic() - started) * 1000),
        ],
    )


# --- searching -----------------------------------------------------------------------------


def _as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _filters(
    since: date | datetime | None, publisher: str | None, language: str | None
) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        clauses.append("coalesce(a.published_at, a.first_seen_at) >= $since")
        params["since"] = _as_utc(since)
    if publisher is not None:
        clauses.append(
            "a.publisher_id in (select publisher_id from publishers "
            "where lower(name) = lower($publisher) or lower(domain) = lower($publisher))"
        )
        params["publisher"] = publisher
    if language is not None:
        clauses.append("lower(a.language) = lower($language)")
        params["language"] = language
    return " and ".join(clauses), params


def _stemmers(con: duckdb.DuckDBPyConnection, language: str | None) -> list[str]:
    if language is not None:
        row = con.execute(f"select {_stemmer_sql('$language')}", {"language": language})
        found = row.fetchone()
        return [str(found[0])] if found else ["none"]
    rows = con.execute(f"select distinct {_stemmer_sql('a.language')} from articles as a")
    return sorted(str(r[0]) for r in rows.fetchall()) or ["none"]


# The query's terms ($terms), and the postings of on-the-fly documents for them.
_QUERY_CTE = "q as (select distinct unnest($terms::varchar[]) as term)"
_FLY_POSTINGS = (
    "select article_id, term, count(*) as tf from ("
    "  select article_id, unnest(terms) as term from fly"
    ") where term in (select term from q) group by article_id, term"
)


def _stored_sources() -> list[str]:
    """CTEs ``docs`` and ``postings`` from the stored index as it is."""
    return [
        f"docs as (select article_id, length from {DOCUMENTS})",
        f"postings as (select article_id, term, tf from {POSTINGS} "
        "where term in (select term from q))",
    ]


def _merged_sources() -> list[str]:
    """CTEs ``docs`` and ``postings``: the stored documents that still match their article,
    plus the pending articles tokenized on the fly: the index a refresh would make now."""
    pending = f"select c.article_id from current as c anti join {DOCUMENTS} as d on {_SAME_VERSION}"
    return [
        f"current as materialized ({_current_sql()})",
        f"kept as materialized (select d.article_id, d.length from {DOCUMENTS} as d "
        f"semi join current as c on {_SAME_VERSION})",
        "fly as materialized (" + _document_terms_sql(f"where a.article_id in ({pending})") + ")",
        "docs as (select article_id, length from kept "
        "union all select article_id, len(terms) from fly)",
        f"postings as (select p.article_id, p.term, p.tf from {POSTINGS} as p "
        "semi join kept as k on k.article_id = p.article_id "
        f"where p.term in (select term from q) union all {_FLY_POSTINGS})",
    ]


def _fly_sources() -> list[str]:
    """CTEs ``docs`` and ``postings`` of every article tokenized on the fly (no stored index)."""
    return [
        f"fly as materialized ({_document_terms_sql()})",
        "docs as (select article_id, len(terms) as length from fly)",
        f"postings as ({_FLY_POSTINGS})",
    ]


# BM25 as the FTS extension's match_bm25 computes it (same expression, same literal types),
# over ``docs`` (article_id, length) and ``postings`` (article_id, term, tf) of the query terms.
_BM25_CTES = [
    "stats as (select count(*) as num_docs, sum(length) / count(length) as avgdl from docs)",
    "df as (select term, count(*) as df from postings group by term)",
    "scored as (select p.article_id, sum("
    "  log(((((select num_docs from stats) - df) + 0.5) / (df + 0.5)) + 1)"
    f"  * ((tf * ({K1} + 1)) / (tf + ({K1} * ((1 - {B}) + ({B} * "
    "(length / (select avgdl from stats)))))))"
    ") as score from postings as p join df using (term) join docs using (article_id) "
    "group by p.article_id)",
]


def _scored_ctes(stored: bool, use_stored_as_is: bool) -> str:
    """The ``with`` list ending in ``scored`` (article_id, score) for ``$terms``."""
    if not stored:
        sources = _fly_sources()
    elif use_stored_as_is:
        sources = _stored_sources()
    else:
        sources = _merged_sources()
    return ", ".join([_QUERY_CTE, *sources, *_BM25_CTES])


def _stale_note(status: IndexStatus, allow_stale: bool) -> str:
    """What ``on_note`` hears when the stored index is not fresh."""
    if status.state == "missing":
        return (
            f"the warehouse has no search index yet; searching a temporary index of all "
            f"{status.articles} articles, built in memory. The next ingest run builds the "
            "stored index."
        )
    when = f"{status.built_at:%Y-%m-%d %H:%M} UTC" if status.built_at else "an earlier run"
    behind = f"{status.pending} new or changed articles"
    if status.outdated:
        behind += f", {status.outdated} indexed articles changed or removed"
    if allow_stale:
        return (
            f"using the stored search index as refreshed at {when}: {behind} since "
            "then are searched as they were indexed, or not at all"
        )
    return (
        f"the search index is behind the articles ({behind} since its refresh at {when}); "
        "searching it together with a temporary index of those articles, built in memory. "
        "The next ingest run refreshes the stored index."
    )


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    since: date | datetime | None = None,
    publisher: str | None = None,
    language: str | None = None,
    limit: int = 10,
    *,
    allow_stale: bool = False,
    on_note: Callable[[str], None] | None = None,
) -> list[Hit]:
    """Articles matching ``query`` ranked by BM25 over title and text, best first.

    ``since`` keeps articles published (or, undated, first seen) on or after that date or
    instant (naive values are UTC); ``publisher`` is a publisher's name or domain (any case);
    ``language`` an ISO 639-1 code, whose stemmer alone then prepares the query. Filters
    narrow the hits, not the collection: scores are over the whole index. Works on a
    read-only connection. When the stored index is behind the articles, the pending articles
    are indexed in memory for this search and ``on_note`` is told; ``allow_stale`` uses the
    stored index as it is instead (articles loaded or edited since its refresh are missed).
    """
    if limit < 1:
        raise SearchError("limit must be at least 1")
    load_fts(con)
    # One transaction, so the index status and the ranking see the same snapshot (on a lake,
    # writers may commit between two statements); inside the caller's, that one is it.
    with transaction(con, take_token=False):
        terms = query_terms(con, query, _stemmers(con, language))
        if not terms:
            raise SearchError(f"the query {query!r} has no words to search for")
        status = index_status(con)
        stored = status.indexed_articles is not None
        as_is = status.fresh or (allow_stale and status.state == "stale")
        if not status.fresh and on_note is not None:
            on_note(_stale_note(status, allow_stale and stored))
        rows = _ranked_rows(
            con, _scored_ctes(stored, as_is), terms, limit, since, publisher, language
        )
    wanted = set(terms)
    hits = []
    for article_id, score, published, publisher_name, title, text, url, lang, words, wt in rows:
        hits.append(
            Hit(
                article_id=int(article_id),
                score=round(float(score), 4),
                published_at=published,
                publisher=publisher_name,
                title=title,
                snippet=_snippet(text or "", words or [], wt or [], wanted),
                url=url,
                language=lang,
            )
        )
    return hits


def _ranked_rows(
    con: duckdb.DuckDBPyConnection,
    scored_ctes: str,
    terms: list[str],
    limit: int,
    since: date | datetime | None,
    publisher: str | None,
    language: str | None,
) -> list[tuple[Any, ...]]:
    """The top ``limit`` scored articles that pass the filters, with what a Hit shows."""
    where, params = _filters(since, publisher, language)
    params |= {"terms": terms, "limit": limit}
    words_sql = _words_sql("t.text")
    word_terms_sql = (
        f"strip_accents(array_to_string({_word_terms_sql('w', _stemmer_sql('t.language'))}, ' '))"
    )
    return con.execute(
        f"with {scored_ctes}, top as ("
        "  select a.article_id, s.score, coalesce(a.published_at, a.first_seen_at) as dated,"
        "    p.name as publisher, a.title, a.text, a.canonical_url, a.language"
        "  from scored as s join articles as a using (article_id)"
        "  left join publishers as p on p.publisher_id = a.publisher_id"
        f"  where s.score is not null {'and ' + where if where else ''}"
        "  order by s.score desc, a.article_id limit $limit"
        ") "
        "select t.article_id, t.score, t.dated, t.publisher, t.title, t.text, t.canonical_url, "
        f"t.language, {words_sql}, list_transform({words_sql}, lambda w: {word_terms_sql}) "
        "from top as t order by t.score desc, t.article_id",
        params,
    ).fetchall()


def _snippet(text: str, words: list[str], word_terms: list[str], wanted: set[str]) -> str:
    """About 220 characters of ``text`` around its first word whose terms are searched for."""
    start = 0
    for word, joined in zip(words, word_terms, strict=False):
        terms = joined.split()
        matched = [t for t in terms if t in wanted]
        if not matched:
            continue
        needle = word if len(terms) == 1 else matched[0]  # a bigram of an unspaced word
        pattern = re.escape(needle)
        if len(terms) == 1:
            pattern = rf"(?<![^\W_]){pattern}(?![^\W_])"
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            start = found.start()
            break
    left = max(0, start - _SNIPPET_BEFORE)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    right = min(len(text), start + _SNIPPET_AFTER)
    if right < len(text):
        space = text.rfind(" ", start, right)
        right = space if space > start else right
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")
