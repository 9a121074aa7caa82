"""The station pages and status documents, without a server process."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from stations.runtime import get_bus
from stations.streaming.hub import now_playing_event, on_air_event
from tests.support.personas import signed_in

from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)


def client_of(persona) -> AsyncClient:
    """A client carrying ``persona``'s session cookie."""
    client = AsyncClient()
    if persona.cookie:
        client.cookies.load(persona.cookie)
    return client


async def test_directory_and_listener_page_name_the_station(station):
    client = AsyncClient()
    directory = await client.get("/")
    assert directory.status_code == 200
    assert b"Test FM" in directory.content
    page = await client.get(f"/stations/{STATION_SLUG}/")
    assert page.status_code == 200
    assert b"Test FM" in page.content
    assert (await client.get("/stations/no-such/")).status_code == 404


async def test_status_follows_the_station_bus(station):
    """status.json reports what the bus says is on air, and 404 for no station."""
    client = AsyncClient()
    off = (await client.get(f"/stations/{STATION_SLUG}/status.json")).json()
    assert off == {
        "slug": STATION_SLUG,
        "name": "Test FM",
        "on_air": False,
        "source": None,
        "broadcast": None,
        "now_playing": None,
        "listeners": 0,
    }
    bus = get_bus()
    await bus.publish(station.pk, on_air_event(on_air=True, source="live"))
    await bus.publish(
        station.pk,
        now_playing_event(title="Tune", artist="Band", source="live", seq=7),
    )
    on = (await client.get(f"/stations/{STATION_SLUG}/status.json")).json()
    assert (on["on_air"], on["source"]) == (True, "live")
    assert (on["now_playing"]["title"], on["now_playing"]["seq"]) == ("Tune", 7)
    missing = await client.get("/stations/no-such/status.json")
    assert missing.status_code == 404


async def test_directory_status_lists_on_air_stations_first(station, other_station):
    await get_bus().publish(
        other_station.pk, on_air_event(on_air=True, source="autodj")
    )
    listed = (await AsyncClient().get("/stations.json")).json()["stations"]
    assert [entry["slug"] for entry in listed] == ["other-fm", STATION_SLUG]
    assert listed[0]["url"] == "/stations/other-fm/"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("listener", 403), ("other_dj", 403), ("dj", 200)],
    indirect=["persona"],
)
async def test_only_the_station_s_djs_open_its_studio(station, persona, status):
    response = await client_of(persona).get(f"/stations/{STATION_SLUG}/studio/")
    assert response.status_code == status


async def test_worker_status_is_for_staff_only(station, listener):
    """Staff see the worker's hubs; anyone else is sent to the admin sign-in."""
    refused = await client_of(listener).get("/worker.json")
    assert refused.status_code == 302
    assert "/admin/login/" in refused["location"]

    user, staff = await sync_to_async(signed_in)("operator")
    user.is_staff = True
    await user.asave()
    await get_bus().attach(station.pk)
    shown = (await client_of(staff).get("/worker.json")).json()
    assert shown["hubs"] == {str(station.pk): {"clients": 0, "listeners": 0}}
    assert shown["tasks"] >= 1
