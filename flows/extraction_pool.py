"""Extraction on every core while fetching stays in threads.

With the thread task runner, fetch tasks share one HTTP client (politeness, robots.txt) but
extraction is CPU-bound Python that holds the GIL: one core does it all. Here extraction goes to
a process pool instead, created on first use and shared by every run of this process (workers
pay trafilatura's import once). Inputs and outputs are plain values: page bytes in, an
``ExtractedArticle`` or ``Dropped`` out, with the article's dedup fingerprint (signature and
shingle set, :func:`transforms.dedup.fingerprint`) computed there too: clustering runs in this
process, under its GIL, and would otherwise shingle every new text here.

A worker that dies (lxml crashing on a hostile page) breaks the pool: it is rebuilt and the page
tried again. When the pool keeps breaking — or cannot start at all, as seen under a Prefect
process worker — this process stops using it and extracts inline, with a warning: slower, never
pages lost.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from transforms.dedup import Fingerprint, fingerprint
from transforms.extract import extract_article
from transforms.records import Dropped, ExtractedArticle

__all__ = ["extract_in_pool", "pool_workers", "shutdown_pool"]

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_disabled = False  # the pool failed over and over in this process: inline from then on
_log = logging.getLogger(__name__)


def pool_workers(configured: int | None) -> int:
    """Worker processes for ``configured`` (None: one per core); below 2, extraction is inline."""
    workers = configured if configured is not None else (os.cpu_count() or 1)
    return workers if workers >= 2 else 0


def _get_pool(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_workers
    with _lock:
        if _pool is None or _pool_workers != workers:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            # spawn: forking a process that runs threads (Prefect's, ours) can deadlock.
            _pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            _pool_workers = workers
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pool)


Extracted = tuple[ExtractedArticle | Dropped, Fingerprint | None]


def _extract_and_fingerprint(page: bytes, url: str | None, **options: Any) -> Extracted:
    result = extract_article(page, url, **options)
    return result, fingerprint(result.text) if isinstance(result, ExtractedArticle) else None


def extract_in_pool(workers: int, page: bytes, url: str | None, **options: Any) -> Extracted:
    """``extract_article(page, url, **options)`` in a worker process (see the module), and the
    article's fingerprint (None for a dropped page, or when extracted in this process)."""
    global _disabled
    # Pages in flight when another page kills a worker fail with it: they get another go.
    for _ in range(3):
        if _disabled:
            break
        pool = _get_pool(workers)
        try:
            result: Extracted = pool.submit(_extract_and_fingerprint, page, url, **options).result()
            return result
        except BrokenProcessPool:
            _discard(pool)
    if not _disabled:
        _disabled = True
        _log.warning("extraction worker processes keep failing: extracting in-process from now")
    return extract_article(page, url, **options), None
