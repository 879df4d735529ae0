"""A message's subject in columns: a generic relation (content type and id) and the
subject's event, instead of a foreign key to oversight.Breach and ids parsed out of keys.

The notices the outbox writes itself get their subject here: an "email_disabled" notice is
about the disabled address (its id was in the key), a "webhook_disabled" notice about the
endpoint. Breach rows are filled by oversight's migration 0009, before notifications' 0012
drops the breach column.
"""

import re

import django.db.models.deletion
from django.db import migrations, models

EMAIL_NOTICE_KEY = re.compile(r"^email_disabled:address(\d+)-")
WEBHOOK_NOTICE_KEY = re.compile(r"^webhook_disabled:endpoint(\d+)-")


def _content_type(apps, model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label="notifications", model=model)[0]


def fill(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    notices = Notification.objects.filter(event__in=["email_disabled", "webhook_disabled"])
    if not notices.exists():
        return
    address = _content_type(apps, "emailaddresshealth")
    endpoint = _content_type(apps, "webhookendpoint")
    changed = []
    for row in notices.only("pk", "event", "idempotency_key", "webhook_endpoint_id").iterator():
        if row.event == "email_disabled":
            match = EMAIL_NOTICE_KEY.match(row.idempotency_key)
            row.subject_type_id = address.pk
        else:
            match = WEBHOOK_NOTICE_KEY.match(row.idempotency_key)
            row.subject_type_id = endpoint.pk
        row.subject_id = int(match.group(1)) if match else row.webhook_endpoint_id
        if row.subject_id is None:
            row.subject_type_id = None
        changed.append(row)
    Notification.objects.bulk_update(changed, ["subject_type", "subject_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("notifications", "0010_webhook_units"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="subject_type",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_id",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_event_id",
            field=models.PositiveBigIntegerField(
                blank=True,
                help_text="Which of the subject's events the message tells of.",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("subject_id__isnull", False)),
                fields=["subject_type", "subject_id"],
                name="notification_subject",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
