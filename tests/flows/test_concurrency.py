"""Readers and one writer on the same warehouse file, in separate processes.

A writer process loads article batches the way the ingest flow does — ``flows.ingest.
open_warehouse`` (connect with a wait) around ``load.load_pages`` + ``dedup_pending``, one
short transaction per batch, the file closed in between — and refreshes the search index at the
end, as the flow will. Meanwhile this process runs ``newsdesk sql`` 50 times as subprocesses,
two at a time. Every query must succeed (waiting while a batch holds the file) and see only
whole batches, and the writer must load everything.

The writer is a plain Python process rather than a Prefect flow run: a flow in a subprocess
first starts its own temporary Prefect API (about 20 s here), which would eat most of the time
budget without exercising anything about the file lock; the warehouse calls are the flow's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import DemoRuns

REPO = Path(__file__).resolve().parents[2]
NEWSDESK = str(Path(sys.executable).parent / "newsdesk")
BATCHES = 20
BATCH_SIZE = 5
QUERIES = 50
LANES = 2  # queries in flight at once (one per core here)
PUBLISHER = "Concurrent Times"

WRITER = textwrap.dedent(
    """
    import json, random, sys, time
    from datetime import UTC, datetime

    from flows.ingest import open_warehouse
    from transforms.frames import PageResult, article_frames, fetches_frame
    from transforms.records import ExtractedArticle, FetchLog
    from transforms.text import content_hash
    from transforms.urls import url_key
    from warehouse import load
    from warehouse.dedup import dedup_pending
    from warehouse.search import refresh_search_index

    db, batches, size, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(5000)]
    feed = "https://concurrent.example/feed"
    with open_warehouse(db) as con:
        ids = load.register_sources(
            con, [load.SourceRow("Concurrent Times", "concurrent.example", "GB", "en", feed)]
        )
    feed_id, publisher_id = ids[feed]
    print("ready", flush=True)
    started = time.monotonic()
    new = 0
    longest = 0.0
    for b in range(batches):
        now = datetime.now(UTC)
        pages = []
        for i in range(size):
            url = f"https://concurrent.example/{b}/{i}.html"
            text = " ".join(rng.choices(vocabulary, k=120))
            article = ExtractedArticle(
                url=url, canonical_url=url, title=f"Batch {b} item {i}", text=text,
                language="en", published_at=now, modified_at=None, date_source="jsonld",
                word_count=120, content_hash=content_hash(text), extractor_version="test",
            )
            fetch = FetchLog(url=url, kind="page", requested_at=now, status=200,
                             url_key=url_key(url))
            pages.append(PageResult(fetch, article, url_key(url), feed_id, publisher_id))
        t0 = time.monotonic()
        with open_warehouse(db) as con:
            counts = load.load_pages(
                con, "concurrency-run", fetches_frame([p.fetch for p in pages]),
                article_frames(pages, now),
            )
            dedup_pending(con, now)
        longest = max(longest, time.monotonic() - t0)
        new += counts.new
        time.sleep(pause)
    with open_warehouse(db) as con:
        refreshed = refresh_search_index(con)
    print(json.dumps({"new": new, "refreshed": refreshed, "longest_batch_s": round(longest, 3),
                      "elapsed_s": round(time.monotonic() - started, 2)}), flush=True)
    """
)


def test_sql_queries_succeed_while_batches_load(demo_runs: DemoRuns, tmp_path: Path) -> None:
    # Generous: on a shared 2-core machine the queries' Python start-ups queue behind each other.
    deadline = time.monotonic() + 240
    db = tmp_path / "busy.duckdb"
    shutil.copy(demo_runs.db, db)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(BATCHES), str(BATCH_SIZE), "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    query = (
        "select count(*) as n from articles join publishers using (publisher_id) "
        f"where publishers.name = '{PUBLISHER}'"
    )
    lanes: list[list[int]] = [[] for _ in range(LANES)]
    waited: list[int] = []

    def run_queries(lane: list[int], count: int) -> None:
        for _ in range(count):
            result = subprocess.run(
                [NEWSDESK, "sql", query, "--db", str(db), "--format", "json"],
                capture_output=True,
                text=True,
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
                env=env,
            )
            assert result.returncode == 0, result.stderr
            lane.append(json.loads(result.stdout)[0]["n"])
            if "busy" in result.stderr:
                waited.append(1)

    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        with ThreadPoolExecutor(LANES) as pool:
            futures = [pool.submit(run_queries, lane, QUERIES // LANES) for lane in lanes]
            for future in futures:
                future.result()  # re-raises a failed query's assertion
        out, err = writer.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
        for stream in (writer.stdout, writer.stderr):  # also when a query failed first
            if stream is not None:
                stream.close()
        writer.wait()
    assert writer.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    total = BATCHES * BATCH_SIZE
    assert summary["new"] == total
    assert summary["refreshed"] is True
    seen = [n for lane in lanes for n in lane]
    assert len(seen) == QUERIES
    assert all(n % BATCH_SIZE == 0 for n in seen), lanes  # whole batches only
    assert all(lane == sorted(lane) for lane in lanes), lanes  # committed batches stay
    assert any(0 < n < total for n in seen), (lanes, summary)  # reads overlapped the loading
    assert time.monotonic() < deadline, f"took over 60 s (queries waited {len(waited)} times)"
