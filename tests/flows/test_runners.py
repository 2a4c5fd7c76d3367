"""The same ingest on the sample site with each task runner: threads, a process pool, and a
local Dask cluster of two worker processes load exactly the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.demo import DemoServer, demo_publishers
from flows.ingest import ingest
from flows.runners import TASK_RUNNERS, build_task_runner

LOOPBACK = {"allow_private": ["127.0.0.1/32"], "per_host_delay_s": 0.0}


def _loaded(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """
            select a.url_key, a.content_hash, a.published_at, a.title, p.name,
                   (select count(*) from images i where i.article_id = a.article_id),
                   (select count(*) from removed_spans r where r.article_id = a.article_id)
            from articles a join publishers p using (publisher_id) order by a.url_key
            """
        ).fetchall()
    finally:
        con.close()


def _clusters(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """
            select list(a.url_key order by a.url_key) from articles a
            group by a.cluster_id having count(*) > 1 order by 1
            """
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def by_runner(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("runners")
    results: dict[str, Path] = {}
    with DemoServer() as site:
        publishers = [p.model_dump() for p in demo_publishers(site.base_url)]
        for name in TASK_RUNNERS:
            db = folder / f"{name}.duckdb"
            runner = build_task_runner(name, threads=4, dask_workers=2)
            summary = ingest.with_options(task_runner=runner)(
                db=str(db), publishers=publishers, all_feeds=True, overrides=LOOPBACK
            )
            assert summary["status"] == "completed", (name, summary)
            results[name] = db
    return results


@pytest.mark.parametrize("name", [n for n in TASK_RUNNERS if n != "threads"])
def test_each_runner_loads_what_threads_load(by_runner: dict[str, Path], name: str) -> None:
    expected = _loaded(by_runner["threads"])
    assert len(expected) == 35  # the sample site's articles
    assert _loaded(by_runner[name]) == expected
    assert _clusters(by_runner[name]) == _clusters(by_runner["threads"])


def test_an_unknown_runner_is_refused() -> None:
    with pytest.raises(ValueError, match="threads, processes or dask"):
        build_task_runner("ray", threads=2)
