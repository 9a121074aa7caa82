"""What each kind of webhook is sent: the signed NowPlaying object, a
Discord embed, a Mastodon status; user text never mentions anyone."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from stations.webhooks.models import Webhook
from stations.webhooks.payloads import (
    SIGNATURE_HEADER,
    mastodon_statuses_url,
    request_for,
    sign,
)
from stations.webhooks.triggers import apayload

from .conftest import SECRET, play

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(settings):
    settings.RADIO_SITE_URL = "https://radio.example/"


async def song_payload(bus, station, title="Blue Monday", artist="New Order"):
    await play(bus, station.pk, title, artist)
    return await apayload(bus, station, "song_changed")


def test_the_signature_is_the_hmac_sha256_of_the_body():
    body = b'{"event":"song_changed"}'
    expected = hmac.new(b"key", body, hashlib.sha256).hexdigest()

    assert sign("key", body) == f"sha256={expected}"


async def test_generic_is_the_nowplaying_object_with_the_event_signed(
    site, bus, station, webhook
):
    payload = await song_payload(bus, station)

    outgoing = request_for(webhook, 7, payload)

    body = json.loads(outgoing.body)
    assert body["event"] == "song_changed"
    assert body["triggered_at"]
    assert body["now_playing"]["song"]["title"] == "Blue Monday"
    assert body["now_playing"]["song"]["artist"] == "New Order"
    assert body["station"]["shortcode"] == station.slug
    assert body["station"]["url"] == f"https://radio.example/stations/{station.slug}/"
    assert body["is_online"] is True
    expected = hmac.new(SECRET.encode(), outgoing.body, hashlib.sha256).hexdigest()
    assert outgoing.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert outgoing.headers["X-Radio-Event"] == "song_changed"
    assert outgoing.headers["X-Radio-Delivery"] == "7"
    assert outgoing.url == webhook.url


async def test_discord_gets_an_embed_with_title_artist_and_station_link(
    site, bus, station
):
    discord = Webhook(
        station=station,
        kind=Webhook.Kind.DISCORD,
        url="https://discord.com/api/webhooks/1/token",
        events=["song_changed"],
    )
    payload = await song_payload(bus, station, title="@everyone <b>hi</b>")

    body = json.loads(request_for(discord, 1, payload).body)

    (embed,) = body["embeds"]
    assert embed["title"] == "@everyone <b>hi</b>"
    assert embed["description"] == "New Order"
    assert embed["url"] == f"https://radio.example/stations/{station.slug}/"
    assert embed["author"] == {"name": station.name}
    assert embed["footer"] == {"text": "Now playing"}
    assert body["allowed_mentions"] == {"parse": []}
    assert "content" not in body


async def test_discord_embeds_keep_to_discords_limits(site, bus, station):
    discord = Webhook(station=station, kind=Webhook.Kind.DISCORD, url="https://d/")
    payload = await song_payload(bus, station, title="x" * 600, artist="y" * 5000)

    (embed,) = json.loads(request_for(discord, 1, payload).body)["embeds"]

    assert len(embed["title"]) == 256
    assert len(embed["description"]) == 4096


async def test_mastodon_gets_a_status_with_the_token_and_an_idempotency_key(
    site, bus, station
):
    mastodon = Webhook(
        station=station,
        kind=Webhook.Kind.MASTODON,
        url="https://mastodon.example",
        secret="token-123",
    )
    payload = await song_payload(bus, station, title="Hi @admin@mastodon.example")

    outgoing = request_for(mastodon, 42, payload)

    assert outgoing.url == "https://mastodon.example/api/v1/statuses"
    assert outgoing.headers["Authorization"] == "Bearer token-123"
    assert outgoing.headers["Idempotency-Key"] == "radio-delivery-42"
    status = json.loads(outgoing.body)["status"]
    assert status.startswith("Now playing: Hi @\u200badmin@\u200bmastodon.example")
    assert "New Order" in status
    assert status.endswith(f"\nhttps://radio.example/stations/{station.slug}/")
    assert "@admin" not in status


async def test_a_long_mastodon_status_is_cut_to_500_characters_keeping_the_link(
    site, bus, station
):
    mastodon = Webhook(station=station, kind=Webhook.Kind.MASTODON, url="https://m/")
    payload = await song_payload(bus, station, title="z" * 900)

    status = json.loads(request_for(mastodon, 1, payload).body)["status"]

    assert len(status) == 500
    assert status.endswith(f"…\nhttps://radio.example/stations/{station.slug}/")


def test_the_statuses_path_is_added_to_an_instance_once():
    assert (
        mastodon_statuses_url("https://m.example/")
        == mastodon_statuses_url("https://m.example/api/v1/statuses")
        == "https://m.example/api/v1/statuses"
    )
