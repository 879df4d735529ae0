"""Standard versions: life cycle, immutability, one current version, completeness, diff."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from core.errors import ApplicationError, PermissionDeniedError
from services.components import COMPONENTS, completeness
from services.diff import version_diff
from services.models import CostItem, Requirement, StandardVersion, VersionStatus
from services.services import (
    standard_draft_create,
    standard_draft_update,
    standard_new_version,
    standard_publish,
    standard_submit_for_approval,
)
from tests import factories
from tests.registry import make_draft, make_published, make_service


@pytest.fixture
def service(agency_a, unit_a):
    return make_service(agency_a, unit_a)


def test_there_are_exactly_fourteen_components_numbered_in_order():
    assert [c.number for c in COMPONENTS] == list(range(1, 15))
    assert COMPONENTS[0].indonesian == "Persyaratan"
    assert COMPONENTS[13].indonesian == "Evaluasi kinerja pelaksana"


def test_completeness_counts_each_missing_component(service):
    version = make_draft(service)
    assert completeness(version).score == 14
    assert completeness(version).is_complete
    bare = standard_draft_create(service=make_service(service.agency, service.unit, name="Lain"))
    report = completeness(bare)
    assert report.score == 0
    assert {c.key for c in report.missing} == {c.key for c in COMPONENTS}
    partial = make_draft(
        make_service(service.agency, service.unit, name="Sebagian"), product="", staff_count=None
    )
    assert {c.key for c in completeness(partial).missing} == {"product", "staff_count"}


def test_free_service_counts_as_having_a_cost_component(service):
    version = make_draft(service, is_free=True)
    assert "cost" not in {c.key for c in completeness(version).missing}
    not_free = make_draft(make_service(service.agency, service.unit, name="X"), is_free=False)
    assert "cost" in {c.key for c in completeness(not_free).missing}


def test_a_free_service_cannot_carry_costs(service):
    data, children = factories.complete_version_data(is_free=True)
    children["cost_items"] = [{"name": "Biaya", "amount": 5000}]
    with pytest.raises(ApplicationError) as error:
        standard_draft_create(service=service, data=data, children=children)
    assert error.value.field == "is_free"
    assert not StandardVersion.objects.filter(service=service).exists()


def test_total_cost_is_the_sum_of_items(service):
    data, children = factories.complete_version_data(is_free=False)
    children["cost_items"] = [{"name": "A", "amount": 50000}, {"name": "B", "amount": 2500}]
    version = standard_draft_create(service=service, data=data, children=children)
    version.refresh_from_db()
    assert version.total_cost == 52500


def test_publishing_supersedes_the_previous_version(service, approver_a):
    first = make_published(service)
    second = standard_new_version(version=first, acting_user=approver_a)
    standard_publish(version=second, acting_user=approver_a)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED and first.superseded_at is not None
    assert second.status == VersionStatus.PUBLISHED
    assert second.number == first.number + 1
    assert second.next_review_date is not None
    assert second.published_at is not None
    assert (second.next_review_date - second.published_at.date()).days in range(360, 370)


def test_publishing_an_incomplete_standard_needs_an_acknowledgement(service, approver_a):
    version = make_draft(service, product="")
    with pytest.raises(ApplicationError) as error:
        standard_publish(version=version, acting_user=approver_a)
    assert error.value.code == "incomplete"
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    standard_publish(version=version, acting_user=approver_a, acknowledge_incomplete=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.incomplete_acknowledged


def test_only_approvers_publish(service, editor_a, approver_a, editor_b):
    version = make_draft(service)
    for user in (editor_a, editor_b):
        with pytest.raises(PermissionDeniedError):
            standard_publish(version=version, acting_user=user)
    standard_publish(version=version, acting_user=approver_a)


def test_a_published_version_is_immutable_in_the_model_layer(service):
    version = make_published(service)
    version.product = "Sesuatu yang lain"
    with pytest.raises(ApplicationError) as error:
        version.save()
    assert error.value.code == "immutable"
    with pytest.raises(ApplicationError):
        StandardVersion.objects.filter(pk=version.pk).update(processing_time_value=99)
    requirement = Requirement.objects.filter(version=version).first()
    assert requirement is not None
    requirement.name = "Diganti"
    with pytest.raises(ApplicationError):
        requirement.save()
    with pytest.raises(ApplicationError):
        requirement.delete()
    with pytest.raises(ApplicationError):
        CostItem(version=version, name="Pungutan", amount=1000).save()
    with pytest.raises(ApplicationError):
        version.delete()
    version.refresh_from_db()
    assert version.product == "Dokumen" and version.processing_time_value == 5
    assert version.requirements.count() == 2


def test_a_published_version_cannot_be_edited_through_the_service(service, editor_a):
    version = make_published(service)
    with pytest.raises(ApplicationError) as error:
        standard_draft_update(version=version, acting_user=editor_a, data={"product": "Baru"})
    assert error.value.code == "immutable"


def test_changing_a_published_version_means_a_new_draft(service, editor_a):
    published = make_published(service)
    draft = standard_new_version(version=published, acting_user=editor_a)
    assert draft.status == VersionStatus.DRAFT
    assert [r.name for r in draft.requirements.all()] == [
        r.name for r in published.requirements.all()
    ]
    with pytest.raises(ApplicationError) as error:
        standard_new_version(version=published, acting_user=editor_a)
    assert error.value.code == "draft_exists"


def test_the_database_allows_one_published_version_per_service(service):
    make_published(service)
    other = make_draft(service)
    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass the service layer (and its lock) to prove the constraint itself holds.
        StandardVersion.objects.filter(pk=other.pk).update(status=VersionStatus.PUBLISHED)


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishing_leaves_one_current_version(agency_a, unit_a, approver_a):
    service = make_service(agency_a, unit_a)
    drafts = [make_draft(service), None]
    drafts[1] = standard_draft_create(
        service=service,
        data=factories.complete_version_data()[0],
        children=factories.complete_version_data()[1],
    )
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def publish(version: StandardVersion) -> None:
        try:
            barrier.wait(timeout=10)
            standard_publish(version=version, acting_user=approver_a)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    statuses = sorted(
        StandardVersion.objects.filter(service=service).values_list("status", flat=True)
    )
    assert statuses == [VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]


def test_history_records_who_changed_what(service, editor_a, approver_a):
    version = make_draft(service)
    standard_draft_update(version=version, acting_user=editor_a, data={"product": "KTP"})
    standard_submit_for_approval(version=version, acting_user=editor_a)
    standard_publish(version=version, acting_user=approver_a)
    history = list(version.history.order_by("history_date"))
    assert [h.status for h in history][-1] == VersionStatus.PUBLISHED
    assert any(h.history_user_id == editor_a.pk and h.product == "KTP" for h in history)
    assert history[-1].history_user_id == approver_a.pk


def test_diff_shows_changed_fields_and_rows(service, editor_a):
    old = make_published(service)
    new = standard_new_version(version=old, acting_user=editor_a)
    data, children = factories.complete_version_data(processing_time_value=3, product="KTP-el")
    children["requirements"] = [{"name": "KTP-el"}, {"name": "Surat pengantar RT/RW"}]
    new = standard_draft_update(version=new, acting_user=editor_a, data=data, children=children)
    diff = version_diff(old, new)
    changed = {c.key: (c.old, c.new) for c in diff.fields}
    assert changed["processing_time_value"] == ("5", "3")
    assert changed["product"] == ("Dokumen", "KTP-el")
    # The new draft has no effective date until it is published.
    assert set(changed) == {"processing_time_value", "product", "effective_date"}
    assert changed["effective_date"][1] == "—"
    (rows,) = diff.rows
    assert rows.key == "requirements"
    assert rows.removed == ["Kartu Keluarga"] and rows.added == ["Surat pengantar RT/RW"]
    assert version_diff(old, old).is_empty
