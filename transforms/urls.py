"""URL canonicalisation: one spelling per resource, and a short stable key for it.

Scheme and host are lower-cased, default ports, fragments and tracking parameters are dropped,
the remaining query parameters are sorted. ``url_key`` hashes the canonical form so it can be an
index key of fixed width.
"""

from __future__ import annotations

import contextlib
import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "canonical_url", "host_of", "resolve", "url_key"]

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
    """Fixed-width key of the canonical URL (hex SHA-256, first 24 chars)."""
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:24]


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
