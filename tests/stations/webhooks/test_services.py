"""Webhooks are made only when sound; events are queued for the webhooks
that want them; song_changed is spaced and superseded; changes of a
station are told once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stations.webhooks import outbox
from stations.webhooks.models import Delivery, StationWatch, Webhook
from stations.webhooks.services import (
    MAX_WEBHOOKS_PER_STATION,
    WebhookError,
    deliveries_enqueue,
    webhook_create,
)
from stations.webhooks.watch import listeners_change, on_air_changes

pytestmark = pytest.mark.django_db(transaction=True)
Status = Delivery.Status


def make(station, **fields) -> Webhook:
    values = {
        "url": "http://127.0.0.1:9/",
        "kind": "generic",
        "events": ["song_changed"],
        "secret": "s",
        "created_by": None,
        **fields,
    }
    return webhook_create(station=station, **values)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"events": ["song_changed", "nope"]}, "Unknown events: nope"),
        ({"events": []}, "events: This field cannot be blank"),
        ({"events": ["song_changed", "song_changed"]}, "Name each event once"),
        ({"kind": "slack"}, "kind: Value 'slack' is not a valid choice"),
        ({"url": "not a url"}, "url: Enter a valid URL"),
        ({"secret": ""}, "secret: this kind of webhook needs a key"),
        ({"kind": "mastodon", "secret": ""}, "needs the account's access token"),
    ],
)
def test_a_webhook_is_refused_with_what_to_change(
    allow_private, station, fields, message
):
    with pytest.raises(WebhookError, match=message):
        make(station, **fields)
    assert not Webhook.objects.exists()


def test_a_private_target_is_refused(settings, station):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False

    with pytest.raises(WebhookError, match=r"url: 127\.0\.0\.1 is loopback"):
        make(station, url="http://127.0.0.1:8000/")


def test_discord_needs_no_secret(allow_private, station):
    assert make(station, kind="discord", secret="").kind == "discord"


def test_a_station_has_a_limited_number_of_webhooks(allow_private, station):
    for _ in range(MAX_WEBHOOKS_PER_STATION):
        make(station)

    with pytest.raises(WebhookError, match="delete one first"):
        make(station)


def test_an_event_goes_to_the_enabled_webhooks_that_want_it(
    allow_private, station, other_station
):
    wants = make(station, events=["live_connect"])
    make(station, events=["song_changed"])
    disabled = make(station, events=["live_connect"])
    Webhook.objects.filter(pk=disabled.pk).update(enabled=False)
    make(other_station, events=["live_connect"])

    queued = deliveries_enqueue(
        station_id=station.pk, event="live_connect", payload={"event": "live_connect"}
    )

    assert [d.webhook_id for d in queued] == [wants.pk]


def test_an_event_with_a_key_is_queued_once(allow_private, station):
    make(station, events=["episode_published"])
    for _ in range(2):
        deliveries_enqueue(
            station_id=station.pk,
            event="episode_published",
            payload={},
            dedupe_key="episode:1",
        )

    assert Delivery.objects.count() == 1


def song(station, title: str) -> Delivery:
    (queued,) = deliveries_enqueue(
        station_id=station.pk, event="song_changed", payload={"title": title}
    )
    return queued


def test_song_changed_are_spaced_and_a_waiting_one_is_superseded(
    settings, allow_private, station
):
    settings.RADIO_WEBHOOK_SONG_INTERVAL_SECONDS = 10
    make(station)
    first = song(station, "one")
    (sent,) = outbox.deliveries_claim(limit=5)
    outbox.delivery_succeeded(sent, response_status=200)

    second = song(station, "two")
    third = song(station, "three")

    assert first.next_attempt_at <= timezone.now()
    assert second.next_attempt_at == first.scheduled_for + timedelta(seconds=10)
    assert third.next_attempt_at == second.next_attempt_at
    second.refresh_from_db()
    assert second.status == Status.SUPERSEDED
    waiting = Delivery.objects.filter(status=Status.PENDING)
    assert [d.payload["title"] for d in waiting] == ["three"]


def test_a_song_being_sent_is_not_superseded(settings, allow_private, station):
    settings.RADIO_WEBHOOK_SONG_INTERVAL_SECONDS = 10
    make(station)
    first = song(station, "one")
    outbox.deliveries_claim(limit=5)

    second = song(station, "two")

    first.refresh_from_db()
    assert first.status == Status.PENDING
    assert second.next_attempt_at == first.scheduled_for + timedelta(seconds=10)


def test_online_offline_and_live_are_told_once_each(station):
    on = {"on_air": True}
    started = "2026-11-30T20:00:00+00:00 dj"

    assert on_air_changes(station.pk, **on, live="") == [("station_online", {})]
    assert on_air_changes(station.pk, **on, live="") == []
    assert on_air_changes(station.pk, **on, live=started) == [
        ("live_connect", {"dj": "dj"})
    ]
    assert on_air_changes(station.pk, **on, live=started) == []
    assert on_air_changes(station.pk, **on, live="") == [
        ("live_disconnect", {"dj": "dj"})
    ]
    assert on_air_changes(station.pk, on_air=False, live="") == [
        ("station_offline", {})
    ]


def test_listener_changes_are_told_at_most_once_an_interval(station):
    assert listeners_change(station.pk, 3, every_s=60) == (
        "listener_gained",
        {"listeners_before": 0},
    )
    # Another worker, or this one, within the interval: nothing more.
    assert listeners_change(station.pk, 1, every_s=60) is None

    StationWatch.objects.update(listeners_checked_at=timezone.now() - timedelta(60))
    assert listeners_change(station.pk, 1, every_s=60) == (
        "listener_lost",
        {"listeners_before": 3},
    )
    StationWatch.objects.update(listeners_checked_at=None)
    assert listeners_change(station.pk, 1, every_s=60) is None
