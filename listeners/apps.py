from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListenersConfig(AppConfig):
    name = "listeners"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Listeners")

    def ready(self) -> None:
        from . import signals  # noqa: F401 - registers the receivers
