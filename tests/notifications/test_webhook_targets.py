"""Webhook URLs cannot point inside the network (server-side request forgery).

Refused when saved and again when sent, the connection going to the very address that
was checked; redirects never followed; the agency sees a failure class, never details.
Real listeners on loopback play the internal services an attacker would aim at.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from notifications import webhook_targets
from notifications.channels import Outcome, email_for
from notifications.models import (
    AttemptResult,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    WebhookEndpoint,
    WebhookFailure,
)
from notifications.outbox import drain, webhook_record
from notifications.settings_services import webhook_endpoint_create
from notifications.webhook_targets import (
    WebhookHostNotFound,
    WebhookTargetRefused,
    address_allowed,
    webhook_target,
)
from tests.accounts.conftest import login_verified
from tests.notifications.conftest import free_port, late_breach

ROOT = Path(__file__).resolve().parents[2]
HOST = "hooks.maklumat.invalid"  # .invalid never resolves: only the test resolver knows it
PUBLIC_IP = "93.184.215.14"


class Listener:
    """A loopback HTTP(S) server answering with a scripted status; records every request."""

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"ok",
        delay: float = 0.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with listener.lock:
                    listener.requests.append({"path": self.path, "host": self.headers["Host"]})
                time.sleep(delay)
                self.send_response(status, reason)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    started: list[Listener] = []
    yield started
    for listener in started:
        listener.stop()


def listen(listeners: list[Listener], **kwargs: Any) -> Listener:
    listener = Listener(**kwargs)
    listeners.append(listener)
    return listener


@pytest.fixture
def local_targets(settings: Any) -> None:
    """The explicit allow-list of the tests that need a receiver on loopback."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


class FakeDNS:
    """Stands in for the resolver (DNS lies outside the system): answers per host name,
    and counts the questions."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[Any]:
        self.asked.append(host)
        if host not in self.answers:
            raise WebhookHostNotFound(host)
        return [ipaddress.ip_address(a) for a in self.answers[host]]


@pytest.fixture
def dns(monkeypatch: Any) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr(webhook_targets, "resolve", fake)
    return fake


def _add(client: Any, agency: Any, url: str) -> Any:
    return client.post(reverse("notifications:webhook_add", args=[agency.slug]), {"url": url})


def _row() -> Notification:
    return Notification.objects.get(channel="webhook")


def _indonesian(message: str) -> str:
    with translation.override("id"):
        translated = gettext(message)
    assert translated != message, f"no Indonesian translation of {message!r}"
    return translated


ADDRESS_MESSAGE = (
    "This address leads to this server or into a private network, which webhooks may not "
    "reach. Enter your system's public address."
)


# --- The rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
        "169.254.169.254", "fe80::1", "0.0.0.0", "0.1.2.3", "::", "100.64.0.1",
        "224.0.0.1", "239.255.255.250", "ff02::1", "240.0.0.1", "255.255.255.255",
        "192.0.2.1", "198.18.0.1", "fc00::1", "fd12:3456::1", "fec0::1", "2001:db8::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "2002:7f00:1::1",
        "64:ff9b::a9fe:a9fe", "2001::1",
    ],
)  # fmt: skip
def test_internal_addresses_are_refused(address):
    assert not address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", PUBLIC_IP, "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fe80::1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "::"]
)
def test_the_private_allowance_never_opens_link_local_multicast_reserved_or_unspecified(address):
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), allow_private=True)
    assert address_allowed(ipaddress.ip_address("10.1.2.3"), allow_private=True)
    assert not address_allowed(ipaddress.ip_address(address), allow_private=True)


def test_the_private_allowance_is_off_by_default_also_in_the_test_suite(settings):
    assert settings.WEBHOOK_ALLOW_PRIVATE_TARGETS is False


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f000001/", "http://127.1/"])
def test_numeric_host_forms_are_resolved_then_refused(url):
    """Django's URL validator already refuses these at save; the send-time check (which
    does not use it) resolves them like the socket would, to 127.0.0.1."""
    with pytest.raises(WebhookTargetRefused) as caught:
        webhook_target(url)
    assert caught.value.failure == WebhookFailure.REFUSED_ADDRESS


def test_every_address_a_name_resolves_to_must_be_public(dns):
    dns.answers[HOST] = [PUBLIC_IP]
    assert webhook_target(f"https://{HOST}/hook").addresses == (ipaddress.ip_address(PUBLIC_IP),)
    dns.answers[HOST] = [PUBLIC_IP, "10.1.2.3"]
    with pytest.raises(WebhookTargetRefused):
        webhook_target(f"https://{HOST}/hook")


@pytest.mark.parametrize(
    ("url", "failure"),
    [
        ("ftp://files.example.org/x", WebhookFailure.REFUSED_URL),
        ("https://user:sandi@example.org/", WebhookFailure.REFUSED_URL),
        ("https://example.org/a b", WebhookFailure.REFUSED_URL),
        ("https://example.org:99999/", WebhookFailure.REFUSED_URL),
        ("https:///nohost", WebhookFailure.REFUSED_URL),
        ("http://[::1/", WebhookFailure.REFUSED_URL),
        ("https://[::1]:8443/", WebhookFailure.REFUSED_ADDRESS),
    ],
)
def test_what_is_no_url_to_post_to_is_refused_at_send_too(url, failure):
    with pytest.raises(WebhookTargetRefused) as caught:
        webhook_target(url)
    assert caught.value.failure == failure


def test_the_target_keeps_the_host_name_port_and_path(dns):
    dns.answers["xn--bcher-kva.example"] = [PUBLIC_IP]
    target = webhook_target("https://BÜCHER.example/jalur/ü?x=1")
    assert (target.host, target.port, target.path) == (
        "xn--bcher-kva.example",
        443,
        "/jalur/%C3%BC?x=1",
    )
    assert dns.asked == ["xn--bcher-kva.example"]


def test_https_is_required_outside_debug_and_the_test_suite():
    """The production settings (DEBUG off, not the test suite) refuse plain http."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKLUMAT_TESTING", "DEBUG"}}
    env.update(SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="config.settings")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.WEBHOOK_ALLOW_HTTP, settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


# --- When saved -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/admin/",
        "http://[::1]:{port}/",
        "http://10.0.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "https://100.64.0.1/",
        "https://[fe80::1]/",
    ],
)
def test_an_internal_url_is_a_field_error_when_added_or_edited(
    client, admin_a, agency_a, url, listeners
):
    url = url.format(port=listen(listeners).port)  # a port that answers
    login_verified(client, admin_a)
    response = _add(client, agency_a, url)
    assert response.status_code == 400
    assert response.context["add_form"].errors["url"]
    assert 'class="field-error"' in response.content.decode()
    assert not WebhookEndpoint.objects.exists()

    endpoint = WebhookEndpoint.objects.create(
        agency=agency_a, url="https://ok.example.org/", secret="s"
    )
    response = client.post(
        reverse("notifications:webhook_edit", args=[agency_a.slug, endpoint.pk]),
        {"url": url, "is_active": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://ok.example.org/"


def test_the_field_error_says_why_in_indonesian(client, admin_a, agency_a):
    login_verified(client, admin_a)
    for url in ("http://localhost:8000/admin/", "http://169.254.169.254/latest/meta-data/"):
        response = _add(client, agency_a, url)
        assert response.context["add_form"].errors["url"] == [_indonesian(ADDRESS_MESSAGE)]


def test_a_name_resolving_to_an_internal_address_is_refused(client, admin_a, agency_a, dns):
    dns.answers[HOST] = ["10.20.30.40"]
    login_verified(client, admin_a)
    response = _add(client, agency_a, f"https://{HOST}/hook")
    assert response.status_code == 400
    assert response.context["add_form"].errors["url"] == [_indonesian(ADDRESS_MESSAGE)]
    assert not WebhookEndpoint.objects.exists()


def test_credentials_in_the_url_are_refused(client, admin_a, agency_a):
    login_verified(client, admin_a)
    response = _add(client, agency_a, "https://user:sandi@sistem.dinas-a.go.id/hook")
    assert response.status_code == 400
    assert response.context["add_form"].errors["url"] == [
        _indonesian("Do not put a user name or password in the URL.")
    ]


def test_plain_http_is_refused_when_not_allowed(client, admin_a, agency_a, settings, dns):
    settings.WEBHOOK_ALLOW_HTTP = False
    dns.answers[HOST] = [PUBLIC_IP]
    login_verified(client, admin_a)
    response = _add(client, agency_a, f"http://{HOST}/hook")
    assert response.status_code == 400
    assert response.context["add_form"].errors["url"] == [
        _indonesian("Use an https:// address: webhooks are sent over encrypted connections only.")
    ]
    assert _add(client, agency_a, f"https://{HOST}/hook").status_code == 302


def test_a_name_that_does_not_resolve_yet_can_be_saved(admin_a, agency_a, dns):
    endpoint = webhook_endpoint_create(
        agency=agency_a, url=f"https://{HOST}/hook", acting_user=admin_a
    )
    assert endpoint.url == f"https://{HOST}/hook" and dns.asked == [HOST]


def test_the_django_admin_applies_the_same_rule(client, superuser, agency_a):
    login_verified(client, superuser)
    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {
            "agency": agency_a.pk,
            "url": "http://169.254.169.254/latest/meta-data/",
            "secret": "s",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]
    assert not WebhookEndpoint.objects.exists()


# --- When sent ------------------------------------------------------------------------------


def test_a_stored_loopback_url_is_never_contacted(
    client, smtp, service, agency_a, admin_a, listeners
):
    """A row saved before the rule (written straight to the database): refused at send,
    failed for good (not retried), and the agency sees the class only."""
    inside = listen(listeners)
    endpoint = WebhookEndpoint.objects.create(agency=agency_a, url=inside.url(), secret="s")
    late_breach(service)
    now = timezone.now()
    drain(now=now)
    drain(now=now + dt.timedelta(hours=30))
    assert inside.requests == []
    row = _row()
    assert row.status == NotificationStatus.FAILED
    attempt = row.attempt_log.get()
    assert attempt.result == AttemptResult.PERMANENT
    assert attempt.error == row.last_error == WebhookFailure.REFUSED_ADDRESS
    endpoint.refresh_from_db()
    assert endpoint.last_error == WebhookFailure.REFUSED_ADDRESS
    assert endpoint.consecutive_permanent_failures == 1

    login_verified(client, admin_a)
    html = client.get(reverse("notifications:agency_settings", args=[agency_a.slug])).content
    cell = _last_error_cell(html.decode(), endpoint.pk)
    assert cell == _indonesian("Refused: address not allowed")


def _last_error_cell(html: str, pk: int) -> str:
    row = html.split(f'data-endpoint="{pk}"', 1)[1].split("</tr>", 1)[0]
    return row.split("<td>")[3].split("</td>")[0].strip()


def test_a_dns_answer_changed_after_saving_is_caught_at_send(
    smtp, service, agency_a, admin_a, dns, listeners
):
    inside = listen(listeners)
    dns.answers[HOST] = [PUBLIC_IP]
    endpoint = webhook_endpoint_create(agency=agency_a, url=inside.url(HOST), acting_user=admin_a)
    dns.answers[HOST] = ["127.0.0.1"]  # rebound to this server
    late_breach(service)
    drain()
    assert inside.requests == []
    assert _row().status == NotificationStatus.FAILED
    assert _row().last_error == WebhookFailure.REFUSED_ADDRESS
    endpoint.refresh_from_db()
    assert endpoint.last_error == WebhookFailure.REFUSED_ADDRESS


def test_the_post_goes_to_the_checked_address_with_the_host_name_in_host(
    smtp, service, agency_a, local_targets, dns, listeners
):
    """The name is resolved once, by the check; the connection goes to that address (the
    real resolver knows no .invalid name, so a second lookup would fail)."""
    receiver = listen(listeners)
    dns.answers[HOST] = ["127.0.0.1"]
    WebhookEndpoint.objects.create(agency=agency_a, url=receiver.url(HOST), secret="s")
    late_breach(service)
    drain()
    assert _row().status == NotificationStatus.SENT
    assert receiver.requests == [{"path": "/hook", "host": f"{HOST}:{receiver.port}"}]
    assert dns.asked == [HOST]


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, Path]:
    """A self-signed certificate for HOST, and one for another name."""
    files: dict[str, Path] = {}
    for name, cn in (("good", HOST), ("other", "other.maklumat.invalid")):
        cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        files[name], files[f"{name}_key"] = cert, key
    return files


def _tls_server(cert: Path, key: Path, seen: list[str | None]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def record_sni(_sock: Any, name: str | None, _context: Any) -> None:
        seen.append(name)

    context.sni_callback = record_sni
    return context


@pytest.mark.parametrize("served", ["good", "other"])
def test_https_sends_the_host_name_as_sni_and_checks_the_certificate_against_it(
    smtp, service, agency_a, local_targets, dns, listeners, tls_files, monkeypatch, served
):
    seen: list[str | None] = []
    receiver = listen(
        listeners, tls=_tls_server(tls_files[served], tls_files[f"{served}_key"], seen)
    )
    trusted = ssl.create_default_context(cafile=str(tls_files[served]))
    monkeypatch.setattr(webhook_targets, "tls_context", lambda: trusted)
    dns.answers[HOST] = ["127.0.0.1"]
    WebhookEndpoint.objects.create(
        agency=agency_a, url=f"https://{HOST}:{receiver.port}/hook", secret="s"
    )
    late_breach(service)
    drain()
    row = _row()
    assert seen == [HOST]
    if served == "good":
        assert row.status == NotificationStatus.SENT
        assert receiver.requests == [{"path": "/hook", "host": f"{HOST}:{receiver.port}"}]
    else:  # a certificate for another name: nothing is posted
        assert row.status == NotificationStatus.PENDING
        assert row.last_error == WebhookFailure.TLS
        assert receiver.requests == []


def test_a_redirect_is_not_followed(smtp, service, agency_a, local_targets, listeners):
    inside = listen(listeners)
    redirecting = listen(listeners, status=302, headers={"Location": inside.url()})
    WebhookEndpoint.objects.create(agency=agency_a, url=redirecting.url(), secret="s")
    late_breach(service)
    now = timezone.now()
    drain(now=now)
    drain(now=now + dt.timedelta(hours=30))
    assert len(redirecting.requests) == 1
    assert inside.requests == []
    row = _row()
    assert row.status == NotificationStatus.FAILED
    assert row.attempt_log.get().error == WebhookFailure.REDIRECT


DETAILS = ("db-7.intra", "5432", "Traceback", "SECRET-BODY")


def test_only_the_failure_class_is_stored_the_detail_goes_to_the_log(
    client, smtp, service, agency_a, admin_a, local_targets, listeners, caplog
):
    failing = listen(
        listeners,
        status=503,
        reason="Upstream db-7.intra:5432 down",
        body=b"Traceback ... SECRET-BODY",
    )
    endpoint = WebhookEndpoint.objects.create(agency=agency_a, url=failing.url(), secret="s")
    late_breach(service)
    with caplog.at_level(logging.WARNING, logger="notifications.channels"):
        drain()
    row = _row()
    assert row.status == NotificationStatus.PENDING
    assert row.last_error == WebhookFailure.HTTP_5XX
    assert row.attempt_log.get().error == WebhookFailure.HTTP_5XX
    assert "db-7.intra:5432" in caplog.text and "SECRET-BODY" in caplog.text

    # A 4xx after it: permanent, on the endpoint, and the page shows the class only.
    failing.stop()
    listeners.remove(failing)
    refusing = listen(listeners, status=403, reason="Forbidden by db-7.intra", body=b"SECRET-BODY")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=refusing.url())
    drain(now=timezone.now() + dt.timedelta(minutes=5))
    endpoint.refresh_from_db()
    assert endpoint.last_error == WebhookFailure.HTTP_4XX
    stored = [
        *Notification.objects.values_list("last_error", flat=True),
        *NotificationAttempt.objects.values_list("error", flat=True),
        endpoint.last_error,
    ]
    assert not [s for s in stored if any(d in s for d in DETAILS)]
    login_verified(client, admin_a)
    html = client.get(reverse("notifications:agency_settings", args=[agency_a.slug])).content
    assert _last_error_cell(html.decode(), endpoint.pk) == _indonesian("HTTP 4xx answer")


@pytest.mark.parametrize(
    ("where", "failure"), [("closed", WebhookFailure.CONNECT), ("slow", WebhookFailure.TIMEOUT)]
)
def test_network_failures_are_classes_too(
    smtp, service, agency_a, local_targets, listeners, settings, where, failure
):
    settings.NOTIFICATIONS = {"WEBHOOK_TIMEOUT_SECONDS": 1}
    url = f"http://127.0.0.1:{free_port()}/hook"
    if where == "slow":
        url = listen(listeners, delay=2.5).url()
    WebhookEndpoint.objects.create(agency=agency_a, url=url, secret="s")
    late_breach(service)
    drain()
    row = _row()
    assert row.status == NotificationStatus.PENDING  # transient: retried later
    assert row.last_error == row.attempt_log.get().error == failure


def test_a_stored_http_url_is_refused_at_send_when_https_is_required(
    smtp, service, agency_a, local_targets, listeners, settings
):
    settings.WEBHOOK_ALLOW_HTTP = False
    receiver = listen(listeners)
    WebhookEndpoint.objects.create(agency=agency_a, url=receiver.url(), secret="s")
    late_breach(service)
    drain()
    assert receiver.requests == []
    assert _row().status == NotificationStatus.FAILED
    assert _row().last_error == WebhookFailure.REFUSED_HTTPS


def test_an_error_stored_before_the_classes_is_never_shown_as_it_is(
    client, admin_a, agency_a, settings
):
    endpoint = WebhookEndpoint.objects.create(
        agency=agency_a,
        url="https://ok.example.org/",
        secret="s",
        last_error="URLError: <urlopen error [Errno 111] Connection refused> 10.0.0.7:8080",
    )
    login_verified(client, admin_a)
    html = client.get(reverse("notifications:agency_settings", args=[agency_a.slug])).content
    assert _last_error_cell(html.decode(), endpoint.pk) == _indonesian("Delivery failed")
    assert "Errno" not in html.decode() and "10.0.0.7" not in html.decode()


def test_the_disabled_endpoint_email_names_the_class_only(admin_a, agency_a, settings):
    settings.NOTIFICATIONS = {"WEBHOOK_DISABLE_AFTER": 1}
    endpoint = WebhookEndpoint.objects.create(
        agency=agency_a, url="https://ok.example.org/", secret="s"
    )
    outcome = Outcome(AttemptResult.PERMANENT, WebhookFailure.REFUSED_ADDRESS)
    assert webhook_record(endpoint_id=endpoint.pk, outcome=outcome, now=timezone.now())
    notice = Notification.objects.get(event="webhook_disabled")
    message = email_for(notice)
    assert _indonesian("Refused: address not allowed") in message.body
    assert "refused: address not allowed" not in message.body
