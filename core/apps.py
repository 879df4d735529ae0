from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core.cache import caches

        from core.metrics import instrument_cache_class

        instrument_cache_class(type(caches["default"]))
