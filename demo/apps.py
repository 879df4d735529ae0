from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run`, built through each app's own service functions."""

    name = "demo"
    verbose_name = "Demo data"
