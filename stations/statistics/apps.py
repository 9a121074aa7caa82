from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatisticsConfig(AppConfig):
    name = "stations.statistics"
    label = "statistics"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Listener statistics")
