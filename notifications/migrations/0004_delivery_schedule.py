"""Schedule the outbox drainer, the stale-row sweeper and the escalation ladder (beat)."""

from django.db import migrations

TASKS = [
    # (name, task, every, period)
    ("Notification outbox drain", "notifications.drain", 1, "minutes"),
    ("Notification outbox sweeper", "notifications.requeue", 5, "minutes"),
    ("Breach escalation ladder", "notifications.escalate", 15, "minutes"),
]


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in TASKS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_ in TASKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_notification_claimed_at_notification_last_error_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
