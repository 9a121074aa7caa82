"""The schedule as the station room hears it: the show on now and the next.

Each worker works a station's "now" and "next" out once, when the first
socket of the station joins it, and again at each boundary (a show starting
or ending), never per listener. They live in the station's hub
(``hub.state.schedule``), where every ``hello`` reads them, and a
``schedule`` message tells the worker's clients when they change. An edit
of the programme is published through the station bus once it commits, so
every worker's clients hear of it at once and each watcher sleeps until the
new boundary.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from radio.protocol import SCHEDULE
from stations.models import Station
from stations.runtime import apublish_event
from stations.streaming.hub import StationHub
from stations.streaming.packets import Event

from .models import Slot
from .schedule import Occurrence, on_now, up_next
from .selectors import station_slots

logger = logging.getLogger(__name__)

# A watcher reads the schedule again at least this often (seconds): a
# station that lost its last client here is let go, and an edit made where
# the station bus does not reach (``addshow`` without Redis) is seen.
SCHEDULE_MAX_SLEEP_S = 300
# After the schedule could not be read, try again this soon (seconds).
SCHEDULE_RETRY_S = 10
# Wake this long after a boundary, so that the show has begun by the clock.
BOUNDARY_MARGIN_S = 0.05


def occurrence_as_dict(occurrence: Occurrence | None) -> dict[str, Any] | None:
    """An occurrence as ``hello`` and ``schedule`` carry it."""
    if occurrence is None:
        return None
    show = occurrence.show
    return {
        "show": {
            "name": show.name,
            "slug": show.slug,
            "description": show.description,
            "hosts": sorted(host.get_username() for host in show.hosts.all()),
        },
        "start": occurrence.start.isoformat(),
        "end": occurrence.end.isoformat(),
    }


def schedule_at(slots: list[Slot], zone: ZoneInfo, moment: datetime) -> dict[str, Any]:
    """``{"now", "next"}``: the occurrences of ``slots`` at ``moment``, as sent."""
    return {
        "now": occurrence_as_dict(on_now(slots, zone, moment)),
        "next": occurrence_as_dict(up_next(slots, zone, moment)),
    }


def station_schedule(station: Station, moment: datetime) -> dict[str, Any]:
    return schedule_at(station_slots(station), station.zone, moment)


def stations_schedules(
    stations: list[Station], moment: datetime
) -> dict[int, dict[str, Any]]:
    """Each station's ``{"now", "next"}`` at ``moment``, read in one query."""
    slots: dict[int, list[Slot]] = {station.pk: [] for station in stations}
    for slot in (
        Slot.objects.filter(show__station__in=stations)
        .select_related("show")
        .prefetch_related("show__hosts")
    ):
        slots[slot.show.station_id].append(slot)
    return {
        station.pk: schedule_at(slots[station.pk], station.zone, moment)
        for station in stations
    }


astations_schedules = database_sync_to_async(stations_schedules)


def _schedule_of(station_id: int) -> dict[str, Any]:
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        return {"now": None, "next": None}
    return station_schedule(station, timezone.now())


aschedule_of = database_sync_to_async(_schedule_of)


def schedule_event(schedule: dict[str, Any]) -> Event:
    return Event.build({"type": SCHEDULE, **schedule})


def notify_schedule_on_commit(station_id: int) -> None:
    """Tell the station's clients on every worker its new now and next once
    the transaction commits. Must be called inside ``transaction.atomic()``."""

    def publish() -> None:
        message = {"type": SCHEDULE, **_schedule_of(station_id)}
        async_to_sync(apublish_event)(station_id, message)

    transaction.on_commit(publish, robust=True)


# --- The watcher of each station in this worker ------------------------------


@dataclass
class _Watcher:
    task: asyncio.Task
    loaded: asyncio.Event


_watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Watcher]] = (
    weakref.WeakKeyDictionary()
)


async def follow_schedule(station_id: int, hub: StationHub) -> None:
    """Keep ``hub.state.schedule`` up to date in this worker; return once it
    is known. Called as each socket joins the station, before its ``hello``."""
    loop = asyncio.get_running_loop()
    watchers = _watchers.setdefault(loop, {})
    watcher = watchers.get(station_id)
    if watcher is not None and watcher.loaded.is_set() and hub.client_count == 0:
        # The hub may have stopped hearing edits while nobody was here.
        watcher.task.cancel()
        watcher = None
    if watcher is None or watcher.task.done():
        loaded = asyncio.Event()
        task = loop.create_task(_watch(station_id, hub, loaded))
        watcher = watchers[station_id] = _Watcher(task, loaded)
    await watcher.loaded.wait()


async def _watch(station_id: int, hub: StationHub, loaded: asyncio.Event) -> None:
    try:
        known = await _refresh(station_id, hub)
        loaded.set()
        while True:
            hub.schedule_changed.clear()
            timeout = _seconds_to_boundary(hub) if known else SCHEDULE_RETRY_S
            try:
                await asyncio.wait_for(hub.schedule_changed.wait(), timeout)
                known = True
            except TimeoutError:
                if not hub.has_clients:
                    return
                known = await _refresh(station_id, hub)
    finally:
        loaded.set()


async def _refresh(station_id: int, hub: StationHub) -> bool:
    """Read the schedule and tell the hub's clients if it changed; False if
    it could not be read."""
    while True:
        hub.schedule_changed.clear()
        try:
            schedule = await aschedule_of(station_id)
        except Exception:
            logger.exception("Could not read the schedule of station %s", station_id)
            return False
        # An edit published meanwhile is newer than what was read.
        if not hub.schedule_changed.is_set():
            break
    if schedule != hub.state.schedule:
        hub.publish(schedule_event(schedule))
    return True


def _seconds_to_boundary(hub: StationHub) -> float:
    schedule = hub.state.schedule
    boundaries = [
        datetime.fromisoformat(occurrence[edge])
        for occurrence, edge in ((schedule["now"], "end"), (schedule["next"], "start"))
        if occurrence is not None
    ]
    if not boundaries:
        return SCHEDULE_MAX_SLEEP_S
    left = (min(boundaries) - timezone.now()) / timedelta(seconds=1)
    return min(max(left, 0) + BOUNDARY_MARGIN_S, SCHEDULE_MAX_SLEEP_S)
