import pytest

from transforms.urls import (
    article_url,
    canonical_url,
    host_of,
    prefer_canonical,
    registrable_domain,
    same_site,
    url_key,
)


def test_canonical_url_drops_tracking_fragment_default_port_and_case() -> None:
    messy = "HTTPS://Example.COM:443/news/story.html?utm_source=rss&id=7&fbclid=abc#comments"
    assert canonical_url(messy) == "https://example.com/news/story.html?id=7"


def test_canonical_url_sorts_query_and_keeps_non_default_port() -> None:
    assert canonical_url("http://127.0.0.1:8642/a?b=2&a=1") == "http://127.0.0.1:8642/a?a=1&b=2"


def test_canonical_url_quotes_path_consistently() -> None:
    assert canonical_url("https://x.org/%7Euser/caf%C3%A9") == canonical_url(
        "https://x.org/~user/café"
    )


def test_url_key_equal_for_variants_and_different_for_other_pages() -> None:
    a = url_key("https://example.com/a?utm_medium=email")
    assert a == url_key("https://EXAMPLE.com/a#top")
    assert a != url_key("https://example.com/b")
    assert len(a) == 24


def test_unparseable_url_is_kept_not_raised() -> None:
    assert canonical_url("  http://[::1/broken ") == "http://[::1/broken"


def test_host_of_includes_port() -> None:
    assert host_of("http://127.0.0.1:8642/x") == "127.0.0.1:8642"
    assert host_of("https://WWW.Example.com/x") == "www.example.com"


# --- AMP / mobile variants and rel=canonical ------------------------------------------------

STORY = "https://example.com/news/2025/port-strike"


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.example.com/news/2025/port-strike",
        "https://amp.example.com/news/2025/port-strike",
        "https://m.example.com/news/2025/port-strike",
        "https://mobile.example.com/news/2025/port-strike/",
        "https://example.com/amp/news/2025/port-strike",
        "https://example.com/news/2025/port-strike/amp/",
        "https://example.com/news/2025/port-strike?amp=1",
        "https://example.com/news/2025/port-strike?amp",
        "https://example.com/news/2025/port-strike?outputType=amp&utm_source=x",
        "https://example.com/news/2025/port-strike/",
        "https://example.com/news/2025/port-strike/index.html",
        "https://example.com/news/2025/port-strike/index.php",
        "https://example.com/news/2025/port-strike/default.aspx",
        "HTTPS://M.EXAMPLE.COM:443/AMP/news/2025/port-strike/#comments",
    ],
)
def test_amp_mobile_index_and_slash_variants_fold_to_one_form(variant: str) -> None:
    assert article_url(variant) == STORY


def test_amp_html_suffix_folds_to_html() -> None:
    assert (
        article_url("https://www.example.com/a/story.amp.html")
        == "https://example.com/a/story.html"
    )
    assert article_url("https://example.com/a/story.amp") == "https://example.com/a/story"


def test_article_url_keeps_what_is_not_a_variant() -> None:
    assert article_url("https://example.com/") == "https://example.com/"
    assert (
        article_url("https://example.com/news?id=7&amp=0") == "https://example.com/news?amp=0&id=7"
    )
    assert article_url("https://example.com/ampere/story") == "https://example.com/ampere/story"
    assert article_url("https://example.com/m/story") == "https://example.com/m/story"
    assert article_url("http://127.0.0.1:8642/a/") == "http://127.0.0.1:8642/a"
    assert article_url("mailto:desk@example.com") == "mailto:desk@example.com"


def test_mobile_prefix_is_kept_when_no_registrable_domain_would_remain() -> None:
    assert article_url("https://m.bbc.co.uk/news/1") == "https://bbc.co.uk/news/1"
    assert article_url("https://m.co.uk/news/1") == "https://m.co.uk/news/1"
    assert article_url("https://m.com/news/1") == "https://m.com/news/1"
    assert article_url("https://mobile.com/news/1") == "https://mobile.com/news/1"
    assert article_url("https://www.m.example.org/x") == "https://example.org/x"


def test_registrable_domain_heuristic() -> None:
    assert registrable_domain("www.spiegel.de") == "spiegel.de"
    assert registrable_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("www.abc.net.au") == "abc.net.au"
    assert registrable_domain("digital.asahi.co.jp") == "asahi.co.jp"
    assert registrable_domain("co.uk") == "co.uk"
    assert registrable_domain("127.0.0.1") == "127.0.0.1"
    assert registrable_domain("localhost") == "localhost"
    assert same_site("https://amp.example.com/a", "http://www.example.com:8080/b")
    assert not same_site("https://example.com/a", "https://example.org/a")
    assert not same_site("https://bbc.co.uk/a", "https://itv.co.uk/a")


def test_prefer_canonical_uses_same_site_canonical_then_og_url() -> None:
    page = "https://amp.example.com/amp/news/1?amp=1"
    assert prefer_canonical(page, "https://www.example.com/news/1", None) == (
        "https://example.com/news/1"
    )
    assert prefer_canonical(page, None, "https://www.example.com/news/one") == (
        "https://example.com/news/one"
    )
    assert prefer_canonical(page, "/news/canonical-path", "https://example.com/og") == (
        "https://example.com/news/canonical-path"  # relative href, resolved against the page
    )
    assert prefer_canonical(page, None, None) == "https://example.com/news/1"


def test_prefer_canonical_ignores_other_sites_home_pages_and_junk() -> None:
    page = "https://news.portal.com/world/strike-123"
    wire = "https://www.wireagency.com/world/strike"
    assert prefer_canonical(page, wire, None) == "https://news.portal.com/world/strike-123"
    assert prefer_canonical(page, wire, "https://portal.com/world/s") == (
        "https://portal.com/world/s"
    )
    assert prefer_canonical(page, "https://portal.com/", None) == article_url(page)
    assert prefer_canonical(page, "javascript:void(0)", "  ") == article_url(page)
    assert prefer_canonical(page, "http://[::1/broken", None) == article_url(page)
    assert prefer_canonical("https://portal.com/", "https://www.portal.com/", None) == (
        "https://portal.com/"
    )


def test_url_key_folds_amp_mobile_scheme_and_index_variants() -> None:
    from transforms.urls import url_key as key

    base = key("https://www.example.com/news/story.html")
    for variant in (
        "http://example.com/news/story.html?utm_source=rss",
        "https://amp.example.com/news/story.html",
        "https://m.example.com/news/story.html#comments",
        "https://www.example.com/news/story.amp.html",
        "https://www.example.com/amp/news/story.html",
    ):
        assert key(variant) == base, variant
    assert key("https://www.example.com/news/other.html") != base
