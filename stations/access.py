"""The studio pages' one check: the signed-in user manages the station."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from .models import Station
from .selectors import (
    astation_get,
    astation_managed_by,
    station_get,
    station_managed_by,
)


def managed_station(request: HttpRequest, slug: str, refusal: str) -> Station:
    """The station ``slug`` if ``request.user`` manages it (its DJs, staff);
    404 if there is no such station, else 403 with ``refusal``."""
    station = station_get(slug)
    if station is None:
        raise Http404("No such station.")
    if not station_managed_by(station, request.user):
        raise PermissionDenied(refusal)
    return station


async def amanaged_station(request: HttpRequest, slug: str, refusal: str) -> Station:
    """``managed_station`` for async views."""
    station = await astation_get(slug)
    if station is None:
        raise Http404("No such station.")
    if not await astation_managed_by(station, await request.auser()):
        raise PermissionDenied(refusal)
    return station
