from django.apps import AppConfig


class PublicConfig(AppConfig):
    """The public site's composed pages: they show several apps' data at once, so they live
    above them all (lower apps never render an upper app's data). Not named `public`: that
    top-level name is atpublic's module, which aiosmtpd imports."""

    name = "public_site"

    def ready(self) -> None:
        from public_site import invalidation

        # The registry's writes make the cached public pages stale (core.page_cache).
        invalidation.connect()
