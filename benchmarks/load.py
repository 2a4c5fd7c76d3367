"""Warehouse load speed: article rows per second from frames into DuckDB.

Extracts ~200 real pages of the corpus once (``transforms.extract.extract_article``), then
replicates the articles under distinct URLs / url_keys (each copy with the authors, tags,
images, links and removed spans extracted from its page, and its FetchLog row) and times, into
a fresh migrated DuckDB file per scenario:

- frame building: ``fetches_frame`` + ``article_frames`` for each batch;
- the load: ``warehouse.load.load_pages`` for each batch (one transaction per call);

for three passes over the same pages: ``new`` (empty warehouse), ``unchanged`` (the same pages
again: the idempotent path, only ``last_seen_at`` moves) and ``updated`` (the same pages with
changed text: new versions, child tables replaced). Target: 20,000 article rows/s loading
batches of 5,000 pages.

The reference, timed in the same run on the same batches: DuckDB's plain ``insert into t select
* from frame`` of every frame of the batch (fetches, articles and each child table, one
transaction per batch) into tables without keys or indexes, in a file of its own. That is what
DuckDB itself costs for these rows on this machine; ``load_pages`` adds what makes a load safe
to repeat (status per article, ids, child rows replaced) and a second copy of every new text,
in ``article_versions``, which the reference does not write.

    .venv/bin/python benchmarks/load.py [--pages 200] [--scenarios 1000:20000,5000:50000,...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import article_manifest, corpus_root, write_result
from transforms.extract import extract_article
from transforms.frames import PageResult, article_frames, fetches_frame
from transforms.records import ExtractedArticle, FetchLog
from transforms.text import content_hash
from transforms.urls import url_key
from warehouse.db import connect
from warehouse.load import load_pages, start_run
from warehouse.migrate import migrate

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
TARGET_ARTICLES_PER_S = 20_000
TARGET_BATCH = 5_000
# (pages per load_pages call, pages in all)
SCENARIOS = ((1_000, 20_000), (5_000, 50_000), (20_000, 20_000))
PASSES = ("new", "unchanged", "updated")
CHILD_TABLES = ("authors", "tags", "images", "links", "removed")


@dataclass(frozen=True, slots=True)
class Base:
    """One extracted corpus page: the article and what its fetch looked like."""

    article: ExtractedArticle
    host: str
    html_bytes: int


def extract_corpus(root: Path, limit: int) -> tuple[list[Base], float]:
    """Extract the first ``limit`` pages of the corpus; keep the kept articles."""
    folder = root / "articles"
    rows = article_manifest(root)
    bases = []
    started = time.perf_counter()
    for row in rows[:limit]:
        html = (folder / row["html_file"]).read_bytes()
        result = extract_article(
            html, row["url"], content_type="text/html; charset=utf-8", fetched_at=T0
        )
        if isinstance(result, ExtractedArticle):
            host = urlsplit(row["url"]).hostname or "news.example"
            bases.append(Base(result, host, len(html)))
    return bases, time.perf_counter() - started


def make_pages(bases: list[Base], start: int, count: int, variant: str) -> list[PageResult]:
    """Copies ``start``..``start + count`` of the corpus articles, each under its own URL.

    ``variant`` "new"/"unchanged" give the same text per copy (distinct between copies);
    "updated" gives each copy a changed text (so a new content hash)."""
    pages = []
    for i in range(start, start + count):
        base = bases[i % len(bases)]
        a = base.article
        url = f"https://{base.host}/bench/{i // 1000}/{i}-story.html"
        key = url_key(url)
        text = f"{a.text}\n(Ref {i}.)"
        if variant == "updated":
            text = f"Update: this story was revised (copy {i}).\n{text}"
        article = replace(
            a,
            url=url,
            canonical_url=url,
            text=text,
            word_count=len(text.split()),
            content_hash=content_hash(text),
        )
        feed_id = 1 + i % 200
        fetch = FetchLog(
            url=url,
            kind="page",
            requested_at=T0 + timedelta(milliseconds=50 * i),
            final_url=url,
            status=200,
            bytes=base.html_bytes,
            elapsed_ms=80 + i % 400,
            content_type="text/html; charset=utf-8",
            charset=a.charset,
            charset_source=a.charset_source,
            feed_id=feed_id,
            url_key=key,
            robots_decision="allowed",
            discovered_via="feed",
        )
        pages.append(PageResult(fetch, article, key, feed_id, 1 + feed_id // 4))
    return pages


def batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(size, total - start)


def plain_insert(con: Any, fetches: Any, frames: Any) -> tuple[float, float]:
    """Seconds for DuckDB's own insert of every frame of a batch into keyless tables (one
    transaction), and for the articles frame alone."""
    tables = {"fetches": fetches, "articles": frames.articles}
    tables |= {name: getattr(frames, name) for name in CHILD_TABLES}
    articles_s = 0.0
    started = time.perf_counter()
    con.execute("begin")
    for name, frame in tables.items():
        con.register("incoming", frame)
        con.execute(f"create table if not exists plain_{name} as select * from incoming limit 0")
        t = time.perf_counter()
        con.execute(f"insert into plain_{name} select * from incoming")
        if name == "articles":
            articles_s = time.perf_counter() - t
        con.unregister("incoming")
    con.execute("commit")
    return time.perf_counter() - started, articles_s


def run_scenario(bases: list[Base], batch: int, total: int, folder: Path) -> list[dict[str, Any]]:
    con = connect(folder / f"load-{batch}-{total}.duckdb")
    migrate(con)
    plain = connect(folder / f"plain-{batch}-{total}.duckdb")
    results = []
    for n, variant in enumerate(PASSES):
        run_id = f"bench-{variant}"
        start_run(con, run_id, "ingest", T0)
        seen_at = T0 + timedelta(hours=n)
        frame_s = load_s = load_cpu = plain_s = plain_articles_s = 0.0
        calls: list[float] = []
        rows = dict.fromkeys(("fetches", "articles", *CHILD_TABLES), 0)
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for start, count in batches(total, batch):
            pages = make_pages(bases, start, count, variant)
            t = time.perf_counter()
            fetches = fetches_frame([p.fetch for p in pages])
            frames = article_frames(pages, seen_at)
            t1, c1 = time.perf_counter(), time.process_time()
            loaded = load_pages(con, run_id, fetches, frames)
            t2, c2 = time.perf_counter(), time.process_time()
            load_cpu += c2 - c1
            frame_s += t1 - t
            load_s += t2 - t1
            calls.append(t2 - t1)
            if variant == "new":
                whole, articles_only = plain_insert(plain, fetches, frames)
                plain_s += whole
                plain_articles_s += articles_only
            rows["fetches"] += fetches.height
            rows["articles"] += frames.articles.height
            for name in CHILD_TABLES:
                rows[name] += getattr(frames, name).height
            counts["new"] += loaded.new
            counts["updated"] += loaded.updated
            counts["unchanged"] += loaded.unchanged
        if counts[variant] != total:
            sys.exit(f"batch {batch}, pass {variant}: load_pages reported {counts}")
        all_rows = sum(rows.values())
        results.append(
            {
                "batch": batch,
                "pages": total,
                "pass": variant,
                "calls": len(calls),
                "rows": rows,
                "counts": counts,
                "frames_s": round(frame_s, 3),
                "frames_articles_per_s": round(total / frame_s),
                "load_s": round(load_s, 3),
                "load_articles_per_s": round(total / load_s),
                "load_rows_per_s": round(all_rows / load_s),
                # CPU seconds of the process (all DuckDB threads) while loading: steadier than
                # wall time on a shared machine.
                "load_cpu_s": round(load_cpu, 3),
                "call_median_s": round(statistics.median(calls), 3),
                # DuckDB's plain insert of the same frames (the new pass only: it is the same
                # rows every pass).
                **(
                    {
                        "plain_insert_s": round(plain_s, 3),
                        "plain_insert_articles_per_s": round(total / plain_s),
                        "plain_insert_article_rows_per_s": round(total / plain_articles_s),
                        "load_vs_plain_insert": round(plain_s / load_s, 3),
                    }
                    if variant == "new"
                    else {}
                ),
                "call_max_s": round(max(calls), 3),
                # Whether a load costs more as the warehouse grows (it did while the growing
                # tables had keys: DuckDB rewrote their indexes at every checkpoint).
                "calls_first_third_mean_s": round(
                    statistics.mean(calls[: max(1, len(calls) // 3)]), 3
                ),
                "calls_last_third_mean_s": round(
                    statistics.mean(calls[-max(1, len(calls) // 3) :]), 3
                ),
            }
        )
    stored = {
        table: con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
        for table in (
            "fetches",
            "articles",
            "article_versions",
            "article_authors",
            "article_tags",
            "images",
            "links",
            "removed_spans",
        )
    }
    con.close()
    plain.close()
    for r in results:
        r["stored_after_all_passes"] = stored
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="corpus pages to extract")
    parser.add_argument(
        "--scenarios",
        default=",".join(f"{b}:{t}" for b, t in SCENARIOS),
        help="batch:total pairs, comma-separated",
    )
    args = parser.parse_args()
    scenarios = [tuple(int(x) for x in s.split(":")) for s in args.scenarios.split(",")]
    bases, extract_s = extract_corpus(corpus_root(), args.pages)
    if not bases:
        sys.exit("no article extracted from the corpus")
    per_article = {
        name: round(sum(len(getattr(b.article, field)) for b in bases) / len(bases), 1)
        for name, field in (
            ("authors", "authors"),
            ("tags", "tags"),
            ("images", "images"),
            ("links", "links"),
            ("removed", "removed"),
        )
    }
    mean_chars = round(sum(len(b.article.text) for b in bases) / len(bases))
    print(
        f"{len(bases)} articles extracted from {args.pages} corpus pages in {extract_s:.1f} s; "
        f"per article: {mean_chars} text chars, {per_article}"
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for batch, total in scenarios:
            results += run_scenario(bases, batch, total, Path(tmp))
    header = (
        f"{'batch':>6} {'pages':>7} {'pass':<10} {'calls':>5} {'rows':>8} "
        f"{'frames s':>9} {'art/s':>8} {'load s':>8} {'art/s':>8} {'rows/s':>9} "
        f"{'call p50':>9} {'call max':>9} {'1st/3':>6} {'last/3':>6} {'cpu s':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['batch']:>6} {r['pages']:>7} {r['pass']:<10} {r['calls']:>5} "
            f"{sum(r['rows'].values()):>8} {r['frames_s']:>9.2f} "
            f"{r['frames_articles_per_s']:>8} {r['load_s']:>8.2f} "
            f"{r['load_articles_per_s']:>8} {r['load_rows_per_s']:>9} "
            f"{r['call_median_s']:>9.3f} {r['call_max_s']:>9.3f} "
            f"{r['calls_first_third_mean_s']:>6.2f} {r['calls_last_third_mean_s']:>6.2f} "
            f"{r['load_cpu_s']:>7.2f}"
        )
    target = [r for r in results if r["batch"] == TARGET_BATCH]
    worst = min((r["load_articles_per_s"] for r in target), default=None)
    print(
        f"rows = fetches + articles + authors + tags + images + links + removed spans in the "
        f"frames; target {TARGET_ARTICLES_PER_S:,} article rows/s at batches of "
        f"{TARGET_BATCH:,}: slowest pass {worst if worst is not None else 'n/a'}"
    )
    for r in results:
        if "plain_insert_s" in r:
            print(
                f"batch {r['batch']:>6}: DuckDB's plain insert of the same frames "
                f"{r['plain_insert_articles_per_s']:,} articles/s with their rows "
                f"({r['plain_insert_article_rows_per_s']:,} rows/s for the articles frame "
                f"alone); load_pages does the new pass at {r['load_vs_plain_insert']:.2f}x that"
            )
    payload = {
        "corpus_pages": args.pages,
        "articles_extracted": len(bases),
        "extract_s": round(extract_s, 1),
        "mean_text_chars": mean_chars,
        "children_per_article": per_article,
        "target_articles_per_s": TARGET_ARTICLES_PER_S,
        "target_batch": TARGET_BATCH,
        "slowest_pass_at_target_batch_articles_per_s": worst,
        "meets_target": worst is not None and worst >= TARGET_ARTICLES_PER_S,
        "plain_insert_at_target_batch_articles_per_s": next(
            (r["plain_insert_articles_per_s"] for r in target if "plain_insert_s" in r), None
        ),
        "results": results,
    }
    print(f"wrote {write_result('load', payload)}")


if __name__ == "__main__":
    main()
