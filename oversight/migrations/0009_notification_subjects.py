"""Oversight's outbox rows get their subject in columns (notifications 0011): the breach of
every row that had one, the answer (a BreachEvent) a citizen's "breach_answered" email
tells of, and the follower a "follow_confirm" email asks to confirm; the last two ids were
in the idempotency keys, read here once. The keys themselves stay as they are.

Reversible: going back fills the breach column again from the subject.
"""

import re

from django.db import migrations
from django.db.models import F, Q

ANSWER_KEY = re.compile(r"^breach_answered:breach:\d+:event:(\d+):")
FOLLOW_CONFIRM_KEY = re.compile(r"^follow_confirm:follower:(\d+):")


def _content_type(apps, model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label="oversight", model=model)[0]


def fill(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    concerned = Q(breach__isnull=False) | Q(event__in=["breach_answered", "follow_confirm"])
    if not Notification.objects.filter(concerned).exists():
        return
    breach = _content_type(apps, "breach")
    Notification.objects.filter(breach__isnull=False).update(
        subject_type=breach.pk, subject_id=F("breach_id")
    )
    answers = []
    for row in Notification.objects.filter(event="breach_answered").only("pk", "idempotency_key"):
        match = ANSWER_KEY.match(row.idempotency_key)
        if match:
            row.subject_event_id = int(match.group(1))
            answers.append(row)
    Notification.objects.bulk_update(answers, ["subject_event_id"], batch_size=1000)
    follower = _content_type(apps, "citizenfollower")
    confirmations = []
    for row in Notification.objects.filter(event="follow_confirm").only("pk", "idempotency_key"):
        match = FOLLOW_CONFIRM_KEY.match(row.idempotency_key)
        if match:
            row.subject_type_id = follower.pk
            row.subject_id = int(match.group(1))
            confirmations.append(row)
    Notification.objects.bulk_update(confirmations, ["subject_type", "subject_id"], batch_size=1000)


def unfill(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Notification = apps.get_model("notifications", "Notification")
    breach = ContentType.objects.filter(app_label="oversight", model="breach").first()
    if breach is not None:
        Notification.objects.filter(subject_type=breach.pk).update(breach_id=F("subject_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("oversight", "0008_purge_unconfirmed_followers_schedule"),
        ("notifications", "0011_notification_subject"),
    ]

    operations = [migrations.RunPython(fill, unfill)]
