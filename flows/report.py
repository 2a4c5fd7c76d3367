"""``newsdesk report``: one static HTML page about the warehouse, readable offline.

Charts are inline SVG drawn here (no JavaScript, no fonts or scripts from a CDN): articles per
day per publisher (``daily_volume``), language mix, syndication spread (``syndication``),
source health (``source_health``), why fetched pages held no article (``fetches.drop_reason``),
fetch errors by class, and what extraction removed (``removed_spans.rule``). Each chart has a
title and a small table with its numbers. :func:`collect` reads everything in one read-only
pass, :func:`render` turns it into HTML, :func:`write_report` does both.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["Chart", "ReportData", "collect", "render", "write_report"]

PALETTE = (
    "#2f6db3",
    "#e07b28",
    "#3a9a5b",
    "#c23b3b",
    "#7d5ab5",
    "#8c6d46",
    "#d16ba5",
    "#6b7b8c",
    "#b5a82f",
    "#2aa5b0",
)
OK, WARN, BAD, MUTED = "#3a9a5b", "#e0a028", "#c23b3b", "#9aa4ae"
MAX_DAYS = 60  # the daily chart shows the last 60 days that have articles
MAX_STORIES = 15
TABLE_ROWS = 15


@dataclass
class Chart:
    """One section of the page: a title, an SVG, a note and a small data table."""

    key: str
    title: str
    svg: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class ReportData:
    generated_at: datetime
    summary: dict[str, Any]
    daily: list[tuple[date, str, int, int]]  # day, publisher, articles, words
    languages: list[tuple[str, int, int]]  # language, articles, words
    syndication: list[tuple[str, int, int, list[str], datetime, float]]
    health: list[dict[str, Any]]
    drop_reasons: list[tuple[str, int]]
    error_classes: list[tuple[str, int]]
    removed_rules: list[tuple[str, int, int]]  # rule, spans, characters
    charts: list[Chart] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def collect(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> ReportData:
    """Read what the report shows (a read-only connection is enough)."""
    generated = now or datetime.now(UTC)
    summary_row = con.execute(
        "select (select count(*) from articles), (select count(*) from publishers), "
        "(select count(*) from feeds), (select count(*) from runs), "
        "(select min(coalesce(published_at, first_seen_at)) from articles), "
        "(select max(coalesce(published_at, first_seen_at)) from articles), "
        "(select coalesce(sum(word_count), 0) from articles), "
        "(select count(*) from syndication)"
    ).fetchone()
    names = ("articles", "publishers", "feeds", "runs", "first", "last", "words", "stories")
    summary = dict(zip(names, summary_row or (), strict=False))
    daily = _rows(
        con,
        "select day, coalesce(publisher, '(unknown)'), sum(articles)::bigint, "
        "sum(words)::bigint from daily_volume group by all order by 1, 2",
    )
    languages = _rows(
        con,
        "select coalesce(language, '(unknown)'), sum(articles)::bigint, sum(words)::bigint "
        "from daily_volume group by all order by 2 desc, 1",
    )
    syndication = _rows(
        con,
        "select first_title, articles, publishers, publisher_names, first_seen, "
        "epoch(spread_time) / 3600.0 from syndication "
        f"order by publishers desc, articles desc, first_seen desc limit {MAX_STORIES}",
    )
    health_cursor = con.execute(
        "select publisher, feed_url, enabled, last_status, last_success_at, "
        "consecutive_failures, last_error_class, fetches, not_modified_ratio, retired_at, "
        "new_articles_last_day, usual_articles_per_day from source_health "
        "order by consecutive_failures desc, publisher, feed_url"
    )
    columns = [d[0] for d in health_cursor.description or []]
    health = [dict(zip(columns, r, strict=True)) for r in health_cursor.fetchall()]
    drops = _rows(
        con,
        "select drop_reason, count(*) from fetches where drop_reason is not null "
        "group by all order by 2 desc, 1",
    )
    errors = _rows(
        con,
        "select error_class, count(*) from fetches where error_class is not null "
        "group by all order by 2 desc, 1",
    )
    removed = _rows(
        con,
        "select rule, count(*), coalesce(sum(length(text)), 0)::bigint from removed_spans "
        "group by all order by 2 desc, 1",
    )
    return ReportData(
        generated, summary, daily, languages, syndication, health, drops, errors, removed
    )


# --- SVG ---------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum >= value and its tick step (4-5 ticks)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1 and value >= 1:
        step = 1.0
    return step * math.ceil(value / step), step


def _empty_svg(message: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="600" height="60" '
        f'viewBox="0 0 600 60" role="img"><text x="10" y="35" class="empty">{_e(message)}'
        "</text></svg>"
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hbar_svg(
    items: Sequence[tuple[str, Sequence[float]]],
    *,
    series: Sequence[str] = ("value",),
    colors: Sequence[str] | None = None,
    value_labels: Sequence[str] | None = None,
    label_width: int = 240,
    bar_width: int = 560,
    empty: str = "no data yet",
) -> str:
    """Horizontal bars, one row per item; several values per row are stacked."""
    if not items:
        return _empty_svg(empty)
    palette = list(colors or PALETTE)
    row_h, top = 24, 10
    legend = len(series) > 1
    top += 22 if legend else 0
    total_max = max(sum(values) for _, values in items) or 1
    scale = bar_width / total_max
    width = label_width + bar_width + 190
    height = top + row_h * len(items) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    if legend:
        lx = label_width
        for i, name in enumerate(series):
            parts.append(
                f'<rect x="{lx}" y="8" width="12" height="12" fill="{palette[i % len(palette)]}"/>'
                f'<text x="{lx + 16}" y="18" class="legend">{_e(name)}</text>'
            )
            lx += 22 + 8 * len(name)
    for row, (label, values) in enumerate(items):
        y = top + row * row_h
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" class="label" text-anchor="end">'
            f"<title>{_e(label)}</title>{_e(_truncate(label, (label_width - 12) // 7))}</text>"
        )
        x = float(label_width)
        for i, value in enumerate(values):
            w = value * scale
            if w <= 0:
                continue
            color = palette[i % len(palette)]
            name = f"{label} — {series[i]}" if len(series) > 1 else label
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}" '
                f'fill="{color}"><title>{_e(name)}: {_fmt(value)}</title></rect>'
            )
            x += w
        text = value_labels[row] if value_labels else _fmt(sum(values))
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" class="value">{_e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def hbar_colored_svg(
    items: Sequence[tuple[str, float, str, str]], *, empty: str = "no data yet"
) -> str:
    """Horizontal bars with one color per row: (label, value, color, value label)."""
    if not items:
        return _empty_svg(empty)
    label_width, bar_width, row_h, top = 340, 380, 24, 10
    scale = bar_width / (max(v for _, v, _, _ in items) or 1)
    width = label_width + bar_width + 320
    height = top + row_h * len(items) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    for row, (label, value, color, value_label) in enumerate(items):
        y = top + row * row_h
        w = max(value * scale, 3)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" class="label" text-anchor="end">'
            f"<title>{_e(label)}</title>{_e(_truncate(label, (label_width - 12) // 7))}</text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{color}"><title>{_e(label)}: {_e(value_label)}</title></rect>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + 16}" class="value">'
            f"{_e(value_label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns_svg(
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    empty: str = "no articles yet",
) -> str:
    """Columns per day, stacked by series (e.g. publishers), with axes and a legend."""
    if not days or not series:
        return _empty_svg(empty)
    left, right, top, bottom = 50, 20, 36, 46
    plot_w = max(600, min(1100, 18 * len(days)))
    plot_h = 260
    width, height = left + plot_w + right, top + plot_h + bottom
    totals = [sum(s[1][i] for s in series) for i in range(len(days))]
    axis_max, step = _nice_max(max(totals))
    col_w = plot_w / len(days)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    x = left
    for i, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="18" class="legend">{_e(name)}</text>'
        )
        x += 30 + 7 * len(name)
    tick = 0.0
    while tick <= axis_max + 1e-9:
        y = top + plot_h - tick / axis_max * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{_fmt(tick)}</text>"
        )
        tick += step
    every = max(1, math.ceil(len(days) / 15))
    for i, day in enumerate(days):
        x0 = left + i * col_w
        base = float(top + plot_h)
        for s, (name, values) in enumerate(series):
            value = values[i]
            if value <= 0:
                continue
            h = value / axis_max * plot_h
            base -= h
            parts.append(
                f'<rect x="{x0 + col_w * 0.1:.1f}" y="{base:.1f}" width="{col_w * 0.8:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{day.isoformat()} — {_e(name)}: {_fmt(value)}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x0 + col_w / 2:.1f}" y="{top + plot_h + 16}" class="axis" '
                f'text-anchor="middle">{day.strftime("%m-%d")}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'class="axisline"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" class="axis" '
        'text-anchor="middle">UTC day</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- the charts --------------------------------------------------------------------------


def _daily_chart(data: ReportData) -> Chart:
    days_with_data = sorted({d for d, _, _, _ in data.daily})[-MAX_DAYS:]
    if days_with_data:
        first, last = days_with_data[0], days_with_data[-1]
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    else:
        days = []
    totals: dict[str, int] = {}
    for _, publisher, n, _ in data.daily:
        totals[publisher] = totals.get(publisher, 0) + n
    publishers = sorted(totals, key=lambda p: (-totals[p], p))
    shown = publishers[: len(PALETTE) - 1]
    counts: dict[tuple[date, str], int] = {}
    for day, publisher, n, _ in data.daily:
        name = publisher if publisher in shown else "others"
        counts[(day, name)] = counts.get((day, name), 0) + n
    names = shown + (["others"] if len(publishers) > len(shown) else [])
    series = [(name, [float(counts.get((d, name), 0)) for d in days]) for name in names]
    rows: list[list[Any]] = []
    for day in sorted({d for d, _, _, _ in data.daily}, reverse=True)[:TABLE_ROWS]:
        per = [counts.get((day, name), 0) for name in names]
        rows.append([day.isoformat(), *per, sum(per)])
    all_total = [*(totals.get(n, 0) for n in shown)]
    if len(names) > len(shown):
        all_total.append(sum(totals.values()) - sum(all_total))
    rows.append(["all days", *all_total, sum(totals.values())])
    return Chart(
        "daily",
        "Articles per day, by publisher",
        stacked_columns_svg(days, series),
        ["UTC day", *names, "total"],
        rows,
        f"Publication day in UTC (first-seen day for undated articles); the chart shows up to "
        f"the last {MAX_DAYS} days with articles, the table the latest {TABLE_ROWS} and the "
        "totals.",
    )


def _language_chart(data: ReportData) -> Chart:
    total = sum(n for _, n, _ in data.languages) or 1
    items = [(lang, [float(n)]) for lang, n, _ in data.languages]
    labels = [f"{n:,} ({n / total:.0%})" for _, n, _ in data.languages]
    return Chart(
        "languages",
        "Language mix",
        hbar_svg(items, value_labels=labels, colors=[PALETTE[0]]),
        ["language", "articles", "share", "words"],
        [[lang, n, f"{n / total:.1%}", w] for lang, n, w in data.languages],
        "Language of each article (ISO 639-1), as detected at extraction.",
    )


def _syndication_chart(data: ReportData) -> Chart:
    items = []
    labels = []
    rows: list[list[Any]] = []
    for title, articles, publishers, names, first_seen, hours in data.syndication:
        items.append((title or "(untitled)", [float(hours or 0)]))
        labels.append(f"{_fmt(round(hours or 0, 1))} h · {publishers} publishers · {articles}×")
        rows.append(
            [
                title,
                articles,
                publishers,
                ", ".join(names or []),
                f"{first_seen:%Y-%m-%d %H:%M}" if first_seen else "",
                round(hours or 0, 1),
            ]
        )
    return Chart(
        "syndication",
        "Syndication spread",
        hbar_svg(items, value_labels=labels, colors=[PALETTE[4]], empty="no shared stories yet"),
        ["story", "articles", "publishers", "carried by", "first seen (UTC)", "spread (h)"],
        rows,
        "Stories carried by more than one article: hours from the first to the last "
        f"publication (the {MAX_STORIES} most widely carried).",
    )


def _health_chart(data: ReportData) -> Chart:
    items = []
    rows: list[list[Any]] = []
    for h in data.health:
        fetches = int(h["fetches"] or 0)
        failing = int(h["consecutive_failures"] or 0)
        if h["retired_at"] is not None:
            color, state = MUTED, "retired"
        elif failing >= 3:
            color, state = BAD, f"failing ×{failing}"
        elif failing > 0:
            color, state = WARN, f"failed ×{failing}"
        else:
            color, state = OK, "ok"
        ratio = h["not_modified_ratio"]
        label = f"{state} · {fetches} fetches"
        if ratio is not None:
            label += f" · {float(ratio):.0%} 304"
        if h["last_error_class"] and failing:
            label += f" · {h['last_error_class']}"
        items.append((f"{h['publisher']} — {h['feed_url']}", float(fetches), color, label))
        last_success = h["last_success_at"]
        rows.append(
            [
                h["publisher"],
                h["feed_url"],
                h["last_status"],
                failing,
                f"{last_success:%Y-%m-%d %H:%M}" if last_success else "never",
                h["last_error_class"] or "",
                "" if ratio is None else f"{float(ratio):.0%}",
                h["new_articles_last_day"],
            ]
        )
    return Chart(
        "health",
        "Source health",
        hbar_colored_svg(items, empty="no feeds yet"),
        [
            "publisher",
            "feed",
            "last status",
            "failures in a row",
            "last success (UTC)",
            "last error",
            "304 ratio",
            "new (24 h)",
        ],
        rows,
        "Bar length: fetches so far. Green: last fetch fine; amber: failed lately; red: "
        "3 or more failures in a row; grey: retired (410).",
    )


def _simple_chart(
    key: str, title: str, pairs: Sequence[tuple[str, int]], column: str, note: str, color: str
) -> Chart:
    total = sum(n for _, n in pairs) or 1
    return Chart(
        key,
        title,
        hbar_svg([(k, [float(n)]) for k, n in pairs], colors=[color], empty="none recorded"),
        [column, "count", "share"],
        [[k, n, f"{n / total:.1%}"] for k, n in pairs],
        note,
    )


def _charts(data: ReportData) -> list[Chart]:
    return [
        _daily_chart(data),
        _language_chart(data),
        _syndication_chart(data),
        _health_chart(data),
        _simple_chart(
            "drops",
            "Pages without an article: drop reasons",
            data.drop_reasons,
            "drop reason",
            "fetches.drop_reason: the page was fetched, but extraction kept no article.",
            PALETTE[1],
        ),
        _simple_chart(
            "errors",
            "Fetch errors by class",
            data.error_classes,
            "error class",
            "fetches.error_class over all feed and page fetches (see README: Error classes).",
            PALETTE[3],
        ),
        Chart(
            "removed",
            "Removed spans by rule",
            hbar_svg(
                [(r, [float(n)]) for r, n, _ in data.removed_rules],
                colors=[PALETTE[2]],
                empty="nothing removed yet",
            ),
            ["rule", "spans", "characters"],
            [[r, n, c] for r, n, c in data.removed_rules],
            "removed_spans.rule: what noise removal took out of article texts, and how much.",
        ),
    ]


# --- HTML --------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:24px auto;max-width:1200px;color:#1d2329;padding:0 16px}
h1{font-size:1.6em;margin-bottom:4px}
.meta{color:#5b6670;margin-top:0}
.summary{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.summary div{border:1px solid #d8dde2;border-radius:6px;padding:8px 14px}
.summary b{display:block;font-size:1.3em}
section{margin:28px 0;border-top:1px solid #d8dde2;padding-top:8px}
h2{font-size:1.2em}
p.note{color:#5b6670;font-size:.9em;margin:4px 0 8px}
.chart{max-width:100%;height:auto;display:block}
.chart text{font-size:12px;fill:#1d2329}
.chart .empty{fill:#5b6670;font-style:italic}
.chart .axis{fill:#5b6670;font-size:11px}
.chart .grid{stroke:#e6e9ec}
.chart .axisline{stroke:#5b6670}
table{border-collapse:collapse;font-size:.85em;margin-top:8px}
th,td{border:1px solid #d8dde2;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
"""


def _cell(value: Any) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int | float):
        return f'<td class="num">{_fmt(value)}</td>'
    return f"<td>{_e(value)}</td>"


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return '<p class="note">no rows</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if isinstance(value, datetime) else "—"


def render(data: ReportData, *, title: str = "newsdesk warehouse report") -> str:
    """The whole page as one HTML string (inline CSS and SVG only)."""
    data.charts = _charts(data)
    s = data.summary
    cards = [
        ("articles", _fmt(s.get("articles") or 0)),
        ("words", _fmt(s.get("words") or 0)),
        ("publishers", _fmt(s.get("publishers") or 0)),
        ("feeds", _fmt(s.get("feeds") or 0)),
        ("shared stories", _fmt(s.get("stories") or 0)),
        ("runs", _fmt(s.get("runs") or 0)),
        ("first article", _when(s.get("first"))),
        ("latest article", _when(s.get("last"))),
    ]
    summary = "".join(f"<div><b>{_e(v)}</b>{_e(k)}</div>" for k, v in cards)
    sections = "".join(
        f'<section id="{_e(c.key)}"><h2>{_e(c.title)}</h2>'
        f'<p class="note">{_e(c.note)}</p>{c.svg}{_table(c.columns, c.rows)}</section>'
        for c in data.charts
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="meta">Generated {_when(data.generated_at)} · times in UTC</p>'
        f'<div class="summary">{summary}</div>{sections}</body></html>\n'
    )


def write_report(
    con: duckdb.DuckDBPyConnection, out: str | Path, *, now: datetime | None = None
) -> ReportData:
    """Collect, render and write the page to ``out`` (written whole, then moved into place)."""
    data = collect(con, now)
    page = render(data)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)
    return data
