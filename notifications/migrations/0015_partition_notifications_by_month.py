"""The outbox partitioned by month on PostgreSQL (core/partitioning.py,
notifications/partitions.py); SQLite keeps the plain table. The spec is frozen here, as a
migration should be. Reversible. The months ahead are made by oversight's daily task
("Partitions ahead", oversight 0020)."""

from django.db import migrations

from core.partitioning import Claim, Spec, convert, revert

NOTIFICATIONS = Spec(
    table="notifications_notification",
    key="created_at",
    claims=(
        Claim(
            table="notifications_notificationclaim",
            columns=("idempotency_key",),
            constraint="notification_once",
            lookup_index="notification_key_lookup",
        ),
    ),
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        convert(NOTIFICATIONS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        revert(NOTIFICATIONS)


class Migration(migrations.Migration):
    dependencies = [
        # The foreign keys into the outbox lose their database constraint first.
        ("notifications", "0014_notification_fk_without_db_constraint"),
    ]

    operations = [migrations.RunPython(forward, backward)]
