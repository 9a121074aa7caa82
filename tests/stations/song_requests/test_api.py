"""The song request API: the list in AzuraCast's shape, asking (signed in,
each refusal with its code), the DJs' queue and decisions, skipping the
AutoDJ's track, and what the now-playing API says of requests."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.test import Client

from listeners.api_keys import api_key_create
from listeners.selectors import inbox_unread
from stations.api import cache
from stations.api.nowplaying import Site, abuild
from stations.library.autodj import SKIP, askip, skip_group
from stations.song_requests.models import SongRequest
from stations.song_requests.selectors import MAX_QUERY_CHARS, MAX_RESULTS
from stations.song_requests.services import request_rules_update
from stations.streaming.bus import AUTODJ, LIVE, LocalBus
from stations.streaming.hub import now_playing_event, on_air_event
from tests.stations.api.test_nowplaying import SONG, mismatches

from .conftest import make_track

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/stations/test-fm/requests"
QUEUE = "/api/stations/test-fm/requests/queue"
INT, STR, BOOL = int, str, bool
# AzuraCast's StationQueue (Entity/Api/StationQueue.php), for playing_next.
STATION_QUEUE = {
    "cued_at": INT,
    "played_at": INT,
    "duration": INT,
    "playlist": STR,
    "is_request": BOOL,
    "song": SONG,
}


@pytest.fixture(autouse=True)
def empty_api_cache(monkeypatch):
    monkeypatch.setattr(cache, "_built", {})
    monkeypatch.setattr(cache, "_building", {})


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(client: Client, track, **headers):
    return client.post(f"/api/stations/test-fm/request/{track.pk}", **headers)


@pytest.fixture
def dj(station):
    user = get_user_model().objects.create_user("dj")
    station.djs.add(user)
    return user


def test_the_list_has_azuracasts_shape_by_artist_and_title(station, tracks, rules):
    body = Client().get(LIST).json()

    assert [item["song"]["title"] for item in body] == ["Quiet", "Green", "Blue", "Red"]
    blue = body[2]
    assert blue["request_id"] == str(tracks["Blue"].pk)
    assert blue["request_url"] == (
        f"http://testserver/api/stations/test-fm/request/{tracks['Blue'].pk}"
    )
    assert mismatches(blue["song"], SONG) == []
    assert blue["song"]["text"] == "The Band - Blue"


def test_the_list_is_searched_by_title_or_artist(station, tracks, rules):
    def titles(query: str) -> list[str]:
        body = Client().get(LIST, {"q": query}).json()
        return [item["song"]["title"] for item in body]

    assert titles("band") == ["Blue", "Red"]
    assert titles("GREEN") == ["Green"]
    assert titles("nothing like it") == []


def test_searches_are_limited(station, rules):
    for number in range(MAX_RESULTS + 5):
        make_track(station, f"Song {number:03}")
    client = Client()

    assert len(client.get(LIST).json()) == MAX_RESULTS
    second = client.get(LIST, {"offset": MAX_RESULTS}).json()
    assert [item["song"]["title"] for item in second] == [
        f"Song {n:03}" for n in range(MAX_RESULTS, MAX_RESULTS + 5)
    ]
    assert client.get(LIST, {"q": "x" * (MAX_QUERY_CHARS + 1)}).status_code == 422
    assert client.get(LIST, {"limit": MAX_RESULTS + 1}).status_code == 422


def test_a_station_without_requests_lists_nothing(station, tracks):
    response = Client().get(LIST)

    assert response.status_code == 403
    assert response.json()["code"] == "requests_disabled"
    assert Client().get("/api/stations/nowhere/requests").status_code == 404


def test_a_signed_in_listener_requests_a_song(station, tracks, rules, users):
    response = ask(signed_in(users[0]), tracks["Blue"])

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "code": "ok",
        "message": "Your request has been submitted and will play soon.",
        "formatted_message": "Your request has been submitted and will play soon.",
        "retry_at": None,
    }
    assert SongRequest.objects.get().user == users[0]


def test_an_api_key_requests_a_song(station, tracks, rules, users):
    key = api_key_create(user=users[0], name="bot").key
    client = Client(enforce_csrf_checks=True)

    response = ask(client, tracks["Blue"], HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 200


def test_nobody_and_a_session_without_csrf_token_are_refused(
    station, tracks, rules, users
):
    assert ask(Client(), tracks["Blue"]).status_code == 401
    session = Client(enforce_csrf_checks=True)
    session.force_login(users[0])
    assert ask(session, tracks["Blue"]).status_code == 403
    assert not SongRequest.objects.exists()


def test_each_refusal_has_its_status_and_code(station, tracks, rules, users):
    first, second = signed_in(users[0]), signed_in(users[1])
    assert ask(first, tracks["Blue"]).status_code == 200

    too_soon = ask(first, tracks["Green"])
    assert too_soon.status_code == 429
    assert too_soon.json()["code"] == "too_soon"
    assert too_soon.json()["retry_at"]
    assert 0 < int(too_soon["Retry-After"]) <= 300

    same_artist = ask(second, tracks["Red"])
    assert (same_artist.status_code, same_artist.json()["code"]) == (409, "same_artist")
    repeat = ask(second, tracks["Blue"])
    assert (repeat.status_code, repeat.json()["code"]) == (409, "recently_played")
    missing = second.post("/api/stations/test-fm/request/999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_requestable")
    assert missing.json()["success"] is False

    request_rules_update(station=station, max_pending=1)
    full = ask(second, tracks["Green"])
    assert (full.status_code, full.json()["code"]) == (409, "queue_full")
    request_rules_update(station=station, enabled=False)
    off = ask(second, tracks["Green"])
    assert (off.status_code, off.json()["code"]) == (403, "requests_disabled")


def test_the_djs_see_the_queue_in_order(station, tracks, rules, users, dj):
    ask(signed_in(users[0]), tracks["Blue"])
    ask(signed_in(users[1]), tracks["Green"])

    body = signed_in(dj).get(QUEUE).json()

    assert [(item["title"], item["artist"], item["user"]) for item in body] == [
        ("Blue", "The Band", "listener0"),
        ("Green", "Solo", "listener1"),
    ]
    assert signed_in(users[2]).get(QUEUE).status_code == 403
    assert Client().get(QUEUE).status_code == 401


def test_a_dj_plays_skips_and_declines(station, tracks, rules, users, dj):
    for user, title in zip(users, ["Blue", "Green", "Quiet"], strict=False):
        ask(signed_in(user), tracks[title])
    blue, green, quiet = SongRequest.objects.order_by("created_at", "id")
    console = signed_in(dj)

    def decide(song_request, decision: str):
        path = f"/api/stations/test-fm/requests/{song_request.pk}/{decision}"
        return console.post(path)

    assert decide(blue, "play").status_code == 200
    assert decide(green, "skip").status_code == 200
    assert decide(quiet, "decline").json()["message"] == "Request declined."
    assert decide(quiet, "play").status_code == 409
    assert decide(quiet, "dance").status_code == 422
    assert (
        signed_in(users[0])
        .post(f"/api/stations/test-fm/requests/{quiet.pk}/play")
        .status_code
        == 403
    )
    statuses = SongRequest.objects.order_by("created_at", "id")
    assert [r.status for r in statuses] == ["played", "skipped", "declined"]
    assert [m["kind"] for m in inbox_unread(users[0])] == ["notice"]
    assert inbox_unread(users[1]) == inbox_unread(users[2]) == []


def test_a_dj_cannot_decide_another_stations_request(station, tracks, rules, users):
    from stations.models import Station

    ask(signed_in(users[0]), tracks["Blue"])
    elsewhere = Station.objects.create(slug="other-fm", name="Other FM")
    other_dj = get_user_model().objects.create_user("other-dj")
    elsewhere.djs.add(other_dj)
    song_request = SongRequest.objects.get()

    response = signed_in(other_dj).post(
        f"/api/stations/other-fm/requests/{song_request.pk}/decline"
    )

    assert response.status_code == 404
    song_request.refresh_from_db()
    assert song_request.status == "pending"


def test_skip_is_for_djs_and_refused_unless_the_autodj_plays(station, users, dj):
    skip = "/api/stations/test-fm/skip"

    assert Client().post(skip).status_code == 401
    assert signed_in(users[0]).post(skip).status_code == 403
    off_air = signed_in(dj).post(skip)
    assert (off_air.status_code, off_air.json()["code"]) == (409, "not_autodj")


async def test_skip_reaches_the_autodj_of_the_station():
    """What the skip endpoint sends reaches the group the AutoDJ joins."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(skip_group(7), channel)

    await askip(7)

    assert await layer.receive(channel) == {"type": SKIP}
    await layer.group_discard(skip_group(7), channel)


async def test_nowplaying_says_requests_is_request_and_playing_next(
    station, tracks, users
):
    await database_sync_to_async(request_rules_update)(station=station, enabled=True)
    bus = LocalBus(burst_seconds=1)
    hub = await bus.attach(station.pk)
    hub.publish(on_air_event(on_air=True, source=AUTODJ))
    hub.publish(
        now_playing_event(
            title="Red", artist="The Band", source=AUTODJ, seq=1, is_request=True
        )
    )
    site = Site("https://radio.example")

    [before] = await abuild([station], bus, site)
    assert before["station"]["requests_enabled"] is True
    assert before["now_playing"]["is_request"] is True
    assert before["playing_next"] is None

    await SongRequest.objects.acreate(
        station=station, track=tracks["Green"], user=users[0]
    )
    [after] = await abuild([station], bus, site)
    assert mismatches(after["playing_next"], STATION_QUEUE) == []
    assert after["playing_next"]["song"]["text"] == "Solo - Green"
    assert after["playing_next"]["is_request"] is True

    # A live DJ chooses what plays: the AutoDJ's next is not known.
    hub.publish(on_air_event(on_air=True, source=LIVE, broadcast=None))
    [live] = await abuild([station], bus, site)
    assert live["playing_next"] is None
    await bus.aclose()


def test_djs_read_and_set_the_rules(station, users, dj):
    rules_url = "/api/stations/test-fm/requests/rules"
    console = signed_in(dj)

    assert console.get(rules_url).json() == {
        "enabled": False,
        "per_user_minutes": 5,
        "repeat_minutes": 60,
        "max_pending": 10,
        "artist_separation": True,
    }
    changed = {
        "enabled": True,
        "per_user_minutes": 1,
        "repeat_minutes": 30,
        "max_pending": 3,
        "artist_separation": False,
    }
    response = console.put(rules_url, changed, content_type="application/json")
    assert (response.status_code, response.json()) == (200, changed)
    too_many = {**changed, "max_pending": 101}
    refused = console.put(rules_url, too_many, content_type="application/json")
    assert refused.status_code == 422
    listener = signed_in(users[0])
    assert listener.get(rules_url).status_code == 403
    assert (
        listener.put(rules_url, changed, content_type="application/json").status_code
        == 403
    )
    assert Client().get(LIST).status_code == 200
