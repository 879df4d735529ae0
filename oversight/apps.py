from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("Oversight")

    def ready(self) -> None:
        from core.health import DEGRADED_CHECKS
        from oversight import notices
        from oversight.health import check_sweeper

        DEGRADED_CHECKS["sweeper"] = check_sweeper
        # How oversight's messages go out through the generic outbox (notifications).
        notices.register()
