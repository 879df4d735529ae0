from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Citizen feedback")

    def ready(self) -> None:
        from feedback import breaches, invitations
        from feedback.complaints import breaches as complaint_breaches
        from feedback.complaints import notices as complaint_notices

        # Oversight's sweep learns the low-satisfaction rule (oversight is below feedback).
        breaches.register_rules()
        # ... and the unanswered-complaint rule; the outbox learns the complaint messages.
        complaint_breaches.register_rules()
        complaint_notices.register()
        # The completion email of a request, with the survey's link.
        invitations.register()
