"""deploy/prefect.yaml without a server: entrypoints are Prefect flows, schedules parse,
parameters exist, job variables sit where Prefect reads them, and the docs name what it uses."""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow
from prefect._vendor.croniter import croniter
from prefect.client.schemas.schedules import CronSchedule

from flows.reporting import CHECK_FAILED, SOURCE_FAILING, SOURCE_SILENT
from flows.serve import BACKFILL_QUEUE, POOL, VARIABLES

REPO = Path(__file__).resolve().parents[2]
PREFECT_FILE = REPO / "deploy" / "prefect.yaml"
README = REPO / "deploy" / "README.md"
VARIABLE = re.compile(r"\{\{\s*prefect\.variables\.(\w+)\s*\}\}")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PREFECT_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def deployments(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in config["deployments"]}


def _flow(entrypoint: str) -> Flow[Any, Any]:
    path, name = entrypoint.split(":")
    assert (REPO / path).is_file(), path
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    found = getattr(module, name)
    assert isinstance(found, Flow), entrypoint
    return found


def test_the_deployments(deployments: dict[str, dict[str, Any]]) -> None:
    assert set(deployments) == {"ingest", "backfill", "reextract", "maintenance"}


def test_backfill_is_on_demand_on_the_low_priority_queue(
    deployments: dict[str, dict[str, Any]],
) -> None:
    backfill = deployments["backfill"]
    assert not backfill.get("schedules")
    assert backfill["work_pool"]["work_queue_name"] == BACKFILL_QUEUE
    others = {d["work_pool"]["work_queue_name"] for n, d in deployments.items() if n != "backfill"}
    assert others == {"default"}
    # What the run must be given is what the flow requires and the deployment does not set.
    required = {
        name
        for name, p in inspect.signature(_flow(backfill["entrypoint"]).fn).parameters.items()
        if p.default is inspect.Parameter.empty
    }
    assert required - set(backfill["parameters"]) == {"via"}


def test_entrypoints_are_flows_taking_the_parameters(
    deployments: dict[str, dict[str, Any]],
) -> None:
    for name, deployment in deployments.items():
        found = _flow(deployment["entrypoint"])
        assert found.name == name
        accepted = set(inspect.signature(found.fn).parameters)
        assert set(deployment.get("parameters", {})) <= accepted, name


def test_cron_schedules_parse(deployments: dict[str, dict[str, Any]]) -> None:
    start = datetime(2026, 11, 30, 12, 7, tzinfo=UTC)
    nexts: dict[str, list[datetime]] = {}
    for name, deployment in deployments.items():
        for schedule in deployment.get("schedules") or []:
            CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])  # validates
            assert schedule["timezone"] == "UTC"
            times = croniter(schedule["cron"], start)
            nexts[name] = [times.get_next(datetime) for _ in range(3)]
    assert set(nexts) == {"ingest", "maintenance"}
    assert nexts["ingest"][0] == datetime(2026, 11, 30, 12, 15, tzinfo=UTC)
    assert {b - a for a, b in pairwise(nexts["ingest"])} == {timedelta(minutes=15)}
    assert {b - a for a, b in pairwise(nexts["maintenance"])} == {timedelta(days=1)}


def test_job_variables_are_nested_under_work_pool(
    deployments: dict[str, dict[str, Any]],
) -> None:
    for name, deployment in deployments.items():
        assert "job_variables" not in deployment, f"{name}: Prefect ignores it there"
        pool = deployment["work_pool"]
        assert pool["name"] == POOL
        assert isinstance(pool["job_variables"]["env"], dict), name
        assert all(isinstance(v, str) for v in pool["job_variables"]["env"].values())


def test_ingest_skips_a_run_while_one_is_busy(deployments: dict[str, dict[str, Any]]) -> None:
    assert deployments["ingest"]["concurrency_limit"] == {
        "limit": 1,
        "collision_strategy": "CANCEL_NEW",
    }


def test_runs_work_in_the_checkout(config: dict[str, Any]) -> None:
    (step,) = config["pull"]
    assert step == {
        "prefect.deployments.steps.set_working_directory": {
            "directory": "{{ prefect.variables.newsdesk_home }}"
        }
    }


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_variables_and_events_are_documented(config: dict[str, Any]) -> None:
    used = {name for text in _strings(config) for name in VARIABLE.findall(text)}
    assert used == set(VARIABLES)  # flows/serve.py sets exactly these
    readme = README.read_text(encoding="utf-8")
    for name in [*used, SOURCE_FAILING, SOURCE_SILENT, CHECK_FAILED, POOL]:
        assert name in readme, name
    assert "prefect deploy --prefect-file deploy/prefect.yaml --all" in readme
