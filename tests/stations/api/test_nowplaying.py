"""``/api/nowplaying``: AzuraCast's NowPlaying shape with its field types,
built from the station bus and the play history, cached, readable from any
origin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from stations.api.nowplaying import Site, abuild
from stations.library.models import Track
from stations.models import Station
from stations.programme.models import Play
from stations.streaming.bus import AUTODJ, LIVE, LocalBus
from stations.streaming.hub import now_playing_event, on_air_event

pytestmark = pytest.mark.django_db(transaction=True)

INT, STR, BOOL = int, str, bool
NULL = type(None)
# AzuraCast's NowPlaying as its entities declare it
# (backend/src/Entity/Api/NowPlaying/*.php, Song.php, Traits/HasSongFields.php
# at AzuraCast HEAD): field -> the JSON types allowed, or a nested shape.
# A ``ResolvableUrl`` is a string in JSON.
LISTENERS = {"total": INT, "unique": INT, "current": INT}
SONG = {
    "id": STR,
    "text": STR,
    "artist": (STR, NULL),
    "title": (STR, NULL),
    "album": (STR, NULL),
    "genre": (STR, NULL),
    "isrc": (STR, NULL),
    "lyrics": (STR, NULL),
    "art": STR,
    "custom_fields": (dict, list),
}
SONG_HISTORY = {
    "sh_id": INT,
    "played_at": INT,
    "duration": INT,
    "playlist": (STR, NULL),
    "streamer": (STR, NULL),
    "is_request": BOOL,
    "song": SONG,
}
MOUNT = {
    "id": INT,
    "name": STR,
    "url": STR,
    "bitrate": (INT, NULL),
    "format": (STR, NULL),
    "listeners": LISTENERS,
    "path": STR,
    "is_default": BOOL,
}
AZURACAST_NOWPLAYING = {
    "station": {
        "id": INT,
        "name": STR,
        "shortcode": STR,
        "description": STR,
        "frontend": STR,
        "backend": STR,
        "timezone": STR,
        "listen_url": (STR, NULL),
        "url": (STR, NULL),
        "public_player_url": STR,
        "playlist_pls_url": STR,
        "playlist_m3u_url": STR,
        "is_public": BOOL,
        "requests_enabled": BOOL,
        "mounts": [MOUNT],
        "remotes": [MOUNT],
        "hls_enabled": BOOL,
        "hls_is_default": BOOL,
        "hls_url": (STR, NULL),
        "hls_listeners": INT,
    },
    "listeners": LISTENERS,
    "live": {
        "is_live": BOOL,
        "streamer_name": STR,
        "broadcast_start": (INT, NULL),
        "art": (STR, NULL),
    },
    "now_playing": {**SONG_HISTORY, "elapsed": INT, "remaining": INT},
    "playing_next": (NULL,),
    "song_history": [SONG_HISTORY],
    "is_online": BOOL,
    "cache": (STR, NULL),
}


def mismatches(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where ``value`` differs from ``shape``: missing fields, wrong types."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        found = []
        for key, inner in shape.items():
            if key not in value:
                found.append(f"{where}.{key}: missing")
            else:
                found += mismatches(value[key], inner, f"{where}.{key}")
        return found
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [m for item in value for m in mismatches(item, shape[0], where + "[]")]
    allowed = shape if isinstance(shape, tuple) else (shape,)
    # JSON's true is not an integer, though Python's bool is an int.
    if isinstance(value, bool) and BOOL not in allowed:
        return [f"{where}: {value!r}"]
    return [] if isinstance(value, allowed) else [f"{where}: {value!r}"]


@pytest.fixture
def station() -> Station:
    return Station.objects.create(slug="np-fm", name="NP FM", description="Hi")


def play(station: Station, title: str, ago_s: int, **fields) -> Play:
    started_at = datetime.now(UTC) - timedelta(seconds=ago_s)
    return Play.objects.create(
        station=station,
        title=title,
        artist=fields.pop("artist", "Band"),
        source=fields.pop("source", AUTODJ),
        started_at=started_at,
        **fields,
    )


def test_the_object_has_azuracasts_fields_and_types(station):
    play(station, "Older", ago_s=600)
    play(station, "Old", ago_s=400, source=LIVE, dj_name="alice")

    answer = Client().get("/api/nowplaying/np-fm")

    assert answer.status_code == 200
    body = answer.json()
    assert mismatches(body, AZURACAST_NOWPLAYING) == []
    assert [entry["song"]["title"] for entry in body["song_history"]] == [
        "Old",
        "Older",
    ]
    assert body["song_history"][1]["duration"] == 200
    assert body["song_history"][0]["streamer"] == "alice"


def test_the_list_has_every_station_in_the_shape(station):
    Station.objects.create(slug="other-fm", name="Other")

    body = Client().get("/api/nowplaying").json()

    assert [entry["station"]["shortcode"] for entry in body] == ["np-fm", "other-fm"]
    assert all(mismatches(entry, AZURACAST_NOWPLAYING) == [] for entry in body)


def test_the_stations_urls_are_absolute(station):
    entry = Client().get("/api/nowplaying/np-fm").json()["station"]

    assert entry["listen_url"] == "http://testserver/stations/np-fm/stream.mp3"
    assert entry["public_player_url"] == "http://testserver/stations/np-fm/"
    assert entry["playlist_m3u_url"] == "http://testserver/listen/np-fm.m3u"
    assert entry["playlist_pls_url"] == "http://testserver/listen/np-fm.pls"
    assert entry["mounts"][0]["url"] == entry["listen_url"]
    assert (entry["is_public"], entry["requests_enabled"]) == (True, False)


def test_an_unknown_station_is_a_404_with_a_detail():
    answer = Client().get("/api/nowplaying/nope")

    assert answer.status_code == 404
    assert answer.json() == {"detail": "No such station."}


async def test_an_autodj_track_has_its_duration_and_its_play(station):
    await Track.objects.acreate(
        station=station,
        file="t.mp3",
        title="Tune",
        artist="Band",
        duration_ms=185_400,
        loudness_lufs=-14,
    )
    earlier = await Play.objects.acreate(
        station=station, title="Before", source=AUTODJ, started_at=datetime.now(UTC)
    )
    bus = LocalBus(burst_seconds=1)
    hub = await bus.attach(station.pk)
    hub.publish(on_air_event(on_air=True, source=AUTODJ))
    event = now_playing_event(title="Tune", artist="Band", source=AUTODJ, seq=9)
    hub.publish(event)
    current = await Play.objects.acreate(
        station=station,
        title="Tune",
        artist="Band",
        source=AUTODJ,
        seq=9,
        started_at=datetime.fromisoformat(event.data["started_at"]),
    )

    [built] = await abuild([station], bus, Site("https://radio.example"))

    playing = built["now_playing"]
    assert playing["song"]["text"] == "Band - Tune"
    assert (playing["duration"], playing["playlist"]) == (185, "AutoDJ")
    assert playing["sh_id"] == current.pk
    assert playing["elapsed"] + playing["remaining"] == 185
    assert [entry["sh_id"] for entry in built["song_history"]] == [earlier.pk]
    assert built["is_online"] is True
    assert built["live"]["is_live"] is False
    await bus.aclose()


async def test_a_live_dj_is_live_and_their_title_has_no_duration(station):
    bus = LocalBus(burst_seconds=1)
    hub = await bus.attach(station.pk)
    started = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    broadcast = {"dj": "alice", "started_at": started.isoformat()}
    hub.publish(on_air_event(on_air=True, source=LIVE, broadcast=broadcast))
    hub.publish(now_playing_event(title="Talk", artist="", source=LIVE, seq=1))

    [built] = await abuild([station], bus, Site("https://radio.example"))

    assert built["live"] == {
        "is_live": True,
        "streamer_name": "alice",
        "broadcast_start": int(started.timestamp()),
        "art": None,
    }
    assert built["now_playing"]["duration"] == 0
    assert built["now_playing"]["streamer"] == "alice"
    assert built["now_playing"]["song"]["text"] == "Talk"
    await bus.aclose()


async def test_the_last_play_lasts_until_the_title_on_now_began(station):
    on_now_since = datetime.now(UTC) - timedelta(seconds=100)
    await Play.objects.acreate(
        station=station,
        title="Before",
        source=LIVE,
        started_at=on_now_since - timedelta(seconds=300),
    )
    bus = LocalBus(burst_seconds=1)
    hub = await bus.attach(station.pk)
    event = now_playing_event(title="Now", artist="", source=LIVE, seq=5)
    event.data["started_at"] = on_now_since.isoformat()
    hub.publish(event)

    [built] = await abuild([station], bus, Site("https://radio.example"))

    assert [entry["duration"] for entry in built["song_history"]] == [300]
    assert built["now_playing"]["elapsed"] in (100, 101)
    await bus.aclose()


def test_queries_are_fixed_whatever_the_stations_and_requests(
    station, django_assert_max_num_queries
):
    for number in range(8):
        Station.objects.create(slug=f"fm-{number}", name=f"FM {number}")
        play(Station.objects.get(slug=f"fm-{number}"), "Song", ago_s=60)
    client = Client()

    # The list: its stations, their plays, whether they take requests and
    # their next requests; the station: it and the same three.
    with django_assert_max_num_queries(8):
        for _ in range(20):
            assert len(client.get("/api/nowplaying").json()) == 9
            assert client.get("/api/nowplaying/fm-3").status_code == 200


def test_reads_are_open_to_any_origin(station):
    client = Client()

    read = client.get("/api/nowplaying/np-fm", HTTP_ORIGIN="https://widget.example")
    preflight = client.options(
        "/api/nowplaying/np-fm",
        HTTP_ORIGIN="https://widget.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    page = client.get("/stations/np-fm/")

    assert read["Access-Control-Allow-Origin"] == "*"
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "Access-Control-Allow-Origin" not in page


def test_the_schema_documents_the_nowplaying_shape():
    schema = Client().get("/api/openapi.json").json()

    assert "/api/nowplaying/{slug}" in schema["paths"]
    fields = schema["components"]["schemas"]["NowPlaying"]["properties"]
    assert set(AZURACAST_NOWPLAYING) <= set(fields)


def test_head_is_answered_like_get(station):
    answer = Client().head("/api/nowplaying/np-fm")

    assert answer.status_code == 200
    assert answer["Access-Control-Allow-Origin"] == "*"


def test_an_overlong_slug_is_refused_with_a_detail():
    answer = Client().get("/api/nowplaying/" + "a" * 51)

    assert answer.status_code == 422
    assert "detail" in answer.json()
