"""One HTTP client per run, shared by that run's tasks in this process.

Politeness only holds if every request of a run to a host goes through the same limiter, and
robots.txt should be fetched once per origin, so tasks ask for the run's :class:`Fetcher` by run
id (a plain string they can carry) instead of building their own. The flow opens the run's
client with the robots.txt records it loaded from the warehouse and, at the end, takes back the
records and robots fetches to store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flows.http import Fetcher, HttpResult
from flows.robots import MemoryRobotsStore, RobotsPolicy, RobotsRecord
from flows.settings import Settings

__all__ = ["RunClient", "close_run_client", "open_run_client", "run_fetcher"]


@dataclass
class RunClient:
    fetcher: Fetcher
    store: MemoryRobotsStore
    robots_fetches: list[HttpResult] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record_robots_fetch(self, result: HttpResult) -> None:
        with self.lock:
            self.robots_fetches.append(result)

    def drain_robots_fetches(self) -> list[HttpResult]:
        with self.lock:
            drained, self.robots_fetches = self.robots_fetches, []
        return drained


_clients: dict[str, RunClient] = {}
_lock = threading.Lock()


def open_run_client(
    run_id: str, settings: Settings, robots_records: list[RobotsRecord] | None = None
) -> RunClient:
    store = MemoryRobotsStore()
    for record in robots_records or []:
        store.put(record)
    fetcher = Fetcher(settings)
    client = RunClient(fetcher, store)
    fetcher.robots = RobotsPolicy(
        fetcher, ttl_s=settings.robots_ttl_s, store=store, on_fetch=client.record_robots_fetch
    )
    with _lock:
        _clients[run_id] = client
    return client


def run_fetcher(run_id: str, settings: Settings) -> Fetcher:
    """The run's shared Fetcher; a task in another process (process or Dask runners) builds
    its own the first time, with its own limiter and robots cache."""
    with _lock:
        client = _clients.get(run_id)
    if client is None:
        client = open_run_client(run_id, settings)
    return client.fetcher


def close_run_client(run_id: str) -> RunClient | None:
    with _lock:
        client = _clients.pop(run_id, None)
    if client is not None:
        client.fetcher.close()
    return client
