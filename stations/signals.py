"""A DJ taken off a station loses the station's broadcast socket at once."""

from __future__ import annotations

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from radio.sockets import notify_rights_changed

from .models import Station


@receiver(m2m_changed, sender=Station.djs.through)
def station_djs_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Tell the sockets of every user who stopped being a DJ of a station.

    ``station.djs.remove(user)`` names the users; ``user.dj_stations.remove()``
    (``reverse``) is the user. ``clear()`` names nobody, so the DJs are read
    before it.
    """
    if action == "pre_clear" and not reverse:
        instance._djs_before_clear = list(instance.djs.values_list("pk", flat=True))
    if action not in ("post_remove", "post_clear"):
        return
    if reverse:
        notify_rights_changed([instance.pk])
    elif action == "post_clear":
        notify_rights_changed(instance.__dict__.pop("_djs_before_clear", []))
    else:
        notify_rights_changed(pk_set)
