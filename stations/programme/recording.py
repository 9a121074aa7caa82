"""Every live broadcast recorded: the station's own MP3 output while a DJ is
live, appended to one file per broadcast by the worker that holds it.

``recording_start`` makes the broadcast's Episode (or, for a DJ who resumed
after a dropped connection, takes over the one they were in) and hands the
broadcast an :class:`EpisodeRecorder`. The recorder buffers the published
frames and writes them in a thread every RADIO_RECORDING_FLUSH_SECONDS, so
the event loop never waits on the disk; every
RADIO_RECORDING_HEARTBEAT_SECONDS it tells the database it is alive and
links the titles played so far to the episode. Whoever holds the episode's
``recorder`` token finishes it; ``sweeper.py`` finishes those whose worker
died. A disk that fills up ends the recording at once, cut short, on the
last whole frame written; the broadcast goes on.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils.formats import date_format

from radio.protocol import MAX_TITLE_CHARS
from stations.files import DiskFull
from stations.models import Station
from stations.sources.auth import SOURCE_PASSWORD_USER_ID
from stations.streaming.broadcast import Broadcast
from stations.streaming.bus import LIVE, Claim

from .models import Episode, Play, Show, episode_upload_to
from .selectors import station_on_now

logger = logging.getLogger(__name__)


async def recording_start(
    station: Station, broadcast: Broadcast, claim: Claim, *, user_id: int, dj: str
) -> EpisodeRecorder | None:
    """The recorder of the broadcast that just went on air, if the station
    records broadcasts."""
    if not station.record_broadcasts:
        return None
    try:
        episode = await aepisode_for_broadcast(
            station=station,
            token=broadcast.token,
            resumed=claim is Claim.RESUMED,
            user_id=user_id,
            dj=dj,
        )
    except Exception:
        # The broadcast goes on unrecorded rather than not at all.
        logger.exception("Could not start recording station %s", station.pk)
        return None
    return EpisodeRecorder(episode)


def episode_for_broadcast(
    *, station: Station, token: str, resumed: bool, user_id: int, dj: str
) -> Episode:
    """The episode a broadcast records into: the one a resumed broadcast was
    in, else a new one."""
    episode = episode_take_over(station=station, token=token) if resumed else None
    return episode or episode_create(
        station=station, token=token, user_id=user_id, dj=dj
    )


aepisode_for_broadcast = database_sync_to_async(episode_for_broadcast)


def episode_title(
    show: Show | None, dj: str, moment: datetime, station: Station
) -> str:
    """The show's name and the day, "Breakfast, 30 Nov 2026", or the DJ's
    name when no show is on."""
    day = date_format(moment.astimezone(station.zone), "j M Y")
    return f"{show.name if show else dj}"[: MAX_TITLE_CHARS - len(day) - 2] + f", {day}"


def episode_create(*, station: Station, token: str, user_id: int, dj: str) -> Episode:
    """A new episode, recording from now, and its empty file."""
    now = datetime.now(UTC)
    on_now = station_on_now(station, now)
    show = on_now.show if on_now else None
    episode = Episode(
        station=station,
        show=show,
        dj_id=None if user_id == SOURCE_PASSWORD_USER_ID else user_id,
        dj_name=dj,
        title=episode_title(show, dj, now, station),
        started_at=now,
        recorder=token,
        recorded_at=now,
    )
    name = f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.mp3"
    episode.file.name = episode_upload_to(episode, name)
    path = Path(episode.file.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    episode.save()
    return episode


def episode_take_over(*, station: Station, token: str) -> Episode | None:
    """The station's episode still recording, now recorded under ``token``.

    For a DJ who resumed their broadcast: it goes on in the same file. None
    if there is none (it was finished meanwhile).
    """
    episode = (
        Episode.objects.filter(station=station, ended_at=None)
        .order_by("-started_at")
        .first()
    )
    if episode is None:
        return None
    # Only if nobody else took it or finished it since it was read.
    taken = Episode.objects.filter(
        pk=episode.pk, recorder=episode.recorder, ended_at=None
    ).update(recorder=token, recorded_at=datetime.now(UTC))
    if not taken:
        return None
    episode.recorder = token
    return episode


class EpisodeRecorder:
    """Appends a broadcast's published audio to its episode's file.

    Implements ``streaming.broadcast.Recorder``.
    """

    def __init__(self, episode: Episode) -> None:
        self.episode_id = episode.pk
        self.token = episode.recorder
        self._path = Path(episode.file.path)
        # Where the next packet starts in the recording, in milliseconds:
        # after what an earlier broadcast of the same episode recorded.
        self.duration_ms = float(episode.duration_ms)
        self.size_bytes = episode.size_bytes
        # (seq, where it starts) of each recorded packet, in order: the
        # tracklist's offsets.
        self._packets: list[tuple[int, float]] = []
        # How many packets there were at the last two heartbeats: each
        # heartbeat offers the packets since the one before last, so a title
        # stored late is still linked, without copying the whole list.
        self._marks = (0, 0)
        self._buffer = bytearray()
        # (duration_ms, size_bytes, packet count) of what is on disk.
        self._written = (self.duration_ms, self.size_bytes, 0)
        # Set when the disk filled up: nothing more is recorded.
        self.cut_short = False
        self._file: BinaryIO | None = None
        # Set once the recorder stops: paused, finished, or no longer the
        # episode's recorder.
        self._stopping = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._write_regularly())

    def record(self, seq: int, frames: bytes, duration_ms: float) -> None:
        if self._stopping.is_set():
            return
        self._packets.append((seq, self.duration_ms))
        self._buffer += frames
        self.duration_ms += duration_ms
        self.size_bytes += len(frames)

    async def pause(self) -> None:
        """Write what is buffered and close the file; the episode stays open."""
        await self._stop()
        await self._heartbeat()

    async def finish(self) -> None:
        """Write what is buffered and finish the episode, if still its recorder."""
        await self._stop()
        await self._finish_episode()

    async def _finish_episode(self) -> None:
        try:
            await aepisode_finish(
                episode_id=self.episode_id,
                token=self.token,
                duration_ms=round(self.duration_ms),
                size_bytes=self.size_bytes,
                packets=self._packets,
                cut_short=self.cut_short,
            )
        except Exception:
            logger.exception("Could not finish episode %s", self.episode_id)

    async def _stop(self) -> None:
        self._stopping.set()
        await self._writer
        await self._flush()
        if self._file is not None:
            await asyncio.to_thread(self._file.close)
            self._file = None

    async def _write_regularly(self) -> None:
        loop = asyncio.get_running_loop()
        every_s = settings.RADIO_RECORDING_HEARTBEAT_SECONDS
        heartbeat_at = loop.time() + every_s
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(settings.RADIO_RECORDING_FLUSH_SECONDS):
                    await self._stopping.wait()
                return
            except TimeoutError:
                pass
            try:
                await self._flush()
                if loop.time() >= heartbeat_at:
                    heartbeat_at = loop.time() + every_s
                    if not await self._heartbeat():
                        logger.info("Episode %s is recorded elsewhere", self.episode_id)
                        self._stopping.set()
            except DiskFull:
                await self._cut_short()
            except Exception:
                logger.exception("Recording episode %s failed", self.episode_id)

    async def _cut_short(self) -> None:
        """The disk is full: finish the episode with what is written."""
        logger.error(
            "No room left to record episode %s: its recording ends here, "
            "cut short; the broadcast goes on",
            self.episode_id,
        )
        self.cut_short = True
        self._stopping.set()
        self._buffer = bytearray()
        self.duration_ms, self.size_bytes, packets = self._written
        del self._packets[packets:]
        await self._finish_episode()

    async def _flush(self) -> None:
        if not self._buffer or self.cut_short:
            return
        frames, self._buffer = bytes(self._buffer), bytearray()
        written = (self.duration_ms, self.size_bytes, len(self._packets))
        await asyncio.to_thread(self._append, frames)
        self._written = written

    def _append(self, frames: bytes) -> None:
        """Append whole frames, or none: a failed write is undone."""
        if self._file is None:
            self._file = self._path.open("ab", buffering=0)
        start = self._file.tell()
        rest = memoryview(frames)
        try:
            while rest:
                rest = rest[self._file.write(rest) :]
        except OSError as problem:
            self._file.truncate(start)
            if problem.errno == errno.ENOSPC:
                raise DiskFull(errno.ENOSPC, "No room left to record") from problem
            raise

    def _recent_packets(self) -> list[tuple[int, float]]:
        since, last = self._marks
        self._marks = (last, len(self._packets))
        return self._packets[since:]

    async def _heartbeat(self) -> bool:
        try:
            return await aepisode_heartbeat(
                episode_id=self.episode_id,
                token=self.token,
                duration_ms=round(self.duration_ms),
                size_bytes=self.size_bytes,
                packets=self._recent_packets(),
            )
        except Exception:
            logger.exception("Could not update episode %s", self.episode_id)
            return True


def episode_heartbeat(
    *,
    episode_id: int,
    token: str,
    duration_ms: int,
    size_bytes: int,
    packets: list[tuple[int, float]],
) -> bool:
    """Say the recording is alive and link the titles played so far; False
    if ``token`` no longer records the episode."""
    with transaction.atomic():
        updated = Episode.objects.filter(
            pk=episode_id, recorder=token, ended_at=None
        ).update(
            recorded_at=datetime.now(UTC),
            duration_ms=duration_ms,
            size_bytes=size_bytes,
        )
        if updated:
            plays_link_by_seq(episode_id, packets, end_ms=None)
    return bool(updated)


def episode_finish(
    *,
    episode_id: int,
    token: str,
    duration_ms: int,
    size_bytes: int,
    packets: list[tuple[int, float]],
    cut_short: bool = False,
) -> Episode | None:
    """Finish the episode if ``token`` still records it: its length, its
    tracklist, and whether the disk cut it short. One that recorded nothing
    is deleted."""
    with transaction.atomic():
        episode = (
            Episode.objects.select_for_update()
            .filter(pk=episode_id, recorder=token, ended_at=None)
            .first()
        )
        if episode is None:
            return None
        if not size_bytes:
            episode.delete()
            return None
        episode.duration_ms = duration_ms
        episode.size_bytes = size_bytes
        episode.cut_short = cut_short
        episode.ended_at = episode.recorded_at = datetime.now(UTC)
        episode.save()
        plays_link_by_seq(episode_id, packets, end_ms=duration_ms)
    return episode


aepisode_heartbeat = database_sync_to_async(episode_heartbeat)
aepisode_finish = database_sync_to_async(episode_finish)


def plays_link_by_seq(
    episode_id: int, packets: list[tuple[int, float]], *, end_ms: int | None
) -> None:
    """Put the station's titles whose packet was recorded on the tracklist.

    With ``end_ms`` (the recording is over), a title set after the last
    recorded packet is put at the end.
    """
    if not packets:
        return
    offsets = dict(packets)
    first, last = packets[0][0], packets[-1][0]
    episode = Episode.objects.only("station_id").get(pk=episode_id)
    plays = Play.objects.filter(
        station_id=episode.station_id,
        episode=None,
        seq__gte=first,
        seq__lte=last + 1,
    )
    for play in plays:
        offset = offsets.get(play.seq)
        if offset is None and play.seq > last:
            offset = end_ms
        if offset is not None:
            Play.objects.filter(pk=play.pk).update(
                episode_id=episode_id, offset_ms=round(offset)
            )


def plays_link_by_time(episode: Episode) -> None:
    """Put the live titles set while the episode recorded and not on any
    tracklist yet on its tracklist, at their time into it.

    For a recording whose worker died (no seqs survive it), and for a title
    stored just after its episode was finished.
    """
    plays = Play.objects.filter(
        station_id=episode.station_id,
        source=LIVE,
        episode=None,
        started_at__gte=episode.started_at,
        started_at__lte=episode.ended_at,
    )
    for play in plays:
        offset = (play.started_at - episode.started_at) / timedelta(milliseconds=1)
        Play.objects.filter(pk=play.pk).update(
            episode_id=episode.pk, offset_ms=round(min(offset, episode.duration_ms))
        )
