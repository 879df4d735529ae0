"""Schedule the daily purge of unconfirmed citizen followers (beat): 03:30 Jakarta time."""

from django.db import migrations

NAME = "Purge unconfirmed citizen followers"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Jakarta",
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "oversight.purge_unconfirmed_followers",
            "crontab": crontab,
            "enabled": True,
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0007_follower_confirmation"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
