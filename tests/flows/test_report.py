"""The HTML report: charts carry the warehouse's numbers, nothing comes from the network, and
headless Chromium renders it (screenshot in tests/artifacts/report.png)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import duckdb
import pytest

from flows.report import collect, render, write_report
from tests.conftest import DemoRuns
from warehouse.db import connect

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report(demo_runs: DemoRuns, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    con = connect(demo_runs.db, read_only=True)
    try:
        write_report(con, out)
    finally:
        con.close()
    return out, out.read_text(encoding="utf-8")


def _section(page: str, key: str) -> str:
    found = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert found, key
    return found.group(1)


def test_the_page_is_self_contained(report: tuple[Path, str]) -> None:
    _, page = report
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=""", page, re.I)  # no external resources at all
    assert "@import" not in page and "url(" not in page
    assert page.count("<svg") == 7


def test_charts_carry_the_warehouse_numbers(demo_runs: DemoRuns, report: tuple[Path, str]) -> None:
    _, page = report
    con = duckdb.connect(str(demo_runs.db), read_only=True)
    try:
        (articles,) = con.execute("select count(*) from articles").fetchone() or (0,)
        per_publisher = con.execute(
            "select p.name, count(*) from articles a join publishers p using (publisher_id) "
            "group by all"
        ).fetchall()
        languages = con.execute("select language, count(*) from articles group by all").fetchall()
        rules = con.execute("select rule, count(*) from removed_spans group by all").fetchall()
        errors = con.execute(
            "select error_class, count(*) from fetches where error_class is not null group by all"
        ).fetchall()
        shared = con.execute("select first_title, articles from syndication").fetchall()
        failing = con.execute(
            "select feed_url from source_health where consecutive_failures >= 3"
        ).fetchall()
    finally:
        con.close()
    assert f"<b>{articles}</b>articles" in page
    daily = _section(page, "daily")
    assert daily.count("<rect") > articles // 3  # stacked columns, plus legend swatches
    all_days = re.search(r"<tr><td>all days</td>(.*?)</tr>", daily)
    assert all_days
    totals = [int(v) for v in re.findall(r'<td class="num">([\d,]+)</td>', all_days.group(1))]
    assert totals[-1] == articles
    assert sorted(totals[:-1]) == sorted(n for _, n in per_publisher)
    lang = _section(page, "languages")
    for code, n in languages:
        assert f'<td>{code}</td><td class="num">{n}</td>' in lang
    assert lang.count("<rect") == len(languages)
    removed = _section(page, "removed")
    assert removed.count("<rect") == len(rules)
    for rule, n in rules:
        assert f'<td>{rule}</td><td class="num">{n:,}</td>' in removed
    errs = _section(page, "errors")
    for error_class, n in errors:
        assert f"{error_class}: {n}" in errs  # the bar's tooltip
    syndication = _section(page, "syndication")
    assert shared and syndication.count("<rect") == len(shared)
    for title, _ in shared:
        assert title.replace("'", "&#x27;") in syndication
    health = _section(page, "health")
    assert failing, "the demo's broken feeds fail three runs in a row"
    assert health.count('fill="#c23b3b"') == len(failing)  # red bars for failing feeds
    drops = _section(page, "drops")
    assert "none recorded" in drops or "<rect" in drops


def test_render_without_data(tmp_path: Path) -> None:
    from warehouse.migrate import migrate

    con = connect(tmp_path / "empty.duckdb")
    try:
        migrate(con)
        page = render(collect(con))
    finally:
        con.close()
    assert page.count("<svg") == 7
    assert "no articles yet" in page and "<rect" not in page


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = b""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_report_renders_in_headless_chromium(report: tuple[Path, str], tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        message = "chromium not installed (apt-get install -y chromium)"
        if os.environ.get("NEWSDESK_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    html_file, _ = report
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2400",
            html_file.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert shot.is_file(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 30_000  # a blank page compresses to a few kB
    width, height, pixels = _png_pixels(data)
    assert (width, height) == (1280, 2400)
    assert len(set(pixels)) > 50  # text, bars and colours, not one flat colour
