"""EscalationPolicy moves to oversight (escalation is oversight's business). State only:
the table and its rows stay as they are; oversight's migrations 0010 and 0011 take the
model over and rename its table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0012_remove_notification_breach")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="EscalationPolicy")],
            database_operations=[],
        )
    ]
