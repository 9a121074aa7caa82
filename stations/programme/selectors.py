"""Reading a station's programme, for views, consumers and the streaming side."""

from __future__ import annotations

from datetime import datetime

from channels.db import database_sync_to_async

from stations.models import Station

from .models import Slot
from .schedule import Occurrence, on_now, up_next


def station_slots(station: Station) -> list[Slot]:
    """Every slot of the station's shows, with their show and its hosts."""
    return list(
        Slot.objects.filter(show__station=station)
        .select_related("show")
        .prefetch_related("show__hosts")
    )


def station_on_now(station: Station, moment: datetime) -> Occurrence | None:
    """The show on air at ``moment`` by the schedule, if any."""
    return on_now(station_slots(station), station.zone, moment)


def station_now_and_next(
    station: Station, moment: datetime
) -> tuple[Occurrence | None, Occurrence | None]:
    """The show on at ``moment`` and the one after it, by the schedule."""
    slots = station_slots(station)
    return on_now(slots, station.zone, moment), up_next(slots, station.zone, moment)


astation_on_now = database_sync_to_async(station_on_now)
astation_now_and_next = database_sync_to_async(station_now_and_next)
