"""The staff pages: upload -> preview -> confirm, export, and who may do what."""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from imports.models import ImportJob
from services import services as writes
from services.importing import COLUMNS, MAX_BYTES
from services.models import Service, StandardVersion, VersionStatus
from tests.accounts.conftest import login_verified
from tests.factories import UserFactory, complete_version_data
from tests.services.importing.helpers import csv_bytes, row, xlsx_bytes
from tests.tabular_files import BIG, MB, bomb


def upload_url() -> str:
    # Reversed under the English test language: /en/staff/import/.
    return reverse("imports:upload")


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        login_verified(client, user)  # privileged roles pass two-factor first
    return client


def upload(client: Client, agency: Any, content: bytes, name: str = "standar.csv") -> Any:
    return client.post(
        upload_url(), {"agency": agency.pk, "file": SimpleUploadedFile(name, content)}
    )


def token_of(response: Any) -> str:
    assert response.status_code == 302, getattr(response, "content", b"")[:2000]
    match = re.fullmatch(r"(?:/en)?/staff/import/([A-Za-z0-9_-]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def staged_files() -> list[Path]:
    directory = Path(settings.VAR_DIR) / "imports"
    return sorted(directory.iterdir()) if directory.exists() else []


def staged_path(token: str) -> Path:
    job = ImportJob.objects.get(pk=token)
    return Path(settings.VAR_DIR) / (job.upload_file or f"imports/{job.pk.hex}.csv")


@pytest.fixture
def published(agency_a: Any, unit_a: Any, approver_a: Any) -> Any:
    service = writes.service_create(
        agency=agency_a, unit=unit_a, name="KTP-el", slug="ktp-el", acting_user=approver_a
    )
    data, children = complete_version_data()
    draft = writes.standard_draft_create(
        service=service, acting_user=approver_a, data=data, children=children
    )
    writes.standard_publish(version=draft, acting_user=approver_a, acknowledge_incomplete=True)
    return service


def test_full_journey_creates_drafts(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    client = client_for(editor_a)
    page = client.get(upload_url())
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    assert b"csrfmiddlewaretoken" in page.content

    token = token_of(upload(client, agency_a, csv_bytes([row("a"), row("b")])))
    staged = staged_path(token)
    assert staged.exists()
    job = ImportJob.objects.get(pk=token)
    assert (job.kind, job.state, job.owner, job.agency) == (
        "standards",
        "waiting",
        editor_a,
        agency_a,
    )
    preview = client.get(reverse("imports:preview", args=[token]))
    assert preview.status_code == 200
    assert b"Layanan a" in preview.content
    assert reverse("imports:confirm", args=[token]).encode() in preview.content
    assert Service.objects.count() == 0  # the preview writes nothing

    done = client.post(reverse("imports:confirm", args=[token]))
    assert done.status_code == 302
    assert done["Location"] == reverse("staff:dashboard")
    assert set(Service.objects.values_list("slug", flat=True)) == {"a", "b"}
    assert set(StandardVersion.objects.values_list("status", flat=True)) == {VersionStatus.DRAFT}
    # The staged file is gone, the job says what it did, and the token cannot be used twice.
    assert not staged.exists()
    job.refresh_from_db()
    assert (job.state, job.rows_read, job.created, job.updated) == ("done", 2, 2, 0)
    assert client.post(reverse("imports:confirm", args=[token])).status_code == 404
    assert StandardVersion.objects.count() == 2


def test_xlsx_upload(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    client = client_for(editor_a)
    token = token_of(upload(client, agency_a, xlsx_bytes([row("a")]), "standar.xlsx"))
    assert client.post(reverse("imports:confirm", args=[token])).status_code == 302
    assert Service.objects.get().slug == "a"


def test_preview_lists_every_error_with_its_line_and_column(
    agency_a: Any, unit_a: Any, editor_a: Any
) -> None:
    client = client_for(editor_a)
    content = csv_bytes([row("a"), row("b", unit_slug="nowhere"), row("c", category="x")])
    token = token_of(upload(client, agency_a, content))
    preview = client.get(reverse("imports:preview", args=[token]))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert 'data-line="3" data-column="unit_slug"' in html
    assert 'data-line="4" data-column="category"' in html
    assert "2 errors" in html
    assert reverse("imports:confirm", args=[token]) not in html


def test_confirm_refuses_a_file_with_errors_and_writes_nothing(
    agency_a: Any, unit_a: Any, editor_a: Any, published: Any
) -> None:
    client = client_for(editor_a)
    before = StandardVersion.objects.count()
    content = csv_bytes([row("a"), row("ktp-el"), row("c", steps="no colon"), row("d")])
    token = token_of(upload(client, agency_a, content))
    response = client.post(reverse("imports:confirm", args=[token]))
    assert response.status_code == 400
    assert 'data-line="4" data-column="steps"' in response.content.decode()
    assert StandardVersion.objects.count() == before
    assert list(Service.objects.values_list("slug", flat=True)) == ["ktp-el"]


def test_file_level_errors_stay_on_the_upload_form(
    agency_a: Any, unit_a: Any, editor_a: Any
) -> None:
    client = client_for(editor_a)
    before = staged_files()
    cases = [
        (b"", "standar.csv", "empty"),
        ("service_slug,nama\r\n".encode("utf-16"), "standar.csv", "UTF-8"),
        (b"PK\x03\x04 nope", "standar.xlsx", ".xlsx"),
        (csv_bytes([]), "standar.csv", "no data rows"),
        (csv_bytes([row()], columns=["service_slug", "nama"]), "standar.csv", "Line 1"),
        (b"a,b", "standar.xls", ".xls"),
        (b"a,b", "standar.txt", ".csv"),
    ]
    for content, name, expected in cases:
        response = upload(client, agency_a, content, name)
        assert response.status_code == 200, name
        assert expected in response.content.decode(), (name, expected)
    assert staged_files() == before
    assert Service.objects.count() == 0


def test_too_big_upload_is_refused_unread(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    client = client_for(editor_a)
    response = upload(client, agency_a, b"x" * (MAX_BYTES + 1))
    assert response.status_code == 200
    assert "5 MB" in response.content.decode()


def test_cancel_discards_the_upload(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    client = client_for(editor_a)
    token = token_of(upload(client, agency_a, csv_bytes([row("a")])))
    staged = staged_path(token)
    assert client.post(reverse("imports:cancel", args=[token])).status_code == 302
    assert client.get(reverse("imports:preview", args=[token])).status_code == 404
    assert not staged.exists()
    assert ImportJob.objects.get(pk=token).state == "failed"


def test_a_token_is_bound_to_its_uploader(
    agency_a: Any, unit_a: Any, editor_a: Any, approver_a: Any
) -> None:
    token = token_of(upload(client_for(editor_a), agency_a, csv_bytes([row("a")])))
    thief = client_for(approver_a)  # same agency, same rights, other session
    assert thief.get(reverse("imports:preview", args=[token])).status_code == 404
    assert thief.post(reverse("imports:confirm", args=[token])).status_code == 404
    assert Service.objects.count() == 0


def test_a_token_is_bound_to_the_owner_of_its_job(
    agency_a: Any, unit_a: Any, editor_a: Any, approver_a: Any
) -> None:
    client = client_for(editor_a)
    token = token_of(upload(client, agency_a, csv_bytes([row("a")])))
    ImportJob.objects.filter(pk=token).update(owner=approver_a)
    assert client.get(reverse("imports:preview", args=[token])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[token])).status_code == 404
    assert client.post(reverse("imports:cancel", args=[token])).status_code == 404
    assert Service.objects.count() == 0


def test_an_upload_survives_a_new_session_and_a_cache_eviction(
    agency_a: Any, unit_a: Any, editor_a: Any
) -> None:
    from django.core.cache import cache

    token = token_of(upload(client_for(editor_a), agency_a, csv_bytes([row("a")])))
    cache.clear()
    other_session = client_for(editor_a)  # logged in again: nothing of the upload in it
    assert other_session.get(reverse("imports:preview", args=[token])).status_code == 200
    assert other_session.post(reverse("imports:confirm", args=[token])).status_code == 302
    assert Service.objects.get().slug == "a"


def test_a_refused_confirmation_leaves_the_job_waiting(
    agency_a: Any, unit_a: Any, editor_a: Any, approver_a: Any
) -> None:
    client = client_for(editor_a)
    token = token_of(upload(client, agency_a, csv_bytes([row("a")])))
    # Someone else creates the service in another unit meanwhile: the plan changes.
    unit_a.is_active = False
    unit_a.save()
    assert client.post(reverse("imports:confirm", args=[token])).status_code == 400
    job = ImportJob.objects.get(pk=token)
    assert job.state == "waiting" and staged_path(token).exists()
    unit_a.is_active = True
    unit_a.save()
    assert client.post(reverse("imports:confirm", args=[token])).status_code == 302
    assert ImportJob.objects.get(pk=token).state == "done"


def test_only_the_newest_uploads_are_kept_waiting(
    agency_a: Any, unit_a: Any, editor_a: Any
) -> None:
    from services.importing import MAX_STAGED

    client = client_for(editor_a)
    before = set(staged_files())
    tokens = [
        token_of(upload(client, agency_a, csv_bytes([row(f"s{n}")]))) for n in range(MAX_STAGED + 2)
    ]
    waiting = set(ImportJob.objects.filter(state="waiting").values_list("pk", flat=True))
    assert {str(pk) for pk in waiting} == set(tokens[-MAX_STAGED:])
    assert len(set(staged_files()) - before) == MAX_STAGED
    assert client.get(reverse("imports:preview", args=[tokens[0]])).status_code == 404


def test_an_expired_upload_is_swept(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from imports.services import import_jobs_sweep

    client = client_for(editor_a)
    old = token_of(upload(client, agency_a, csv_bytes([row("a")])))
    new = token_of(upload(client, agency_a, csv_bytes([row("b")])))
    old_path = staged_path(old)
    ImportJob.objects.filter(pk=old).update(created_at=timezone.now() - dt.timedelta(days=2))
    assert import_jobs_sweep() == 1
    assert not old_path.exists() and staged_path(new).exists()
    assert client.get(reverse("imports:preview", args=[old])).status_code == 404


# --- Permissions ----------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(agency_a: Any) -> None:
    client = Client()
    for url in (
        upload_url(),
        reverse("imports:export_csv", args=[agency_a.slug]),
        reverse("imports:export_xlsx", args=[agency_a.slug]),
        reverse("imports:preview", args=["x" * 32]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert client.post(upload_url(), {"agency": agency_a.pk}).status_code == 302
    assert Service.objects.count() == 0


def test_user_without_any_role_gets_403(db: Any) -> None:
    assert client_for(UserFactory(username="nobody")).get(upload_url()).status_code == 403


def test_editor_of_another_agency_gets_404(
    agency_a: Any, unit_a: Any, editor_b: Any, agency_b: Any
) -> None:
    client = client_for(editor_b)
    assert upload(client, agency_a, csv_bytes([row("a")])).status_code == 404
    assert client.get(reverse("imports:export_csv", args=[agency_a.slug])).status_code == 404
    assert client.get(reverse("imports:export_xlsx", args=[agency_a.slug])).status_code == 404
    assert client.get(reverse("imports:export_csv", args=["no-such-agency"])).status_code == 404
    assert client.get(reverse("imports:export_csv", args=[agency_b.slug])).status_code == 200
    assert Service.objects.count() == 0


@pytest.mark.parametrize("who", ["ombudsman", "admin_a"])
def test_readers_can_export_but_not_import(
    request: Any, who: str, agency_a: Any, unit_a: Any, published: Any
) -> None:
    user = request.getfixturevalue(who)
    client = client_for(user)
    page = client.get(upload_url())
    assert page.status_code == 200
    assert b'type="file"' not in page.content
    assert reverse("imports:export_csv", args=[agency_a.slug]).encode() in page.content
    assert upload(client, agency_a, csv_bytes([row("a")])).status_code == 403
    assert Service.objects.count() == 1

    csv_response = client.get(reverse("imports:export_csv", args=[agency_a.slug]))
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert 'filename="dinas-a-standards.csv"' in csv_response["Content-Disposition"]
    assert b"ktp-el" in csv_response.content
    xlsx_response = client.get(reverse("imports:export_xlsx", args=[agency_a.slug]) + "?drafts=1")
    assert xlsx_response.status_code == 200
    assert xlsx_response.content.startswith(b"PK")


def test_editor_a_can_export_a(agency_a: Any, editor_a: Any, published: Any) -> None:
    response = client_for(editor_a).get(reverse("imports:export_csv", args=[agency_a.slug]))
    assert response.status_code == 200
    assert b"ktp-el" in response.content


def test_export_through_the_page_and_import_again_changes_nothing(
    agency_a: Any, editor_a: Any, published: Any
) -> None:
    client = client_for(editor_a)
    exported = client.get(reverse("imports:export_xlsx", args=[agency_a.slug])).content
    token = token_of(upload(client, agency_a, exported, "dinas-a-standards.xlsx"))
    preview = client.get(reverse("imports:preview", args=[token])).content.decode()
    assert "No change to the content" in preview
    assert client.post(reverse("imports:confirm", args=[token])).status_code == 302
    old = writes.version_content(published.versions.get(number=1))
    new = writes.version_content(published.versions.get(number=2))
    for data in (old[0], new[0]):
        for key in ("change_summary", "decree_date", "effective_date"):
            data.pop(key)
    assert old == new


def test_editor_cannot_post_another_agency_he_only_reads(
    agency_a: Any, unit_a: Any, ombudsman: Any, editor_a: Any
) -> None:
    # A member who may read the agency but not edit it gets 403, not 404.
    response = upload(client_for(ombudsman), agency_a, csv_bytes([row("a")]))
    assert response.status_code == 403


def test_pages_render_in_the_default_language(agency_a: Any, unit_a: Any, editor_a: Any) -> None:
    client = client_for(editor_a)
    assert client.get("/staff/import/").status_code == 200
    response = client.post(
        "/staff/import/",
        {
            "agency": agency_a.pk,
            "file": SimpleUploadedFile("s.csv", csv_bytes([row("a"), row("b", category="?")])),
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/import/")
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    assert 'data-line="3" data-column="category"' in preview.content.decode()


# --- Hostile files (shared reader: core.tabular) ---------------------------------------------


def _measured_upload(client: Client, agency: Any, content: bytes, name: str) -> tuple[Any, int]:
    upload(client, agency, b"", name)  # the page, its templates and catalogues loaded once
    tracemalloc.start()
    try:
        response = upload(client, agency, content, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared-string"])
def test_a_zip_bomb_is_refused_quickly_without_a_huge_page(
    agency_a: Any, unit_a: Any, editor_a: Any, shared: bool
) -> None:
    client = client_for(editor_a)
    before = staged_files()
    cells = row("a", product=BIG)
    content = bomb([list(COLUMNS), [cells[c] for c in COLUMNS]], size=50 * MB, shared=shared)
    assert len(content) < MB
    started = time.monotonic()
    response, peak = _measured_upload(client, agency_a, content, "standar.xlsx")
    assert time.monotonic() - started < 10
    assert response.status_code == 200
    assert "not an ordinary spreadsheet" in response.content.decode()
    assert len(response.content) < 100_000
    assert peak < 10 * MB  # the 50 MB cell was never expanded
    assert staged_files() == before
    assert Service.objects.count() == 0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_overlong_cell_is_refused_with_its_line_and_a_short_quote(
    agency_a: Any, unit_a: Any, editor_a: Any, kind: str
) -> None:
    client = client_for(editor_a)
    rows = [row("a"), row("b", product="Dokumen kependudukan " * 2000)]
    content = csv_bytes(rows) if kind == "csv" else xlsx_bytes(rows)
    response = upload(client, agency_a, content, f"standar.{kind}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 3: A cell is longer than 10000 characters" in html
    quote = re.search(r"\(it begins “([^”]*)…”\)", html)
    assert quote is not None and quote.group(1) == "Dokumen kependudukan Dokumen kependuduka"
    assert html.count("Dokumen kependudukan") == 1
    assert len(response.content) < 100_000
    assert Service.objects.count() == 0
