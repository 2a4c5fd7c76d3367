"""Task runners by name: threads (default) or processes (CPU-bound extraction on all cores).

Threads share one HTTP client per run (politeness and robots hold across the run); with
processes each worker process builds its own client on first use, so per-host limits apply per
process. Pages are batched per host, so a process pays its ~2 s Prefect import once per batch
stream, not per page.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

__all__ = ["TaskRunnerName", "build_task_runner"]

TaskRunnerName = Literal["threads", "processes"]


def build_task_runner(name: str, threads: int) -> Any:
    """A Prefect task runner; ``threads`` caps the thread pool."""
    if name == "threads":
        return ThreadPoolTaskRunner(max_workers=threads)
    if name == "processes":
        return ProcessPoolTaskRunner(max_workers=os.cpu_count() or 2)
    raise ValueError(f"unknown task runner {name!r}: threads or processes")
