"""Reading stations, for views and consumers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import Station
from .streaming.packets import OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE


async def astation_get(slug: str) -> Station | None:
    return await Station.objects.filter(slug=slug).afirst()


async def astation_has_dj(
    station: Station, user: AbstractBaseUser | AnonymousUser
) -> bool:
    if not user.is_authenticated:
        return False
    return await station.djs.filter(pk=user.pk).aexists()


def station_format(station: Station) -> dict[str, Any]:
    """The ``format`` of the station's output as ``hello`` announces it."""
    return {
        "codec": "mp3",
        "bitrate": station.bitrate,
        "sample_rate": OUTPUT_SAMPLE_RATE,
        "channels": OUTPUT_CHANNELS,
    }
