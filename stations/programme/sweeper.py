"""Housekeeping of the recordings, run in every worker: episodes whose
worker died are finished from what their file holds, and old episodes are
deleted (RADIO_RECORDINGS_KEEP_DAYS, RADIO_RECORDINGS_MAX_GB).

Every worker sweeps; a conditional update lets exactly one of them finish a
given episode.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from stations.runtime import run_in_background
from stations.streaming.mp3 import whole_frames

from .models import Episode
from .recording import plays_link_by_time

logger = logging.getLogger(__name__)

BYTES_PER_GB = 1024**3


def start() -> asyncio.Task:
    """Sweep now and every RADIO_RECORDING_SWEEP_SECONDS, on the running loop."""
    return run_in_background(sweep_regularly())


async def sweep_regularly() -> None:
    while True:
        try:
            # Off the worker's one thread for database calls: walking a
            # long recording's frames takes a while.
            await database_sync_to_async(sweep, thread_sensitive=False)()
        except Exception:
            logger.exception("Sweeping the recordings failed")
        await asyncio.sleep(settings.RADIO_RECORDING_SWEEP_SECONDS)


def sweep() -> None:
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=settings.RADIO_RECORDING_STALE_SECONDS)
    for episode in Episode.objects.filter(ended_at=None, recorded_at__lt=stale):
        episode_recover(episode, stale=stale)
    # A title stored just after its episode was finished missed its
    # tracklist; every recently finished episode is looked at twice.
    since = now - timedelta(seconds=2 * settings.RADIO_RECORDING_SWEEP_SECONDS)
    for episode in Episode.objects.filter(ended_at__gte=since):
        plays_link_by_time(episode)
    episodes_expire(
        older_than=now - timedelta(days=settings.RADIO_RECORDINGS_KEEP_DAYS),
        max_bytes=round(settings.RADIO_RECORDINGS_MAX_GB * BYTES_PER_GB),
    )


def episode_recover(episode: Episode, *, stale: datetime) -> Episode | None:
    """Finish an episode whose recorder stopped writing before ``stale``:
    its file cut to whole frames, its length measured from them, its
    tracklist by time. None if another worker got there first."""
    token = f"sweeper-{uuid.uuid4().hex}"
    taken = Episode.objects.filter(
        pk=episode.pk, recorder=episode.recorder, ended_at=None, recorded_at__lt=stale
    ).update(recorder=token)
    if not taken:
        return None
    logger.warning("Finishing episode %s, whose recorder stopped", episode.pk)
    size_bytes, duration_ms = cut_to_whole_frames(Path(episode.file.path))
    with transaction.atomic():
        if not size_bytes:
            episode.delete()
            return None
        episode.size_bytes = size_bytes
        episode.duration_ms = round(duration_ms)
        episode.ended_at = max(
            episode.recorded_at or episode.started_at,
            episode.started_at + timedelta(milliseconds=duration_ms),
        )
        episode.recorder = token
        episode.save()
        plays_link_by_time(episode)
    return episode


def cut_to_whole_frames(path: Path) -> tuple[int, float]:
    """Drop what follows the file's last whole MP3 frame, such as a frame
    whose writing was cut short; its size and length in milliseconds."""
    try:
        with path.open("r+b") as file:
            size, duration_ms = whole_frames(file)
            file.truncate(size)
    except FileNotFoundError:
        return 0, 0.0
    return size, duration_ms


def episodes_expire(*, older_than: datetime, max_bytes: int) -> int:
    """Delete finished episodes that started before ``older_than``, then,
    oldest first, those past ``max_bytes`` in all; how many went."""
    finished = Episode.objects.exclude(ended_at=None)
    deleted = _episodes_delete(finished.filter(started_at__lt=older_than))
    total = 0
    over = []
    for pk, size in finished.order_by("-started_at", "-id").values_list(
        "pk", "size_bytes"
    ):
        total += size
        if total > max_bytes:
            over.append(pk)
    return deleted + _episodes_delete(Episode.objects.filter(pk__in=over))


def _episodes_delete(episodes: QuerySet[Episode]) -> int:
    """Delete ``episodes`` (their files go with them: ``stations.files``)."""
    return episodes.delete()[1].get(Episode._meta.label, 0)
