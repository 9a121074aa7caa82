"""The AutoDJ: every station with a library plays it while no DJ is live.

Every server process runs one :class:`AutoDJ`. For each station with
tracks it keeps asking for the station with an AutoDJ lease; the process
that gets it plays (``stations.streaming.playout``), the others keep
asking. So one process plays a station at a time; a live DJ takes the
station over at once (``bus.claim_answer``), and the AutoDJ is back a
moment after they leave or after the playing process dies and its lease
expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from functools import partial

from channels.db import database_sync_to_async
from django.conf import settings

from stations.models import Station
from stations.runtime import get_bus, run_in_background
from stations.streaming.bus import (
    AUTODJ,
    LEASE_TTL_S,
    SERVER_USER_ID,
    Claim,
    Lease,
    StationBus,
)
from stations.streaming.playout import Playout, QueuedTrack

from .analysis import gain_db
from .selectors import station_ids_with_tracks, station_playlist
from .services import next_track

logger = logging.getLogger(__name__)

# How often the stations with a library are looked up.
LIBRARY_CHECK_S = 5.0
# How often a station held by someone else is asked for: the longest the
# AutoDJ waits after a DJ leaves.
CLAIM_RETRY_S = 0.2
# The pause after a playout failed, before it is tried again.
RETRY_AFTER_ERROR_S = 5.0


def start() -> asyncio.Task:
    """Start this process's AutoDJ on the running event loop."""
    return run_in_background(AutoDJ(get_bus()).run())


class AutoDJ:
    """Plays the libraries of all stations, as far as this process may."""

    def __init__(self, bus: StationBus) -> None:
        self._bus = bus
        self._stations: dict[int, asyncio.Task] = {}

    async def run(self) -> None:
        """Follow which stations have a library, for ever."""
        try:
            while True:
                await self._follow_libraries()
                await asyncio.sleep(LIBRARY_CHECK_S)
        finally:
            for task in self._stations.values():
                task.cancel()
            await asyncio.gather(*self._stations.values(), return_exceptions=True)

    async def _follow_libraries(self) -> None:
        try:
            wanted = set(await database_sync_to_async(station_ids_with_tracks)())
        except Exception:
            logger.exception("Could not find the stations with a library")
            return
        loop = asyncio.get_running_loop()
        for station_id in wanted - self._stations.keys():
            self._stations[station_id] = loop.create_task(self._keep_on_air(station_id))
        for station_id in self._stations.keys() - wanted:
            task = self._stations.pop(station_id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_on_air(self, station_id: int) -> None:
        while True:
            lease = Lease(
                station_id=station_id,
                token=uuid.uuid4().hex,
                user_id=SERVER_USER_ID,
                kind=AUTODJ,
            )
            if await self._claim(lease):
                try:
                    await (await self._playout(lease)).run()
                except Exception:
                    logger.exception("The AutoDJ of station %s failed", station_id)
                    await asyncio.sleep(RETRY_AFTER_ERROR_S)
            await asyncio.sleep(CLAIM_RETRY_S)

    async def _claim(self, lease: Lease) -> bool:
        try:
            claim = await self._bus.claim(lease, ttl_s=LEASE_TTL_S)
        except Exception:
            logger.exception("Could not ask for station %s", lease.station_id)
            await asyncio.sleep(RETRY_AFTER_ERROR_S)
            return False
        return claim is not Claim.REFUSED

    async def _playout(self, lease: Lease) -> Playout:
        station = await Station.objects.aget(pk=lease.station_id)
        playlist = await database_sync_to_async(station_playlist)(station)
        return Playout(
            bus=self._bus,
            lease=lease,
            next_track=partial(queue_next_track, station.pk),
            bitrate_kbps=station.bitrate,
            crossfade_ms=playlist.crossfade_ms,
            ffmpeg=settings.RADIO_FFMPEG,
        )


async def queue_next_track(station_id: int) -> QueuedTrack | None:
    """The station's next track from its library, ready to play."""
    track = await database_sync_to_async(next_track)(station_id)
    if track is None:
        return None
    return QueuedTrack(
        path=track.file.path,
        title=track.title,
        artist=track.artist,
        duration_ms=track.duration_ms,
        gain_db=gain_db(track.loudness_lufs),
    )
