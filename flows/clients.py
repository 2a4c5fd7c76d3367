"""One HTTP client per run, shared by that run's tasks in this process.

Politeness only holds if every request of a run to a host goes through the same limiter, and
robots.txt should be fetched once per origin, so tasks ask for the run's :class:`Fetcher` by run
id (a plain string they can carry) instead of building their own. The flow opens the run's
client with the robots.txt records it loaded from the warehouse and, at the end, takes back the
records and robots fetches to store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flows.captures import CaptureError, CaptureRef, CaptureWriter
from flows.extraction_pool import extract_in_pool
from flows.http import Fetcher, HttpResult
from flows.robots import MemoryRobotsStore, RobotsPolicy, RobotsRecord
from flows.settings import Settings
from transforms.dedup import FingerprintCache
from transforms.extract import extract_article
from transforms.records import Dropped, ExtractedArticle

__all__ = ["RunClient", "StageClock", "close_run_client", "open_run_client", "run_client"]


class StageClock:
    """Seconds a run spends in each stage, summed over the threads that do it (thread-seconds:
    eight fetch threads waiting one second each count eight). Where a run's time goes, for its
    summary and for ``benchmarks/e2e.py``; only this process's work is counted."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._seconds[stage] = self._seconds.get(stage, 0.0) + elapsed

    def seconds(self) -> dict[str, float]:
        with self._lock:
            return {stage: round(total, 3) for stage, total in sorted(self._seconds.items())}


@dataclass
class RunClient:
    fetcher: Fetcher
    store: MemoryRobotsStore
    captures: CaptureWriter | None = None
    robots_fetches: list[tuple[HttpResult, CaptureRef | None]] = field(default_factory=list)
    capture_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Worker processes extraction goes to (flows.extraction_pool); 0: in the calling thread.
    extract_workers: int = 0
    # Fingerprints the workers computed, for the run's clustering (warehouse.dedup).
    fingerprints: FingerprintCache = field(default_factory=FingerprintCache)
    clock: StageClock = field(default_factory=StageClock)

    def extract(self, page: bytes, url: str | None, **options: Any) -> ExtractedArticle | Dropped:
        with self.clock.timing("extract"):
            return self._extract(page, url, **options)

    def _extract(self, page: bytes, url: str | None, **options: Any) -> ExtractedArticle | Dropped:
        if not self.extract_workers:
            return extract_article(page, url, **options)
        result, fingerprint = extract_in_pool(self.extract_workers, page, url, **options)
        if isinstance(result, ExtractedArticle):
            self.fingerprints.put(result.text, fingerprint)
        return result

    def capture(self, result: HttpResult, kind: str) -> CaptureRef | None:
        """Write ``result`` to the run's WARC captures; a failing disk costs the capture, not
        the fetch (the error is kept for the run's log)."""
        if self.captures is None:
            return None
        try:
            with self.clock.timing("capture"):
                return self.captures.write(result, kind)
        except CaptureError as exc:
            with self.lock:
                self.capture_errors.append(f"{result.url}: {exc}")
            return None

    def record_robots_fetch(self, result: HttpResult) -> None:
        ref = self.capture(result, "robots")
        with self.lock:
            self.robots_fetches.append((result, ref))

    def drain_robots_fetches(self) -> list[tuple[HttpResult, CaptureRef | None]]:
        with self.lock:
            drained, self.robots_fetches = self.robots_fetches, []
        return drained


_clients: dict[str, RunClient] = {}
_lock = threading.Lock()


def open_run_client(
    run_id: str,
    settings: Settings,
    robots_records: list[RobotsRecord] | None = None,
    extract_workers: int = 0,
) -> RunClient:
    """The run's client; captures go to ``settings.captures_dir`` when it is set; extraction
    goes to ``extract_workers`` processes (0: inline)."""
    store = MemoryRobotsStore()
    for record in robots_records or []:
        store.put(record)
    fetcher = Fetcher(settings)
    captures = (
        CaptureWriter(settings.captures_dir, rotate_bytes=settings.capture_rotate_bytes)
        if settings.captures_dir is not None
        else None
    )
    client = RunClient(fetcher, store, captures, extract_workers=extract_workers)
    fetcher.robots = RobotsPolicy(
        fetcher, ttl_s=settings.robots_ttl_s, store=store, on_fetch=client.record_robots_fetch
    )
    with _lock:
        _clients[run_id] = client
    return client


def run_client(run_id: str, settings: Settings) -> RunClient:
    """The run's shared client; a task in another process (process or Dask runners) builds
    its own the first time, with its own limiter, robots cache and capture files."""
    with _lock:
        client = _clients.get(run_id)
    if client is None:
        client = open_run_client(run_id, settings)
    return client


def close_run_client(run_id: str) -> RunClient | None:
    with _lock:
        client = _clients.pop(run_id, None)
    if client is not None:
        client.fetcher.close()
        if client.captures is not None:
            client.captures.close()
    return client
