"""Search index refresh: the incremental index (``warehouse.search``) against the FTS snapshot.

Loads the corpus articles (their reference titles and texts from ``articles/manifest.jsonl``;
no extraction) replicated under distinct URLs into a fresh migrated DuckDB file per size, with
``warehouse.load.load_pages``, then times:

- ``old full``: the index as it was before migration 013, DuckDB's FTS extension: prepare
  every article's terms into a table and ``pragma create_fts_index`` over it, in one
  transaction — what every refresh cost, whatever had changed;
- ``new full``: ``ensure_index(force=True)``, the incremental index built from nothing (the
  first refresh of a warehouse, or after a new ``search.SCHEME``);
- ``new +100``: ``refresh_search_index`` after loading 100 more articles (what a run's refresh
  costs now), after editing 100 (new texts: their documents are replaced), and after loading
  100 more when that refresh also rewrites all postings in term order (which refreshes do
  once a quarter of the postings were appended since: ``search.RESORT_SHARE``);
- queries: ``search()`` (ten hits with snippets) on the fresh index, on an index 100 articles
  behind (those tokenized on the fly), and the ranking alone — the new index's BM25 against
  the FTS index's ``match_bm25`` over the same articles. Medians of a few runs.

    .venv/bin/python benchmarks/search_refresh.py [--sizes 2000,10000] [--added 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import article_manifest, corpus_root, write_result
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import ExtractedArticle, FetchLog
from transforms.text import content_hash
from transforms.urls import url_key
from warehouse import search
from warehouse.db import connect
from warehouse.load import SourceRow, load_pages, register_sources, start_run
from warehouse.migrate import migrate

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
SIZES = (2_000, 10_000)
ADDED = 100
LOAD_BATCH = 2_000
QUERIES = ("government election", "Regierung Wahl", "police said on Monday", "energy prices")
QUERY_RUNS = 3
OLD_TABLE = "bench_fts_documents"  # the FTS index of the old scheme: fts_main_bench_fts_documents
FEED = "https://bench.example/feed"


@dataclass(frozen=True, slots=True)
class Base:
    title: str
    text: str
    language: str | None


def corpus_articles(root: Path) -> list[Base]:
    rows = article_manifest(root)
    return [
        Base(r["expected_title"] or "", r["expected_text"], r.get("language"))
        for r in rows
        if r.get("expected_text")
    ]


def make_pages(
    bases: list[Base], start: int, count: int, feed_id: int, publisher_id: int, edit: str = ""
) -> list[PageResult]:
    """Copies ``start``..``start + count`` of the corpus articles, each under its own URL (and
    with its own last line, so no two copies have the same text); ``edit`` rewrites them."""
    pages = []
    for i in range(start, start + count):
        base = bases[i % len(bases)]
        url = f"https://bench.example/{i // 1000}/{i}-story.html"
        text = f"{edit}{base.text}\n(Ref {i}.)"
        article = ExtractedArticle(
            url=url,
            canonical_url=url,
            title=base.title,
            text=text,
            language=base.language,
            published_at=T0 - timedelta(minutes=i),
            modified_at=None,
            date_source="jsonld",
            word_count=len(text.split()),
            content_hash=content_hash(text),
            extractor_version="bench",
        )
        fetch = FetchLog(url=url, kind="page", requested_at=T0, status=200, url_key=url_key(url))
        pages.append(PageResult(fetch, article, url_key(url), feed_id, publisher_id))
    return pages


def load(con: duckdb.DuckDBPyConnection, pages: list[PageResult], run_id: str) -> None:
    load_pages(con, run_id, fetches_frame([p.fetch for p in pages]), article_frames(pages, T0))


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def timed_cpu(call: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds (the process's, all DuckDB threads: steadier than wall time on a
    shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def old_full_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """The refresh before migration 013: every article's terms, then the FTS index over them."""
    terms = search._terms_sql  # the same preparation of terms the new index uses
    con.execute("begin transaction")
    con.execute(
        f"create or replace table {OLD_TABLE} as select a.article_id, "
        f"{terms('a.title', 'a.search_stemmer')} as title, "
        f"{terms('a.text', 'a.search_stemmer')} as text "
        f"from (select *, {search._stemmer_sql('language')} as search_stemmer from articles) a"
    )
    con.execute(
        f"pragma create_fts_index('{OLD_TABLE}', 'article_id', 'title', 'text', "
        f"stemmer='none', stopwords='none', ignore='{search._SPLIT}', strip_accents=0, "
        "lower=0, overwrite=1)"
    )
    con.execute(f"drop table {OLD_TABLE}")
    con.execute("commit")


def old_ranking(con: duckdb.DuckDBPyConnection, terms: list[str]) -> int:
    schema = f"fts_main_{OLD_TABLE}"
    row = con.execute(
        f"select count(*) from (select {schema}.match_bm25(d.name, $terms) as score "
        f"from {schema}.docs as d) where score is not null",
        {"terms": " ".join(terms)},
    ).fetchone()
    return int(row[0]) if row else 0


def new_ranking(con: duckdb.DuckDBPyConnection, terms: list[str]) -> int:
    row = con.execute(
        f"with {search._scored_ctes(True, True)} select count(*) from scored", {"terms": terms}
    ).fetchone()
    return int(row[0]) if row else 0


def median_ms(call: Callable[[], object]) -> float:
    return round(statistics.median(timed(call) for _ in range(QUERY_RUNS)) * 1000, 1)


def query_times(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Median milliseconds per query, averaged over :data:`QUERIES`: ``search()`` on the fresh
    index, and the ranking alone from both indexes."""
    stemmers = search._stemmers(con, None)
    results: dict[str, list[float]] = {"search_ms": [], "new_ranking_ms": [], "old_ranking_ms": []}
    for query in QUERIES:
        terms = search.query_terms(con, query, stemmers)
        results["search_ms"].append(median_ms(lambda q=query: search.search(con, q)))
        results["new_ranking_ms"].append(median_ms(lambda t=terms: new_ranking(con, t)))
        results["old_ranking_ms"].append(median_ms(lambda t=terms: old_ranking(con, t)))
    return {k: round(statistics.mean(v), 1) for k, v in results.items()}


def run_size(bases: list[Base], size: int, added: int, folder: Path) -> dict[str, Any]:
    con = connect(folder / f"search-{size}.duckdb")
    migrate(con)
    feed_id, publisher_id = register_sources(
        con, [SourceRow("Bench", "bench.example", "GB", "en", FEED)]
    )[FEED]
    start_run(con, "bench", "ingest", T0)
    for start in range(0, size, LOAD_BATCH):
        load(
            con,
            make_pages(bases, start, min(LOAD_BATCH, size - start), feed_id, publisher_id),
            "bench",
        )
    search.load_fts(con)  # before the clock starts: loading it is no part of a refresh
    result: dict[str, Any] = {"articles": size}
    result["new_full_s"], result["new_full_cpu_s"] = timed_cpu(
        lambda: search.ensure_index(con, force=True)
    )
    postings = con.execute("select count(*) from search_postings").fetchone()
    result["postings"] = int(postings[0]) if postings else 0
    result["status_ms"] = median_ms(lambda: search.index_status(con))
    # A run loads `added` articles: the stale index searches them on the fly, then a refresh.
    load(con, make_pages(bases, size, added, feed_id, publisher_id), "bench")
    result["stale_search_ms"] = round(
        statistics.mean(median_ms(lambda q=q: search.search(con, q)) for q in QUERIES), 1
    )
    result["new_added_s"], result["new_added_cpu_s"] = timed_cpu(
        lambda: search.refresh_search_index(con)
    )
    edits = make_pages(bases, 0, added, feed_id, publisher_id, edit="Update: revised. ")
    load(con, edits, "bench")
    result["new_edited_s"], result["new_edited_cpu_s"] = timed_cpu(
        lambda: search.refresh_search_index(con)
    )
    # The occasional refresh that also rewrites every posting in term order (search.RESORT_SHARE).
    load(con, make_pages(bases, size + added, added, feed_id, publisher_id), "bench")
    share, search.RESORT_SHARE = search.RESORT_SHARE, 0.0
    try:
        result["new_added_resorted_s"], result["new_added_resorted_cpu_s"] = timed_cpu(
            lambda: search.refresh_search_index(con)
        )
    finally:
        search.RESORT_SHARE = share
    result["old_full_s"], result["old_full_cpu_s"] = timed_cpu(lambda: old_full_rebuild(con))
    result |= query_times(con)
    con.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--added", type=int, default=ADDED)
    args = parser.parse_args()
    bases = corpus_articles(corpus_root())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(run_size(bases, size, args.added, Path(tmp)))
    header = (
        f"{'articles':>8} {'postings':>10} {'old full s (cpu)':>17} {'new full s (cpu)':>17} "
        f"{'+' + str(args.added) + ' s (cpu)':>15} {'edit ' + str(args.added) + ' s':>10} "
        f"{'+resort s':>9} {'status ms':>9} {'search ms':>9} {'stale ms':>9} {'rank ms':>8} "
        f"{'old rank':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['articles']:>8} {r['postings']:>10} "
            f"{r['old_full_s']:>8.2f} ({r['old_full_cpu_s']:>6.2f}) "
            f"{r['new_full_s']:>8.2f} ({r['new_full_cpu_s']:>6.2f}) "
            f"{r['new_added_s']:>6.3f} ({r['new_added_cpu_s']:>6.3f}) "
            f"{r['new_edited_s']:>10.3f} {r['new_added_resorted_s']:>9.3f} "
            f"{r['status_ms']:>9.1f} {r['search_ms']:>9.1f} {r['stale_search_ms']:>9.1f} "
            f"{r['new_ranking_ms']:>8.1f} {r['old_ranking_ms']:>8.1f}"
        )
    print(
        f"old full = the FTS snapshot rebuilt (every refresh before migration 013); +{args.added} "
        f"/ edit {args.added} = refresh_search_index after loading / editing {args.added} articles "
        "(+resort: with the occasional rewrite in term order); search = search() with snippets, "
        f"stale = the same {args.added} articles behind; rank = BM25 alone (old: match_bm25)"
    )
    payload = {"corpus_articles": len(bases), "added": args.added, "results": results}
    print(f"wrote {write_result('search_refresh', payload)}")


if __name__ == "__main__":
    main()
