"""Where a webhook may go, and how to get there without being steered elsewhere.

An agency admin types the URL; the worker then posts signed breach payloads to it from
inside our network. Without a rule that URL could name this server (127.0.0.1,
localhost), the cloud metadata service (169.254.169.254) or any host of the private
network, and the attempt's outcome would tell the admin which internal ports answer.

The rule, checked when the URL is saved AND again at every send:
- http or https only, https unless settings.WEBHOOK_ALLOW_HTTP (on under DEBUG and the
  test suite only); no user name or password in the URL;
- the host name is resolved and EVERY address it resolves to must be public: loopback,
  private, shared (100.64/10), link-local, multicast, reserved, documentation and
  unspecified addresses are refused, also when wrapped in IPv6 (IPv4-mapped, 6to4,
  NAT64). settings.WEBHOOK_ALLOW_PRIVATE_TARGETS also lets loopback, private and shared
  addresses through (the tests' local receivers; an intranet deployment), never
  link-local, multicast, reserved or unspecified ones.

At send time the connection goes to the very addresses that were checked (the name is
not resolved a second time, so a DNS answer that changes between check and connect
cannot slip past), with the URL's host name in the Host header, in TLS's SNI and in the
certificate check. Redirects are never followed (http.client does not follow them).
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from notifications.models import WebhookFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IANA's special-purpose registries, spelled out rather than left to `is_global` alone:
# the ipaddress module's own lists changed between Python patch releases, and they call
# multicast and some special IPv6 ranges "global".
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 reaches this host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, the cloud metadata service
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.31.196.0/24",
        "192.52.193.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "192.175.48.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",  # reserved, and 255.255.255.255
        "::/96",  # unspecified, loopback, IPv4-compatible
        "::ffff:0:0/96",  # IPv4-mapped (checked unwrapped first)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",
        "2001::/23",  # protocol assignments, Teredo
        "2001:db8::/32",
        "2002::/16",  # 6to4 (checked unwrapped first)
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local
        "ff00::/8",  # multicast
    )
)
# What WEBHOOK_ALLOW_PRIVATE_TARGETS lets through as well.
_PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class WebhookTargetRefused(Exception):
    """The URL may not be posted to. `failure` is what the agency sees after a send,
    `message` what the admin is told when saving it (in the language active when raised)."""

    def __init__(self, failure: WebhookFailure, message: str, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure
        self.message = message


class WebhookHostNotFound(Exception):
    """The host name does not resolve (now): a send fails, a save is allowed (an agency
    may register the URL before publishing its DNS record; each send checks again)."""


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str  # ASCII (IDNA), without brackets
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[IPAddress, ...]  # checked; empty only for a save-time unresolved name


def _unwrapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries and leads to, if it is such a wrapper."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_allowed(ip: IPAddress, *, allow_private: bool = False) -> bool:
    ip = _unwrapped(ip)
    if ip.is_multicast or ip.is_unspecified or ip.is_link_local or ip.is_reserved:
        return False
    if allow_private and any(ip in net for net in _PRIVATE):
        return True
    return (
        ip.is_global
        and not ip.is_private
        and not ip.is_loopback
        and not getattr(ip, "is_site_local", False)
        and not any(ip in net for net in _NOT_PUBLIC)
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to, in the resolver's order (a module
    function: tests replace it to play a DNS answer that changes)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookHostNotFound(f"{host}: {exc}") from exc
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise WebhookHostNotFound(f"{host}: no address")
    return found


def _refused_url(detail: str) -> WebhookTargetRefused:
    return WebhookTargetRefused(WebhookFailure.REFUSED_URL, _("Enter a valid URL."), detail)


def webhook_target(url: str, *, unresolved_ok: bool = False) -> WebhookTarget:
    """Check `url` against the rule above and return where to connect.

    Raises WebhookTargetRefused, or WebhookHostNotFound unless `unresolved_ok` (then the
    target has no addresses: nothing to check yet)."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:  # a bad port, an unbalanced bracket
        raise _refused_url(f"{url!r}: {exc}") from exc
    if scheme not in ("http", "https") or not host:
        raise _refused_url(f"{url!r}: not an http(s) URL with a host")
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetRefused(
            WebhookFailure.REFUSED_URL,
            _("Do not put a user name or password in the URL."),
            "credentials in the URL",
        )
    if scheme == "http" and not getattr(settings, "WEBHOOK_ALLOW_HTTP", False):
        raise WebhookTargetRefused(
            WebhookFailure.REFUSED_HTTPS,
            _("Use an https:// address: webhooks are sent over encrypted connections only."),
            f"{url!r}: http",
        )
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise _refused_url(f"{url!r}: {exc}") from exc
    port = port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if any(ord(c) <= 32 or ord(c) == 127 for c in path):
        raise _refused_url(f"{url!r}: spaces or control characters in the path")
    path = "".join(c if c.isascii() else quote(c) for c in path)  # the request line is ASCII
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except WebhookHostNotFound:
            if not unresolved_ok:
                raise
            addresses = []
    allow_private = bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))
    refused = [ip for ip in addresses if not address_allowed(ip, allow_private=allow_private)]
    if refused:
        raise WebhookTargetRefused(
            WebhookFailure.REFUSED_ADDRESS,
            _(
                "This address leads to this server or into a private network, which "
                "webhooks may not reach. Enter your system's public address."
            ),
            f"{host} resolves to {', '.join(map(str, refused))}",
        )
    return WebhookTarget(scheme, host, port, path, tuple(addresses))


# --- Sending to the checked addresses --------------------------------------------------------


def _connect(addresses: tuple[IPAddress, ...], port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked addresses that accepts one."""
    if not addresses:
        raise WebhookHostNotFound("no checked address to connect to")
    error: OSError | None = None
    for ip in addresses:
        try:
            return socket.create_connection((str(ip), port), timeout=timeout)
        except OSError as exc:
            error = exc
    assert error is not None
    raise error


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's trust store (tests add their own CA).
    Built once per process: loading the trust store costs more than a small POST."""
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: WebhookTarget, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: WebhookTarget, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._addresses = target.addresses
        self._tls = context

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        try:
            # SNI and the certificate's name check use the URL's host, not the address.
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    reason: str
    body_start: bytes  # for the server log only


def webhook_post(
    target: WebhookTarget, *, body: bytes, headers: dict[str, str], timeout: float
) -> WebhookAnswer:
    """POST `body` to the target's checked addresses; the answer, whatever its status
    (a 3xx is returned as it is, never followed)."""
    connection: Any
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout, tls_context())
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        body_start = response.read(1024)
        return WebhookAnswer(response.status, response.reason, body_start)
    finally:
        connection.close()
