"""The watchers: a changed listener count is queued once an interval as
listener_gained or listener_lost; a published episode once per webhook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stations.programme.models import Episode
from stations.webhooks import triggers
from stations.webhooks.models import Delivery, StationWatch, Webhook

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_private", "closing_connections"),
]


async def hooked(station, events: list[str]) -> Webhook:
    webhook = await Webhook.objects.acreate(
        station=station, url="http://127.0.0.1:9/", events=events, secret="s"
    )
    await triggers.ahooked_refresh()
    return webhook


async def queued() -> list[tuple[str, dict]]:
    return [
        (delivery.event, delivery.payload)
        async for delivery in Delivery.objects.order_by("id")
    ]


async def test_listener_changes_are_queued_once_an_interval(
    settings, monkeypatch, bus, station
):
    settings.RADIO_WEBHOOK_WATCH_SECONDS = 60
    await hooked(station, ["listener_gained", "listener_lost"])
    counts = iter([4, 2, 2])

    async def listener_count(station_id: int) -> int:
        return next(counts)

    monkeypatch.setattr(bus, "listener_count", listener_count)

    await triggers.watch_stations(bus)
    # Within the interval: not looked at again.
    await triggers.watch_stations(bus)
    await StationWatch.objects.aupdate(listeners_checked_at=None)
    # Unchanged: nothing to tell.
    await triggers.watch_stations(bus)

    ((event, payload),) = await queued()
    assert event == "listener_gained"
    assert payload["listeners_before"] == 0
    assert payload["event"] == "listener_gained"
    assert payload["station"]["shortcode"] == station.slug


async def test_a_published_episode_is_announced_once(bus, station):
    webhook = await hooked(station, ["episode_published"])
    ended = datetime.now(UTC) + timedelta(seconds=1)
    episode = await Episode.objects.acreate(
        station=station,
        dj_name="dj",
        title="Late <i>night</i>",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
        duration_ms=3_600_000,
    )
    await Episode.objects.acreate(
        station=station,
        dj_name="dj",
        title="Hidden",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
        published=False,
    )
    await Episode.objects.acreate(
        station=station,
        dj_name="dj",
        title="Before the webhook",
        started_at=webhook.created_at - timedelta(hours=2),
        ended_at=webhook.created_at - timedelta(hours=1),
    )

    await triggers.watch_stations(bus)
    await triggers.watch_stations(bus)

    ((event, payload),) = await queued()
    assert event == "episode_published"
    assert payload["episode"]["id"] == episode.pk
    assert payload["episode"]["title"] == "Late <i>night</i>"
    assert payload["episode"]["duration"] == 3600
    assert payload["episode"]["url"].endswith(
        f"/stations/{station.slug}/archive/{episode.pk}/"
    )
