"""Webhooks to a real local HTTP server that checks the signature."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from notifications.models import (
    AttemptResult,
    Notification,
    NotificationStatus,
    WebhookEndpoint,
    WebhookFailure,
)
from notifications.outbox import drain
from tests.notifications.conftest import free_port, late_breach

SECRET = "s3cret-for-tests"


class Receiver:
    """Answers POSTs with the scripted statuses (then 200), verifying every signature."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                timestamp = self.headers["X-Maklumat-Timestamp"]
                expected = hmac.new(
                    SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
                ).hexdigest()
                valid = hmac.compare_digest(expected, self.headers["X-Maklumat-Signature"] or "")
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if not valid:
                        status = 401
                    record = {"body": json.loads(body), "valid": valid, "status": status}
                    receiver.requests.append(record)
                    if status == 200:
                        receiver.accepted.append(record)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def local_targets(settings: Any) -> None:
    """The receivers listen on loopback: allow it, for these tests only."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def receiver(local_targets: None) -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def endpoint(agency_a: Any, receiver: Receiver) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(agency=agency_a, url=receiver.url, secret=SECRET)


def _rows(breach: Any = None) -> Any:
    rows = Notification.objects.filter(channel="webhook")
    return rows.filter(breach=breach) if breach is not None else rows


def test_500_then_200_is_delivered_exactly_once_with_a_valid_signature(
    smtp, service, endpoint, receiver, agency_b
):
    WebhookEndpoint.objects.create(agency=agency_b, url=receiver.url, secret=SECRET)
    receiver.statuses = [500]
    breach = late_breach(service)
    now = timezone.now()
    drain(now=now)
    row = _rows(breach).get()  # only agency A's endpoint
    assert row.status == NotificationStatus.PENDING and row.next_attempt_at > now
    assert row.attempt_log.get().result == AttemptResult.TRANSIENT
    assert row.last_error == WebhookFailure.HTTP_5XX

    drain(now=now + dt.timedelta(seconds=61))
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert [r["status"] for r in receiver.requests] == [500, 200]
    assert all(r["valid"] for r in receiver.requests)
    assert len(receiver.accepted) == 1
    payload = receiver.accepted[0]["body"]
    assert payload["idempotency_key"] == row.idempotency_key
    assert payload["breach"]["id"] == breach.pk and payload["breach"]["kind"] == "late_delivery"

    drain(now=now + dt.timedelta(days=2))
    assert len(receiver.requests) == 2
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_permanent_failures == 0


def test_a_network_error_is_retried(smtp, service, agency_a, local_targets):
    dead = WebhookEndpoint.objects.create(
        agency=agency_a, url=f"http://127.0.0.1:{free_port()}/hook", secret=SECRET
    )
    late_breach(service)
    drain()
    row = _rows().get()
    assert row.status == NotificationStatus.PENDING
    assert row.attempt_log.get().result == AttemptResult.TRANSIENT
    dead.refresh_from_db()
    assert dead.consecutive_permanent_failures == 0


def test_400_fails_at_once_and_is_not_retried(smtp, service, endpoint, receiver):
    receiver.statuses = [400]
    breach = late_breach(service)
    now = timezone.now()
    drain(now=now)
    row = _rows(breach).get()
    assert row.status == NotificationStatus.FAILED
    assert row.attempt_log.get().result == AttemptResult.PERMANENT
    drain(now=now + dt.timedelta(hours=30))
    assert len(receiver.requests) == 1
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_permanent_failures == 1


def test_repeated_4xx_disable_the_endpoint_and_tell_the_agency_admins(
    smtp, service, endpoint, receiver, admin_a, settings
):
    settings.NOTIFICATIONS = {"WEBHOOK_DISABLE_AFTER": 3}
    receiver.statuses = [410, 403, 200, 400, 400, 422]
    for ref in ("a", "b", "c", "d", "e", "f", "g"):
        late_breach(service, ref)
        drain()
    # 410, 403, then a success resets the count; 400, 400, 422 -> disabled; "g" never sent.
    assert [r["status"] for r in receiver.requests] == [410, 403, 200, 400, 400, 422]
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert endpoint.consecutive_permanent_failures == 3
    assert endpoint.last_error == WebhookFailure.HTTP_4XX
    notices = [m for m in smtp.messages if m["To"] == admin_a.email]
    assert len(notices) == 1
    assert endpoint.url in notices[0]["Subject"]
    # The breach after it was disabled wrote no webhook row at all.
    assert not _rows().filter(breach__delivery__reference="g").exists()
    assert _rows().filter(status=NotificationStatus.SENT).count() == 1
