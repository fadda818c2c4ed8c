"""Which addresses a crawl may connect to: public ones, unless a setting allows more (pure).

A cited page is public. A page, a redirect or a meta refresh that leads to a loopback,
private, link-local, shared (CGNAT), multicast or otherwise non-public address would make the
crawler fetch something of the machine's own network and store it as the cited page (server-
side request forgery). The resolver (`crawler/fetch/resolver.py`) asks `refusal` about every
address a host name resolves to, at connect time, and connects only to the allowed ones.

`CITEWATCH_ALLOW_PRIVATE` (a Scrapy setting; the environment variable of the same name sets
it, see crawler/environment.py) allows more: true allows every address (test rigs, an
intranet catalog), a comma-separated list of networks (`10.1.0.0/16,127.0.0.1`) allows those.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final, TypeAlias

SETTING: Final = "CITEWATCH_ALLOW_PRIVATE"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off", "none"})

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6598 shared address space (carrier-grade NAT): not is_private in Python 3.11, and on a
# cloud VM it can reach the provider's internal services.
_SHARED: Final = ipaddress.IPv4Network("100.64.0.0/10")

# What each kind of refused address is called in the reason, first match wins.
_KINDS: Final[tuple[tuple[str, str], ...]] = (
    ("is_unspecified", "an unspecified"),  # 0.0.0.0 and :: reach this machine on Linux
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),  # 169.254/16 (cloud metadata), fe80::/10
    ("is_multicast", "a multicast"),
    ("is_private", "a private"),  # RFC 1918, fc00::/7, and IANA's other special ranges
)
# NAT64's well-known prefix (RFC 6052) carries an IPv4 address in its last 32 bits.
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """Allowed non-public destinations: all of them, or those in the listed networks."""

    allow_all: bool = False
    networks: tuple[Network, ...] = ()

    def refusal(self, ip: str) -> str | None:
        """Why a connection to this address is refused ("destination … is a … address")."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return f"destination {ip!r} is not an IP address"
        plain = _unmapped(address)
        kind = _kind(plain)
        if kind is None or self.allow_all:
            return None
        if any(a in n for n in self.networks for a in {address, plain} if a.version == n.version):
            return None
        mapped = f" (it reaches {plain})" if plain is not address else ""
        return f"destination {ip} is {kind} address{mapped}"


def _unmapped(address: Address) -> Address:
    """An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4) as the one it reaches."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour or address


def _kind(address: Address) -> str | None:
    """'a private', 'a loopback'…, or None for a public address."""
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared (carrier-grade NAT)"
    for attribute, name in _KINDS:
        if getattr(address, attribute):
            return name
    if not address.is_global:
        return "a reserved (not public)"
    return None


def destination_policy(value: object) -> DestinationPolicy:
    """The policy a CITEWATCH_ALLOW_PRIVATE value asks for; ValueError names a bad value."""
    if value is None or value is False:
        return DestinationPolicy()
    if value is True:
        return DestinationPolicy(allow_all=True)
    text = str(value).strip()
    if text.lower() in _TRUE:
        return DestinationPolicy(allow_all=True)
    if text.lower() in _FALSE:
        return DestinationPolicy()
    networks: list[Network] = []
    for item in text.split(","):
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{SETTING}: {item.strip()!r} is neither true/false nor a network such as "
                "10.0.0.0/8 or 127.0.0.1"
            ) from None
    return DestinationPolicy(networks=tuple(networks))
