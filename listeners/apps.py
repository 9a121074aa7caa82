from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListenersConfig(AppConfig):
    name = "listeners"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Listeners")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import throttle

        user_login_failed.connect(throttle.signin_failure_record)
        user_logged_in.connect(throttle.signin_success_record)
