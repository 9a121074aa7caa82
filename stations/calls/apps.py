from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "stations.calls"
    label = "calls"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Call-ins")
