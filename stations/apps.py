from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Stations")

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - register checks and receivers
