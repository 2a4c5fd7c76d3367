"""A seam for progress reporting: flows call :func:`advance`; the CLI installs a reporter that
draws rich progress bars. Without one (deployments, tests) the calls do nothing.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["Reporter", "add_total", "advance", "install"]


class Reporter(Protocol):
    def add_total(self, stage: str, amount: int) -> None: ...

    def advance(self, stage: str, amount: int = 1) -> None: ...


_lock = threading.Lock()
_reporter: Reporter | None = None


def install(reporter: Reporter | None) -> None:
    global _reporter
    with _lock:
        _reporter = reporter


def add_total(stage: str, amount: int) -> None:
    if _reporter is not None and amount:
        _reporter.add_total(stage, amount)


def advance(stage: str, amount: int = 1) -> None:
    if _reporter is not None and amount:
        _reporter.advance(stage, amount)
