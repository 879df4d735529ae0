"""The client's IP address: the one place that decides it.

Every rate limit keyed by address (login throttling, the public forms through
django-ratelimit's `key="ip"`, which calls this via `RATELIMIT_IP_META_KEY`) asks here.

Behind `TRUSTED_PROXY_COUNT` reverse proxies that each append the address they
received the request from to `X-Forwarded-For`, the client is the Nth entry from
the right: everything to the left of it was written by the client itself and may be
forged. With no trusted proxy the header is ignored entirely.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# What a request with no usable address at all is counted as (e.g. a Unix-socket
# upstream without the proxy setting): one shared bucket rather than an error page.
UNKNOWN = "0.0.0.0"  # noqa: S104 - a rate-limit key, never an address to bind


def _parse(value: str) -> str | None:
    """A canonical IP address from one header entry or REMOTE_ADDR, or None."""
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request`, as far as we can trust it."""
    remote = _parse(request.META.get("REMOTE_ADDR") or "")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
        if len(entries) >= proxies:
            forwarded = _parse(entries[-proxies])
            if forwarded is not None:
                return forwarded
        # Fewer entries than proxies, or garbage where the client should be: the request
        # did not come the way the setting says. The peer's own address is the one fact.
    return remote or UNKNOWN
