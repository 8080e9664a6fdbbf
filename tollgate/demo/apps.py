from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo company: data files plus the builder that drives all three apps. An app only so that Django finds
    its ``load_demo`` command; it has no models."""

    name = "tollgate.demo"
    label = "demo"
    verbose_name = "Demo company"
