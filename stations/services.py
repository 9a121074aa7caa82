"""Changing stations."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Station


class UnknownUsers(ValueError):
    """Some of the named users do not exist."""


@transaction.atomic
def station_create_or_update(
    *, slug: str, name: str, dj_usernames: list[str], bitrate: int | None = None
) -> tuple[Station, bool]:
    """Create the station ``slug``, or update it; True if it was created.

    Every DJ must be an existing user; the DJs given are added to the
    station's DJs.
    """
    users = list(get_user_model().objects.filter(username__in=dj_usernames))
    missing = sorted(set(dj_usernames) - {user.get_username() for user in users})
    if missing:
        raise UnknownUsers(f"No such user: {', '.join(missing)}.")
    defaults = {"name": name} if bitrate is None else {"name": name, "bitrate": bitrate}
    station, created = Station.objects.get_or_create(slug=slug, defaults=defaults)
    if not created:
        for field, value in defaults.items():
            setattr(station, field, value)
    station.full_clean()
    station.save()
    station.djs.add(*users)
    return station, created
