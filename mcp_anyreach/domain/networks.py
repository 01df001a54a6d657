"""Whether a trunk's allowed addresses admit too much of the Internet: one rule for previews and the audit.

Checking for exactly `0.0.0.0/0` is not enough: `0.0.0.0/1` plus `128.0.0.0/1` admits the same. What
counts is how many addresses the union covers. IPv6 ranges that carry IPv4 addresses (mapped, as a
dual-stack SIP stack sees every IPv4 peer; NAT64; the old compatible form) count as the IPv4 they carry,
so `::ffff:0:0/96` is all of IPv4, not a tiny corner of IPv6.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Wider than a /8 (IPv4) or a /32 (IPv6), alone or together, is a large part of the Internet.
LIMITS = {4: 2**24, 6: 2**96}
SPACE = {4: 2**32, 6: 2**128}
# Prefixes whose last 32 bits are an IPv4 address: mapped (RFC 4291), NAT64 (RFC 6052), compatible.
CARRYING_IPV4 = tuple(ipaddress.IPv6Network(prefix) for prefix in ("::ffff:0:0/96", "64:ff9b::/96", "::/96"))


def too_wide(addresses: Iterable[str]) -> str | None:
    """Why `addresses` admit too much, as a phrase ("about 50% of all IPv4 addresses"), or None.

    An empty list admits every address. Entries that are not addresses are ignored here (validation
    refuses them elsewhere).
    """
    networks: list[Network] = []
    for address in addresses:
        try:
            networks += as_seen(ipaddress.ip_network(address, strict=False))
        except ValueError:
            continue
    if not networks:
        return "every address (allowed_addresses is empty)"
    phrases: list[str] = []
    for version in (4, 6):
        family = [n for n in networks if n.version == version]
        covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(family))  # type: ignore[arg-type]
        if covered > LIMITS[version]:
            share = covered / SPACE[version]
            phrases.append(f"{'all' if share >= 1 else f'about {share:.0%} of all'} IPv{version} addresses")
    return " and ".join(phrases) or None


def as_seen(network: Network) -> list[Network]:
    """`network` with the IPv4 it carries as IPv4: a range inside an IPv4-carrying prefix becomes that IPv4
    range; a range that contains such a prefix admits all of IPv4 as well as itself."""
    if network.version == 4:
        return [network]
    seen: list[Network] = [network]
    for prefix in CARRYING_IPV4:
        if network.subnet_of(prefix):  # type: ignore[arg-type]
            offset = int(network.network_address) - int(prefix.network_address)
            return [ipaddress.IPv4Network((offset, network.prefixlen - prefix.prefixlen))]
        if prefix.subnet_of(network):  # type: ignore[arg-type]
            seen.append(ipaddress.IPv4Network("0.0.0.0/0"))
    return seen


def is_loopback(host: str) -> bool:
    """`localhost`, or an address of this machine only (`127.0.0.0/8`, `::1`, `[::1]`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
