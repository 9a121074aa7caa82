"""A station with a webhook, and the payloads the real builder makes."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from stations.streaming.bus import LocalBus
from stations.streaming.hub import now_playing_event, on_air_event
from stations.webhooks import triggers
from stations.webhooks.models import Webhook

SECRET = "a-shared-secret-of-the-receiver"


@pytest.fixture(autouse=True)
def nothing_hooked_after(monkeypatch):
    """What a test hooks is forgotten after it: other tests' stations may
    have the same ids."""
    monkeypatch.setattr(triggers, "hooked", {})


@pytest.fixture
def allow_private(settings):
    """Webhooks may go to this machine, where the tests' receivers are."""
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
async def closing_connections():
    """Close, after the test, the connection its async ORM calls opened in
    the thread they share, so that the test database can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def bus() -> LocalBus:
    return LocalBus(burst_seconds=1.0)


@pytest.fixture
def webhook(station) -> Webhook:
    return Webhook.objects.create(
        station=station,
        url="http://127.0.0.1:9/hook",
        kind=Webhook.Kind.GENERIC,
        events=["song_changed", "live_connect", "live_disconnect"],
        secret=SECRET,
    )


async def play(bus: LocalBus, station_id: int, title: str, artist: str = "") -> None:
    """Put the station on air with ``title`` playing."""
    await bus.publish(station_id, on_air_event(on_air=True, source="autodj"))
    playing = now_playing_event(title=title, artist=artist, source="autodj", seq=1)
    await bus.publish(station_id, playing)
