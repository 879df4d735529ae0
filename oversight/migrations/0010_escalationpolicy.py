"""EscalationPolicy comes from notifications (its migration 0013), with its table and rows:
taken over in the state only, on the table it has (0011 renames it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0001_initial"),
        ("oversight", "0009_notification_subjects"),
        ("notifications", "0013_escalationpolicy_to_oversight"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EscalationPolicy",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "unit_head_after_days",
                            models.PositiveSmallIntegerField(
                                default=3,
                                verbose_name="to the head of the unit after (working days)",
                            ),
                        ),
                        (
                            "agency_head_after_days",
                            models.PositiveSmallIntegerField(
                                default=5,
                                verbose_name="then to the agency head after (more working days)",
                            ),
                        ),
                        (
                            "ombudsman_after_days",
                            models.PositiveSmallIntegerField(
                                default=10,
                                verbose_name="then to the ombudsman after (more working days)",
                            ),
                        ),
                        (
                            "agency",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="escalation_policy",
                                to="agencies.agency",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "escalation ladder",
                        "verbose_name_plural": "escalation ladders",
                        "db_table": "notifications_escalationpolicy",
                    },
                )
            ],
            database_operations=[],
        )
    ]
