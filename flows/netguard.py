"""The SSRF guard: newsdesk fetches URLs that strangers write (feeds, redirects, links), so it must
never be steered into the machine it runs on, its network, or a cloud metadata service.

Two checks, both driven by :func:`classify_address`:

* :func:`check_url` before a request (and before every redirect hop): the scheme is http(s), the
  URL has a host, and a host written as an IP literal is not refused.
* :func:`resolve` at connect time (see :mod:`flows.transport`): the host name is resolved once,
  every address is vetted, and the connection goes to a vetted address, so a second DNS answer
  (rebinding) cannot swap in an internal one.

An allow-list of networks (``Settings.allow_private``, e.g. ``127.0.0.0/8`` for the demo site)
overrides refusal. Exceptions::

    NetGuardError
    ├── UrlRefused            not http(s), or no host          -> error class "invalid_url"
    ├── AddressRefused        a refused address                -> error class "ssrf_refused"
    └── NameResolutionFailed  the host name does not resolve   -> error class "dns"
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

import httpx

__all__ = [
    "ALLOWED_SCHEMES",
    "METADATA_ADDRESSES",
    "AddressRefused",
    "IPAddress",
    "IPNetwork",
    "NameResolutionFailed",
    "NetGuardError",
    "Resolver",
    "UrlRefused",
    "check_url",
    "classify_address",
    "parse_networks",
    "resolve",
    "system_resolver",
]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
# host, port -> every address the name resolves to.
Resolver = Callable[[str, int], Sequence[IPAddress]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Checked before the ranges: most sit inside link-local or private space, but naming them makes
# the refusal message say what was really at stake.
METADATA_ADDRESSES = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean instance metadata
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "169.254.170.23",  # AWS EKS Pod Identity agent
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (older instances)
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # AWS EKS Pod Identity agent over IPv6
    )
)


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ip_network(cidr), reason) for cidr, reason in rows)


# First match wins. Written out rather than taken from ipaddress' is_private & co, whose lists
# changed between Python patch releases; a guard must not move under us.
_IPV4_RULES = _table(
    ("0.0.0.0/8", "unspecified"),  # Linux connects 0.0.0.0 to the local host
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),  # retired 6to4 relay anycast
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
)
_IPV6_RULES = _table(
    ("64:ff9b:1::/48", "private"),  # local-use NAT64 (RFC 8215)
    ("100::/64", "reserved"),  # discard-only
    ("2001::/32", "teredo"),  # tunnels to an obfuscated IPv4 address; no news site lives there
    ("2001:2::/48", "benchmarking"),
    ("2001::/23", "reserved"),  # IETF protocol assignments
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link_local"),
    ("fec0::/10", "private"),  # deprecated site-local
    ("ff00::/8", "multicast"),
)
_UNSPECIFIED_V6 = IPv6Address("::")
_LOOPBACK_V6 = IPv6Address("::1")
_GLOBAL_UNICAST_V6 = ip_network("2000::/3")
_IPV4_MAPPED = ip_network("::ffff:0:0/96")
_IPV4_COMPATIBLE = ip_network("::/96")
_NAT64 = ip_network("64:ff9b::/96")


class NetGuardError(Exception):
    """A request the guard will not make."""


class UrlRefused(NetGuardError):
    """The URL itself is unacceptable: not http(s), or without a host."""


class AddressRefused(NetGuardError):
    """``host`` is, or resolves to, ``address``, which is refused for ``reason``."""

    def __init__(self, host: str, address: IPAddress, reason: str) -> None:
        self.host, self.address, self.reason = host, address, reason
        super().__init__(f"refused {host}: address {address} is {reason}")


class NameResolutionFailed(NetGuardError):
    """The host name did not resolve to any address."""

    def __init__(self, host: str, detail: str) -> None:
        self.host = host
        super().__init__(f"cannot resolve {host}: {detail}")


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``["127.0.0.0/8", "::1"]`` -> networks; host bits are tolerated, junk raises ValueError."""
    return tuple(ip_network(cidr.strip(), strict=False) for cidr in cidrs)


def _embedded_ipv4(ip: IPv6Address) -> tuple[str, IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, and how it carries it."""
    if ip in _IPV4_MAPPED:
        return "ipv4_mapped", IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64:
        return "nat64", IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in _IPV4_COMPATIBLE:
        return "ipv4_compatible", IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _listed(ip: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    # An IPv4 address is never "in" an IPv6 network and vice versa, so mixed lists are fine.
    return any(ip in network for network in allowed)


def classify_address(ip: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``ip`` must not be fetched from (``"loopback"``, ``"ipv4_mapped:metadata"``, ...), or
    None when it is a public address or inside one of the ``allowed`` networks."""
    if _listed(ip, allowed):
        return None
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, IPv4Address):
        return next((reason for network, reason in _IPV4_RULES if ip in network), None)
    if ip == _UNSPECIFIED_V6:  # both sit inside ::/96, so they go before the embedded forms
        return "unspecified"
    if ip == _LOOPBACK_V6:
        return "loopback"
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        how, ipv4 = embedded
        if how == "ipv4_mapped" and _listed(ipv4, allowed):
            return None  # the kernel connects to the IPv4 address itself
        inner = classify_address(ipv4)
        if inner is not None:
            return f"{how}:{inner}"
        # An IPv4-compatible address (deprecated since 2006) is not routed anywhere useful.
        return "reserved" if how == "ipv4_compatible" else None
    for network, reason in _IPV6_RULES:
        if ip in network:
            return reason
    # Outside 2000::/3 nothing is publicly routed today.
    return None if ip in _GLOBAL_UNICAST_V6 else "reserved"


def check_url(url: str | httpx.URL, allowed: Sequence[IPNetwork] = ()) -> httpx.URL:
    """Parse ``url`` the way httpx will send it and refuse what must not be requested.

    Parsing with httpx itself matters: a guard that reads a URL differently from the client is
    the classic SSRF bypass. Host names are not resolved here; :func:`resolve` does that at
    connect time. Raises :class:`UrlRefused`, :class:`AddressRefused` or ``httpx.InvalidURL``.
    """
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise UrlRefused(f"scheme {parsed.scheme or '(none)'!r} is not http or https: {url}")
    if not parsed.host:
        raise UrlRefused(f"no host in {url}")
    try:
        literal = ip_address(parsed.host)
    except ValueError:
        return parsed  # a name; vetted when it is resolved
    reason = classify_address(literal, allowed)
    if reason is not None:
        raise AddressRefused(parsed.host, literal, reason)
    return parsed


def system_resolver(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every TCP address ``getaddrinfo`` gives for ``host``, in its order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise NameResolutionFailed(host, str(exc)) from exc
    found: dict[IPAddress, None] = {}
    for family, _type, _proto, _canon, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            found[ip_address(str(sockaddr[0]))] = None
    return tuple(found)


def resolve(
    host: str,
    port: int,
    allowed: Sequence[IPNetwork] = (),
    resolver: Resolver = system_resolver,
) -> tuple[IPAddress, ...]:
    """Resolve ``host`` once and return its addresses if every one of them is acceptable.

    One refused address refuses the host: a name that answers both public and internal
    addresses is an attack, or a misconfiguration we should not paper over.
    """
    addresses = tuple(resolver(host, port))
    if not addresses:
        raise NameResolutionFailed(host, "no addresses")
    for address in addresses:
        reason = classify_address(address, allowed)
        if reason is not None:
            raise AddressRefused(host, address, reason)
    return addresses
