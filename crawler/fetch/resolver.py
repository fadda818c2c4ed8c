"""The crawl's name resolver: IPv4 and IPv6, cached, and the only gate to a connection.

Scrapy's default resolver (`CachingThreadedResolver`) is IPv4-only: an IPv6 literal URL
(`http://[::1]:8080/`) always failed as "host does not resolve". This one asks getaddrinfo
for both families, in the reactor's thread pool, within DNS_TIMEOUT.

It is also where server-side request forgery is refused (crawler/fetch/destinations.py).
Every connection Scrapy's HTTP handler opens — the catalog URL, robots.txt, each redirect
and meta refresh — resolves its host here, and the connection goes to the addresses this
resolver hands out, so the address checked is the address connected to: a DNS answer that
changes between a check and the connect (DNS rebinding) cannot slip through. A host whose
every address is refused gets none; its request fails with a DNS error, which the spider
turns into a `blocked` fetch with the reason recorded here (`refused_destination`).
Limits: with an HTTP proxy (Scrapy's HttpProxyMiddleware, `http_proxy`), the connection and
so the check are the proxy's, and the proxy resolves the page's host itself.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from twisted.internet.threads import deferToThreadPool
from zope.interface import implementer  # type: ignore[import-untyped]  # no stubs

from crawler.fetch.destinations import SETTING, DestinationPolicy, destination_policy

if TYPE_CHECKING:
    from twisted.python.failure import Failure

Answer = tuple[int, str, int, int]  # one getaddrinfo answer: family, IP, flow info, scope id


@implementer(IHostResolution)
class _Resolution:
    """One resolution in progress (Twisted's interface; cancelling is not supported)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        """Not supported: a lookup ends within DNS_TIMEOUT anyway."""


@implementer(IHostnameResolver)
class GuardedResolver:
    """Resolve host names (IPv4 and IPv6) and hand out only the addresses the policy allows."""

    def __init__(
        self, reactor: Any, policy: DestinationPolicy, timeout: float, cache_size: int
    ) -> None:
        # `reactor` is Twisted's reactor: one object providing a dozen interfaces, which
        # mypy cannot see through zope.interface; so are the receivers below.
        self.reactor = reactor
        self.policy = policy
        self.timeout = timeout
        self.cache_size = cache_size
        self._cache: dict[str, list[Answer]] = {}  # per crawl process: at most one hour
        self.refused: dict[str, str] = {}  # host -> why none of its addresses was handed out

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        """Build from the crawl's settings (Scrapy passes the process, which has `settings`)."""
        settings = crawler.settings
        size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        policy = destination_policy(settings.get(SETTING))
        return cls(reactor, policy, settings.getfloat("DNS_TIMEOUT"), size)

    def install_on_reactor(self) -> None:
        """Become the reactor's name resolver (Scrapy calls this at start)."""
        self.reactor.installNameResolver(self)

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Look the name up and hand the receiver every allowed address (Twisted's interface)."""
        resolution = _Resolution(hostName)
        receiver: Any = resolutionReceiver
        receiver.resolutionBegan(resolution)

        def deliver(answers: list[Answer]) -> None:
            refusals = []
            for family, ip, flow, scope in answers:
                why = self.policy.refusal(ip)
                if why is not None:
                    refusals.append(why)
                elif family == socket.AF_INET6:
                    receiver.addressResolved(IPv6Address("TCP", ip, portNumber, flow, scope))
                else:
                    receiver.addressResolved(IPv4Address("TCP", ip, portNumber))
            if refusals and len(refusals) == len(answers):
                self.refused[hostName.lower()] = refusals[0]
            receiver.resolutionComplete()

        def failed(failure: Failure) -> None:
            receiver.resolutionComplete()  # no address: the connect fails as a DNS error

        self._lookup(hostName).addCallbacks(deliver, failed)
        return cast("IHostResolution", resolution)

    def _lookup(self, host: str) -> Deferred[list[Answer]]:
        cached = self._cache.get(host)
        if cached is not None:
            return succeed(cached)
        found: Deferred[list[Answer]] = deferToThreadPool(
            self.reactor, self.reactor.getThreadPool(), _getaddrinfo, host
        )
        found.addTimeout(self.timeout, self.reactor)

        def keep(answers: list[Answer]) -> list[Answer]:
            if answers and self.cache_size:
                if len(self._cache) >= self.cache_size:
                    self._cache.pop(next(iter(self._cache)))  # the oldest entry
                self._cache[host] = answers
            return answers

        return found.addCallback(keep)


def _getaddrinfo(host: str) -> list[Answer]:
    """Every TCP address of a host, IPv4 and IPv6, in getaddrinfo's order (none on failure)."""
    try:
        infos = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    out: list[Answer] = []
    for family, _, _, _, sockaddr in infos:
        if family == socket.AF_INET6:
            out.append((family, str(sockaddr[0]), int(sockaddr[2]), int(sockaddr[3])))  # type: ignore[misc]
        elif family == socket.AF_INET:
            out.append((family, str(sockaddr[0]), 0, 0))
    return out


def refused_destination(host: str | None) -> str | None:
    """Why the crawl's resolver refused every address of this host, if it did."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    if host is None or not isinstance(resolver, GuardedResolver):
        return None
    return resolver.refused.get(host.lower())
