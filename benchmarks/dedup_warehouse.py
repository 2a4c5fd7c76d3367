"""Story matching against history held in the warehouse (not in memory).

Builds a DuckDB warehouse with N stored articles (synthetic texts made from the corpus
vocabulary, signatures and band keys stored as the ingest flow stores them), then loads a batch
of 1,000 new articles — 500 edited copies of stored ones, 500 unseen — and times
``warehouse.dedup.dedup_pending`` on it: candidate search by band key in DuckDB, verification
on shingles recomputed from the stored texts, cluster updates. Reports the time against the
extraction time of the same 1,000 pages (trafilatura measured here, one core).

    .venv/bin/python benchmarks/dedup_warehouse.py [--stored 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import corpus_root, write_result
from benchmarks.dedup import load_originals, measure_extraction, synthetic_texts
from transforms import dedup
from transforms.text import content_hash
from warehouse.db import connect
from warehouse.dedup import dedup_pending
from warehouse.migrate import migrate

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _articles(texts: list[str], first_id: int, start: datetime) -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame(
        {
            "article_id": range(first_id, first_id + n),
            "url_key": [f"k{first_id + i}" for i in range(n)],
            "canonical_url": [f"https://x.example/{first_id + i}" for i in range(n)],
            "url": [f"https://x.example/{first_id + i}" for i in range(n)],
            "publisher_id": [1 + (first_id + i) % 50 for i in range(n)],
            "text": texts,
            # Spread over the 14-day window so every stored article is a candidate.
            "published_at": [start + timedelta(seconds=10 * i) for i in range(n)],
            "content_hash": [content_hash(t) for t in texts],
        },
        schema_overrides={"published_at": pl.Datetime("us", "UTC")},
    )


def _insert_articles(con: object, frame: pl.DataFrame, now: datetime) -> None:
    con.register("incoming", frame)  # type: ignore[attr-defined]
    con.execute(  # type: ignore[attr-defined]
        """
        insert into articles (article_id, url_key, canonical_url, url, publisher_id, text,
            published_at, first_seen_at, last_seen_at, content_hash, version)
        select article_id, url_key, canonical_url, url, publisher_id, text, published_at,
            ?, ?, content_hash, 1 from incoming
        """,
        [now, now],
    )
    con.unregister("incoming")  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(11)
    rows = load_originals(corpus_root())
    texts = synthetic_texts(rows, args.stored + 500, rng)
    stored, unseen = texts[: args.stored], texts[args.stored :]
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        migrate(con)
        now = T0 + timedelta(days=14)
        started = time.perf_counter()
        for i in range(0, len(stored), 20_000):
            chunk = stored[i : i + 20_000]
            _insert_articles(con, _articles(chunk, i + 1, T0), now)
            sigs = dedup.signatures(chunk)
            signatures = pl.DataFrame(
                {
                    "article_id": range(i + 1, i + 1 + len(chunk)),
                    "content_hash": [content_hash(t) for t in chunk],
                    "n_shingles": [s.n_shingles if s else 0 for s in sigs],
                    "signature": [s.to_bytes() if s else None for s in sigs],
                },
                schema_overrides={"signature": pl.Binary()},
            )
            bands = pl.DataFrame(
                {
                    "band_key": [k for s in sigs if s for k in dedup.band_keys(s)],
                    "article_id": [
                        i + 1 + j for j, s in enumerate(sigs) if s for _ in range(dedup.BANDS)
                    ],
                },
                schema={"band_key": pl.Int64(), "article_id": pl.Int64()},
            )
            con.register("sigs", signatures)
            con.register("bands", bands)
            con.execute(
                "insert into article_signatures select article_id, ?, content_hash, n_shingles,"
                " signature, false, ? from sigs",
                [dedup.SCHEME, now],
            )
            con.execute("insert into article_bands select band_key, article_id from bands")
            con.execute("update articles set cluster_id = article_id where cluster_id is null")
        build_s = time.perf_counter() - started

        # The new batch: 500 edited copies (cut to 60–90 %, a new lede, 2 % words changed) and
        # 500 unseen texts.
        vocab = [w for t in stored[:2000] for w in t.split()]
        targets = rng.sample(range(len(stored)), 500)
        new_texts = []
        for s in targets:
            words = stored[s].split()
            words = words[: int(len(words) * rng.uniform(0.6, 0.9))]
            for k in rng.sample(range(len(words)), len(words) // 50):
                words[k] = rng.choice(vocab)
            new_texts.append(
                " ".join(rng.choice(vocab) for _ in range(25)) + ". " + " ".join(words)
            )
        new_texts += unseen
        first_new = len(stored) + 1
        _insert_articles(con, _articles(new_texts, first_new, T0 + timedelta(days=7)), now)
        started = time.perf_counter()
        counts = dedup_pending(con, now)
        match_s = time.perf_counter() - started
        found = 0
        for k, s in enumerate(targets):
            row = con.execute(
                "select cluster_id from articles where article_id = ?", [first_new + k]
            ).fetchone()
            found += row is not None and row[0] == s + 1
        wrong = con.execute(
            "select count(*) from articles where article_id >= ? and cluster_id <> article_id",
            [first_new + 500],
        ).fetchone()
        con.close()
    extraction = measure_extraction(corpus_root())
    extraction_s = len(new_texts) / extraction
    result = {
        "stored_articles": len(stored),
        "band_keys_stored": len(stored) * dedup.BANDS,
        "build_s": round(build_s, 1),
        "batch": len(new_texts),
        "batch_match_s": round(match_s, 2),
        "copies_found": found,
        "copies_total": 500,
        "unseen_wrongly_matched": wrong[0] if wrong else None,
        "clustered": counts.clustered,
        "trafilatura_pages_per_s": round(extraction, 1),
        "extraction_of_batch_s": round(extraction_s, 1),
        "match_share_of_extraction": round(match_s / extraction_s, 4),
    }
    print(
        f"{len(stored):,} stored articles in DuckDB (built in {build_s:.0f} s); "
        f"batch of {len(new_texts)} matched in {match_s:.2f} s = "
        f"{100 * match_s / extraction_s:.1f}% of its extraction ({extraction_s:.1f} s at "
        f"{extraction:.0f} pages/s); copies found {found}/500, unseen wrongly matched "
        f"{result['unseen_wrongly_matched']}"
    )
    print(f"wrote {write_result('dedup_warehouse', result)}")


if __name__ == "__main__":
    main()
