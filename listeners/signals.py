"""What happens to an account's sockets and sign-in counts as it changes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from radio.sockets import notify_rights_changed

from . import throttle

user_login_failed.connect(throttle.signin_failure_record)
user_logged_in.connect(throttle.signin_success_record)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, **kwargs) -> None:
    """Deactivating an account closes its inbox and broadcast sockets."""
    if not instance.is_active:
        notify_rights_changed([instance.pk])


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_deleted(sender, instance, **kwargs) -> None:
    notify_rights_changed([instance.pk])
