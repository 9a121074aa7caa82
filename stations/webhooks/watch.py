"""Telling a change of a station from a repeat, once across workers.

Each worker may see the same fact (a station on air again, its listener
count); ``StationWatch`` holds the last one told, and the worker whose
compare-and-update changes it is the one that tells the change.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .db import off_the_request_thread
from .events import (
    LISTENER_GAINED,
    LISTENER_LOST,
    LIVE_CONNECT,
    LIVE_DISCONNECT,
    STATION_OFFLINE,
    STATION_ONLINE,
)
from .models import StationWatch

# Compare-and-update attempts before another worker's change is let stand.
TRIES = 3


def _watch(station_id: int) -> StationWatch:
    return StationWatch.objects.get_or_create(station_id=station_id)[0]


def live_key(broadcast: dict | None) -> str:
    """Names a live broadcast: its start and its DJ ("" when none)."""
    if not broadcast:
        return ""
    return f"{broadcast.get('started_at', '')} {broadcast.get('dj', '')}"[:255]


def dj_of(key: str) -> str:
    return key.partition(" ")[2]


def on_air_changes(
    station_id: int, *, on_air: bool, live: str
) -> list[tuple[str, dict]]:
    """The events an ``on_air`` message makes, with their facts, if this
    caller is the first to see the change.

    Online means that the station has a producer: a DJ or the AutoDJ.
    ``live`` is :func:`live_key` of its broadcast.
    """
    changes: list[tuple[str, dict]] = []
    watch = _watch(station_id)
    if StationWatch.objects.filter(station_id=station_id, online=not on_air).update(
        online=on_air
    ):
        changes.append((STATION_ONLINE if on_air else STATION_OFFLINE, {}))
    for _ in range(TRIES):
        if watch.live == live:
            break
        if StationWatch.objects.filter(station_id=station_id, live=watch.live).update(
            live=live
        ):
            if watch.live:
                changes.append((LIVE_DISCONNECT, {"dj": dj_of(watch.live)}))
            if live:
                changes.append((LIVE_CONNECT, {"dj": dj_of(live)}))
            break
        watch.refresh_from_db()
    return changes


def listeners_change(
    station_id: int, count: int, *, every_s: float
) -> tuple[str, dict] | None:
    """listener_gained or listener_lost, if the count changed since it was
    last told, and no worker has looked within ``every_s``: changes within
    that time are told as one."""
    now = timezone.now()
    watch = _watch(station_id)
    due = Q(listeners_checked_at=None) | Q(
        listeners_checked_at__lte=now - timedelta(seconds=every_s)
    )
    claimed = StationWatch.objects.filter(
        due, station_id=station_id, listeners=watch.listeners
    ).update(listeners=count, listeners_checked_at=now)
    if not claimed or count == watch.listeners:
        return None
    event = LISTENER_GAINED if count > watch.listeners else LISTENER_LOST
    return event, {"listeners_before": watch.listeners}


aon_air_changes = off_the_request_thread(on_air_changes)
alisteners_change = off_the_request_thread(listeners_change)
