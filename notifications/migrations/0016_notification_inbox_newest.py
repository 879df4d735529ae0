"""The inbox page's index (user, created_at, id) over in-app rows: newest first, the months
merged and the page's LIMIT reached without sorting every row of the user. A plain
CREATE INDEX on the partitioned parent (CONCURRENTLY is not allowed there): each month's
partition gets its own."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0015_partition_notifications_by_month"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("channel", "inapp")),
                fields=["user", "created_at", "id"],
                name="notification_inbox_newest",
            ),
        ),
    ]
