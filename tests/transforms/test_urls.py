from transforms.urls import canonical_url, host_of, url_key


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
