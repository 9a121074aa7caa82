"""Reading a station's programme, for views, consumers and the streaming side."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from channels.db import database_sync_to_async

from stations.models import Station

from .models import Show, Slot
from .schedule import Occurrence, occurrences, on_now, up_next

# A week's page carries this much more than its seven days on each side, so
# that a reader in any time zone (UTC-12 to UTC+14) finds their whole week.
WEEK_MARGIN = timedelta(days=2)


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


def station_week(station: Station, monday: date) -> list[Occurrence]:
    """The occurrences around the week from ``monday``, with ``WEEK_MARGIN``."""
    start = datetime.combine(monday, time(), tzinfo=UTC) - WEEK_MARGIN
    end = start + timedelta(days=7) + 2 * WEEK_MARGIN
    return occurrences(station_slots(station), station.zone, start, end)


def station_shows(station: Station) -> list[Show]:
    """The station's shows with their hosts and slots, by name."""
    return list(Show.objects.filter(station=station).prefetch_related("hosts", "slots"))


astation_on_now = database_sync_to_async(station_on_now)
astation_now_and_next = database_sync_to_async(station_now_and_next)
