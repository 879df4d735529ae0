"""DRF's one-token-per-person is gone (agency API keys replace it): drop its stored tokens,
so that no copy of a person's credential outlives the feature."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop
        )
    ]
