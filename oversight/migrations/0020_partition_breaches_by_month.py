"""Breaches partitioned by month on PostgreSQL (core/partitioning.py); SQLite keeps the plain
table. The spec is frozen here, as a migration should be. Reversible. Also schedules the
daily task that creates the months ahead."""

from django.db import migrations

from core.partitioning import Claim, Spec, convert, revert

BREACHES = Spec(
    table="oversight_breach",
    key="occurred_at",
    claims=(
        Claim(
            table="oversight_breachclaim",
            columns=("kind", "subject_type", "subject_id", "period"),
            constraint="breach_unique_fact",
            lookup_index="breach_fact_lookup",
        ),
    ),
)
NAME = "Partitions ahead"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        convert(BREACHES)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        revert(BREACHES)


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="17", hour="1", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": "oversight.create_partitions", "crontab": daily, "enabled": True},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0019_breach_fk_without_db_constraint"),
        # The foreign keys into breaches lose their database constraint first.
        ("cases", "0006_breach_fk_without_db_constraint"),
        ("feedback", "0006_breach_fk_without_db_constraint"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(schedule, unschedule),
    ]
