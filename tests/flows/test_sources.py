from pathlib import Path

import pytest

from flows.sources import SourcesError, adhoc_sources, load_sources, source_rows

REPO = Path(__file__).resolve().parents[2]


def test_shipped_sources_file_is_valid_and_multilingual() -> None:
    publishers = load_sources(REPO / "deploy" / "sources.toml")
    feeds = [url for p in publishers for url in p.feeds]
    assert len(feeds) >= 20
    languages = {p.language for p in publishers}
    assert {"en", "de", "fr", "es", "ja"} <= languages
    assert len(set(feeds)) == len(feeds)


def test_bad_field_names_the_publisher_and_field(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[[publisher]]\nname = "X"\nfeeds = ["ftp://x.example/feed"]\n')
    with pytest.raises(SourcesError, match=r"publisher #1 \(X\)\.feeds.*http\(s\)"):
        load_sources(path)
    path.write_text('[[publisher]]\nname = "X"\nfeedz = ["https://x.example/feed"]\n')
    with pytest.raises(SourcesError, match="feedz"):
        load_sources(path)


def test_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[[publisher]\nname=")
    with pytest.raises(SourcesError, match="not valid TOML"):
        load_sources(path)
    with pytest.raises(SourcesError, match="not found"):
        load_sources(tmp_path / "nope.toml")


def test_adhoc_feeds_group_by_host() -> None:
    publishers = adhoc_sources(
        ["https://www.example.com/a.rss", "https://example.com/b.rss", "http://other.org/feed"]
    )
    assert [(p.name, len(p.feeds)) for p in publishers] == [("example.com", 2), ("other.org", 1)]
    rows = source_rows(publishers)
    assert {r.domain for r in rows} == {"example.com", "other.org"}
