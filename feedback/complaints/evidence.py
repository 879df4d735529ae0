"""Evidence files: what a file is is read from its content, never from its name.

A photo (JPEG, PNG or WebP by its signature, then decoded by Pillow) is re-encoded as a
fresh JPEG from its pixels alone: EXIF (GPS, device, owner names), XMP, IPTC, ICC and
comments are not carried over, whatever the original held. Its orientation is applied to
the pixels first, so nothing is lost by dropping the tag. A PDF (its `%PDF-` signature) is
kept as given: it is only ever served to the complaint's handlers and the ombudsman. Any
other file, an empty one or one above the size limit is refused with a message in the
citizen's language. Stored names are generated: the citizen's file name is not kept.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from typing import IO

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ApplicationError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
# A photo larger than this many pixels is refused before it is decoded (decompression bombs).
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85

_PHOTO_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


@dataclass(frozen=True)
class CleanFile:
    kind: str  # EvidenceKind value
    content: bytes
    content_type: str
    extension: str

    def as_content_file(self) -> ContentFile[bytes]:
        return ContentFile(self.content, name=f"{secrets.token_hex(16)}.{self.extension}")


def _photo_format(head: bytes) -> str | None:
    for signature, name in _PHOTO_SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _refuse(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, field="evidence")


def strip_photo(data: bytes, expected_format: str) -> bytes:
    """The photo's pixels as a new JPEG, with no metadata at all."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != expected_format:
                raise _refuse(_("This file is not a photo we can read."), "evidence_type")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _refuse(_("This photo is too large."), "evidence_size")
            probe.load()
            upright = ImageOps.exif_transpose(probe)
            pixels = upright.convert("RGB")
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as exc:
        raise _refuse(_("This file is not a photo we can read."), "evidence_type") from exc
    # A new image from the pixels only: no info dict, no EXIF, no ICC profile.
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def read_upload(upload: IO[bytes], *, size: int | None = None) -> CleanFile:
    """Check one uploaded file by its content and return what may be stored."""
    if size is not None and size > MAX_FILE_BYTES:
        raise _refuse(_("Each file may be at most 5 MB."), "evidence_size")
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(_("Each file may be at most 5 MB."), "evidence_size")
    if not data:
        raise _refuse(_("This file is empty."), "evidence_empty")
    photo = _photo_format(data[:16])
    if photo is not None:
        return CleanFile("photo", strip_photo(data, photo), "image/jpeg", "jpg")
    if data.startswith(b"%PDF-"):
        return CleanFile("pdf", data, "application/pdf", "pdf")
    raise _refuse(_("Attach photos (JPEG, PNG, WebP) or PDF documents only."), "evidence_type")
