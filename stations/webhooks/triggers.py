"""Where events come from: the station bus, and watchers of what the bus
does not announce (listener counts, published episodes).

An event is queued off the audio path (``run_in_background``), and only for
stations with webhooks that want it: ``hooked``, refreshed by each worker's
dispatcher, answers that from memory, so other stations cost nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from radio.protocol import NOW_PLAYING, ON_AIR
from stations.api.nowplaying import Site, abuild
from stations.models import Station
from stations.programme.models import Episode
from stations.runtime import run_in_background
from stations.streaming.bus import StationBus
from stations.streaming.packets import Event

from .db import off_the_request_thread
from .events import (
    EPISODE_PUBLISHED,
    LISTENER_GAINED,
    LISTENER_LOST,
    LIVE_CONNECT,
    LIVE_DISCONNECT,
    SONG_CHANGED,
    STATION_OFFLINE,
    STATION_ONLINE,
)
from .selectors import episode_key, episodes_unannounced, hooked_stations
from .services import deliveries_enqueue
from .watch import alisteners_change, aon_air_changes, live_key

logger = logging.getLogger(__name__)

ON_AIR_EVENTS = {STATION_ONLINE, STATION_OFFLINE, LIVE_CONNECT, LIVE_DISCONNECT}
LISTENER_EVENTS = {LISTENER_GAINED, LISTENER_LOST}

# Station id -> the events its enabled webhooks want; see ``hooked_refresh``.
hooked: dict[int, frozenset[str]] = {}
# Called once an event is queued, to send it without waiting for a poll.
_queued_callbacks: list[Callable[[], object]] = []


async def ahooked_refresh() -> None:
    global hooked
    hooked = await off_the_request_thread(hooked_stations)()


def when_queued(callback: Callable[[], object]) -> Callable[[], None]:
    """Call ``callback`` whenever this process queues an event; returns
    what stops it."""
    _queued_callbacks.append(callback)
    return lambda: _queued_callbacks.remove(callback)


def site() -> Site:
    return Site(settings.RADIO_SITE_URL.rstrip("/"))


async def apayload(
    bus: StationBus, station: Station, event: str, **facts: Any
) -> dict[str, Any]:
    """The generic body: the station's NowPlaying object, what happened
    and when, and the event's own ``facts``."""
    nowplaying = (await abuild([station], bus, site()))[0]
    triggered_at = datetime.now(UTC).isoformat()
    return {**nowplaying, "event": event, "triggered_at": triggered_at, **facts}


async def aenqueue(
    bus: StationBus, station_id: int, event: str, *, dedupe_key: str = "", **facts
) -> None:
    station = await off_the_request_thread(
        Station.objects.filter(pk=station_id).first
    )()
    if station is None:
        return
    payload = await apayload(bus, station, event, **facts)
    queued = await off_the_request_thread(deliveries_enqueue)(
        station_id=station_id, event=event, payload=payload, dedupe_key=dedupe_key
    )
    if queued:
        for callback in _queued_callbacks:
            callback()


# --- The station bus -----------------------------------------------------------


def watch_bus(bus: StationBus) -> None:
    """Queue the events of stations with webhooks that this process publishes."""

    def observe(station_id: int, event: Event) -> None:
        wanted = hooked.get(station_id)
        if not wanted:
            return
        if event.type == NOW_PLAYING and SONG_CHANGED in wanted:
            run_in_background(_told(aenqueue(bus, station_id, SONG_CHANGED)))
        elif event.type == ON_AIR and wanted & ON_AIR_EVENTS:
            run_in_background(_told(_on_air(bus, station_id, event.data, wanted)))

    bus.observe(observe)


async def _told(work) -> None:
    try:
        await work
    except Exception:
        logger.exception("Could not queue a webhook event")


async def _on_air(
    bus: StationBus, station_id: int, on_air: dict[str, Any], wanted: frozenset
) -> None:
    live = live_key(on_air["broadcast"]) if on_air["on_air"] else ""
    changes = await aon_air_changes(station_id, on_air=on_air["on_air"], live=live)
    for event, facts in changes:
        if event in wanted:
            await aenqueue(bus, station_id, event, **facts)


# --- Watchers ------------------------------------------------------------------


async def watch_stations(bus: StationBus) -> None:
    """Tell the listener counts' changes and new episodes of the hooked
    stations; each worker calls it every ``RADIO_WEBHOOK_WATCH_SECONDS``."""
    for station_id, wanted in list(hooked.items()):
        try:
            if wanted & LISTENER_EVENTS:
                await _listeners(bus, station_id, wanted)
            if EPISODE_PUBLISHED in wanted:
                await _episodes(bus, station_id)
        except Exception:
            logger.exception("Could not watch station %s for webhooks", station_id)


async def _listeners(bus: StationBus, station_id: int, wanted: frozenset) -> None:
    count = await bus.listener_count(station_id)
    change = await alisteners_change(
        station_id, count, every_s=settings.RADIO_WEBHOOK_WATCH_SECONDS
    )
    if change and change[0] in wanted:
        await aenqueue(bus, station_id, change[0], **change[1])


async def _episodes(bus: StationBus, station_id: int) -> None:
    for episode in await off_the_request_thread(episodes_unannounced)(station_id):
        await aenqueue(
            bus,
            station_id,
            EPISODE_PUBLISHED,
            dedupe_key=episode_key(episode),
            episode=episode_facts(episode),
        )


def episode_facts(episode: Episode) -> dict[str, Any]:
    kwargs = {"slug": episode.station.slug, "episode_id": episode.pk}
    return {
        "id": episode.pk,
        "title": episode.title,
        "dj": episode.dj_name,
        "show": episode.show.name if episode.show else None,
        "started_at": episode.started_at.isoformat(),
        "duration": episode.duration_ms // 1000,
        "url": site().url(reverse("programme:episode", kwargs=kwargs)),
        "audio_url": site().url(reverse("programme:episode_audio", kwargs=kwargs)),
    }
