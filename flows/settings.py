"""The one settings object, read once at the edge (CLI or flow entry) and passed down.

Every field can be set from the environment with the ``NEWSDESK_`` prefix, e.g.
``NEWSDESK_DB=/srv/news.duckdb`` or ``NEWSDESK_HTTP_MAX_BYTES=5000000``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["HostPoliteness", "Settings"]


def _package_version() -> str:
    try:
        return version("newsdesk")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


# The installed package's version (pyproject.toml): user agent, WARC software field.
VERSION = _package_version()


class HostPoliteness(BaseModel):
    """A per-host override of ``per_host_delay_s`` / ``per_host_concurrency`` (None: global)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_s: float | None = Field(None, ge=0)
    concurrency: int | None = Field(None, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    db: Path = Field(Path("data/newsdesk.duckdb"), description="The DuckDB warehouse file.")
    warehouse: Literal["duckdb", "ducklake"] = Field(
        "duckdb",
        description="duckdb: the embedded file `db`; ducklake: a DuckLake whose catalog is "
        "`ducklake_catalog` (several workers, several machines).",
    )
    ducklake_catalog: str | None = Field(
        None,
        description="The DuckLake catalog, as DuckDB's ATTACH takes it after `ducklake:`, "
        "e.g. 'postgres:dbname=newsdesk host=db.internal user=newsdesk'.",
    )
    ducklake_data_path: str | None = Field(
        None,
        description="Where a new DuckLake writes its Parquet files (a shared folder or an "
        "object store URL); stored in the catalog, so only needed when the lake is created.",
    )
    sources: Path = Field(Path("deploy/sources.toml"), description="Publishers and feeds.")
    contact_url: str = Field(
        "https://github.com/newsdesk/newsdesk",
        description="Where site owners learn who we are; part of the User-Agent.",
    )
    user_agent: str | None = Field(None, description="Overrides the whole User-Agent header.")
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = Field(
        60.0, description="Wall-clock cap for one response, body included."
    )
    max_bytes: int = Field(10_000_000, description="Cap on a response body, after decompression.")
    max_redirects: int = 5
    max_download_bytes: int = Field(
        10_000_000, description="Cap on bytes read off the wire, before decompression."
    )
    allow_private: list[str] = Field(
        default_factory=list,
        description=(
            "CIDRs the SSRF guard lets through although they are private, loopback etc., "
            "e.g. NEWSDESK_ALLOW_PRIVATE='[\"127.0.0.0/8\"]' for the demo site. Empty: none."
        ),
    )
    per_host_delay_s: float = Field(
        1.0, description="Minimum seconds between two requests to one host (raised by Crawl-delay)."
    )
    per_host_concurrency: int = Field(2, description="Requests in flight to one host at most.")
    host_politeness: dict[str, HostPoliteness] = Field(
        default_factory=dict,
        description=(
            "Per-host overrides of the two settings above: keys are host[:port] as in a URL "
            "(exact), or a bare domain that also covers its subdomains on any port. The ingest "
            "flow adds the per-publisher overrides of the sources file for its run."
        ),
    )
    global_concurrency: int = Field(
        16, description="Requests in flight at most, across hosts, per politeness limiter."
    )
    robots_ttl_s: float = Field(86_400.0, description="How long a fetched robots.txt is trusted.")
    poll_interval_s: float = Field(
        900.0, description="Floor between two polls of a healthy feed (server hints may raise it)."
    )
    sitemap_first_window_days: float = Field(
        2.0,
        gt=0,
        description="A sitemap source's first fetch takes the URLs dated this many days back.",
    )
    dedup_window_days: int = Field(
        14, ge=0, description="New articles are matched against stories this many days around them."
    )
    task_runner: Literal["threads", "processes", "dask"] = Field(
        "threads",
        description="threads, processes (every core for extraction) or dask (prefect-dask).",
    )
    dask_address: str | None = Field(
        None, description="Dask scheduler (tcp://host:8786); None: a local cluster per run."
    )
    dask_workers: int | None = Field(
        None, gt=0, description="Processes of the local Dask cluster; None: one per core."
    )
    concurrency: int = Field(8, description="Task-runner threads: hosts fetched at once.")
    page_batch_size: int = Field(25, description="Pages per Prefect task (per host).")
    extract_processes: int | None = Field(
        None,
        ge=0,
        description="With the thread runner, processes extraction runs in (None: one per "
        "core; 0 or 1: in the fetching threads).",
    )
    lease_s: float = Field(
        600.0,
        gt=0,
        description="How long an ingest run's claim on a source (and on the pages it is "
        "fetching) holds: other workers skip them meanwhile. Renewed at every batch the run "
        "loads, ended when it finishes or fails; a killed run's claims lapse after this long.",
    )
    load_batch_pages: int = Field(
        250, gt=0, description="Pages loaded per warehouse transaction (fewer at the end)."
    )
    page_tasks_in_flight: int | None = Field(
        None,
        gt=0,
        description="Page tasks submitted and not yet loaded, at most (None: twice "
        "`concurrency`). Bounds a run's memory: results wait for the warehouse, not the "
        "other way round.",
    )
    captures_dir: Path | None = Field(
        None, description="Folder of the raw WARC captures. None: captures/ beside the warehouse."
    )
    capture_rotate_bytes: int = Field(
        100_000_000, gt=0, description="A capture file is closed once it reaches this size."
    )
    # Archives for `newsdesk backfill`; their requests get the same politeness as any host.
    wayback_cdx_url: str = Field(
        "https://web.archive.org/cdx/search/cdx", description="The Wayback Machine's CDX API."
    )
    wayback_web_url: str = Field(
        "https://web.archive.org/web", description="Wayback captures: {this}/{timestamp}id_/{url}."
    )
    cc_collinfo_url: str = Field(
        "https://index.commoncrawl.org/collinfo.json", description="Common Crawl's list of crawls."
    )
    cc_data_url: str = Field(
        "https://data.commoncrawl.org", description="Common Crawl's WARC files (byte ranges)."
    )
    backfill_max_sitemaps: int = Field(
        500, gt=0, description="Sitemaps read at most per backfill (indexes included)."
    )
    backfill_warc_batch: int = Field(
        500, gt=0, description="WARC records per backfill task (and per resumable commit)."
    )
    backfill_max_urls: int = Field(
        200_000, gt=0, description="Page URLs taken at most from one backfill's sitemaps."
    )

    @property
    def warehouse_target(self) -> str:
        """What ``--db`` takes: the DuckDB file, or ``ducklake:<catalog>``."""
        if self.warehouse == "duckdb":
            return str(self.db)
        if not self.ducklake_catalog:
            raise ValueError("NEWSDESK_WAREHOUSE=ducklake needs NEWSDESK_DUCKLAKE_CATALOG")
        return f"ducklake:{self.ducklake_catalog}"

    @property
    def effective_user_agent(self) -> str:
        return self.user_agent or f"newsdesk/{VERSION} (+{self.contact_url})"
