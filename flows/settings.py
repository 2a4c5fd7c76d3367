"""The one settings object, read once at the edge (CLI or flow entry) and passed down.

Every field can be set from the environment with the ``NEWSDESK_`` prefix, e.g.
``NEWSDESK_DB=/srv/news.duckdb`` or ``NEWSDESK_HTTP_MAX_BYTES=5000000``.
"""

from __future__ import annotations

from pathlib import Path

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
    concurrency: int = Field(8, description="Task-runner threads: hosts fetched at once.")
    page_batch_size: int = Field(25, description="Pages per Prefect task (per host).")

    @property
    def effective_user_agent(self) -> str:
        return self.user_agent or f"newsdesk/{VERSION} (+{self.contact_url})"
