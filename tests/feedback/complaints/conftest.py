from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from feedback.complaints.services import Contact, Upload, complaint_submit

SECRET_NAME = "Siti Rahmawati"
SECRET_EMAIL = "siti.rahma@example.org"
SECRET_PHONE = "0812-5555-0199"


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF carries GPS coordinates, a camera model and an owner's name."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KameraMerk"  # Make
    exif[0x0110] = "HP Siti Rahmawati"  # Model
    exif[0x013B] = "Siti Rahmawati"  # Artist
    gps = {1: "S", 2: (6.0, 10.0, 30.0), 3: "E", 4: (106.0, 49.0, 10.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def upload(data: bytes) -> Upload:
    return Upload(io.BytesIO(data), len(data))


@pytest.fixture
def submit(service_a: Any) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        values: dict[str, Any] = {
            "category": "time",
            "occurred_on": timezone.localdate() - dt.timedelta(days=2),
            "description": "Antrean tiga jam, petugas Budi membentak saya.",
            "service": service_a,
            "anonymous": True,
            "confidential": True,
            "contact": Contact(name=SECRET_NAME, email=SECRET_EMAIL, phone=SECRET_PHONE),
        }
        if "now" in overrides and "occurred_on" not in overrides:
            values["occurred_on"] = timezone.localdate(overrides["now"]) - dt.timedelta(days=1)
        values.update(overrides)
        return complaint_submit(**values)

    return make
