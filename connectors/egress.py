"""Where connectors may connect: public addresses, and the internal ones the operator allows.

A connection's base URL is typed by an org admin, so without this check "Test" and every
sync could reach the app's own Redis, PostgreSQL, cloud metadata or any intranet host. The
host is resolved and each address judged (loopback, private, link-local, multicast,
unspecified, reserved, shared and cloud-metadata addresses are refused, in every spelling:
`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]` all resolve to 127.0.0.1), once before the
request for a clear message and again when the socket is opened: the socket connects to
the address that was just checked (Host and SNI keep the name), so a DNS answer that
changes between the two lookups cannot switch it. SYNCBOARD_CONNECTOR_ALLOW_HOSTS lists the
internal hosts, IPs and networks (optionally with a port) that connectors may reach anyway;
cloud metadata is never allowed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from settings import AllowedHost, get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SETTING = "SYNCBOARD_CONNECTOR_ALLOW_HOSTS"
SCHEMES = {"http": 80, "https": 443}
#: Instance metadata services hand out cloud credentials: refused even when allow-listed.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_IETF = ipaddress.ip_network("192.0.0.0/24")
_IETF_GLOBAL = (ipaddress.ip_address("192.0.0.9"), ipaddress.ip_address("192.0.0.10"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class Refused(Exception):
    """A destination connectors may not reach; the message says why, in words."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as in the URL, without brackets, lower case, no trailing dot
    port: int

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def destination(url: str) -> Destination:
    """Scheme, host and port of a URL connectors may ask for; Refused for anything not http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"{url[:100]!r} is not a valid web address") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{scheme}://" if scheme else "an address without http:// or https://"
        raise Refused(f"connectors only use http:// and https:// addresses, not {shown}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused(f"{url[:100]!r} has no host name")
    return Destination(scheme, host, port or SCHEMES[scheme])


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4, IPv4-compatible)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(ip: IPAddress) -> str | None:
    """What makes an address internal ("loopback", "private", ...), or None for a public one."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return address_kind(inner) if ip not in METADATA else "cloud metadata"
    if ip in METADATA:
        return "cloud metadata"
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return kind
    if ip.version == 4 and ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if ip.version == 4 and ip in _IETF and ip not in _IETF_GLOBAL:
        return "reserved"  # Python before 3.12.4 calls most of 192.0.0.0/24 global
    return None if ip.is_global else "non-public"


def _allowed(host: str, port: int, ip: IPAddress, allow: Iterable[AllowedHost]) -> bool:
    candidates = [ip] + ([inner] if (inner := embedded_ipv4(ip)) is not None else [])
    for entry in allow:
        if entry.port is not None and entry.port != port:
            continue
        if entry.name is not None and entry.name == host:
            return True
        if entry.network is not None and any(
            c.version == entry.network.version and c in entry.network for c in candidates
        ):
            return True
    return False


def refusal(host: str, port: int, ip: IPAddress) -> str | None:
    """Why connectors may not connect to `ip` (which `host` resolved to), or None when they may."""
    kind = address_kind(ip)
    if kind is None:
        return None
    article = "an" if kind[0] in "aeiou" else "a"
    if _literal(host) == ip:
        what = f"{host} is {article} {kind} address"
    else:
        what = f"{host} resolves to {article} {kind} address ({ip})"
    if kind == "cloud metadata":
        return f"{what}; connectors never reach it"
    if _allowed(host, port, ip, get_settings().connector_allow_hosts):
        return None
    return f"{what}; ask your operator to allow it with {SETTING}"


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[tuple[socket.AddressFamily, tuple, IPAddress]]:
    """(family, socket address, IP) for each address of host:port; socket.gaierror when none."""
    found: list[tuple[socket.AddressFamily, tuple, IPAddress]] = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
        host, port, allowed_gai_family(), socket.SOCK_STREAM
    ):
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if all(ip != seen for _f, _s, seen in found):
            found.append((family, sockaddr, ip))
    return found


def checked_addresses(host: str, port: int) -> list[tuple[socket.AddressFamily, tuple, IPAddress]]:
    """The addresses of host:port connectors may use; Refused (with the reason) when none."""
    host = host.strip("[]").lower().rstrip(".")
    usable, reasons = [], []
    for family, sockaddr, ip in resolve(host, port):
        reason = refusal(host, port, ip)
        if reason is None:
            usable.append((family, sockaddr, ip))
        else:
            reasons.append(reason)
    if not usable:
        raise Refused(reasons[0] if reasons else f"{host} has no address")
    return usable


def check(url: str) -> Destination:
    """Refuse a URL before any request; an unknown name is left to the connection's own error."""
    where = destination(url)
    with contextlib.suppress(socket.gaierror):
        checked_addresses(where.host, where.port)
    return where


# --- sockets that connect only to a checked address -----------------------------------------


class _PinnedConnection:
    """`_new_conn` resolves, checks and connects to a checked address, never re-resolving."""

    host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: list | None
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            targets = checked_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for family, sockaddr, ip in targets:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)
                peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%", 1)[0])
                if peer != ip:  # belt and braces: the peer is the address that was checked
                    sock.close()
                    raise Refused(f"{self.host} connected to {peer}, not the checked {ip}")
                sys.audit("http.client.connect", self, self.host, self.port)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        raise NewConnectionError(
            self,  # type: ignore[arg-type]
            f"Failed to establish a new connection: {error}",
        ) from error


class PinnedHTTPConnection(_PinnedConnection, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose every connection goes through the address check."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPPool,
            "https": _PinnedHTTPSPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # Through a proxy the address the proxy connects to cannot be checked.
        raise Refused("connectors do not use HTTP proxies: the destination could not be checked")


__all__ = [
    "SETTING",
    "CheckedAdapter",
    "Destination",
    "Refused",
    "address_kind",
    "check",
    "checked_addresses",
    "destination",
    "refusal",
]
