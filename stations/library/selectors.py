"""Reading stations' libraries, for views and the AutoDJ."""

from __future__ import annotations

from typing import Any

from stations.models import Station

from .models import Playlist, Track


def station_ids_with_tracks() -> list[int]:
    """The stations whose library has at least one track."""
    return list(
        Track.objects.order_by("station_id")
        .values_list("station_id", flat=True)
        .distinct()
    )


def station_track(station: Station, track_id: int) -> Track | None:
    return Track.objects.filter(station=station, pk=track_id).first()


def track_as_dict(track: Track) -> dict[str, Any]:
    return {
        "id": track.pk,
        "title": track.title,
        "artist": track.artist,
        "duration_ms": track.duration_ms,
        "position": track.position,
    }


def station_playlist(station: Station) -> Playlist:
    """The station's playlist; an unsaved one with the defaults if it has none."""
    return Playlist.objects.filter(station=station).first() or Playlist(station=station)


def library_document(station: Station) -> dict[str, Any]:
    """The station's library as the DJ console shows it, in playlist order."""
    tracks = Track.objects.filter(station=station).order_by("position", "id")
    playlist = station_playlist(station)
    return {
        "tracks": [track_as_dict(track) for track in tracks],
        "shuffle": playlist.shuffle,
        "crossfade_ms": playlist.crossfade_ms,
    }
