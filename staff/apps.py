from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """The staff area's shell: dashboard and navigation. Feature forms live in their apps."""

    name = "staff"
    verbose_name = _("Staff area")
