"""Shared helpers for benchmarks: where the corpus is, and how results are written."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def corpus_root() -> Path:
    root = Path(os.environ.get("NEWSDESK_CORPUS", REPO.parent / "shared" / "corpus"))
    if not root.is_dir():
        sys.exit(f"corpus not found at {root}: set NEWSDESK_CORPUS")
    return root


def article_manifest(root: Path) -> list[dict[str, Any]]:
    """The rows of the corpus's ``articles/manifest.jsonl`` (html_file, url, expected text …)."""
    manifest = root / "articles" / "manifest.jsonl"
    if not manifest.is_file():
        sys.exit(f"no {manifest}: set NEWSDESK_CORPUS to a corpus with articles/")
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}, **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
