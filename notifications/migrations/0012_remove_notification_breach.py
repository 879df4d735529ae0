"""notifications no longer points at oversight: the breach column goes, once oversight's
migration 0009 has copied it into the subject columns."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0011_notification_subject"),
        ("oversight", "0009_notification_subjects"),
    ]

    operations = [migrations.RemoveField(model_name="notification", name="breach")]
