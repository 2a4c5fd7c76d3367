"""Extraction in worker processes: the same records as inline, and a dead worker costs a
retry, not the run."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from flows import extraction_pool
from flows.extraction_pool import extract_in_pool, pool_workers
from transforms.dedup import fingerprint
from transforms.extract import extract_article
from transforms.records import Dropped, ExtractedArticle

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "demo" / "site" / "harbor" / "2026" / "11").glob("*.html"))[:4]
BASE = "http://127.0.0.1:8642"


def _page(path: Path) -> bytes:
    return path.read_bytes().replace(b"{{BASE}}", BASE.encode())


def test_worker_processes_extract_what_inline_extraction_does() -> None:
    assert len(PAGES) == 4
    for path in PAGES:
        url = f"{BASE}/harbor/2026/11/{path.name}"
        inline = extract_article(_page(path), url, content_type="text/html; charset=utf-8")
        pooled, print_ = extract_in_pool(
            2, _page(path), url, content_type="text/html; charset=utf-8"
        )
        assert isinstance(pooled, ExtractedArticle)
        assert pooled == inline
        # The dedup fingerprint comes back with it, as this process would compute it.
        expected = fingerprint(inline.text)
        assert expected is not None and print_ is not None
        assert print_[0] == expected[0]
        assert print_[1].tolist() == expected[1].tolist()


def test_a_dropped_page_has_no_fingerprint() -> None:
    result, print_ = extract_in_pool(2, b"<html><body><p>Too short.</p></body></html>", BASE)
    assert isinstance(result, Dropped)
    assert print_ is None


def test_a_killed_worker_costs_a_retry_not_the_page() -> None:
    url = f"{BASE}/harbor/2026/11/{PAGES[0].name}"
    expected = extract_article(_page(PAGES[0]), url)
    assert extract_in_pool(2, _page(PAGES[0]), url)[0] == expected  # the pool is up
    pool = extraction_pool._pool
    assert pool is not None
    for pid in list(pool._processes):  # what a segfault in lxml would do
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert extract_in_pool(2, _page(PAGES[0]), url)[0] == expected
    assert extraction_pool._pool is not pool  # rebuilt


def test_fewer_than_two_workers_means_inline() -> None:
    assert pool_workers(0) == 0
    assert pool_workers(1) == 0
    assert pool_workers(3) == 3
    assert pool_workers(None) == (0 if (os.cpu_count() or 1) < 2 else os.cpu_count())


def test_a_pool_that_cannot_run_falls_back_to_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """As seen under a Prefect process worker: no worker process survives. Pages are then
    extracted in-process (slower), never dropped."""

    class NeverRuns:
        def submit(self, *args: object, **kwargs: object) -> object:
            raise BrokenProcessPool("a child process terminated abruptly")

    monkeypatch.setattr(extraction_pool, "_get_pool", lambda workers: NeverRuns())
    monkeypatch.setattr(extraction_pool, "_discard", lambda pool: None)
    monkeypatch.setattr(extraction_pool, "_disabled", False)
    url = f"{BASE}/harbor/2026/11/{PAGES[1].name}"
    inline = extract_article(_page(PAGES[1]), url)
    assert extract_in_pool(2, _page(PAGES[1]), url) == (inline, None)
    assert extraction_pool._disabled
