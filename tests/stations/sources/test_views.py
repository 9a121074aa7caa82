"""The encoders' endpoints through Django's async test client."""

from __future__ import annotations

import base64

import pytest
from django.test import AsyncClient

from stations.runtime import get_bus
from stations.sources.status import icecast_source
from stations.streaming.bus import AUTODJ
from stations.streaming.hub import now_playing_event
from tests.support.streaming import recorded_listener

from ..conftest import STATION_SLUG
from .conftest import ADDRESS, SOURCE_PASSWORD, go_on_air

pytestmark = pytest.mark.django_db(transaction=True)

SOURCE_AUTH = "Basic " + base64.b64encode(f"source:{SOURCE_PASSWORD}".encode()).decode()


def client() -> AsyncClient:
    return AsyncClient(REMOTE_ADDR=ADDRESS)


async def test_icecast_metadata_sets_the_title(sourced_station):
    await go_on_air(sourced_station)
    response = await client().get(
        "/admin/metadata",
        QUERY_STRING=b"mode=updinfo&mount=/test-fm.mp3&song=Band+-+Caf%E9",
        headers={"Authorization": SOURCE_AUTH},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert b"<return>1</return>" in response.content
    now_playing = (await get_bus().state(sourced_station.pk))["now_playing"]
    assert (now_playing["artist"], now_playing["title"]) == ("Band", "Café")


async def test_icecast_metadata_without_credentials_is_challenged(sourced_station):
    response = await client().get("/admin/metadata?mode=updinfo&mount=/test-fm")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="radio"'


async def test_shoutcast_admin_cgi_sets_the_title(sourced_station):
    await go_on_air(sourced_station)
    response = await client().get(
        f"/admin.cgi?pass={SOURCE_PASSWORD}&mode=updinfo&song=Tune"
    )
    assert response.status_code == 200
    now_playing = (await get_bus().state(sourced_station.pk))["now_playing"]
    assert now_playing["title"] == "Tune"


async def test_the_endpoints_answer_get_only(sourced_station):
    for path in ["/admin/metadata", "/admin.cgi", "/status-json.xsl"]:
        assert (await client().post(path)).status_code == 405


async def test_django_s_admin_is_still_there(station):
    response = await client().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


async def status() -> dict:
    response = await client().get("/status-json.xsl")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()["icestats"]


async def test_status_json_without_a_station_on_air_lists_no_source(station):
    stats = await status()
    assert "source" not in stats
    assert stats["server_id"] == "radio"
    assert stats["host"] == "testserver"
    assert {"admin", "location", "server_start_iso8601"} <= stats.keys()


async def test_status_json_lists_one_station_on_air_as_an_object(
    station, other_station
):
    await go_on_air(station)
    bus = get_bus()
    await bus.publish(
        station.pk, now_playing_event(title="Tune", artist="Band", source="live", seq=4)
    )
    (await bus.attach(station.pk)).join(recorded_listener()[0])
    source = (await status())["source"]
    assert source == {
        "audio_info": "ice-samplerate=44100;ice-bitrate=128;ice-channels=2",
        "bitrate": 128,
        "genre": "",
        "listener_peak": 1,
        "listeners": 1,
        "listenurl": f"http://testserver/stations/{STATION_SLUG}/stream.mp3",
        "server_description": "",
        "server_name": "Test FM",
        "server_type": "audio/mpeg",
        "server_url": f"http://testserver/stations/{STATION_SLUG}/",
        "stream_start_iso8601": None,
        "title": "Band - Tune",
        "dummy": None,
    }


async def test_status_json_lists_several_stations_on_air_as_an_array(
    station, other_station
):
    await go_on_air(station)
    await go_on_air(other_station, kind=AUTODJ)
    sources = (await status())["source"]
    assert sorted(source["server_name"] for source in sources) == [
        "Other FM",
        "Test FM",
    ]


def test_what_the_encoder_says_of_its_broadcast_comes_first(station):
    """The source's ice-* headers, once the bus state carries them."""
    state = {
        "on_air": True,
        "source": "live",
        "now_playing": None,
        "broadcast": {
            "dj": "dee",
            "name": "Dee's Show",
            "description": "Late tunes",
            "genre": "Jazz",
            "url": "https://dee.example/",
            "started_at": "2026-11-30T15:00:00+00:00",
        },
    }
    source = icecast_source(station, state, 5, lambda path: f"https://x{path}")
    assert source["server_name"] == "Dee's Show"
    assert source["server_description"] == "Late tunes"
    assert source["genre"] == "Jazz"
    assert source["server_url"] == "https://dee.example/"
    assert source["stream_start_iso8601"] == "2026-11-30T15:00:00+00:00"
    assert (source["listeners"], source["listener_peak"]) == (5, 5)
