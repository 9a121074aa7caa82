"""Stations' now playing in AzuraCast's NowPlaying shape, so that widgets and
bots written for AzuraCast read ours.

Building any number of stations costs the same queries (their recent plays,
and the AutoDJ tracks playing now); the rest comes from the station bus.
``anowplaying`` keeps what it built for ``RADIO_API_CACHE_SECONDS``
(``cache``), so a burst of requests costs one build per interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from stations.hls import hls_path
from stations.library.models import Track
from stations.models import Station
from stations.programme.models import Play
from stations.song_requests.models import SongRequest
from stations.song_requests.selectors import next_requests, stations_taking_requests
from stations.streaming.bus import AUTODJ, LIVE, StationBus
from stations.streams import stream_path

from .cache import abuilt_once, remember

# Plays in ``song_history``, newest first, as AzuraCast's default.
SONG_HISTORY_PLAYS = 10
AUTODJ_PLAYLIST = "AutoDJ"
MOUNT_FORMAT = "mp3"


@dataclass(frozen=True)
class Site:
    """Where this server is seen from (``https://host``), for absolute URLs."""

    origin: str

    def url(self, path: str) -> str:
        return self.origin + path


def station_urls(station: Station, site: Site) -> dict[str, str]:
    """The station's player-facing URLs, absolute."""
    slug = {"slug": station.slug}
    return {
        "listen_url": site.url(stream_path(station.slug)),
        "hls_url": site.url(hls_path(station.slug)),
        "public_player_url": site.url(station.get_absolute_url()),
        "playlist_m3u_url": site.url(reverse("playlist_m3u", kwargs=slug)),
        "playlist_pls_url": site.url(reverse("playlist_pls", kwargs=slug)),
    }


def song(title: str, artist: str) -> dict[str, Any]:
    """AzuraCast's ``song``; its ``id`` is a hash of the text, as theirs."""
    text = f"{artist} - {title}" if artist else title
    return {
        "id": hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        "text": text,
        "artist": artist,
        "title": title,
        "album": "",
        "genre": "",
        "isrc": "",
        "lyrics": "",
        "art": "",
        "custom_fields": {},
    }


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def history_entry(play: Play, duration: int) -> dict[str, Any]:
    """A play as an entry of AzuraCast's ``song_history``."""
    return {
        "sh_id": play.pk,
        "played_at": unix(play.started_at),
        "duration": duration,
        "playlist": AUTODJ_PLAYLIST if play.source == AUTODJ else "",
        "streamer": play.dj_name,
        "is_request": False,
        "song": song(play.title, play.artist),
    }


def song_history(
    plays: list[Play], *, newest_until: datetime | None = None
) -> list[dict[str, Any]]:
    """``plays`` (newest first), each lasting until the next one started;
    the newest until ``newest_until``, or until now."""
    ends = [newest_until or timezone.now(), *(play.started_at for play in plays)]
    return [
        history_entry(play, int((end - play.started_at).total_seconds()))
        for play, end in zip(plays, ends, strict=False)
    ]


def started_at(state: dict[str, Any]) -> datetime | None:
    """When what the station plays now began, if anything."""
    playing = state["now_playing"]
    return datetime.fromisoformat(playing["started_at"]) if playing else None


def now_playing(
    state: dict[str, Any], current: Play | None, duration: int, now: float
) -> dict[str, Any]:
    """AzuraCast's ``now_playing`` from the bus state's ``now_playing``."""
    playing = state["now_playing"] or {"title": "", "artist": "", "source": ""}
    began = started_at(state)
    played_at = unix(began) if began else int(now)
    elapsed = max(int(now) - played_at, 0)
    broadcast = state["broadcast"] or {}
    return {
        "sh_id": current.pk if current else 0,
        "played_at": played_at,
        "duration": duration,
        "elapsed": min(elapsed, duration) if duration else elapsed,
        "remaining": max(duration - elapsed, 0),
        "playlist": AUTODJ_PLAYLIST if playing["source"] == AUTODJ else "",
        "streamer": broadcast.get("dj", ""),
        "is_request": playing.get("is_request", False),
        "song": song(playing["title"], playing["artist"]),
    }


def playing_next(
    state: dict[str, Any], next_request: SongRequest | None, ends_at: int
) -> dict[str, Any] | None:
    """AzuraCast's ``playing_next``: the request the AutoDJ plays next, if
    one waits and no DJ is live (the AutoDJ's playlist pick is not known
    before it is cued, seconds before it plays)."""
    if next_request is None or state["source"] == LIVE:
        return None
    track = next_request.track
    return {
        "cued_at": unix(next_request.cued_at or next_request.created_at),
        "played_at": ends_at,
        "duration": track.duration_ms // 1000,
        "playlist": AUTODJ_PLAYLIST,
        "is_request": True,
        "song": song(track.title, track.artist),
    }


def live(state: dict[str, Any]) -> dict[str, Any]:
    broadcast = state["broadcast"]
    if not broadcast:
        return {
            "is_live": False,
            "streamer_name": "",
            "broadcast_start": None,
            "art": None,
        }
    return {
        "is_live": True,
        "streamer_name": broadcast["dj"],
        "broadcast_start": unix(datetime.fromisoformat(broadcast["started_at"])),
        "art": None,
    }


def station_entry(
    station: Station,
    site: Site,
    listeners: dict[str, int],
    *,
    requests_enabled: bool = False,
) -> dict:
    urls = station_urls(station, site)
    return {
        "id": station.pk,
        "name": station.name,
        "shortcode": station.slug,
        "description": station.description,
        "frontend": "radio",
        "backend": "radio",
        "timezone": station.timezone,
        "url": urls["public_player_url"],
        **urls,
        "is_public": True,
        "requests_enabled": requests_enabled,
        "mounts": [
            {
                "id": 1,
                "name": f"MP3 {station.bitrate} kbit/s",
                "url": urls["listen_url"],
                "bitrate": station.bitrate,
                "format": MOUNT_FORMAT,
                "listeners": listeners,
                "path": stream_path(station.slug),
                "is_default": True,
            }
        ],
        "remotes": [],
        "hls_enabled": True,
        "hls_is_default": False,
        # HLS clients ask now and then and are not counted.
        "hls_listeners": 0,
    }


@dataclass(frozen=True)
class Heard:
    """What the database knows of stations' recent plays."""

    # Each station's last plays, newest first.
    plays: dict[int, list[Play]]
    # Seconds of AutoDJ tracks by (station id, title, artist).
    durations: dict[tuple[int, str, str], int]
    # The stations that take song requests.
    taking_requests: set[int]
    # Each station's next song request, if one waits.
    next_requests: dict[int, SongRequest]


def heard(states: dict[int, dict[str, Any]]) -> Heard:
    """The recent plays of the stations of ``states``, the duration of the
    AutoDJ tracks they play now and their song requests: four queries
    whatever their number."""
    station_ids = list(states)
    return Heard(
        plays=recent_plays(station_ids),
        durations=track_durations(states),
        taking_requests=stations_taking_requests(station_ids),
        next_requests=next_requests(station_ids),
    )


def recent_plays(station_ids: list[int]) -> dict[int, list[Play]]:
    """Each station's last ``SONG_HISTORY_PLAYS`` + 1 plays, newest first."""
    newest_first = [F("started_at").desc(), F("id").desc()]
    rank = Window(RowNumber(), partition_by=F("station_id"), order_by=newest_first)
    recent = (
        Play.objects.filter(station_id__in=station_ids)
        .annotate(rank=rank)
        .filter(rank__lte=SONG_HISTORY_PLAYS + 1)
        .order_by("station_id", *newest_first)
    )
    plays: dict[int, list[Play]] = defaultdict(list)
    for play in recent:
        plays[play.station_id].append(play)
    return plays


def track_durations(states: dict[int, dict[str, Any]]) -> dict[tuple, int]:
    """Seconds of the AutoDJ tracks playing now, by (station, title, artist)."""
    playing_tracks = Q()
    for station_id, state in states.items():
        playing = state["now_playing"]
        if playing and playing["source"] == AUTODJ:
            playing_tracks |= Q(
                station_id=station_id, title=playing["title"], artist=playing["artist"]
            )
    if not playing_tracks:
        return {}
    rows = Track.objects.filter(playing_tracks).values_list(
        "station_id", "title", "artist", "duration_ms"
    )
    return {(station, title, artist): ms // 1000 for station, title, artist, ms in rows}


aheard = database_sync_to_async(heard)


def split_current(
    state: dict[str, Any], plays: list[Play]
) -> tuple[Play | None, list[Play]]:
    """The play of what is on now, if stored yet, and the plays before it."""
    playing = state["now_playing"]
    if plays and playing and plays[0].seq == playing["seq"]:
        return plays[0], plays[1:]
    return None, plays[:SONG_HISTORY_PLAYS]


async def abuild(stations: list[Station], bus: StationBus, site: Site) -> list[dict]:
    """The NowPlaying objects of ``stations``, in their order."""
    states = await asyncio.gather(*(bus.state(station.pk) for station in stations))
    counts = await asyncio.gather(*(bus.listener_count(s.pk) for s in stations))
    by_id = {station.pk: state for station, state in zip(stations, states, strict=True)}
    known = await aheard(by_id)
    now = time.time()
    objects = []
    for station, state, count in zip(stations, states, counts, strict=True):
        current, before = split_current(state, known.plays.get(station.pk, []))
        playing = state["now_playing"] or {}
        duration = known.durations.get(
            (station.pk, playing.get("title"), playing.get("artist")), 0
        )
        listeners = {"total": count, "unique": count, "current": count}
        entry = station_entry(
            station,
            site,
            listeners,
            requests_enabled=station.pk in known.taking_requests,
        )
        playing_now = now_playing(state, current, duration, now)
        objects.append(
            {
                "station": entry,
                "listeners": listeners,
                "live": live(state),
                "now_playing": playing_now,
                "playing_next": playing_next(
                    state,
                    known.next_requests.get(station.pk),
                    playing_now["played_at"] + duration,
                ),
                "song_history": song_history(before, newest_until=started_at(state)),
                "is_online": state["on_air"],
                "cache": None,
            }
        )
    return objects


def nowplaying_key(slug: str, site: Site) -> tuple:
    """What the NowPlaying object of ``slug`` ("*": all) is kept under."""
    return ("nowplaying", slug, site.origin)


async def anowplaying_all(bus: StationBus, site: Site) -> list[dict]:
    """Every station's NowPlaying object, at most ``RADIO_API_CACHE_SECONDS`` old."""

    async def build() -> list[dict]:
        stations = [station async for station in Station.objects.order_by("name")]
        return await abuild(stations, bus, site)

    return await abuilt_once(nowplaying_key("*", site), build)


async def anowplaying(slug: str, bus: StationBus, site: Site) -> dict | None:
    """The station's NowPlaying object, at most ``RADIO_API_CACHE_SECONDS``
    old; None if there is no such station."""

    async def build() -> dict | None:
        station = await Station.objects.filter(slug=slug).afirst()
        return (await abuild([station], bus, site))[0] if station else None

    return await abuilt_once(nowplaying_key(slug, site), build)


async def anowplaying_fresh(station: Station, bus: StationBus, site: Site) -> dict:
    """The station's NowPlaying object built now, for a change; cached too."""
    built = (await abuild([station], bus, site))[0]
    return remember(nowplaying_key(station.slug, site), built)
