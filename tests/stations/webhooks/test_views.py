"""The studio's webhooks page and the admin: only the station's DJs and
staff; webhooks added, refused with the reason, tested and deleted; the
delivery log shown, escaped."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from stations.models import Station
from stations.webhooks.models import Delivery, Webhook

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_private"),
]


def signed_in(name: str, **fields) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_user(name, **fields))
    return client


@pytest.fixture
def dj(station) -> Client:
    client = signed_in("dj")
    station.djs.add(get_user_model().objects.get(username="dj"))
    return client


def page(station) -> str:
    return reverse("webhooks:studio_webhooks", args=[station.slug])


FORM = {
    "url": "http://127.0.0.1:9/hook",
    "kind": "generic",
    "events": ["song_changed", "live_connect"],
    "secret": "s3cret-value",
}


def test_signed_out_users_are_sent_to_sign_in(station):
    response = Client().get(page(station))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_other_users_are_refused(station):
    client = signed_in("stranger")

    assert client.get(page(station)).status_code == 403
    assert client.post(page(station), FORM).status_code == 403
    assert not Webhook.objects.exists()


def test_the_studio_links_to_the_page(station, dj):
    studio = dj.get(reverse("stations:studio", args=[station.slug]))

    assert page(station).encode() in studio.content


def test_a_dj_adds_a_webhook_and_the_secret_is_not_shown(station, dj):
    response = dj.post(page(station), FORM, follow=True)

    webhook = Webhook.objects.get()
    assert (webhook.url, webhook.events) == (FORM["url"], FORM["events"])
    assert b"Added the webhook." in response.content
    assert FORM["url"].encode() in response.content
    assert FORM["secret"].encode() not in response.content


def test_a_private_target_is_refused_in_the_form(settings, station, dj):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False

    response = dj.post(page(station), FORM)

    assert response.status_code == 400
    assert b"127.0.0.1 is loopback" in response.content
    assert not Webhook.objects.exists()


def test_a_test_is_queued_and_the_log_shows_it_escaped(station, dj):
    dj.post(page(station), FORM)
    webhook = Webhook.objects.get()

    dj.post(reverse("webhooks:studio_webhook_test", args=[station.slug, webhook.pk]))

    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.status) == ("test", "pending")
    assert delivery.payload["station"]["shortcode"] == station.slug
    Delivery.objects.update(error="<script>alert(1)</script>")
    log = dj.get(page(station)).content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in log
    assert b"<script>alert(1)" not in log


def test_a_dj_deletes_a_webhook_of_their_station_only(station, dj):
    dj.post(page(station), FORM)
    webhook = Webhook.objects.get()
    elsewhere = Station.objects.create(slug="other", name="Other")
    theirs = Webhook.objects.create(
        station=elsewhere, url=FORM["url"], events=["song_changed"], secret="x"
    )

    mine = reverse("webhooks:studio_webhook_delete", args=[station.slug, webhook.pk])
    not_mine = reverse("webhooks:studio_webhook_delete", args=["other", theirs.pk])
    wrong_station = reverse(
        "webhooks:studio_webhook_delete", args=[station.slug, theirs.pk]
    )

    assert dj.post(not_mine).status_code == 403
    assert dj.post(wrong_station).status_code == 404
    assert dj.post(mine).status_code == 302
    assert list(Webhook.objects.all()) == [theirs]


def test_the_admin_refuses_a_private_target_and_shows_the_log(settings, station):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", password="x"))
    data = {**FORM, "station": station.pk, "events": '["song_changed"]'}

    refused = client.post(reverse("admin:webhooks_webhook_add"), data)

    assert refused.status_code == 200
    assert b"127.0.0.1 is loopback" in refused.content
    assert not Webhook.objects.exists()
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = True
    client.post(reverse("admin:webhooks_webhook_add"), {**data, "enabled": "on"})
    webhook = Webhook.objects.get()
    Delivery.objects.create(
        webhook=webhook,
        event="song_changed",
        payload={},
        scheduled_for=webhook.created_at,
        next_attempt_at=webhook.created_at,
        error="<b>boom</b>",
    )
    change = client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))
    assert b"&lt;b&gt;boom&lt;/b&gt;" in change.content
    log = client.get(reverse("admin:webhooks_delivery_changelist") + "?status=pending")
    assert log.status_code == 200
    assert b"song_changed" in log.content
