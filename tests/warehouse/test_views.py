"""The analytics views (daily_volume, top_authors, trending_tags) on the demo warehouse,
checked against the hand-written ground truth of the demo site (demo/site/manifest.json)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pytest

from tests.conftest import DemoRuns

NEW_VIEWS = ("daily_volume", "top_authors", "trending_tags")


@pytest.fixture
def con(demo_runs: DemoRuns) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(demo_runs.db), read_only=True)
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_daily_volume_matches_the_manifest(
    con: duckdb.DuckDBPyConnection, demo_manifest: list[dict[str, Any]]
) -> None:
    rows = con.execute(
        "select day, publisher, language, articles, words, undated_articles from daily_volume"
    ).fetchall()
    got = {(day, publisher, language): n for day, publisher, language, n, _, _ in rows}
    expected = Counter(
        (_utc(a["published_utc"]).date(), a["publisher"], a["language"]) for a in demo_manifest
    )
    assert got == dict(expected)
    totals = con.execute("select count(*), sum(word_count) from articles").fetchone()
    assert totals is not None
    assert sum(r[3] for r in rows) == totals[0] == len(demo_manifest)
    assert sum(r[4] for r in rows) == totals[1]
    assert all(r[5] == 0 for r in rows)  # every demo page carries its date
    assert all(isinstance(r[0], date) and not isinstance(r[0], datetime) for r in rows)


def test_top_authors_people_and_agencies_apart(
    con: duckdb.DuckDBPyConnection, demo_manifest: list[dict[str, Any]]
) -> None:
    rows = con.execute(
        "select kind, rank, author, articles, publishers, publisher_names, first_seen, "
        "last_seen from top_authors order by kind, rank"
    ).fetchall()
    people = {r[2]: r for r in rows if r[0] == "person"}
    agencies = {r[2]: r for r in rows if r[0] == "agency"}
    expected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article in demo_manifest:
        for name in article["authors"]:
            expected[name].append(article)
    assert set(people) == set(expected)
    for name, articles in expected.items():
        _, _, _, n, n_publishers, names, first, last = people[name]
        assert n == len(articles), name
        assert n_publishers == len({a["publisher"] for a in articles})
        assert names == sorted({a["publisher"] for a in articles})
        assert first == min(_utc(a["published_utc"]) for a in articles)
        assert last == max(_utc(a["published_utc"]) for a in articles)
    wire = [a for a in demo_manifest if a["agency"]]
    agency = wire[0]["agency"]
    assert set(agencies) == {agency}
    assert agencies[agency][1] == 1
    assert agencies[agency][3] == len(wire)
    assert agencies[agency][4] == len({a["publisher"] for a in wire})
    # ranks are 1..n within each kind, by articles descending
    for kind in ("person", "agency"):
        ranked = [r for r in rows if r[0] == kind]
        assert [r[1] for r in ranked] == list(range(1, len(ranked) + 1))
        assert [r[3] for r in ranked] == sorted((r[3] for r in ranked), reverse=True)


@pytest.mark.parametrize(
    "as_of",
    [datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 16, 12, tzinfo=UTC)],
    ids=["end-of-month", "mid-month"],
)
def test_trending_tags_at_a_fixed_time(
    con: duckdb.DuckDBPyConnection, demo_manifest: list[dict[str, Any]], as_of: datetime
) -> None:
    recent: Counter[str] = Counter()
    baseline: Counter[str] = Counter()
    for article in demo_manifest:
        published = _utc(article["published_utc"])
        for tag in set(article["tags"]):
            if as_of - timedelta(days=7) <= published < as_of:
                recent[tag] += 1
            elif as_of - timedelta(days=35) <= published < as_of - timedelta(days=7):
                baseline[tag] += 1
    rows = con.execute(
        "select tag, recent_articles, baseline_articles, baseline_weekly, ratio, rank, as_of "
        "from trending_tags_at(?::timestamptz) order by rank",
        [as_of],
    ).fetchall()
    assert rows, "some demo tags fall in the window"
    assert {r[0]: (r[1], r[2]) for r in rows} == {t: (n, baseline[t]) for t, n in recent.items()}
    for tag, n_recent, n_baseline, weekly, ratio, _, row_as_of in rows:
        assert weekly == pytest.approx(round(n_baseline / 4, 2)), tag
        assert ratio == pytest.approx(round((n_recent + 1) / (n_baseline / 4 + 1), 3)), tag
        assert row_as_of == as_of
    assert [r[5] for r in rows] == list(range(1, len(rows) + 1))
    assert [r[4] for r in rows] == sorted((r[4] for r in rows), reverse=True)


def test_trending_tags_view_is_as_of_now(con: duckdb.DuckDBPyConnection) -> None:
    names = [d[0] for d in con.execute("select * from trending_tags limit 0").description or []]
    assert names == [
        "tag",
        "recent_articles",
        "baseline_articles",
        "baseline_weekly",
        "ratio",
        "recent_publishers",
        "rank",
        "as_of",
    ]
    same = con.execute(
        "select (select count(*) from trending_tags), "
        "(select count(*) from trending_tags_at(now())), "
        "(select max(as_of) from trending_tags) between now() - interval 1 minute and now()"
    ).fetchone()
    assert same is not None
    assert same[0] == same[1]
    assert same[2] in (True, None)  # None: no tag in the last 7 days


def test_every_column_of_the_new_views_is_commented(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where table_name in ? order by all",
        [list(NEW_VIEWS)],
    ).fetchall()
    assert {r[0] for r in rows} == set(NEW_VIEWS)
    assert [(t, c) for t, c, comment in rows if not comment] == []
    view_comments = con.execute(
        "select view_name, comment from duckdb_views() where view_name in ?", [list(NEW_VIEWS)]
    ).fetchall()
    assert len(view_comments) == len(NEW_VIEWS) and all(c for _, c in view_comments)
    utc_columns = {
        ("daily_volume", "day"),
        ("top_authors", "first_seen"),
        ("trending_tags", "as_of"),
    }
    comments = {(t, c): comment for t, c, comment in rows}
    assert all("UTC" in comments[key] for key in utc_columns)
