from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Ombudsman cases")

    def ready(self) -> None:
        from cases import notices, rules

        # The agency's missed deadlines, found by the sweep like every breach.
        rules.register_rules()
        # How the cases' messages go out through the generic outbox (notifications).
        notices.register()
