"""The escalation ladder's table takes oversight's name (its rows move with it), and beat's
schedule calls the ladder's task by its new name ("oversight.escalate")."""

from django.db import migrations

OLD_TASK = "notifications.escalate"
NEW_TASK = "oversight.escalate"


def rename_task(apps, schema_editor, old=OLD_TASK, new=NEW_TASK):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=old).update(task=new)


def restore_task(apps, schema_editor):
    rename_task(apps, schema_editor, old=NEW_TASK, new=OLD_TASK)


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0010_escalationpolicy"),
        ("notifications", "0004_delivery_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AlterModelTable(name="escalationpolicy", table=None),
        migrations.RunPython(rename_task, restore_task),
    ]
