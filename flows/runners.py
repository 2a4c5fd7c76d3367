"""Task runners by name: threads (default), processes (CPU-bound extraction on all cores), or
Dask (prefect-dask: a scheduler at ``dask_address``, or a local cluster of processes).

Threads share one HTTP client per run (politeness and robots hold across the run); with
processes or Dask workers each worker process builds its own client on first use, so per-host
limits apply per process. Pages are batched per host, so a process pays its ~2 s Prefect import
once per batch stream, not per page. Only the flow's own process writes the warehouse: workers
return plain values (page results), wherever they run.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

__all__ = ["TASK_RUNNERS", "TaskRunnerName", "build_task_runner"]

TaskRunnerName = Literal["threads", "processes", "dask"]
TASK_RUNNERS: tuple[str, ...] = ("threads", "processes", "dask")


def build_task_runner(
    name: str, threads: int, dask_address: str | None = None, dask_workers: int | None = None
) -> Any:
    """A Prefect task runner; ``threads`` caps the thread pool. For ``dask``, ``dask_address``
    (``tcp://host:8786``) joins a running scheduler; without it a local cluster of
    ``dask_workers`` single-threaded processes (default: one per core) is started for the run."""
    if name == "threads":
        return ThreadPoolTaskRunner(max_workers=threads)
    if name == "processes":
        return ProcessPoolTaskRunner(max_workers=os.cpu_count() or 2)
    if name == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": dask_workers or os.cpu_count() or 2,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,  # no web UI port to collide with
            }
        )
    raise ValueError(f"unknown task runner {name!r}: threads, processes or dask")
