"""A station's rules for song requests: whether a request may be queued.

Each refusal has its own code and a message a listener can act on. The
checks read the queue and the play history; ``services.song_request_create``
runs them while it holds the station's rules row, so two requests cannot
both pass a limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser

from stations.library.models import Track
from stations.programme.models import Play

from .models import RequestRules, SongRequest

REQUESTS_DISABLED = "requests_disabled"
AUTH_REQUIRED = "auth_required"
NOT_REQUESTABLE = "not_requestable"
TOO_SOON = "too_soon"
QUEUE_FULL = "queue_full"
RECENTLY_PLAYED = "recently_played"
SAME_ARTIST = "same_artist"

# The statuses that count as a track having been requested: a declined
# request does not keep a track back.
COUNTED_STATUSES = [
    SongRequest.Status.PENDING,
    SongRequest.Status.PLAYED,
    SongRequest.Status.SKIPPED,
]


class RequestRefused(Exception):
    """A request the station's rules do not allow."""

    def __init__(
        self, code: str, message: str, *, retry_at: datetime | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # For ``too_soon``: when the listener may ask again.
        self.retry_at = retry_at


@dataclass(frozen=True)
class RequestAsked:
    """A request to check: who asks for which track, and when."""

    rules: RequestRules
    track: Track | None
    user: AbstractBaseUser
    now: datetime


def request_check(asked: RequestAsked) -> None:
    """Raise :class:`RequestRefused` unless the rules allow ``asked``."""
    for check in (
        _check_enabled,
        _check_signed_in,
        _check_requestable,
        _check_user_wait,
        _check_queue_room,
        _check_repeat,
        _check_artist,
    ):
        check(asked)


def _check_enabled(asked: RequestAsked) -> None:
    if not asked.rules.enabled:
        raise RequestRefused(REQUESTS_DISABLED, "This station does not take requests.")


def _check_signed_in(asked: RequestAsked) -> None:
    if not asked.user.is_authenticated:
        raise RequestRefused(AUTH_REQUIRED, "Sign in to request a song.")


def _check_requestable(asked: RequestAsked) -> None:
    if asked.track is None or asked.track.station_id != asked.rules.station_id:
        raise RequestRefused(
            NOT_REQUESTABLE, "That track is not in this station's library."
        )


def _check_user_wait(asked: RequestAsked) -> None:
    wait = timedelta(minutes=asked.rules.per_user_minutes)
    last = (
        SongRequest.objects.filter(
            station_id=asked.rules.station_id,
            user=asked.user,
            created_at__gt=asked.now - wait,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return
    retry_at = last + wait
    minutes = math.ceil((retry_at - asked.now).total_seconds() / 60)
    raise RequestRefused(
        TOO_SOON,
        f"You may request one song every {asked.rules.per_user_minutes} minutes: "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_at=retry_at,
    )


def _check_queue_room(asked: RequestAsked) -> None:
    pending = SongRequest.objects.filter(
        station_id=asked.rules.station_id, status=SongRequest.Status.PENDING
    ).count()
    if pending >= asked.rules.max_pending:
        raise RequestRefused(
            QUEUE_FULL,
            f"The request queue is full ({pending} waiting): try again later.",
        )


def _check_repeat(asked: RequestAsked) -> None:
    track = asked.track
    since = asked.now - timedelta(minutes=asked.rules.repeat_minutes)
    requested = (
        SongRequest.objects.filter(
            track=track, status__in=COUNTED_STATUSES, created_at__gt=since
        ).exists()
        or SongRequest.objects.filter(
            track=track, status=SongRequest.Status.PENDING
        ).exists()
    )
    played = Play.objects.filter(
        station_id=track.station_id,
        title=track.title,
        artist=track.artist,
        started_at__gt=since,
    ).exists()
    if requested or played:
        raise RequestRefused(
            RECENTLY_PLAYED,
            f"“{track.title}” was played or requested in the last "
            f"{asked.rules.repeat_minutes} minutes: choose another song.",
        )


def _check_artist(asked: RequestAsked) -> None:
    artist = asked.track.artist.strip()
    if not asked.rules.artist_separation or not artist:
        return
    last = (
        SongRequest.objects.filter(
            station_id=asked.rules.station_id, status=SongRequest.Status.PENDING
        )
        .order_by("-created_at", "-id")
        .values_list("track__artist", flat=True)
        .first()
    )
    if last is not None and last.strip().casefold() == artist.casefold():
        raise RequestRefused(
            SAME_ARTIST,
            f"The last request is by {artist} too: choose another artist for now.",
        )
