"""The AutoDJ: every station with a library plays it while no DJ is live.

Every server process runs one :class:`AutoDJ`. For each station with
tracks it keeps asking for the station with an AutoDJ lease; the process
that gets it plays (``stations.streaming.playout``), the others keep
asking. So one process plays a station at a time; a live DJ takes the
station over at once (``bus.claim_answer``), and the AutoDJ is back a
moment after they leave or after the playing process dies and its lease
expires. A process that stops (``radio.shutdown``) hands its stations over:
it gives them up without taking them off air, and stops asking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from functools import partial

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from radio import shutdown
from stations.models import Station
from stations.runtime import get_bus, run_in_background
from stations.song_requests.services import (
    arequest_cue_next,
    arequests_uncue,
    asong_request_played,
)
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
from .models import Track
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
# The channel-layer message that makes a station's AutoDJ skip its track.
SKIP = "autodj.skip"


def start() -> asyncio.Task:
    """Start this process's AutoDJ on the running event loop."""
    autodj = AutoDJ(get_bus())
    shutdown.on_drain(autodj.hand_over)
    return run_in_background(autodj.run())


class AutoDJ:
    """Plays the libraries of all stations, as far as this process may."""

    def __init__(self, bus: StationBus) -> None:
        self._bus = bus
        self._stations: dict[int, asyncio.Task] = {}
        self._playouts: dict[int, Playout] = {}
        self._handing_over = False

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

    async def hand_over(self) -> None:
        """Stop playing and asking for stations; once this returns, the
        stations played here are free for another process's AutoDJ."""
        self._handing_over = True
        for playout in self._playouts.values():
            playout.hand_over()
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
        while not self._handing_over:
            lease = Lease(
                station_id=station_id,
                token=uuid.uuid4().hex,
                user_id=SERVER_USER_ID,
                kind=AUTODJ,
            )
            if await self._claim(lease):
                try:
                    await self._play(lease)
                except Exception:
                    logger.exception("The AutoDJ of station %s failed", station_id)
                    await asyncio.sleep(RETRY_AFTER_ERROR_S)
                finally:
                    await _release_requests(station_id)
            await asyncio.sleep(CLAIM_RETRY_S)

    async def _claim(self, lease: Lease) -> bool:
        try:
            claim = await self._bus.claim(lease, ttl_s=LEASE_TTL_S)
        except Exception:
            logger.exception("Could not ask for station %s", lease.station_id)
            await asyncio.sleep(RETRY_AFTER_ERROR_S)
            return False
        return claim is not Claim.REFUSED

    async def _play(self, lease: Lease) -> None:
        playout = await self._playout(lease)
        if self._handing_over:
            playout.hand_over()
        self._playouts[lease.station_id] = playout
        loop = asyncio.get_running_loop()
        skips = loop.create_task(_obey_skips(lease.station_id, playout))
        try:
            await playout.run()
        finally:
            del self._playouts[lease.station_id]
            skips.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await skips

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
            request_heard=request_heard,
        )


async def queue_next_track(station_id: int) -> QueuedTrack | None:
    """The station's next track, ready to play: the oldest song request
    waiting, else the library's next. A request does not move the
    playlist on: it carries on where it was after the requests."""
    song_request = await arequest_cue_next(station_id)
    if song_request is not None:
        return _queued(song_request.track, request_id=song_request.pk)
    track = await database_sync_to_async(next_track)(station_id)
    return None if track is None else _queued(track)


def _queued(track: Track, *, request_id: int | None = None) -> QueuedTrack:
    return QueuedTrack(
        path=track.file.path,
        title=track.title,
        artist=track.artist,
        duration_ms=track.duration_ms,
        gain_db=gain_db(track.loudness_lufs),
        request_id=request_id,
    )


def request_heard(request_id: int) -> None:
    """Mark a request played, and tell its requester, off the audio path."""
    run_in_background(_mark_played(request_id))


async def _mark_played(request_id: int) -> None:
    try:
        await asong_request_played(request_id=request_id)
    except Exception:
        logger.exception("Could not mark song request %s played", request_id)


async def _release_requests(station_id: int) -> None:
    """Requests picked by a playout that ended unheard wait for the next."""
    try:
        await arequests_uncue(station_id)
    except Exception:
        logger.exception("Could not release the requests of station %s", station_id)


def skip_group(station_id: int) -> str:
    """The channel-layer group of the AutoDJ playing the station."""
    return f"autodj.{station_id}"


async def askip(station_id: int) -> None:
    """Make the AutoDJ playing the station, on whichever worker, move on to
    its next track now."""
    await get_channel_layer().group_send(skip_group(station_id), {"type": SKIP})


async def _obey_skips(station_id: int, playout: Playout) -> None:
    layer = get_channel_layer()
    group = skip_group(station_id)
    try:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
    except Exception:
        logger.exception("The AutoDJ of station %s cannot be skipped", station_id)
        return
    try:
        while True:
            message = await layer.receive(channel)
            if message.get("type") == SKIP:
                playout.skip()
    finally:
        await layer.group_discard(group, channel)
