"""Changing stations' libraries, and picking what the AutoDJ plays next."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Max, Q, QuerySet

from stations.files import save_whole
from stations.models import Station

from .analysis import BYTES_PER_MB, AudioInfo, analyse, check_size
from .models import Playlist, Track


class LibraryMismatch(ValueError):
    """The track ids given are not exactly the station's tracks."""


# --- Adding and removing tracks ------------------------------------------------


def track_audio_check(upload: File) -> AudioInfo:
    """Measure ``upload``; raises UnusableAudio (FileTooBig) if it can't be a track.

    Takes as long as decoding the whole file.
    """
    name = Path(upload.name).name
    check_size(
        upload.size, name=name, max_bytes=settings.RADIO_MAX_UPLOAD_MB * BYTES_PER_MB
    )
    with _local_path(upload) as path:
        return analyse(
            path,
            name=name,
            max_seconds=settings.RADIO_MAX_TRACK_SECONDS,
            ffmpeg=settings.RADIO_FFMPEG,
        )


def track_add(
    *, station: Station, upload: File, info: AudioInfo | None = None
) -> Track:
    """Add ``upload`` to the end of the station's playlist.

    ``info`` is what track_audio_check() found; without it the file is
    checked first. Raises UnusableAudio, or DiskFull when MEDIA_ROOT has no
    room, and then nothing of the file is left in MEDIA_ROOT or the database.
    """
    if info is None:
        info = track_audio_check(upload)
    track = Track(
        station=station,
        title=info.title,
        artist=info.artist,
        duration_ms=info.duration_ms,
        loudness_lufs=info.loudness_lufs,
    )
    try:
        with transaction.atomic():
            track.position = _next_position(station)
            name = track.file.field.generate_filename(track, upload.name)
            track.file.name = save_whole(track.file.storage, name, upload)
            track.full_clean()
            track.save()
    except BaseException:
        if track.file.name:
            track.file.storage.delete(track.file.name)
        raise
    return track


def track_delete(*, track: Track) -> None:
    """Remove the track from its library, and its file once that is committed."""
    track.delete()


def _next_position(station: Station) -> int:
    last = Track.objects.filter(station=station).aggregate(Max("position"))
    return 0 if last["position__max"] is None else last["position__max"] + 1


@contextmanager
def _local_path(upload: File) -> Iterator[Path]:
    """A path to the upload's bytes on disk, copied to a temporary file if need be."""
    if hasattr(upload, "temporary_file_path"):
        # Django already spooled the upload to disk.
        yield Path(upload.temporary_file_path())
        return
    # The suffix helps ffprobe tell formats without a header, such as AAC.
    suffix = Path(upload.name).suffix[:10]
    with tempfile.NamedTemporaryFile(
        suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR
    ) as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        yield Path(copy.name)


# --- Playlist and settings -------------------------------------------------------


@transaction.atomic
def library_reorder(*, station: Station, track_ids: list[int]) -> None:
    """Put the station's playlist in the order of ``track_ids``.

    ``track_ids`` must name each of the station's tracks exactly once, else
    LibraryMismatch.
    """
    tracks = {
        track.pk: track
        for track in Track.objects.select_for_update().filter(station=station)
    }
    if len(track_ids) != len(tracks) or set(track_ids) != tracks.keys():
        raise LibraryMismatch(
            "track_ids must list each of the station's tracks exactly once."
        )
    for position, track_id in enumerate(track_ids):
        tracks[track_id].position = position
    Track.objects.bulk_update(tracks.values(), ["position"])


@transaction.atomic
def library_settings_update(
    *, station: Station, shuffle: bool | None = None, crossfade_ms: int | None = None
) -> Playlist:
    """Change how the AutoDJ plays the library; raises ValidationError.

    Saves only the settings: the AutoDJ may be moving the playlist on
    meanwhile.
    """
    playlist, _ = Playlist.objects.select_for_update().get_or_create(station=station)
    if shuffle is not None:
        playlist.shuffle = shuffle
    if crossfade_ms is not None:
        playlist.crossfade_ms = crossfade_ms
    playlist.full_clean()
    playlist.save(update_fields=["shuffle", "crossfade_ms"])
    return playlist


# --- What plays next -------------------------------------------------------------


def next_track(station_id: int) -> Track | None:
    """Pick the station's next track and remember it; None if the library is empty.

    In playlist order, the track after the last one picked, wrapping
    around; with shuffle, a random track of those this round has not
    played. The cursor row is locked, so that two workers never pick from
    the same state.
    """
    tracks = Track.objects.filter(station_id=station_id)
    with transaction.atomic():
        station = Station.objects.filter(pk=station_id).only("pk").first()
        if station is None or not tracks.exists():
            return None
        playlist, _ = Playlist.objects.select_for_update().get_or_create(
            station=station
        )
        if playlist.shuffle:
            track = _draw_from_bag(playlist, tracks)
        else:
            track = _next_in_playlist(playlist, tracks)
        if track is None:  # the last tracks were deleted meanwhile
            return None
        playlist.last_track = track
        playlist.last_position = track.position
        playlist.save(update_fields=["last_track", "last_position", "shuffle_round"])
    return track


def _next_in_playlist(playlist: Playlist, tracks: QuerySet[Track]) -> Track | None:
    ordered = tracks.order_by("position", "id")
    last = playlist.last_track
    if last is not None:
        after = Q(position__gt=last.position) | Q(
            position=last.position, id__gt=last.pk
        )
    elif playlist.last_position is not None:
        after = Q(position__gt=playlist.last_position)
    else:
        return ordered.first()
    return ordered.filter(after).first() or ordered.first()


def _draw_from_bag(playlist: Playlist, tracks: QuerySet[Track]) -> Track | None:
    """A random track not yet played this round; a new round when all were.

    The first pick of a new round is not the track that ended the last
    one, unless it is the only track: no track plays twice in a row.
    """
    track = (
        tracks.filter(shuffle_round__lt=playlist.shuffle_round).order_by("?").first()
    )
    if track is None:
        playlist.shuffle_round += 1
        others = tracks.exclude(pk=playlist.last_track_id)
        track = others.order_by("?").first() or tracks.order_by("?").first()
    if track is not None:
        track.shuffle_round = playlist.shuffle_round
        track.save(update_fields=["shuffle_round"])
    return track
