"""The dispatcher sends what the bus's events queue, signed, once; retries
a failing target with backoff; gives up on one that does not answer within
the timeout without holding up the rest."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from channels.db import database_sync_to_async

from stations.webhooks import triggers
from stations.webhooks.dispatcher import Dispatcher
from stations.webhooks.models import Delivery, Webhook

from .conftest import SECRET, play
from .receiver import HANG, Receiver

pytestmark = pytest.mark.django_db(transaction=True)
Status = Delivery.Status


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = True
    settings.RADIO_WEBHOOK_RETRY_BASE_SECONDS = 0.1
    settings.RADIO_WEBHOOK_POLL_SECONDS = 0.05
    settings.RADIO_WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.RADIO_WEBHOOK_SONG_INTERVAL_SECONDS = 0


@pytest.fixture
async def dispatching(bus):
    """A dispatcher running on ``bus``, with the bus's events observed."""
    triggers.watch_bus(bus)
    dispatcher = Dispatcher(bus)
    task = asyncio.create_task(dispatcher.run())
    await dispatcher.tick()
    yield dispatcher
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def hook(station, url: str, **fields) -> Webhook:
    values = {"kind": "generic", "events": ["song_changed"], "secret": SECRET}
    webhook = await Webhook.objects.acreate(station=station, url=url, **values | fields)
    await triggers.ahooked_refresh()
    return webhook


async def statuses() -> list[tuple[str, int]]:
    rows = Delivery.objects.order_by("id").values_list("status", "attempts")
    return await database_sync_to_async(list)(rows)


async def until_statuses(expected: list[tuple[str, int]]) -> None:
    async with asyncio.timeout(5):
        while await statuses() != expected:
            await asyncio.sleep(0.02)


async def test_a_song_change_is_sent_once_and_signed(bus, station, dispatching):
    async with Receiver() as receiver:
        await hook(station, receiver.url)

        await play(bus, station.pk, "Blue Monday", "New Order")

        (got,) = await receiver.wait_for(1)
        assert got.path == "/hook"
        assert got.signed_with(SECRET)
        assert got.json["event"] == "song_changed"
        assert got.json["now_playing"]["song"]["title"] == "Blue Monday"
        assert got.headers["host"] == receiver.url.split("/")[2]
        await until_statuses([("delivered", 1)])
        assert len(receiver.received) == 1


async def test_a_target_that_fails_three_times_gets_it_on_the_fourth_try(
    bus, station, dispatching
):
    async with Receiver([500, 502, 503, 200]) as receiver:
        await hook(station, receiver.url)

        await play(bus, station.pk, "Retry me")

        got = await receiver.wait_for(4)
        assert len({r.body for r in got}) == 1
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(got)]
        # 0.1, 0.2, 0.4 s of backoff, each at least its delay.
        for gap, delay in zip(gaps, (0.1, 0.2, 0.4), strict=True):
            assert gap >= delay
        await until_statuses([("delivered", 4)])


async def test_a_hanging_target_times_out_and_does_not_hold_up_another(
    bus, station, dispatching
):
    async with Receiver([HANG]) as hanging, Receiver() as working:
        await hook(station, hanging.url)
        await hook(station, working.url)
        started = time.monotonic()

        await play(bus, station.pk, "Hang on")

        await working.wait_for(1)
        assert time.monotonic() - started < 0.9
        await hanging.wait_for(1)
        async with asyncio.timeout(5):
            while (
                row := await Delivery.objects.filter(webhook__url=hanging.url).afirst()
            ).attempts < 1:
                await asyncio.sleep(0.05)
        assert row.error == "No answer within 1.0 s."
        assert row.status == Status.PENDING


async def test_a_target_that_now_resolves_privately_is_not_sent_to(
    settings, bus, station, dispatching
):
    async with Receiver() as receiver:
        await hook(station, receiver.url)
        settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False

        await play(bus, station.pk, "Nope")

        async with asyncio.timeout(5):
            while not (row := await Delivery.objects.afirst()) or not row.attempts:
                await asyncio.sleep(0.05)
        assert "127.0.0.1 is loopback" in row.error
        assert receiver.received == []


async def test_stations_without_webhooks_queue_nothing(bus, station, dispatching):
    await play(bus, station.pk, "Nobody hears")
    await dispatching.tick()

    assert await Delivery.objects.acount() == 0


async def test_going_live_and_back_tells_connect_and_disconnect(
    bus, station, dispatching
):
    from stations.streaming.hub import on_air_event

    async with Receiver() as receiver:
        await hook(station, receiver.url, events=["live_connect", "live_disconnect"])
        broadcast = {"dj": "dj", "started_at": "2026-11-30T20:00:00+00:00"}

        await bus.publish(
            station.pk, on_air_event(on_air=True, source="live", broadcast=broadcast)
        )
        await bus.publish(station.pk, on_air_event(on_air=True, source="autodj"))

        got = await receiver.wait_for(2)
        events = sorted(r.json["event"] for r in got)
        assert events == ["live_connect", "live_disconnect"]
        assert all(r.json["dj"] == "dj" for r in got)


async def test_a_discord_channel_gets_a_now_playing_post(bus, station, dispatching):
    """What Discord's webhook endpoint would receive: an embed, no mentions."""
    async with Receiver([204]) as discord:
        await hook(station, discord.url, kind="discord", secret="")

        await play(bus, station.pk, "Blue Monday", "New Order")

        (got,) = await discord.wait_for(1)
        (embed,) = got.json["embeds"]
        assert (embed["title"], embed["description"]) == ("Blue Monday", "New Order")
        assert embed["author"]["name"] == station.name
        assert got.json["allowed_mentions"] == {"parse": []}
        assert "x-radio-signature" not in got.headers
        await until_statuses([("delivered", 1)])
