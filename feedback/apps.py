from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Citizen feedback")

    def ready(self) -> None:
        from feedback import breaches

        # Oversight's sweep learns the low-satisfaction rule (oversight is below feedback).
        breaches.register_rules()
