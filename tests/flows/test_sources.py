from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from flows.sources import (
    Publisher,
    SourcesDocument,
    SourcesError,
    adhoc_sources,
    load_sources,
    render_publisher,
    source_rows,
    staged_write,
)

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
    with pytest.raises(SourcesError, match=r's\.toml:3: publisher "X": feeds\[0\]: .*http\(s\)'):
        load_sources(path)
    path.write_text('[[publisher]]\nname = "X"\nfeedz = ["https://x.example/feed"]\n')
    with pytest.raises(SourcesError, match="unknown setting 'feedz' \\(did you mean 'feeds'\\?\\)"):
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


# --- errors with their line ---------------------------------------------------------------------

ERRORS = """\
# line 1: a comment
[[publisher]]
name = "RT"
feeds = ["https://www.rt.com/rss/"]

[[publisher]]
name = "Other"
language = "en"
feds = ["https://other.example/rss"]

[[publisher]]
name = "BBC News"
country = "GB"
feeds = ["htp://x"]
"""


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    return str(caught.value).replace(str(path), "s.toml")


def test_validation_errors_name_file_line_publisher_and_problem(tmp_path: Path) -> None:
    assert _error(tmp_path, ERRORS).splitlines() == [
        "s.toml:9: publisher \"Other\": unknown setting 'feds' (did you mean 'feeds'?)",
        "s.toml:14: publisher \"BBC News\": feeds[0]: URL must be http(s) with a host: 'htp://x'",
    ]


def test_error_lines_inside_arrays_subtables_and_odd_toml(tmp_path: Path) -> None:
    text = (
        "[[publisher]]\n"
        '\'name\' = "A \\" [[publisher]]"\n'  # a quoted key; a name that looks like a header
        'description = """\n[[publisher]]\nname = "fake"\n"""\n'  # a multi-line string
        "feeds = [\n"
        '  "https://a.example/rss",  # a comment with ] and [ and "\n'
        '  "mailto:x@example.com",\n'
        "]\n"
        "[publisher.extraction]\n"
        'body_selector = ""\n'
        "prune_selector = []\n"
    )
    assert _error(tmp_path, text).splitlines() == [
        's.toml:3: publisher "A \\" [[publisher]]": unknown setting \'description\'',
        's.toml:9: publisher "A \\" [[publisher]]": feeds[1]: URL must be http(s) with a host: '
        "'mailto:x@example.com'",
        's.toml:12: publisher "A \\" [[publisher]]": extraction.body_selector: String should '
        "have at least 1 character (got '')",
        's.toml:13: publisher "A \\" [[publisher]]": unknown setting '
        "'extraction.prune_selector' (did you mean 'extraction.prune_selectors'?)",
    ]


def test_other_file_mistakes(tmp_path: Path) -> None:
    # tomllib's own line and column.
    assert _error(tmp_path, "[[publisher]\nname=") == (
        "s.toml:1:12: not valid TOML: Expected ']]' at the end of an array declaration"
    )
    assert _error(tmp_path, "\n\n[[publisher]]\nname = = 1\n").startswith("s.toml:4:")
    assert _error(tmp_path, '[publisher]\nname = "x"\n') == (
        "s.toml:1: write each publisher as a [[publisher]] table (an array of tables)"
    )
    assert _error(tmp_path, '[[publishers]]\nname = "x"\n') == (
        "s.toml:1: unknown setting 'publishers' (did you mean 'publisher'?)"
    )
    assert _error(tmp_path, '[[publisher]]\nname = "x"\n') == (
        's.toml:1: publisher "x": give at least one feed or sitemap'
    )
    assert _error(tmp_path, '[[publisher]]\nfeeds = ["https://a.example/"]\n') == (
        "s.toml:1: publisher #1: missing required setting 'name'"
    )
    twice = '[[publisher]]\nname = "x"\nfeeds = ["https://a.example/"]\n\n'
    assert _error(tmp_path, twice + twice) == (
        's.toml:6: publisher "x": name already used on line 2; publisher names must be unique'
    )
    (tmp_path / "s.toml").write_bytes(b'[[publisher]]\nname = "\xff"\n')
    with pytest.raises(SourcesError, match=r"s\.toml:2: not UTF-8"):
        load_sources(tmp_path / "s.toml")


# --- edits ---------------------------------------------------------------------------------------


def test_every_edit_of_the_shipped_file_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    shutil.copy(REPO / "deploy" / "sources.toml", path)
    document = SourcesDocument.read(path)
    original = tomllib.loads(document.text)
    header = document.text[: document.text.index("[[publisher]]")]
    for index, name in enumerate(document.names):
        # Each edit checks its own meaning (old data plus the one change); here, the text.
        disabled = document.with_enabled(name, False)
        assert disabled.publishers[index].enabled is False
        assert disabled.text.count("\n") == document.text.count("\n") + 1
        assert disabled.with_enabled(name, True).publishers == document.publishers
        removed = document.without(name)
        assert removed.text.startswith(header)
        assert [p.name for p in removed.publishers] == document.names[:index] + document.names[
            index + 1 :
        ]
    added = document.adding(
        Publisher(name="Le Temps", language="fr", feeds=["https://www.letemps.ch/rss"])
    )
    assert added.text.startswith(document.text)
    assert tomllib.loads(added.text)["publisher"][:-1] == original["publisher"]


def test_edits_keep_comments_where_they_belong(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '# header\n\n# about A\n[[publisher]]\n  name = "A"  # indented\n'
        'feeds = ["https://a.example/"]\nenabled = true # keep me\n\n'
        '# about B\n[[publisher]]\nname = "B"\nfeeds = ["https://b.example/"]\n'
        '[publisher.extraction]\nbody_selector = "main"\n\n'
        '# about C\n[[publisher]]\nname = "C"\nsitemaps = ["https://c.example/news.xml"]\n',
        encoding="utf-8",
    )
    document = SourcesDocument.read(path)
    assert "enabled = false # keep me" in document.with_enabled("A", False).text
    assert 'name = "B"\nenabled = false\nfeeds' in document.with_enabled("b", False).text
    without_b = document.without("B").text
    assert "about B" not in without_b and "main" not in without_b
    assert '# about A\n[[publisher]]\n  name = "A"' in without_b
    assert 'keep me\n\n# about C\n[[publisher]]\nname = "C"' in without_b
    without_c = document.without("C").text
    assert without_c.endswith('body_selector = "main"\n') and "about C" not in without_c
    without_a = document.without("A").text
    assert without_a.startswith("# header\n\n# about B\n")
    with pytest.raises(SourcesError, match=r'no publisher named "D" in .*sources list'):
        document.without("D")
    with pytest.raises(SourcesError, match=r'no publisher named "Ab" in .*did you mean .*"A"\?'):
        document.index("Ab")
    with pytest.raises(SourcesError, match="already in the file"):
        document.adding(Publisher(name="c", feeds=["https://c2.example/"]))


def test_inline_publishers_are_read_but_not_edited(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('publisher = [{name = "A", feeds = ["https://a.example/"]}]\n')
    document = SourcesDocument.read(path)
    assert document.names == ["A"]
    for edit in (
        lambda: document.without("A"),
        lambda: document.with_enabled("A", False),
        lambda: document.adding(Publisher(name="B", feeds=["https://b.example/"])),
    ):
        with pytest.raises(SourcesError, match=r"edit (the file|it) by hand"):
            edit()


def test_render_publisher_round_trips() -> None:
    publisher = Publisher(
        name='Le "Monde"',
        domain="lemonde.fr",
        language="fr",
        feeds=[f"https://www.lemonde.fr/{section}/rss_full.xml" for section in ("une", "monde")],
        sitemaps=["https://www.lemonde.fr/sitemap_news.xml"],
        per_host_delay_s=2.0,
    )
    text = render_publisher(publisher, "added by hand\nwith a newline")
    assert text.startswith("# added by hand with a newline\n[[publisher]]\n")
    assert "enabled" not in text  # defaults stay out of the file
    assert Publisher.model_validate(tomllib.loads(text)["publisher"][0]) == publisher


def test_staged_write_is_atomic_and_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[[publisher]]\nname = "A"\nfeeds = ["https://a.example/"]\n')
    document = SourcesDocument.read(path)
    edited = document.with_enabled("A", False)
    with staged_write(edited) as staged:
        assert path.read_bytes() == document.on_disk  # nothing changes before put_in_place
        staged.put_in_place()
        assert not load_sources(path)[0].enabled
        staged.put_back()  # e.g. the warehouse could not commit
    assert path.read_bytes() == document.on_disk
    path.write_text(document.text + "# someone else's edit\n")
    with staged_write(edited) as staged, pytest.raises(SourcesError, match="changed while"):
        staged.put_in_place()
    assert path.read_text().endswith("# someone else's edit\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no temporary file left
