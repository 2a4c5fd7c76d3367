"""Re-extraction reads stored raw pages: no fetching, new text becomes a new version."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from flows.reextract import reextract
from tests.conftest import DemoRuns


def test_reextract_restores_tampered_text_as_a_new_version(
    demo_runs: DemoRuns, tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_runs.db, db)
    # The pages live in the WARC captures beside the warehouse: the data folder moves whole.
    shutil.copytree(demo_runs.db.parent / "captures", tmp_path / "captures")
    con = duckdb.connect(str(db))
    article_id, text, version = con.execute(
        "select article_id, text, version from articles a join publishers p using (publisher_id)"
        " where p.name = 'Nordpost' order by article_id limit 1"
    ).fetchone() or (0, "", 0)
    con.execute(
        "update articles set text = 'tampered', content_hash = 'x', extractor_version = 'old' "
        "where article_id = ?",
        [article_id],
    )
    total = con.execute("select count(*) from articles").fetchone()
    con.close()

    summary = reextract(db=str(db), publisher="Nordpost")
    assert summary["status"] == "completed"
    assert summary["articles_updated"] == 1
    assert summary["pages"] == summary["articles_updated"] + summary["articles_unchanged"]

    con = duckdb.connect(str(db), read_only=True)
    try:
        restored, new_version, extractor = con.execute(
            "select text, version, extractor_version from articles where article_id = ?",
            [article_id],
        ).fetchone() or ("", 0, "")
        versions = con.execute(
            "select count(*) from article_versions where article_id = ?", [article_id]
        ).fetchone()
        other_publishers = con.execute(
            "select count(*) from articles a join publishers p using (publisher_id) "
            "where p.name <> 'Nordpost' and extractor_version = 'old'"
        ).fetchone()
        assert con.execute("select count(*) from articles").fetchone() == total
        runs = con.execute("select flow, status from runs where flow = 'reextract'").fetchall()
    finally:
        con.close()
    assert restored == text
    assert new_version == version + 1
    assert extractor.startswith("newsdesk-")
    assert versions == (new_version,)
    assert other_publishers == (0,)
    assert runs == [("reextract", "completed")]
