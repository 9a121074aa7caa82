"""``/api/stations/{slug}/webhooks``: the station's DJs and staff list, add
and delete its webhooks, by API key or session; nobody else may."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.crypto import get_random_string

from listeners.api_keys import api_key_create, api_key_revoke
from stations.models import Station
from stations.webhooks.models import Webhook

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("allow_private"),
]

HOOK = {
    "url": "http://127.0.0.1:9000/hook",
    "events": ["song_changed", "live_connect"],
    "kind": "generic",
    "secret": "shh-a-secret",
}


def user(name: str, **fields):
    return get_user_model().objects.create_user(name, **fields)


@pytest.fixture
def dj(station):
    dj = user("dj")
    station.djs.add(dj)
    return dj


def url(station: Station, webhook_id: int | None = None) -> str:
    path = f"/api/stations/{station.slug}/webhooks"
    return path if webhook_id is None else f"{path}/{webhook_id}"


def by_key(someone) -> dict[str, str]:
    key = api_key_create(user=someone, name="bot").key
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(station, body, **headers):
    return Client().post(
        url(station), json.dumps(body), content_type="application/json", **headers
    )


def test_a_dj_adds_lists_and_deletes_a_webhook_by_key(station, dj):
    headers = by_key(dj)

    created = post(station, HOOK, **headers)

    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("url", "events", "kind")} == {
        k: HOOK[k] for k in ("url", "events", "kind")
    }
    assert body["has_secret"] is True
    assert body["enabled"] is True
    assert "secret" not in body and HOOK["secret"] not in created.content.decode()
    webhook = Webhook.objects.get(pk=body["id"])
    assert (webhook.secret, webhook.created_by) == (HOOK["secret"], dj)

    listed = Client().get(url(station), **headers)
    assert [hook["id"] for hook in listed.json()] == [body["id"]]

    deleted = Client().delete(url(station, body["id"]), **headers)
    assert deleted.status_code == 204
    assert not Webhook.objects.exists()
    again = Client().delete(url(station, body["id"]), **headers)
    assert again.status_code == 404
    assert again.json() == {"detail": "No such webhook."}


def test_staff_may_manage_any_stations_webhooks(station):
    assert post(station, HOOK, **by_key(user("op", is_staff=True))).status_code == 201


def test_a_session_post_needs_the_csrf_token(station, dj):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dj)
    data = json.dumps(HOOK)

    refused = client.post(url(station), data, content_type="application/json")
    assert refused.status_code == 403

    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    created = client.post(
        url(station), data, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert created.status_code == 201


def test_nobody_gets_401(station):
    assert Client().get(url(station)).status_code == 401
    assert post(station, HOOK).status_code == 401


def test_another_stations_dj_gets_403(station, dj):
    elsewhere = Station.objects.create(slug="other", name="Other")
    theirs = user("theirs")
    elsewhere.djs.add(theirs)
    mine = post(station, HOOK, **by_key(dj)).json()["id"]
    headers = by_key(theirs)

    for response in (
        Client().get(url(station), **headers),
        post(station, HOOK, **headers),
        Client().delete(url(station, mine), **headers),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "detail": "Only the station's DJs and staff may manage its webhooks."
        }
    assert Webhook.objects.count() == 1


def test_a_revoked_key_gets_401(station, dj):
    headers = by_key(dj)
    api_key_revoke(user=dj, key_id=dj.api_keys.get().pk)

    assert post(station, HOOK, **headers).status_code == 401
    assert not Webhook.objects.exists()


def test_an_unknown_station_gets_404(dj):
    response = Client().get("/api/stations/nope/webhooks", **by_key(dj))

    assert response.status_code == 404
    assert response.json() == {"detail": "No such station."}


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"events": ["song_changed", "lunch"]}, "Unknown events: lunch"),
        ({"kind": "slack"}, "kind: Value 'slack' is not a valid choice."),
        ({"url": "http://10.0.0.1/"}, "url: 10.0.0.1 is private"),
        ({"url": "ftp://hooks.example/"}, "url: Only http:// and https:// URLs"),
    ],
)
def test_a_bad_webhook_gets_400_saying_what_is_wrong(
    settings, station, dj, change, detail
):
    settings.RADIO_WEBHOOK_ALLOW_PRIVATE = False

    response = post(station, {**HOOK, **change}, **by_key(dj))

    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert not Webhook.objects.exists()


def test_a_too_long_url_is_refused_before_anything_else(station, dj):
    response = post(station, {**HOOK, "url": "http://x/" + "a" * 500}, **by_key(dj))

    assert response.status_code == 422
    assert not Webhook.objects.exists()
