"""Reading the sources file (``deploy/sources.toml``): publishers and their feeds, validated.

[[publisher]]
name = "BBC News"
domain = "bbc.co.uk"
country = "GB"
language = "en"
feeds = ["https://feeds.bbci.co.uk/news/world/rss.xml"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warehouse.load import SourceRow

__all__ = [
    "ExtractionHints",
    "Publisher",
    "SourcesError",
    "adhoc_sources",
    "load_sources",
    "source_rows",
]


class SourcesError(Exception):
    """The sources file is missing or wrong; the message says where and what to fix."""


class ExtractionHints(BaseModel):
    """For a site the generic extractor gets wrong: used only for that publisher's pages."""

    model_config = ConfigDict(extra="forbid")

    body_selector: str | None = Field(None, min_length=1, description="CSS selector of the body.")
    prune_selectors: list[str] = Field(
        default_factory=list, description="CSS selectors of elements removed before extraction."
    )


class Publisher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    domain: str | None = None
    country: str | None = Field(None, min_length=2, max_length=2)
    language: str | None = Field(None, min_length=2, max_length=3)
    enabled: bool = True
    feeds: list[str] = Field(default_factory=list)
    # News sitemaps (or sitemap indexes) polled like feeds.
    sitemaps: list[str] = Field(default_factory=list)
    # Per-source settings; None: the global setting.
    poll_interval_s: float | None = Field(None, gt=0, description="Floor between two polls.")
    per_host_delay_s: float | None = Field(None, ge=0, description="Politeness override.")
    per_host_concurrency: int | None = Field(None, ge=1, description="Politeness override.")
    extraction: ExtractionHints | None = None

    @field_validator("feeds", "sitemaps")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"URL must be http(s) with a host: {url!r}")
        return urls

    @model_validator(mode="after")
    def _has_a_source(self) -> Publisher:
        if not self.feeds and not self.sitemaps:
            raise ValueError("give at least one feed or sitemap")
        return self


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publisher: list[Publisher] = Field(default_factory=list)


def load_sources(path: Path) -> list[Publisher]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourcesError(
            f"sources file not found: {path} (give --sources FILE or --feed URL)"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{path}: not valid TOML: {exc}") from exc
    try:
        parsed = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = list(err["loc"])
            if len(where) >= 2 and where[0] == "publisher" and isinstance(where[1], int):
                entry = raw.get("publisher", [])[where[1]]
                name = entry.get("name", "?") if isinstance(entry, dict) else "?"
                where = [f"publisher #{where[1] + 1} ({name})", *where[2:]]
            problems.append(f"{'.'.join(str(w) for w in where)}: {err['msg']}")
        raise SourcesError(f"{path}: " + "; ".join(problems)) from exc
    names = [p.name for p in parsed.publisher]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SourcesError(f"{path}: publisher names must be unique: {duplicates}")
    return parsed.publisher


def _domain(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def adhoc_sources(feed_urls: list[str]) -> list[Publisher]:
    """Publishers for feeds given on the command line: one per host, named after it."""
    by_domain: dict[str, list[str]] = {}
    for url in feed_urls:
        by_domain.setdefault(_domain(url) or url, []).append(url)
    return [Publisher(name=domain, domain=domain, feeds=urls) for domain, urls in by_domain.items()]


def source_rows(publishers: list[Publisher]) -> list[SourceRow]:
    return [
        SourceRow(
            publisher=p.name,
            domain=p.domain or _domain((p.feeds or p.sitemaps)[0]),
            country=p.country,
            language=p.language,
            feed_url=url,
            enabled=p.enabled,
        )
        for p in publishers
        for url in p.feeds
    ]
