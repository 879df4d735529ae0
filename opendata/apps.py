from django.apps import AppConfig


class OpendataConfig(AppConfig):
    """Open data: the registry's published content in interchange formats other systems
    read (CPSV-AP JSON-LD). Above the public site, which links to it only by URL name."""

    name = "opendata"
