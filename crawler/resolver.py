"""The crawl's one DNS resolver: every address is checked, and connections use only checked ones.

SafeAddressMiddleware asks this resolver whether a host is allowed; Twisted's
HostnameEndpoint (every HTTP/HTTPS connection Scrapy's HTTP/1.1 and HTTP/2
handlers open) asks the same resolver for the addresses to connect to. A host
is looked up once per crawl (concurrent askers share the lookup) and the
answer is kept, so a name that answers a public address to the check and
127.0.0.1 to the connection (DNS rebinding) cannot work: there is no second
answer. At connect time the addresses are checked again against the crawl's
allowances and those that fail are dropped, so even an answer that left the
cache cannot reach a refused address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import OrderedDict

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from twisted.internet.threads import deferToThreadPool
from zope.interface import implementer

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Everything below that is not loopback or link-local is reported as "private".
# IANA IPv4/IPv6 Special-Purpose Address Registries (2024), multicast, and the
# carrier-grade NAT range (Alibaba Cloud's metadata service is 100.100.100.200).
# Ranges IANA calls globally reachable (AS112, 6to4 relays, TURN, AMT) are refused
# too: no news site lives there.
_LOOPBACK = [ipaddress.ip_network(n) for n in ("0.0.0.0/8", "127.0.0.0/8", "::/128", "::1/128")]
_LINK_LOCAL = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10")]
_NON_GLOBAL = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
        "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:db8::/32",
        "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7", "fec0::/10", "ff00::/8",
    )
]
# IPv6 forms that carry an IPv4 address: the IPv4 address is what gets reached.
_V4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.version != 6:
        return None
    if address in _V4_MAPPED:
        return address.ipv4_mapped
    if address in _V4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if address in _TEREDO:
        return address.teredo[1]
    return None


def address_problem(address: Address) -> str | None:
    """None for a public address; else "loopback", "link-local" or "private"."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return address_problem(inner) or ("private" if address in _TEREDO else None)
    if any(address in net for net in _LOOPBACK):
        return "loopback"
    if any(address in net for net in _LINK_LOCAL):
        return "link-local"
    if any(address in net for net in _NON_GLOBAL) or not address.is_global:
        return "private"
    return None


def parse_address(host: str) -> Address | None:
    """An IP address written in the host, in any spelling inet_aton takes (2130706433, 0177.0.0.1, 0x7f000001, 127.1), or None."""
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


class Allowances:
    """Which kinds of non-public address a crawl may reach (a source's `allow_loopback`, `allow_private_addresses`)."""

    def __init__(self, loopback: bool = False, private: bool = False):
        self.loopback = loopback
        self.private = private

    def permit(self, problem: str | None) -> bool:
        if problem is None:
            return True
        return self.loopback if problem == "loopback" else self.private


STRICT = Allowances()


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - Twisted never cancels a resolution
        pass


@implementer(IHostnameResolver)
class CheckedResolver:
    """TWISTED_DNS_RESOLVER: resolve each host once, hand out only addresses the crawl may reach."""

    def __init__(self, reactor, cache_size: int = 10_000, timeout: float = 60.0):
        self.reactor = reactor
        self.cache_size = cache_size
        self.timeout = timeout  # DNS_TIMEOUT: a lookup still running then answers "unresolvable"
        self._answers: OrderedDict[str, tuple[Address, ...]] = OrderedDict()
        self._pending: dict[str, list[defer.Deferred]] = {}
        self._allowances: dict[int, Allowances] = {}
        self._trusted: set[str] = set()  # operator-configured hosts (the proxy): not filtered
        # host -> the allowances of the crawls whose check passed it (the connection knows no crawl)
        self._checked: OrderedDict[str, list[Allowances]] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler, reactor):
        cache_size = crawler.settings.getint("DNSCACHE_SIZE", 10_000) if crawler.settings.getbool("DNSCACHE_ENABLED", True) else 10_000
        return cls(reactor, max(cache_size, 1), crawler.settings.getfloat("DNS_TIMEOUT", 60.0))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    @classmethod
    def installed(cls, reactor) -> CheckedResolver:
        """The reactor's CheckedResolver; installed now if the crawl was started without it."""
        current = getattr(reactor, "nameResolver", None)
        if not isinstance(current, cls):
            current = cls(reactor)
            current.install_on_reactor()
        return current

    # --- policy ---

    def allow(self, owner: object, allowances: Allowances) -> None:
        self._allowances[id(owner)] = allowances

    def trust(self, host: str) -> None:
        self._trusted.add(host.lower())

    def passed(self, host: str, allowances: Allowances) -> None:
        """A crawl's check (SafeAddressMiddleware) let this host through under these allowances."""
        host = host.lower().strip("[]")
        rules = self._checked.setdefault(host, [])
        self._checked.move_to_end(host)
        if not any(rule is allowances for rule in rules):
            rules.append(allowances)
        while len(self._checked) > self.cache_size:
            self._checked.popitem(last=False)

    def _permit(self, host: str, problem: str | None) -> bool:
        """An address must be allowed to every crawl whose check passed its host, or else to every crawl.

        A connection does not say which crawl opens it. With several sources in one process
        (`crawl --all`), the demo's 127.0.0.1 is passed only by the demo's own check, which
        allows loopback; a host that a strict crawl's check passed too stays strict at
        connect time, so an answer that changed (DNS rebinding after the cache let it go)
        still cannot reach a refused address.
        """
        rules = self._checked.get(host) or list(self._allowances.values()) or [STRICT]
        return all(rule.permit(problem) for rule in rules)

    # --- lookups ---

    def cached(self, host: str) -> tuple[Address, ...] | None:
        """The addresses a literal or an already looked-up host stands for, without waiting; else None."""
        host = host.lower().strip("[]")
        literal = parse_address(host)
        if literal is not None:
            return (literal,)
        return self._answers.get(host)

    def lookup(self, host: str) -> defer.Deferred:
        """Fires with the host's addresses (a tuple, maybe empty); one lookup per host, shared."""
        host = host.lower().strip("[]")
        literal = parse_address(host)
        if literal is not None:
            return defer.succeed((literal,))
        if host in self._answers:
            self._answers.move_to_end(host)
            return defer.succeed(self._answers[host])
        waiter: defer.Deferred = defer.Deferred()
        if host in self._pending:
            self._pending[host].append(waiter)
            return waiter
        self._pending[host] = [waiter]
        pool = self.reactor.getThreadPool()
        late = self.reactor.callLater(self.timeout, self._answered, TimeoutError(host), host)
        deferToThreadPool(self.reactor, pool, _getaddrinfo, host).addBoth(self._answered, host, late)
        return waiter

    def _answered(self, result, host: str, late=None) -> None:
        if late is not None and late.active():
            late.cancel()
        waiters = self._pending.pop(host, [])
        if isinstance(result, tuple):
            if result:
                self._answers[host] = result
                while len(self._answers) > self.cache_size:
                    self._answers.popitem(last=False)
        else:
            result = ()  # unresolvable: not cached, the download fails with a DNS error
        for waiter in waiters:
            waiter.callback(result)

    def problem(self, addresses: tuple[Address, ...], allowances: Allowances) -> str | None:
        """The first refused kind among the addresses, or None when all may be reached."""
        for address in addresses:
            problem = address_problem(address)
            if not allowances.permit(problem):
                return problem
        return None

    # --- IHostnameResolver ---

    def resolveHostName(self, resolutionReceiver, hostName: str, portNumber: int = 0,
                        addressTypes=None, transportSemantics: str = "TCP"):
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        host = hostName.lower().strip("[]")
        trusted = host in self._trusted

        def deliver(addresses):
            for address in addresses:
                if not trusted and not self._permit(host, address_problem(address)):
                    continue
                if address.version == 6 and address.ipv4_mapped:
                    address = address.ipv4_mapped  # connect over IPv4 to the address it stands for
                if address.version == 4:
                    twisted_address = IPv4Address("TCP", str(address), portNumber)
                else:
                    twisted_address = IPv6Address("TCP", str(address), portNumber)
                if addressTypes is None or type(twisted_address) in addressTypes:
                    resolutionReceiver.addressResolved(twisted_address)
            resolutionReceiver.resolutionComplete()

        self.lookup(hostName).addCallback(deliver)
        return resolution


def _getaddrinfo(host: str) -> tuple[Address, ...]:
    """The system resolver's answer, in its order, without duplicates (in a thread)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)  # looked up at call time: tests stub it
    seen: dict[Address, None] = {}
    for info in infos:
        seen.setdefault(ipaddress.ip_address(info[4][0].split("%")[0]), None)
    return tuple(seen)
