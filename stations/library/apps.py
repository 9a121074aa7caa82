from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "stations.library"
    label = "library"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("AutoDJ library")

    def ready(self) -> None:
        from .models import Track
        from .services import track_file_remove_on_commit

        post_delete.connect(
            track_file_remove_on_commit,
            sender=Track,
            dispatch_uid="library.track_file_remove_on_commit",
        )
