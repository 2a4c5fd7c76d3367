"""The one settings object, read once at the edge (CLI or flow entry) and passed down.

Every field can be set from the environment with the ``NEWSDESK_`` prefix, e.g.
``NEWSDESK_DB=/srv/news.duckdb`` or ``NEWSDESK_HTTP_MAX_BYTES=5000000``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

VERSION = "0.1.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    db: Path = Field(Path("data/newsdesk.duckdb"), description="The DuckDB warehouse file.")
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
    global_concurrency: int = Field(
        16, description="Requests in flight at most, across hosts, per politeness limiter."
    )
    robots_ttl_s: float = Field(86_400.0, description="How long a fetched robots.txt is trusted.")
    poll_interval_s: float = Field(
        900.0, description="Floor between two polls of a healthy feed (server hints may raise it)."
    )
    dedup_window_days: int = Field(
        14, ge=0, description="New articles are matched against stories this many days around them."
    )
    task_runner: Literal["threads", "processes"] = Field(
        "threads", description="threads, or processes to use every core for extraction."
    )
    concurrency: int = Field(8, description="Task-runner threads: hosts fetched at once.")
    page_batch_size: int = Field(25, description="Pages per Prefect task (per host).")
    captures_dir: Path | None = Field(
        None, description="Folder of the raw WARC captures. None: captures/ beside the warehouse."
    )
    capture_rotate_bytes: int = Field(
        100_000_000, gt=0, description="A capture file is closed once it reaches this size."
    )

    @property
    def effective_user_agent(self) -> str:
        return self.user_agent or f"newsdesk/{VERSION} (+{self.contact_url})"
