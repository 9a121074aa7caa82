from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    name = "stations.programme"
    label = "programme"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Programme")

    def ready(self) -> None:
        from .episodes import episode_file_remove_on_commit
        from .models import Episode

        post_delete.connect(
            episode_file_remove_on_commit,
            sender=Episode,
            dispatch_uid="programme.episode_file_remove_on_commit",
        )
