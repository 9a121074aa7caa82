from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    name = "stations.programme"
    label = "programme"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Programme")

    def ready(self) -> None:
        from stations.files import delete_files_with

        from .models import Episode, Show

        delete_files_with(Episode, "file")
        delete_files_with(Show, "image")
