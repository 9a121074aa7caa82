"""A user who may no longer sign in loses their open sockets at once."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from radio.sockets import notify_rights_changed


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, **kwargs) -> None:
    """Deactivating an account closes its inbox and broadcast sockets."""
    if not instance.is_active:
        notify_rights_changed([instance.pk])


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_deleted(sender, instance, **kwargs) -> None:
    notify_rights_changed([instance.pk])
