from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "stations.library"
    label = "library"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("AutoDJ library")

    def ready(self) -> None:
        from stations.files import delete_files_with

        from .models import Track

        delete_files_with(Track, "file")
