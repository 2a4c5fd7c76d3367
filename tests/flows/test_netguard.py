"""The SSRF guard's decisions, as tables: pure, no network."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from flows.netguard import (
    AddressRefused,
    IPAddress,
    NameResolutionFailed,
    UrlRefused,
    check_url,
    classify_address,
    parse_networks,
    resolve,
    system_resolver,
)

REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.1.1", "link_local"),
    ("100.64.0.1", "cgnat"),
    ("100.127.255.255", "cgnat"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    # cloud metadata, named as such although inside the ranges above
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("100.100.100.200", "metadata"),
    ("192.0.0.192", "metadata"),
    ("fd00:ec2::254", "metadata"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link_local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("100::1", "reserved"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
    ("64:ff9b:1::a00:1", "private"),
    ("5f00::1", "reserved"),  # outside 2000::/3
    # IPv4 inside IPv6: the embedded address decides
    ("::ffff:127.0.0.1", "ipv4_mapped:loopback"),
    ("::ffff:169.254.169.254", "ipv4_mapped:metadata"),
    ("::ffff:10.0.0.1", "ipv4_mapped:private"),
    ("::ffff:100.64.0.1", "ipv4_mapped:cgnat"),
    ("64:ff9b::127.0.0.1", "nat64:loopback"),
    ("64:ff9b::169.254.169.254", "nat64:metadata"),
    ("2002:c0a8:0101::1", "6to4:private"),
    ("2002:7f00:0001::1", "6to4:loopback"),
    ("::127.0.0.1", "ipv4_compatible:loopback"),
    ("::8.8.8.8", "reserved"),  # IPv4-compatible is deprecated, even for a public address
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above
    "172.15.255.255",
    "172.32.0.0",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
    "2002:0808:0808::1",
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_refused_addresses(address: str, reason: str) -> None:
    assert classify_address(ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert classify_address(ip_address(address)) is None


def test_allow_list_overrides_refusal() -> None:
    allowed = parse_networks(["127.0.0.0/8", "fd00::/8", "10.0.0.5"])
    assert classify_address(ip_address("127.0.0.2"), allowed) is None
    assert classify_address(ip_address("fd12::1"), allowed) is None
    assert classify_address(ip_address("10.0.0.5"), allowed) is None
    assert classify_address(ip_address("10.0.0.6"), allowed) == "private"
    # The kernel connects an IPv4-mapped address to the IPv4 address, so the list covers it.
    assert classify_address(ip_address("::ffff:127.0.0.1"), allowed) is None
    # A narrow entry allows only itself.
    only = parse_networks(["127.0.0.1/32"])
    assert classify_address(ip_address("127.0.0.2"), only) == "loopback"


def test_parse_networks() -> None:
    assert [str(n) for n in parse_networks([" 127.0.0.1/8", "::1"])] == ["127.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError):
        parse_networks(["localhost"])


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://x/", "ftp://example.com/", "javascript:alert(1)"]
)
def test_check_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[::ffff:7f00:1]/", "ipv4_mapped:loopback"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://0.0.0.0:80/", "unspecified"),
    ],
)
def test_check_url_refuses_literal_addresses(url: str, reason: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_url(url)
    assert refused.value.reason == reason
    assert reason in str(refused.value)


def test_check_url_passes_names_and_public_literals() -> None:
    assert check_url("https://Example.COM/feed").host == "example.com"
    assert check_url("http://8.8.8.8/").host == "8.8.8.8"
    # Names are vetted at connect time, after resolution: not here.
    assert check_url("http://localhost/").host == "localhost"
    assert check_url("http://127.0.0.1/", parse_networks(["127.0.0.0/8"])).port is None


def test_resolve_refuses_the_host_if_any_address_is_refused() -> None:
    def resolver(host: str, port: int) -> tuple[IPAddress, ...]:
        return (ip_address("93.184.215.14"), ip_address("10.0.0.1"))

    with pytest.raises(AddressRefused) as refused:
        resolve("news.example", 443, resolver=resolver)
    assert refused.value.host == "news.example"
    assert str(refused.value.address) == "10.0.0.1" and refused.value.reason == "private"


def test_resolve_returns_vetted_addresses() -> None:
    def resolver(host: str, port: int) -> tuple[IPAddress, ...]:
        return (ip_address("93.184.215.14"), ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"))

    assert [str(a) for a in resolve("news.example", 443, resolver=resolver)] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


def test_resolve_without_answers_is_a_dns_failure() -> None:
    def nothing(host: str, port: int) -> tuple[IPAddress, ...]:
        return ()

    with pytest.raises(NameResolutionFailed):
        resolve("news.example", 80, resolver=nothing)


def test_system_resolver_reads_the_hosts_file() -> None:
    assert ip_address("127.0.0.1") in system_resolver("localhost", 80)
    with pytest.raises(AddressRefused):
        resolve("localhost", 80)
