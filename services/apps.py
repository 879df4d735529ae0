from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Services and standards")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from core.signals import standard_published
        from services.models import Service
        from services.search import on_service_saved, on_standard_published

        standard_published.connect(on_standard_published, dispatch_uid="services.search.published")
        post_save.connect(on_service_saved, sender=Service, dispatch_uid="services.search.saved")
