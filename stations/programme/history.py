"""The play history: every ``now_playing`` of every station, stored as it
goes out, whoever set it (a DJ's console, an encoder's metadata, the AutoDJ).

The process that publishes a title stores it (``StationBus.observe``), so
each is stored once however many workers there are, and never on the audio
path: storing runs in the background.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async

from radio.protocol import NOW_PLAYING
from stations.models import Station
from stations.runtime import run_in_background
from stations.streaming.bus import StationBus
from stations.streaming.packets import Event

from .models import Play
from .selectors import station_on_now

logger = logging.getLogger(__name__)


def record_plays(bus: StationBus) -> None:
    """Store every ``now_playing`` that this process publishes on ``bus``."""

    def observe(station_id: int, event: Event) -> None:
        if event.type == NOW_PLAYING:
            run_in_background(record_play(bus, station_id, event.data))

    bus.observe(observe)


async def record_play(
    bus: StationBus, station_id: int, now_playing: dict[str, Any]
) -> Play | None:
    """Store ``now_playing`` with who is live and how many listen now."""
    try:
        listeners = await bus.listener_count(station_id)
        broadcast = (await bus.state(station_id)).get("broadcast") or {}
        return await aplay_create(
            station_id=station_id,
            now_playing=now_playing,
            listeners=listeners,
            dj_name=broadcast.get("dj", ""),
        )
    except Exception:
        logger.exception("Could not store what station %s plays", station_id)
        return None


def play_create(
    *, station_id: int, now_playing: dict[str, Any], listeners: int, dj_name: str
) -> Play | None:
    """Store a ``now_playing`` message's title; None if the station is gone."""
    station = Station.objects.filter(pk=station_id).first()
    if station is None:
        return None
    started_at = datetime.fromisoformat(now_playing["started_at"])
    on_now = station_on_now(station, started_at)
    return Play.objects.create(
        station=station,
        title=now_playing["title"],
        artist=now_playing["artist"],
        source=now_playing["source"],
        dj_name=dj_name,
        started_at=started_at,
        seq=now_playing["seq"],
        listeners=listeners,
        show=on_now.show if on_now else None,
    )


aplay_create = database_sync_to_async(play_create)
