"""The station bus of this process, built from the settings."""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings

from .models import Station
from .streaming.broadcast import BroadcastSettings
from .streaming.bus import LocalBus, StationBus
from .streaming.hub import Cadence
from .streaming.packets import Event

# One bus per event loop: its Redis connections and tasks belong to a loop.
_buses: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StationBus] = (
    weakref.WeakKeyDictionary()
)
# Work that must finish after the connection that started it has closed,
# such as a dropped DJ's grace period; kept here so it is not collected.
_background: set[asyncio.Task] = set()


def get_bus() -> StationBus:
    """The station bus of the running event loop."""
    loop = asyncio.get_running_loop()
    bus = _buses.get(loop)
    if bus is None:
        bus = _buses[loop] = _build_bus()
    return bus


def _build_bus() -> StationBus:
    options = {
        "burst_seconds": settings.RADIO_BURST_SECONDS,
        "count_interval_s": settings.RADIO_LISTENER_COUNT_INTERVAL_SECONDS,
        "cadence": Cadence(
            from_listeners=settings.RADIO_BATCH_FROM_LISTENERS,
            batch_ms=settings.RADIO_BATCH_MS,
            writes_per_second=settings.RADIO_AUDIO_WRITES_PER_SECOND,
        ),
    }
    if settings.REDIS_URL:
        from .streaming.redis_bus import RedisBus

        bus = RedisBus(settings.REDIS_URL, **options)
    else:
        bus = LocalBus(**options)
    from .programme.history import record_plays

    record_plays(bus)
    from .webhooks.triggers import watch_bus

    watch_bus(bus)
    return bus


def broadcast_settings(station: Station) -> BroadcastSettings:
    return BroadcastSettings(
        bitrate_kbps=station.bitrate,
        idle_timeout_s=settings.RADIO_DJ_IDLE_TIMEOUT_SECONDS,
        reconnect_grace_s=settings.RADIO_DJ_RECONNECT_GRACE_SECONDS,
        audio_head_start_s=settings.RADIO_DJ_AUDIO_HEAD_START_SECONDS,
        max_audio_speed=settings.RADIO_DJ_MAX_AUDIO_SPEED,
        ffmpeg=settings.RADIO_FFMPEG,
    )


def run_in_background(coroutine) -> asyncio.Task:
    """Run ``coroutine`` to the end even if its caller goes away."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def apublish_event(station_id: int, message: dict) -> None:
    """Send a JSON message to every client of a station, on every worker."""
    await get_bus().publish(station_id, Event.build(message))
