"""A real local SMTP server (aiosmtpd), and breaches made by the real sweep."""

from __future__ import annotations

import email
import logging
import socket
import threading
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from oversight.models import Breach
from tests.delivery.conftest import wib
from tests.factories import BreachFactory
from tests.registry import make_published, make_service

logging.getLogger("mail.log").setLevel(logging.WARNING)

SWEPT_AT = wib(2026, 2, 2, 10, 0)  # a Monday


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Handler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refused: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class SMTPServer:
    """A local SMTP server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = Handler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages


@pytest.fixture
def smtp(settings: Any) -> Iterator[SMTPServer]:
    server = SMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    server.start()
    yield server
    server.stop()


@pytest.fixture
def service(agency_a: Any, unit_a: Any, national: Any) -> Any:
    unit_a.contact_emails = ["layanan@unit-a.go.id", "pengaduan@unit-a.go.id"]
    unit_a.head_email = "kepala@unit-a.go.id"
    unit_a.save()
    agency_a.head_email = "kepala@dinas-a.go.id"
    agency_a.save()
    service = make_service(agency_a, unit_a)
    make_published(service, published_at=wib(2025, 6, 1), processing_time_value=5, is_free=True)
    return service


def late_breach(service: Any, ref: str = "late", *, swept_at: Any = SWEPT_AT) -> Breach:
    """One late-delivery breach, created by the real sweep with its outbox row."""
    return BreachFactory.create(service=service, reference=ref, swept_at=swept_at)
