"""URL canonicalisation: one spelling per resource, and a short stable key for it.

Scheme and host are lower-cased, default ports, fragments and tracking parameters are dropped,
the remaining query parameters are sorted. ``url_key`` hashes the canonical form so it can be an
index key of fixed width.

``article_url`` goes further for comparing articles: AMP and mobile variants, index pages and
trailing slashes fold into one form. ``prefer_canonical`` picks a page's own rel=canonical or
og:url when it stays on the same site (same registrable domain, by a small heuristic in place of
the public suffix list).
"""

from __future__ import annotations

import contextlib
import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = [
    "TRACKING_PARAMS",
    "article_url",
    "canonical_url",
    "host_of",
    "prefer_canonical",
    "registrable_domain",
    "resolve",
    "same_site",
    "url_key",
]

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ocid",
        "cmpid",
        "icid",
        "ito",
        "at_medium",
        "at_campaign",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "s_cid",
        "ref",
        "ref_src",
        "referrer",
        "src",
        "CMP",
        "cmp",
        "smid",
        "taid",
        "xtor",
        "wt_mc",
        "wt_zmc",
        "spm",
        "share",
        "via",
        "utm",
        "ftag",
        "intcmp",
        "int_source",
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_", "vero_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical spelling of ``url`` (see module docstring); unparseable input comes back
    stripped."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not scheme or not host:
        return url
    with contextlib.suppress(UnicodeError):  # keep a host the IDNA codec refuses as it is
        host = host.encode("idna").decode("ascii")
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):  # IPv6 literal
        netloc = f"[{host}]" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"[{host}]:{port}"
    # Re-quote the path so %7E and ~ compare equal; keep reserved characters as they are.
    path = quote(unquote(parts.path or "/"), safe="/:@!$&'()*+,;=-._~")
    query_pairs = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(url: str) -> str:
    """Fixed-width identity of an article URL (hex SHA-256, first 24 chars).

    Built from :func:`article_url`, so tracking parameters, AMP and mobile variants, index
    pages and trailing slashes all give the same key, and from it without the scheme: the
    http and https addresses of a page are one article.
    """
    folded = article_url(url)
    scheme_free = folded.split("://", 1)[1] if "://" in folded else folded
    return hashlib.sha256(scheme_free.encode("utf-8")).hexdigest()[:24]


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased; the unit of politeness and batching."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def resolve(base: str, link: str) -> str:
    return urljoin(base, link.strip())


# --- AMP / mobile variants and rel=canonical ------------------------------------------------

# Second-level labels under which ccTLDs register names (bbc.co.uk, abc.net.au, asahi.co.jp,
# gob.mx): a small stand-in for the public suffix list, which newsdesk does not ship. Private
# suffixes (github.io, blogspot.com) are not known, so their sites count as one.
_SECOND_LEVEL = frozenset(
    {"ac", "co", "com", "edu", "go", "gob", "gouv", "gov", "govt", "ltd", "mil", "ne", "net"}
    | {"nhs", "nic", "nom", "or", "org", "plc", "sch"}
)
_VARIANT_HOST_PREFIXES = ("www.", "amp.", "m.", "mobile.")
_INDEX_PAGES = frozenset(
    {"index.html", "index.htm", "index.shtml", "index.php", "index.asp", "index.aspx", "index.jsp"}
    | {"default.aspx", "default.asp", "default.htm", "default.html"}
)
_AMP_QUERY: dict[str, frozenset[str]] = {
    "amp": frozenset({"", "1", "true"}),
    "outputtype": frozenset({"amp"}),
    "output": frozenset({"amp"}),
}


def _is_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def registrable_domain(host: str) -> str:
    """The registrable part of ``host`` by a heuristic: the last two labels, or three when the
    last is a two-letter country code under a known second level (``news.bbc.co.uk`` →
    ``bbc.co.uk``). IP addresses and single labels come back as they are."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if _is_ip(host) or len(labels) < 2:
        return host
    country_second_level = len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL
    suffix = 2 if country_second_level and len(labels) >= 3 else 1
    return ".".join(labels[-(suffix + 1) :])


def _holds_registrable(host: str) -> bool:
    """Whether ``host`` is a registrable domain or below one (not a bare public suffix such as
    ``com`` or ``co.uk``)."""
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    country_second_level = len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL
    return not (country_second_level and len(labels) == 2)


def _fold_host(host: str) -> str:
    """Drop ``www.``/``amp.``/``m.``/``mobile.`` while what stays still holds a registrable
    domain: ``m.bbc.co.uk`` → ``bbc.co.uk``, but ``m.co.uk`` and ``m.com`` stay as they are."""
    while not _is_ip(host):
        prefix = next((p for p in _VARIANT_HOST_PREFIXES if host.startswith(p)), None)
        if prefix is None or not _holds_registrable(host[len(prefix) :]):
            return host
        host = host[len(prefix) :]
    return host


def article_url(url: str) -> str:
    """:func:`canonical_url` with AMP and mobile variants folded into one form, for comparing
    and deduplicating articles: ``www.``/``amp.``/``m.``/``mobile.`` host prefixes, ``/amp``
    path segments, ``.amp.html`` → ``.html``, ``?amp=1`` / ``outputType=amp``, index pages
    (``/index.html``, ``/index.php``, ``/default.aspx``, …) and trailing slashes.

    The result is a comparison key, not always a fetchable address (``www.`` is dropped).
    :func:`url_key` is built from it."""
    canonical = canonical_url(url)
    try:
        parts = urlsplit(canonical)
    except ValueError:
        return canonical
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return canonical
    host = _fold_host(parts.hostname)
    netloc = (
        parts.netloc.replace(parts.hostname, host, 1) if host != parts.hostname else parts.netloc
    )
    segments = [s for s in parts.path.split("/") if s and s.lower() != "amp"]
    if segments and segments[-1].lower() in _INDEX_PAGES:
        segments.pop()
    if segments:
        last = segments[-1]
        lowered = last.lower()
        if lowered.endswith((".amp.html", ".amp.htm")):
            cut = lowered.rindex(".amp.")
            segments[-1] = last[:cut] + last[cut + 4 :]
        elif lowered.endswith(".amp"):
            segments[-1] = last[:-4]
    path = "/" + "/".join(segments)
    query = urlencode(
        [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if value.lower() not in _AMP_QUERY.get(name.lower(), frozenset())
        ],
        doseq=True,
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same site: the same registrable domain (by
    :func:`registrable_domain`), ignoring scheme, port and variant prefixes."""
    host_a = (urlsplit(a.strip()).hostname or "").rstrip(".")
    host_b = (urlsplit(b.strip()).hostname or "").rstrip(".")
    return bool(host_a) and registrable_domain(host_a) == registrable_domain(host_b)


def prefer_canonical(page_url: str, rel_canonical: str | None, og_url: str | None) -> str:
    """The article address to keep for a page: its ``rel=canonical``, else its ``og:url``,
    resolved against the page and only when on the same site (a syndication partner's
    canonical that names the original publisher is left alone: that is a cross-site
    duplicate, which text deduplication finds), else the page URL; as :func:`article_url`.

    A canonical pointing at the site's home page from a deeper page is ignored (a common CMS
    misconfiguration that would merge every article into one), as are non-HTTP(S) values."""
    page = page_url.strip()
    page_path = urlsplit(page).path.strip("/")
    for candidate in (rel_canonical, og_url):
        if not candidate or not candidate.strip():
            continue
        try:
            resolved = resolve(page, candidate)
            parts = urlsplit(resolved)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if page_path and urlsplit(article_url(resolved)).path == "/":
            continue
        if same_site(resolved, page):
            return article_url(resolved)
    return article_url(page)
