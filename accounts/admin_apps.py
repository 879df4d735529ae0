"""The admin app, with the project's site (kept apart: an AppConfig module must not import models)."""

from django.contrib.admin.apps import AdminConfig


class MaklumatAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.MaklumatAdminSite"
