from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SongRequestsConfig(AppConfig):
    name = "stations.song_requests"
    # Not "requests": that is a PyPI package's name.
    label = "song_requests"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Song requests")
