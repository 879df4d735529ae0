"""The media storage full or read-only during an upload: a clear error in the user's
language, and nothing half-written (no partial file, no database row)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from core.storage import SafeFileSystemStorage, StorageUnavailableError
from core.views import server_error
from imports.models import ImportJob
from imports.services import upload_store
from oversight import answers
from oversight.models import BreachEvent
from tests import factories
from tests.delivery.ingest.conftest import csv_bytes, row
from tests.factories import BreachFactory

PDF = b"%PDF-1.4\n" + b"x" * 4000


class FillsTheDisk(File):
    """An upload whose second chunk finds the disk full (as a write would)."""

    def __init__(self, content: bytes, name: str = "surat.pdf") -> None:
        super().__init__(None, name)
        self.content = content
        self.size = len(content)

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield self.content[:1000]
        raise OSError(errno.ENOSPC, "No space left on device")

    def read(self, size: int = -1) -> bytes:
        return self.content[:size] if size >= 0 else self.content

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_disk_full_mid_file_leaves_no_partial_file(tmp_path: Path):
    storage = SafeFileSystemStorage(location=str(tmp_path))
    with pytest.raises(StorageUnavailableError) as refused:
        storage.save("breach-answers/surat.pdf", FillsTheDisk(PDF))
    assert "penyimpanan server penuh" in refused.value.message  # in the language in use
    assert _files(tmp_path) == []
    assert storage.save("breach-answers/ok.pdf", File(SimpleUploadedFile("ok.pdf", PDF)))
    assert len(_files(tmp_path)) == 1  # a later upload works once there is room


def test_a_read_only_folder_is_refused_clearly(tmp_path: Path, monkeypatch: Any):
    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("django.core.files.storage.filesystem.os.makedirs", read_only)
    storage = SafeFileSystemStorage(location=str(tmp_path / "media"))
    with pytest.raises(StorageUnavailableError):
        storage.save("agency-logos/a.png", File(SimpleUploadedFile("a.png", b"png")))


def test_other_errors_are_not_disguised(tmp_path: Path, monkeypatch: Any):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("django.core.files.storage.filesystem.os.makedirs", broken)
    with pytest.raises(OSError) as raised:
        SafeFileSystemStorage(location=str(tmp_path / "m")).save(
            "a/b", File(SimpleUploadedFile("b", b"1"))
        )
    assert not isinstance(raised.value, StorageUnavailableError)


def test_a_breach_answer_whose_attachment_cannot_be_stored_writes_nothing(
    service: Any, editor_a: Any, settings: Any, tmp_path: Path
):
    settings.MEDIA_ROOT = str(tmp_path)
    breach = BreachFactory.create(service=service, reference="late-s")
    status, events = breach.status, BreachEvent.objects.count()
    with pytest.raises(StorageUnavailableError):
        answers.breach_explain(
            breach=breach,
            acting_user=editor_a,
            text="Server mati",
            attachment=FillsTheDisk(PDF),  # type: ignore[arg-type]
        )
    breach.refresh_from_db()
    assert breach.status == status and BreachEvent.objects.count() == events
    assert _files(tmp_path) == []


def test_an_upload_store_cut_short_by_a_full_disk_leaves_nothing(settings: Any, tmp_path: Path):
    settings.VAR_DIR = tmp_path

    def chunks() -> Iterator[bytes]:
        yield b"a,b\n" * 100
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StorageUnavailableError):
        upload_store(chunks=chunks(), file_format="csv", max_bytes=10**6)
    assert _files(tmp_path) == []


def test_a_delivery_import_on_a_read_only_disk_is_a_form_error(
    client: Any, service: Any, settings: Any, tmp_path: Path, monkeypatch: Any
):
    settings.VAR_DIR = tmp_path
    editor = factories.UserFactory(username="importer")
    factories.MembershipFactory(user=editor, agency=service.agency, role="editor")
    client.force_login(editor)

    def read_only(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "open", read_only)
    content = csv_bytes([row("S-1", service=service.slug)])
    response = client.post(
        reverse("deliveries:import"),
        {"agency": service.agency.pk, "file": SimpleUploadedFile("d.csv", content)},
    )
    monkeypatch.undo()
    assert response.status_code == 400
    assert "Berkas tidak dapat disimpan" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert _files(tmp_path) == []


def test_a_storage_error_no_view_caught_is_still_explained():
    for path, kind in (("/staff/", "text/html"), ("/api/x/", "application/problem+json")):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            response = server_error(RequestFactory().get(path))
        assert response.status_code == 503 and response["Content-Type"].startswith(kind)
        assert b"No space left" not in response.content


def test_a_standards_import_on_a_read_only_disk_is_a_form_error(
    agency_a: Any, unit_a: Any, editor_a: Any, settings: Any, tmp_path: Path, monkeypatch: Any
):
    from tests.services.importing.helpers import csv_bytes as standards_csv
    from tests.services.importing.helpers import row as standard_row
    from tests.services.importing.test_views import client_for, upload

    settings.VAR_DIR = tmp_path
    client = client_for(editor_a)

    def read_only(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "open", read_only)
    response = upload(client, agency_a, standards_csv([standard_row("a")]))
    monkeypatch.undo()
    assert response.status_code == 200  # the upload form again, with its error
    assert "Berkas tidak dapat disimpan" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert _files(tmp_path) == []
