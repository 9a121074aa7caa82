"""The AutoDJ plays pending requests first, in order, then its playlist
where it was; the requester hears of it when it goes on air."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from listeners.models import InboxMessage
from listeners.selectors import inbox_unread
from stations.library.autodj import queue_next_track
from stations.song_requests.models import SongRequest
from stations.song_requests.services import (
    CUE_EXPIRY,
    request_cue_next,
    requests_uncue,
    song_request_create,
    song_request_decide,
    song_request_played,
)

pytestmark = pytest.mark.django_db(transaction=True)


def ask(station, track, user, **kwargs) -> SongRequest:
    return song_request_create(station=station, track_id=track.pk, user=user, **kwargs)


async def picks(station, count: int) -> list[tuple[str, bool]]:
    """The titles of the AutoDJ's next ``count`` picks, and which are requests."""
    picked = []
    for _ in range(count):
        track = await queue_next_track(station.pk)
        picked.append((track.title, track.request_id is not None))
    return picked


async def test_requests_play_first_in_order_then_the_playlist_goes_on(
    station, tracks, rules, users
):
    assert await picks(station, 1) == [("Blue", False)]
    await database_sync_to_async(ask)(station, tracks["Quiet"], users[0])
    await database_sync_to_async(ask)(station, tracks["Green"], users[1])

    assert await picks(station, 4) == [
        ("Quiet", True),
        ("Green", True),
        # The playlist carries on after Blue, as if no request had played.
        ("Red", False),
        ("Green", False),
    ]


def test_a_picked_request_is_not_picked_twice_before_it_is_heard(
    station, tracks, rules, users
):
    asked = ask(station, tracks["Green"], users[0])

    assert request_cue_next(station.pk) == asked
    assert request_cue_next(station.pk) is None
    asked.refresh_from_db()
    assert asked.status == SongRequest.Status.PENDING


def test_a_request_picked_by_a_playout_that_ended_is_picked_again(
    station, tracks, rules, users
):
    """A DJ went live before it was heard: it waits for the AutoDJ's return."""
    asked = ask(station, tracks["Green"], users[0])
    request_cue_next(station.pk)

    assert requests_uncue(station.pk) == 1
    assert request_cue_next(station.pk) == asked


def test_a_request_picked_long_ago_and_never_heard_is_picked_again(
    station, tracks, rules, users
):
    """Its playout's worker died without releasing it."""
    asked = ask(station, tracks["Green"], users[0])
    now = timezone.now()
    request_cue_next(station.pk, now=now)

    assert request_cue_next(station.pk, now=now + CUE_EXPIRY / 2) is None
    later = now + CUE_EXPIRY + timedelta(seconds=1)
    assert request_cue_next(station.pk, now=later) == asked


def test_the_requester_gets_a_notice_when_it_plays(station, tracks, rules, users):
    asked = ask(station, tracks["Blue"], users[0])

    played = song_request_played(request_id=asked.pk)

    assert played.status == SongRequest.Status.PLAYED
    assert played.played_at is not None
    [notice] = inbox_unread(users[0])
    assert notice["kind"] == "notice"
    assert notice["from"] == "Test FM"
    assert notice["station"] == "test-fm"
    assert notice["text"] == "Your request Blue — The Band is playing now on Test FM."
    assert not InboxMessage.objects.filter(recipient=users[1]).exists()


def test_a_request_is_marked_played_once(station, tracks, rules, users):
    asked = ask(station, tracks["Quiet"], users[0])
    song_request_played(request_id=asked.pk)

    assert song_request_played(request_id=asked.pk) is None
    [notice] = inbox_unread(users[0])
    assert notice["text"] == "Your request Quiet is playing now on Test FM."


def test_a_declined_request_is_not_played_nor_noticed(station, tracks, rules, users):
    asked = ask(station, tracks["Quiet"], users[0])
    song_request_decide(request_id=asked.pk, status=SongRequest.Status.DECLINED)

    assert request_cue_next(station.pk) is None
    assert song_request_played(request_id=asked.pk) is None
    assert inbox_unread(users[0]) == []


def test_a_notice_outlives_its_station(station, tracks, rules, users):
    song_request_played(request_id=ask(station, tracks["Blue"], users[0]).pk)

    station.delete()

    [notice] = inbox_unread(users[0])
    assert (notice["from"], notice["station"]) == ("", None)
    assert notice["text"].startswith("Your request Blue")
