"""The client's address, behind 0, 1 or 2 trusted proxies, and with odd headers."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.client_ip import client_ip


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No trusted proxy: the header is the client's to forge, so it is ignored.
        (0, "198.51.100.4", "203.0.113.7", "198.51.100.4"),
        (0, "198.51.100.4", None, "198.51.100.4"),
        # One proxy appends the address it saw: the rightmost entry; a forged left part is ignored.
        (1, "10.0.0.1", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.1", "1.2.3.4, 5.6.7.8, 203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.1", "1.2.3.4,203.0.113.7", "203.0.113.7"),
        # Two proxies: the second entry from the right.
        (2, "10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        # Fewer entries than proxies, or no header: the request bypassed a proxy; use the peer.
        (2, "10.0.0.2", "203.0.113.7", "10.0.0.2"),
        (1, "10.0.0.1", None, "10.0.0.1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", " , ", "10.0.0.1"),
        # Garbage where the client should be falls back to the peer, never a 500.
        (1, "10.0.0.1", "203.0.113.7, not-an-ip", "10.0.0.1"),
        (1, "10.0.0.1", "unknown", "10.0.0.1"),
        (1, "10.0.0.1", "999.1.1.1", "10.0.0.1"),
        # Ports, brackets and IPv4-mapped IPv6 are normalised.
        (1, "10.0.0.1", "203.0.113.7:51234", "203.0.113.7"),
        (1, "10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        (1, "10.0.0.1", "2001:DB8:0::1", "2001:db8::1"),
        (0, "::ffff:198.51.100.4", None, "198.51.100.4"),
        # No usable address at all: one shared bucket, not an error.
        (0, "", None, "0.0.0.0"),
        (1, "", "junk", "0.0.0.0"),
    ],
)
def test_client_ip(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **extra)
    assert client_ip(request) == expected
