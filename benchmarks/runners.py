"""Extraction throughput under each Prefect task runner, against threads, on this machine.

The same ``--pages`` real pages of ``../shared/corpus/articles`` (cycled through when more are
asked than the corpus has) are extracted with
``transforms.extract.extract_article`` inside one Prefect flow run (under
``prefect_test_harness``), batched into ``--tasks`` tasks (like ingest's page batches, not a
task per page). Each task reads its pages from disk (as a fetch task gets its bodies) and returns
the extraction results to the flow (as page tasks return theirs). Runners:

- ``threads``: ``ThreadPoolTaskRunner``, extraction inline in the task threads (one core: GIL)
- ``threads+pool``: the same, extraction in ``flows.extraction_pool`` processes, as ingest does
  with the thread runner (``NEWSDESK_EXTRACT_PROCESSES``; one per core), started for the run
- ``threads+pool-warm``: again, with the pool the previous run left (a long-lived worker such
  as ``newsdesk serve`` keeps it from run to run)
- ``processes``: ``ProcessPoolTaskRunner`` (one process per core), extraction where the task runs
- ``dask``: ``DaskTaskRunner`` on a ``LocalCluster`` of ``--dask-workers`` single-threaded
  processes, extraction where the task runs

plus ``reference``: a plain loop over ``extract_article`` in this process, no Prefect. Reported
per runner: pages/s over the tasks' phase (first submit to last result; worker start-up and
their first imports included, the Dask cluster's start-up not), pages/s over the whole flow
call, and the ratio of the first to ``threads``. Each runner runs ``--repeat`` times; the best
is kept (the machine is shared).

    .venv/bin/python benchmarks/runners.py [--pages N] [--tasks 12] [--repeat 2]
        [--dask-workers 2] [--only threads,dask]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from benchmarks.common import article_manifest, corpus_root, write_result

RUNNERS = ("threads", "threads+pool", "threads+pool-warm", "processes", "dask")
THREADS = 8  # NEWSDESK_CONCURRENCY's default: the thread runner's pool


def _pages(root: Path, limit: int | None) -> list[tuple[str, str]]:
    folder = root / "articles"
    pages = [(str(folder / row["html_file"]), row["url"]) for row in article_manifest(root)]
    return [pages[i % len(pages)] for i in range(limit)] if limit else pages


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(batch: list[tuple[str, str]], pool_workers: int) -> list[Any]:
    """Extract a batch of pages: inline, or in the extraction pool when ``pool_workers``."""
    from flows.extraction_pool import extract_in_pool
    from transforms.extract import extract_article

    results: list[Any] = []
    for path, url in batch:
        html = Path(path).read_bytes()
        if pool_workers:
            results.append(extract_in_pool(pool_workers, html, url)[0])  # (article, fingerprint)
        else:
            results.append(extract_article(html, url))
    return results


@flow(name="runner-benchmark")
def extract_all(batches: list[list[tuple[str, str]]], pool_workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    futures = [extract_batch.submit(batch, pool_workers) for batch in batches]
    results = [result for future in futures for result in future.result()]
    seconds = time.perf_counter() - started
    kept = sum(1 for r in results if type(r).__name__ == "ExtractedArticle")
    return {"seconds": seconds, "pages": len(results), "kept": kept}


def _batches(pages: list[tuple[str, str]], tasks: int) -> list[list[tuple[str, str]]]:
    # Round-robin: every batch gets a like mix of small and large pages.
    return [pages[i::tasks] for i in range(tasks) if pages[i::tasks]]


def _reference(pages: list[tuple[str, str]]) -> dict[str, Any]:
    from transforms.extract import extract_article

    extract_article(Path(pages[0][0]).read_bytes(), pages[0][1])  # imports, caches
    started = time.perf_counter()
    kept = 0
    for path, url in pages:
        result = extract_article(Path(path).read_bytes(), url)
        kept += type(result).__name__ == "ExtractedArticle"
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": len(pages), "kept": kept, "wall_seconds": seconds}


def _run(name: str, batches: list[list[tuple[str, str]]], dask_workers: int) -> dict[str, Any]:
    from flows.extraction_pool import pool_workers, shutdown_pool
    from flows.runners import build_task_runner

    runner_name = "threads" if name.startswith("threads") else name
    runner = build_task_runner(runner_name, THREADS, dask_workers=dask_workers)
    workers = pool_workers(None) if name.startswith("threads+pool") else 0
    if name != "threads+pool-warm":
        shutdown_pool()  # the run starts its extraction processes afresh, as a new worker would
    started = time.perf_counter()
    result: dict[str, Any] = extract_all.with_options(task_runner=runner)(batches, workers)
    result["wall_seconds"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="Pages (0: the corpus once).")
    parser.add_argument("--tasks", type=int, default=12, help="Tasks the pages are split into.")
    parser.add_argument("--repeat", type=int, default=2, help="Runs per runner (best kept).")
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--only", default=",".join(RUNNERS), help="Runners, comma-separated.")
    args = parser.parse_args()
    pages = _pages(corpus_root(), args.pages)
    batches = _batches(pages, args.tasks)
    chosen = [r for r in args.only.split(",") if r]
    unknown = set(chosen) - set(RUNNERS)
    if unknown:
        sys.exit(f"unknown runners {sorted(unknown)}: {', '.join(RUNNERS)}")

    from prefect.testing.utilities import prefect_test_harness

    runs: dict[str, list[dict[str, Any]]] = {"reference": []}
    for _ in range(args.repeat):
        runs["reference"].append(_reference(pages))
    with prefect_test_harness(server_startup_timeout=120):
        for _ in range(args.repeat):
            for name in chosen:
                runs.setdefault(name, []).append(_run(name, batches, args.dask_workers))
                print(f"{name:18} {runs[name][-1]['seconds']:7.2f} s", file=sys.stderr)

    results: dict[str, dict[str, Any]] = {}
    for name, attempts in runs.items():
        best = min(attempts, key=lambda r: r["seconds"])
        results[name] = {
            "pages": best["pages"],
            "kept": best["kept"],
            "seconds": round(best["seconds"], 3),
            "pages_per_s": round(best["pages"] / best["seconds"], 2),
            "wall_seconds": round(best["wall_seconds"], 3),
            "pages_per_s_wall": round(best["pages"] / best["wall_seconds"], 2),
            "all_seconds": [round(r["seconds"], 3) for r in attempts],
        }
    base = results.get("threads")
    for entry in results.values():
        entry["vs_threads"] = round(entry["pages_per_s"] / base["pages_per_s"], 2) if base else None

    print(
        f"\n{len(pages)} pages in {len(batches)} tasks, {os.cpu_count()} cores, "
        f"best of {args.repeat}; load average {os.getloadavg()[0]:.1f}\n"
    )
    header = (
        f"{'runner':19}{'pages/s':>9}{'vs threads':>12}{'s (tasks)':>11}{'pages/s incl. start':>21}"
    )
    print(header)
    print("-" * len(header))
    for name, entry in results.items():
        ratio = f"{entry['vs_threads']:.2f}x" if entry["vs_threads"] is not None else "-"
        print(
            f"{name:19}{entry['pages_per_s']:9.1f}{ratio:>12}{entry['seconds']:11.2f}"
            f"{entry['pages_per_s_wall']:21.1f}"
        )
    path = write_result(
        "runners",
        {
            "pages": len(pages),
            "tasks": len(batches),
            "repeat": args.repeat,
            "dask_workers": args.dask_workers,
            "threads": THREADS,
            "load_average": os.getloadavg(),
            "results": results,
        },
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
