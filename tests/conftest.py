"""Shared fixtures: the corpus location, Prefect's test harness, the demo site."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "demo"


def _corpus_root() -> Path:
    configured = os.environ.get("NEWSDESK_CORPUS")
    return Path(configured) if configured else REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus`` (or ``$NEWSDESK_CORPUS``); when missing, skip, or fail under
    ``NEWSDESK_REQUIRE_CORPUS=1``."""
    root = _corpus_root()
    if not root.is_dir():
        message = f"corpus not found at {root} (set NEWSDESK_CORPUS)"
        if os.environ.get("NEWSDESK_REQUIRE_CORPUS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session (it takes 10–25 s to start here)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_manifest() -> list[dict[str, Any]]:
    """Ground truth written by hand with the demo site (not produced by newsdesk)."""
    manifest: list[dict[str, Any]] = json.loads(
        (DEMO_DIR / "site" / "manifest.json").read_text(encoding="utf-8")
    )
    return manifest


@pytest.fixture(scope="session")
def demo_edition2_manifest() -> list[dict[str, Any]]:
    manifest: list[dict[str, Any]] = json.loads(
        (DEMO_DIR / "site" / "manifest-edition2.json").read_text(encoding="utf-8")
    )
    return manifest
