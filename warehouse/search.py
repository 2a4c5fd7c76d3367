"""Full-text search over article titles and texts: DuckDB's FTS extension, BM25 ranking.

The extension comes from the PyPI package ``duckdb-extension-fts`` (built for the pinned DuckDB)
and is loaded from that package's folder by path (:func:`load_fts`): nothing is downloaded at
run time, and it works offline.

**Multilingual tokens.** One FTS index has one stemmer, but news comes in many languages. So the
index is built over prepared documents (``search_documents``, dropped after the build): every
title and text is lower-cased, split on anything that is not a letter or digit, each word
stemmed with the Snowball stemmer of *that article's* language (``STEMMERS``; ``none`` for
languages without one, such as Polish or Japanese) and then stripped of accents. Words written
without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) become overlapping character
bigrams. The FTS index itself then runs with ``stemmer='none'``, no stop words (BM25's IDF
already gives common words little weight, and an English list would drop real words of other
languages: "die", "also", "will"), and no further lower-casing or accent stripping. A query is
prepared the same way with the stemmers of the languages in the warehouse (or of ``language=``)
and the variants are OR-ed: "ferries" finds an English "ferry", "Fähren" a German "Fähre".

**Following new loads.** The FTS index is a snapshot. ``search_index_state`` (migration 005)
records what it was built from: the article count, the largest ``article_id`` and a fingerprint
(``bit_xor`` of ``hash(article_id, content_hash, title, language)``), so new articles, edits and
re-extractions all make it stale. :func:`refresh_search_index` rebuilds it when stale; the
ingest and re-extraction flows call it once after a run's last batch, on their write
connection. :func:`search` works on a read-only connection: with a current index it ranks
against the stored index; when the index is stale or missing (during a run, or on a warehouse
no run has refreshed yet) it builds a temporary index in an in-memory database from the
current articles, so results always include the latest loads, and says so through ``on_note``.

**On a DuckLake** there is no stored index: DuckDB's FTS index is a schema of tables and macros
that DuckLake cannot hold (it takes tables and views only). :func:`refresh_search_index` does
nothing there, and every :func:`search` builds the temporary index in memory (the lake's
articles, filtered first by ``since`` / ``publisher`` / ``language``), saying so.
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

from warehouse.db import WarehouseError, is_lake

__all__ = [
    "INDEX_SCHEMA",
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

# Bump when the preparation of documents changes: stored indexes then count as stale.
SCHEME = "v1: lower, split on non-letters, per-language snowball, strip accents, CJK bigrams"
DOCS_TABLE = "search_documents"
INDEX_SCHEMA = f"fts_main_{DOCS_TABLE}"
STATE_TABLE = "search_index_state"

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
_NO_NETWORK: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
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
    state: Literal["fresh", "stale", "missing"]
    articles: int  # articles in the warehouse now
    indexed_articles: int | None  # articles when the stored index was built
    built_at: datetime | None  # UTC

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


def _documents_sql(source: str, where: str = "") -> str:
    """SQL: one prepared document per article of ``source`` (aliased ``a`` in ``where``)."""
    return (
        "select a.article_id, "
        f"{_terms_sql('a.title', 'a.search_stemmer')} as title, "
        f"{_terms_sql('a.text', 'a.search_stemmer')} as text "
        f"from (select *, {_stemmer_sql('language')} as search_stemmer from {source}) as a "
        f"{where}"
    )


def _create_index(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"pragma create_fts_index('{DOCS_TABLE}', 'article_id', 'title', 'text', "
        "stemmer='none', stopwords='none', "
        f"ignore='{_SPLIT}', strip_accents=0, lower=0, overwrite=1)"
    )


def query_terms(con: duckdb.DuckDBPyConnection, query: str, stemmers: Sequence[str]) -> list[str]:
    """The index terms of ``query`` under each of ``stemmers`` (distinct, in query order)."""
    rows = con.execute(
        f"select {_terms_sql('$query', 'stemmer')} from ("
        "  select unnest($stemmers) as stemmer, generate_subscripts($stemmers, 1) as n"
        ") order by n",
        {"query": query, "stemmers": list(stemmers) or ["none"]},
    ).fetchall()
    seen: dict[str, None] = {}
    for (terms,) in rows:
        for term in (terms or "").split():
            seen.setdefault(term, None)
    return list(seen)


# --- index state ---------------------------------------------------------------------------


def _fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    row = con.execute(
        "select count(*), coalesce(max(article_id), 0), "
        "coalesce(bit_xor(hash(article_id, content_hash, coalesce(title, ''), "
        "coalesce(language, ''))), 0) from articles"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _exists(con: duckdb.DuckDBPyConnection, kind: Literal["table", "schema"], name: str) -> bool:
    if kind == "table":
        sql = (
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'main' and table_name = ?"
        )
    else:
        sql = (
            "select count(*) from duckdb_schemas() where database_name = current_database() "
            "and schema_name = ?"
        )
    row = con.execute(sql, [name]).fetchone()
    return bool(row and row[0])


def index_status(con: duckdb.DuckDBPyConnection) -> IndexStatus:
    """Whether the stored index matches the articles table (read-only; cheap)."""
    articles, max_id, fingerprint = _fingerprint(con)
    if not _exists(con, "table", STATE_TABLE) or not _exists(con, "schema", INDEX_SCHEMA):
        return IndexStatus("missing", articles, None, None)
    row = con.execute(
        f"select scheme, built_at, articles, max_article_id, fingerprint from {STATE_TABLE} "
        "order by built_at desc limit 1"
    ).fetchone()
    if row is None:
        return IndexStatus("missing", articles, None, None)
    scheme, built_at, indexed, indexed_max, indexed_fingerprint = row
    fresh = scheme == SCHEME and (indexed, indexed_max, indexed_fingerprint) == (
        articles,
        max_id,
        fingerprint,
    )
    return IndexStatus("fresh" if fresh else "stale", articles, int(indexed), built_at)


def ensure_index(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Build (or rebuild) the stored FTS index when it is missing or stale, in one transaction.

    ``con`` must be a write connection to a migrated warehouse (migration 005). Returns True
    when it built. Cost: one pass over every article's title and text (the FTS index is not
    incremental), so call it once per run, not per batch.
    """
    if is_lake(con):
        raise SearchError(
            "a DuckLake keeps no stored search index (DuckDB's FTS index is tables and macros "
            "in a schema of its own, which DuckLake cannot hold); `newsdesk search` builds one "
            "in memory for each search"
        )
    if not _exists(con, "table", STATE_TABLE):
        raise WarehouseError(
            f"the warehouse has no {STATE_TABLE} table: run the migrations first "
            "(warehouse.migrate.migrate)"
        )
    load_fts(con)
    if not force and index_status(con).fresh:
        return False
    started = time.monotonic()
    con.execute("begin transaction")
    try:
        articles, max_id, fingerprint = _fingerprint(con)
        con.execute(f"create or replace table {DOCS_TABLE} as {_documents_sql('articles')}")
        _create_index(con)
        con.execute(f"drop table {DOCS_TABLE}")  # the index keeps its own copy of the terms
        con.execute(f"delete from {STATE_TABLE}")
        con.execute(
            f"insert into {STATE_TABLE} values (?, now(), ?, ?, ?, ?)",
            [SCHEME, articles, max_id, fingerprint, int((time.monotonic() - started) * 1000)],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return True


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild the search index if the articles changed since it was built (the ingest side).

    Call on the write connection after a run's last batch is loaded (and after re-extraction);
    a no-op when nothing changed — and on a DuckLake, which keeps no stored index. Returns True
    when it rebuilt.
    """
    if is_lake(con):
        return False
    return ensure_index(con)


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


def _temporary_scores(
    con: duckdb.DuckDBPyConnection, terms: str, where: str, params: dict[str, Any]
) -> tuple[list[int], list[float]]:
    """Build an index of the current (filtered) articles in memory and score ``terms``."""
    reader = con.execute(
        _documents_sql("articles", f"where {where}" if where else ""), params
    ).to_arrow_reader()
    mem = duckdb.connect(":memory:", config=_NO_NETWORK)
    try:
        load_fts(mem)
        mem.register("prepared", reader)
        mem.execute(f"create table {DOCS_TABLE} as select * from prepared")
        mem.unregister("prepared")
        _create_index(mem)
        rows = mem.execute(
            f"select article_id, score from (select d.name as article_id, "
            f"{INDEX_SCHEMA}.match_bm25(d.name, $terms) as score from {INDEX_SCHEMA}.docs as d) "
            "where score is not null",
            {"terms": terms},
        ).fetchall()
    finally:
        mem.close()
    return [int(r[0]) for r in rows], [float(r[1]) for r in rows]


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
    ``language`` an ISO 639-1 code, whose stemmer alone then prepares the query. Works on a
    read-only connection; when the stored index is stale or missing, a temporary one is built
    in memory and ``on_note`` is told why. ``allow_stale`` uses a stale stored index instead
    (faster on a large warehouse; articles loaded or edited since its build are missed).
    """
    if limit < 1:
        raise SearchError("limit must be at least 1")
    load_fts(con)
    terms = query_terms(con, query, _stemmers(con, language))
    if not terms:
        raise SearchError(f"the query {query!r} has no words to search for")
    term_string = " ".join(terms)
    where, params = _filters(since, publisher, language)
    status = index_status(con)
    use_stored = status.fresh or (allow_stale and status.state == "stale")
    if use_stored and not status.fresh and on_note is not None:
        on_note(
            f"using the stored search index from {status.built_at:%Y-%m-%d %H:%M} UTC "
            f"({status.indexed_articles} articles; {status.articles} now): newer articles "
            "and edits are not searched"
        )
    if use_stored:
        scored = (
            f"select d.name as article_id, {INDEX_SCHEMA}.match_bm25(d.name, $terms) as score "
            f"from {INDEX_SCHEMA}.docs as d"
        )
        params["terms"] = term_string
    else:
        if on_note is not None:
            lake = is_lake(con)
            if lake:
                why = "a DuckLake keeps no stored search index"
            elif status.state == "missing":
                why = "the warehouse has no search index yet"
            else:
                why = (
                    f"the articles changed since the search index was built "
                    f"({status.built_at:%Y-%m-%d %H:%M} UTC, {status.indexed_articles} articles; "
                    f"{status.articles} now)"
                )
            later = "" if lake else " The next ingest run refreshes the stored index."
            on_note(f"{why}; searching a temporary index built in memory.{later}")
        ids, scores = _temporary_scores(con, term_string, where, dict(params))
        scored = "select unnest($ids::bigint[]) as article_id, unnest($scores::double[]) as score"
        params |= {"ids": ids, "scores": scores}
    params["limit"] = limit
    words_sql = _words_sql("t.text")
    word_terms_sql = (
        f"strip_accents(array_to_string({_word_terms_sql('w', _stemmer_sql('t.language'))}, ' '))"
    )
    rows = con.execute(
        f"with scored as ({scored}), top as ("
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
