"""Reading song requests: what may be requested, the queue, the rules."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from stations.library.models import Track
from stations.models import Station

from .models import RequestRules, SongRequest

# The longest search text taken, in characters.
MAX_QUERY_CHARS = 100
# The most tracks one page of the search lists.
MAX_RESULTS = 50


def request_rules(station: Station) -> RequestRules:
    """The station's rules; an unsaved row with the defaults if it has none."""
    return RequestRules.objects.filter(station=station).first() or RequestRules(
        station=station
    )


def requestable_tracks(
    station: Station, query: str = "", *, limit: int = MAX_RESULTS, offset: int = 0
) -> list[Track]:
    """The station's tracks whose title or artist holds ``query``, by artist
    then title; ``limit`` of them from ``offset``."""
    tracks = Track.objects.filter(station=station)
    query = query.strip()[:MAX_QUERY_CHARS]
    if query:
        tracks = tracks.filter(Q(title__icontains=query) | Q(artist__icontains=query))
    tracks = tracks.order_by("artist", "title", "id")
    return list(tracks[offset : offset + min(limit, MAX_RESULTS)])


def request_queue(station_id: int) -> QuerySet[SongRequest]:
    """The station's pending requests, oldest first, with track and user."""
    return (
        SongRequest.objects.filter(
            station_id=station_id, status=SongRequest.Status.PENDING
        )
        .select_related("track", "user")
        .order_by("created_at", "id")
    )


def stations_taking_requests(station_ids: list[int]) -> set[int]:
    """Those of ``station_ids`` whose requests are on."""
    return set(
        RequestRules.objects.filter(
            station_id__in=station_ids, enabled=True
        ).values_list("station_id", flat=True)
    )


def next_requests(station_ids: list[int]) -> dict[int, SongRequest]:
    """Each station's oldest pending request, with its track, if it has one."""
    pending = (
        SongRequest.objects.filter(
            station_id__in=station_ids, status=SongRequest.Status.PENDING
        )
        .select_related("track")
        .order_by("station_id", "created_at", "id")
    )
    first: dict[int, SongRequest] = {}
    for song_request in pending:
        first.setdefault(song_request.station_id, song_request)
    return first
