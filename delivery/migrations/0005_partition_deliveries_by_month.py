"""Deliveries partitioned by month on PostgreSQL (core/partitioning.py,
delivery/partitions.py); SQLite keeps the plain table. The spec is frozen here, as a
migration should be. Reversible. The daily task of oversight 0020 creates the months ahead
of every partitioned table (oversight/partitions.py)."""

from django.db import migrations

from core.partitioning import Claim, Spec, convert, revert

DELIVERIES = Spec(
    table="delivery_servicedelivery",
    key="submitted_at",
    claims=(
        Claim(
            table="delivery_deliveryreferenceclaim",
            columns=("agency_id", "reference"),
            constraint="delivery_reference_unique",
            lookup_index="delivery_reference_lookup",
        ),
        Claim(
            table="delivery_deliverytrackingclaim",
            columns=("tracking_code",),
            constraint="delivery_servicedelivery_tracking_code_key",
            lookup_index="delivery_tracking_code_lookup",
            skippable=False,
        ),
    ),
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        convert(DELIVERIES)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        revert(DELIVERIES)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0004_delivery_claims_and_fk_without_db_constraint"),
        # The foreign keys into deliveries lose their database constraint first.
        ("feedback", "0007_delivery_fk_without_db_constraint"),
        ("oversight", "0021_delivery_fk_without_db_constraint"),
    ]

    operations = [migrations.RunPython(forward, backward)]
