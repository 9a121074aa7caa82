"""Each request rule: refused with its own code and message, allowed at
its edge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from stations.programme.models import Play
from stations.song_requests import rules as codes
from stations.song_requests.models import SongRequest
from stations.song_requests.rules import RequestRefused
from stations.song_requests.services import (
    request_rules_update,
    song_request_create,
    song_request_decide,
)

from .conftest import make_track

pytestmark = pytest.mark.django_db(transaction=True)


def ask(station, track, user, now=None) -> SongRequest:
    return song_request_create(station=station, track_id=track.pk, user=user, now=now)


def refusal(station, track, user, now=None) -> RequestRefused:
    with pytest.raises(RequestRefused) as refused:
        ask(station, track, user, now)
    return refused.value


def test_a_request_is_queued(station, tracks, rules, users):
    queued = ask(station, tracks["Blue"], users[0])

    assert queued.status == SongRequest.Status.PENDING
    assert (queued.track, queued.user) == (tracks["Blue"], users[0])


def test_a_station_without_rules_takes_no_requests(station, tracks, users):
    refused = refusal(station, tracks["Blue"], users[0])

    assert refused.code == codes.REQUESTS_DISABLED
    assert refused.message == "This station does not take requests."


def test_a_station_that_turned_requests_off_takes_none(station, tracks, users):
    request_rules_update(station=station, enabled=False)

    assert refusal(station, tracks["Blue"], users[0]).code == codes.REQUESTS_DISABLED


def test_nobody_signed_in_is_refused(station, tracks, rules):
    refused = refusal(station, tracks["Blue"], AnonymousUser())

    assert (refused.code, refused.message) == (
        codes.AUTH_REQUIRED,
        "Sign in to request a song.",
    )


def test_another_stations_track_is_not_requestable(station, rules, users):
    from stations.models import Station

    elsewhere = Station.objects.create(slug="other-fm", name="Other FM")
    foreign = make_track(elsewhere, "Theirs")

    refused = refusal(station, foreign, users[0])

    assert refused.code == codes.NOT_REQUESTABLE
    assert refused.message == "That track is not in this station's library."
    assert not SongRequest.objects.exists()


def test_one_request_per_listener_per_wait(station, tracks, rules, users):
    """Refused until ``per_user_minutes`` have passed, with when; allowed then."""
    start = timezone.now()
    ask(station, tracks["Blue"], users[0], now=start)

    refused = refusal(
        station, tracks["Green"], users[0], now=start + timedelta(minutes=3)
    )
    assert refused.code == codes.TOO_SOON
    assert refused.message == (
        "You may request one song every 5 minutes: try again in 2 minutes."
    )
    assert refused.retry_at == start + timedelta(minutes=5)
    # Another listener is not held back.
    ask(station, tracks["Green"], users[1], now=start + timedelta(minutes=3))

    at_the_edge = start + timedelta(minutes=5)
    assert ask(station, tracks["Quiet"], users[0], now=at_the_edge).pk


def test_a_track_is_not_requested_again_within_the_repeat_time(
    station, tracks, rules, users
):
    start = timezone.now()
    song_request_decide(
        request_id=ask(station, tracks["Blue"], users[0], now=start).pk,
        status=SongRequest.Status.PLAYED,
    )

    refused = refusal(
        station, tracks["Blue"], users[1], now=start + timedelta(minutes=59)
    )
    assert refused.code == codes.RECENTLY_PLAYED
    assert refused.message == (
        "“Blue” was played or requested in the last 60 minutes: choose another song."
    )
    assert ask(station, tracks["Blue"], users[1], now=start + timedelta(minutes=60))


def test_a_track_the_autodj_played_is_not_requested_within_the_repeat_time(
    station, tracks, rules, users
):
    """The play history counts, whoever played the track."""
    now = timezone.now()
    Play.objects.create(
        station=station,
        title="Green",
        artist="Solo",
        source="autodj",
        started_at=now - timedelta(minutes=10),
    )

    assert refusal(station, tracks["Green"], users[0], now=now).code == (
        codes.RECENTLY_PLAYED
    )
    assert ask(station, tracks["Green"], users[0], now=now + timedelta(minutes=50))


def test_a_declined_request_does_not_keep_the_track_back(station, tracks, rules, users):
    declined = ask(station, tracks["Blue"], users[0])
    song_request_decide(request_id=declined.pk, status=SongRequest.Status.DECLINED)

    assert ask(station, tracks["Blue"], users[1]).pk


def test_the_queue_holds_at_most_max_pending(station, rules, users):
    request_rules_update(station=station, max_pending=2, artist_separation=False)
    songs = [make_track(station, f"Song {n}") for n in range(3)]
    ask(station, songs[0], users[0])
    ask(station, songs[1], users[1])

    refused = refusal(station, songs[2], users[2])

    assert refused.code == codes.QUEUE_FULL
    assert refused.message == "The request queue is full (2 waiting): try again later."
    song_request_decide(
        request_id=SongRequest.objects.first().pk, status=SongRequest.Status.SKIPPED
    )
    assert ask(station, songs[2], users[2]).pk


def test_two_requests_of_one_artist_in_a_row_are_refused(station, tracks, rules, users):
    ask(station, tracks["Blue"], users[0])

    refused = refusal(station, tracks["Red"], users[1])

    assert refused.code == codes.SAME_ARTIST
    assert refused.message == (
        "The last request is by The Band too: choose another artist for now."
    )
    ask(station, tracks["Green"], users[1])
    # Another artist between them: allowed.
    assert ask(station, tracks["Red"], users[2]).pk


def test_artist_separation_may_be_turned_off(station, tracks, users):
    request_rules_update(station=station, enabled=True, artist_separation=False)
    ask(station, tracks["Blue"], users[0])

    assert ask(station, tracks["Red"], users[1]).pk


def test_concurrent_requests_never_pass_max_pending(station, rules, users):
    """Many listeners at once: exactly ``max_pending`` get in (the rules row
    is locked on PostgreSQL; SQLite's transactions are IMMEDIATE)."""
    request_rules_update(station=station, max_pending=3, artist_separation=False)
    songs = [make_track(station, f"Song {n}") for n in range(len(users))]

    def attempt(index: int) -> str:
        try:
            ask(station, songs[index], users[index])
            return "ok"
        except RequestRefused as refused:
            return refused.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        answers = list(pool.map(attempt, range(len(users))))

    assert answers.count("ok") == 3
    assert set(answers) == {"ok", codes.QUEUE_FULL}
    assert SongRequest.objects.filter(status=SongRequest.Status.PENDING).count() == 3
