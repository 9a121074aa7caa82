"""The station room hears the schedule: ``hello.schedule``, and ``schedule``
when a show begins or the programme is edited; ``stations.json`` and the
listener page show it too."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from stations.programme.models import Show, Slot
from stations.programme.services import show_create, show_update
from tests.stations.clients import TIMEOUT_S, receive_json

pytestmark = pytest.mark.django_db(transaction=True)

# How far ahead the next show begins: long enough for a socket to join first.
LEAD = timedelta(seconds=1.5)


@pytest.fixture
def handover(berlin, host) -> tuple[Show, Show]:
    """ "Early" on now and ending in LEAD, "Late" following straight on."""
    boundary = timezone.now() + LEAD
    early = show_create(station=berlin, name="Early <i>", hosts=[host])
    late = show_create(station=berlin, name="Late", hosts=[])
    Slot.objects.create(
        show=early, kind="once", starts_at=boundary - timedelta(minutes=1),
        duration_minutes=1,
    )  # fmt: skip
    Slot.objects.create(show=late, kind="once", starts_at=boundary, duration_minutes=1)
    return early, late


async def test_hello_has_now_and_next_and_schedule_comes_when_the_next_begins(
    sockets, anonymous, berlin, handover
):
    room, hello = await sockets.join(berlin.slug, anonymous)
    now, upcoming = hello["schedule"]["now"], hello["schedule"]["next"]
    assert now["show"] == {
        "name": "Early <i>",
        "slug": "early-i",
        "description": "",
        "hosts": ["host"],
    }
    assert upcoming["show"]["slug"] == "late"
    assert now["end"] == upcoming["start"]
    message = await receive_json(room, timeout=LEAD.total_seconds() + TIMEOUT_S)
    assert message["type"] == "schedule"
    assert message["now"]["show"]["slug"] == "late"
    assert message["next"] is None


async def test_an_edit_reaches_the_room_as_schedule(sockets, anonymous, berlin, host):
    show = await sync_to_async(show_create)(station=berlin, name="Jazz", hosts=[host])
    await Slot.objects.acreate(
        show=show, kind="once", starts_at=timezone.now(), duration_minutes=60
    )
    room, hello = await sockets.join(berlin.slug, anonymous)
    assert hello["schedule"]["now"]["show"]["name"] == "Jazz"
    await sync_to_async(show_update)(show=show, name="Jazz & Blues", hosts=[host])
    message = await receive_json(room)
    assert message["type"] == "schedule"
    assert message["now"]["show"]["name"] == "Jazz & Blues"


def test_stations_json_carries_each_stations_schedule(client, berlin, handover):
    entries = client.get(reverse("stations:directory_status")).json()["stations"]
    (entry,) = entries
    assert entry["schedule"]["now"]["show"]["slug"] == "early-i"
    assert entry["schedule"]["next"]["show"]["slug"] == "late"


def test_the_listener_page_shows_on_now_and_up_next(client, berlin, handover):
    page = client.get(reverse("stations:listen", args=[berlin.slug])).content.decode()
    assert '<span id="show-now">Early &lt;i&gt;</span>' in page
    assert '<span id="show-next">Late</span>' in page
    assert json.dumps(reverse("programme:schedule", args=[berlin.slug]))[1:-1] in page


async def test_the_first_socket_to_join_again_reads_the_schedule_afresh(
    sockets, anonymous, berlin, host
):
    """A worker whose station had no clients does not trust what it knew: a
    slot made meanwhile where no edit reached it is in the next hello."""
    room, hello = await sockets.join(berlin.slug, anonymous)
    assert hello["schedule"] == {"now": None, "next": None}
    await room.disconnect()
    show = await sync_to_async(show_create)(station=berlin, name="Quiet", hosts=[])
    # Made without a service, as by a process whose edits do not reach here.
    await Slot.objects.acreate(
        show=show, kind="once", starts_at=timezone.now(), duration_minutes=60
    )
    _, hello = await sockets.join(berlin.slug, anonymous)
    assert hello["schedule"]["now"]["show"]["name"] == "Quiet"
