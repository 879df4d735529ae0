from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "agencies"
    verbose_name = _("Agencies")

    def ready(self) -> None:
        # accounts decides how a second factor is asked, agencies whose roles need one;
        # accounts must not import agencies, so agencies tells it.
        from accounts.otp import register_two_factor_rule
        from agencies.policy import holds_privileged_role

        register_two_factor_rule(holds_privileged_role)
