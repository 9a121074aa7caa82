"""A station's coming week of shows and its play history, as the API
answers them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async

from stations.models import Station
from stations.programme.plays import station_plays
from stations.programme.schedule import Occurrence, occurrences
from stations.programme.selectors import station_slots

from .nowplaying import song_history, unix

SCHEDULE_AHEAD = timedelta(days=7)
# Plays on one page of ``/history`` unless asked, and at most.
HISTORY_PAGE_PLAYS = 25
HISTORY_MAX_PAGE_PLAYS = 100


def schedule_entry(occurrence: Occurrence, now: datetime) -> dict[str, Any]:
    """An occurrence as AzuraCast's ``StationSchedule``."""
    show = occurrence.show
    return {
        "id": occurrence.slot.pk,
        "type": "show",
        "name": show.name,
        "title": show.name,
        "description": show.description,
        "start_timestamp": unix(occurrence.start),
        "start": occurrence.start.isoformat(),
        "end_timestamp": unix(occurrence.end),
        "end": occurrence.end.isoformat(),
        "is_now": occurrence.contains(now),
    }


def station_schedule(station: Station, now: datetime) -> list[dict[str, Any]]:
    """The occurrences of the station's shows from ``now`` for a week,
    with the one on now first."""
    found = occurrences(station_slots(station), station.zone, now, now + SCHEDULE_AHEAD)
    return [schedule_entry(occurrence, now) for occurrence in found]


def station_history(station: Station, *, page: int, per_page: int) -> list[dict]:
    """Page ``page`` (from 1) of the station's plays, newest first."""
    start = (page - 1) * per_page
    # One more play than the page: the last one's duration ends where it starts.
    plays = list(station_plays(station)[max(start - 1, 0) : start + per_page])
    newer = plays.pop(0) if start and plays else None
    return song_history(plays, newest_until=newer.started_at if newer else None)


astation_schedule = database_sync_to_async(station_schedule)
astation_history = database_sync_to_async(station_history)
