"""Changing song requests: asking, the AutoDJ's picks, DJs' decisions.

The requester hears of their request in their inbox when it goes on air
(``song_request_played``), whoever plays it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from listeners.services import station_notice_send
from radio.protocol import INBOX_MAX_TEXT_CHARS
from stations.library.models import Track
from stations.models import Station

from .models import RequestRules, SongRequest
from .rules import RequestAsked, request_check

# A request the AutoDJ picked is heard within seconds (the crossfade and
# the decoder's head start); one picked longer ago than this was never
# heard, its playout having died, and may be picked again.
CUE_EXPIRY = timedelta(minutes=2)


class NotPending(ValueError):
    """The request was already played, skipped or declined."""


def song_request_create(
    *,
    station: Station,
    track_id: int,
    user: AbstractBaseUser,
    now: datetime | None = None,
) -> SongRequest:
    """Queue ``user``'s request of the station's track ``track_id``.

    Raises ``rules.RequestRefused`` with the rule's code and message. The
    station's rules row is locked while the rules are checked, so that
    two requests never both pass a limit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rules = RequestRules.objects.select_for_update().filter(station=station).first()
        track = Track.objects.filter(station=station, pk=track_id).first()
        request_check(
            RequestAsked(
                rules=rules or RequestRules(station=station),
                track=track,
                user=user,
                now=now,
            )
        )
        return SongRequest.objects.create(
            station=station, track=track, user=user, created_at=now
        )


def request_rules_update(*, station: Station, **changes: Any) -> RequestRules:
    """Change the station's request rules (made with the defaults if none);
    raises ValidationError."""
    with transaction.atomic():
        rules, _ = RequestRules.objects.select_for_update().get_or_create(
            station=station
        )
        for name, value in changes.items():
            setattr(rules, name, value)
        rules.full_clean()
        rules.save()
    return rules


# --- The AutoDJ -------------------------------------------------------------


def request_cue_next(
    station_id: int, now: datetime | None = None
) -> SongRequest | None:
    """The station's oldest pending request not picked yet, marked picked.

    Picked requests stay pending until heard (``song_request_played``), so
    the requester is told only when it plays; the AutoDJ asks for its next
    track before the one it picked is heard, hence the mark.
    """
    now = now or timezone.now()
    with transaction.atomic():
        song_request = (
            SongRequest.objects.select_for_update(of=("self",))
            .filter(station_id=station_id, status=SongRequest.Status.PENDING)
            .filter(Q(cued_at=None) | Q(cued_at__lt=now - CUE_EXPIRY))
            .select_related("track")
            .order_by("created_at", "id")
            .first()
        )
        if song_request is not None:
            song_request.cued_at = now
            song_request.save(update_fields=["cued_at"])
    return song_request


def requests_uncue(station_id: int) -> int:
    """Let the AutoDJ pick again the requests it picked but never played
    (a DJ went live, or it stopped); returns how many."""
    return (
        SongRequest.objects.filter(
            station_id=station_id, status=SongRequest.Status.PENDING
        )
        .exclude(cued_at=None)
        .update(cued_at=None)
    )


# --- Played, skipped, declined ---------------------------------------------


def song_request_played(
    *, request_id: int, now: datetime | None = None
) -> SongRequest | None:
    """Mark the request played and tell its requester; None if it was not
    pending (a DJ decided on it meanwhile) or is gone."""
    try:
        return song_request_decide(
            request_id=request_id, status=SongRequest.Status.PLAYED, now=now
        )
    except (NotPending, SongRequest.DoesNotExist):
        return None


def song_request_decide(
    *,
    request_id: int,
    status: SongRequest.Status,
    station_id: int | None = None,
    now: datetime | None = None,
) -> SongRequest:
    """A pending request played, skipped or declined (by a DJ, or played by
    the AutoDJ). Raises SongRequest.DoesNotExist (also when it is not the
    station's) or NotPending."""
    now = now or timezone.now()
    # Only the request's row is locked, not its track, user or station.
    found = SongRequest.objects.select_for_update(of=("self",)).select_related(
        "track", "user", "station"
    )
    if station_id is not None:
        found = found.filter(station_id=station_id)
    with transaction.atomic():
        song_request = found.get(pk=request_id)
        if song_request.status != SongRequest.Status.PENDING:
            raise NotPending(song_request.status)
        song_request.status = status
        song_request.decided_at = now
        fields = ["status", "decided_at"]
        if status == SongRequest.Status.PLAYED:
            song_request.played_at = now
            fields.append("played_at")
            _notify_requester(song_request)
        song_request.save(update_fields=fields)
    return song_request


def _notify_requester(song_request: SongRequest) -> None:
    track = song_request.track
    song = f"{track.title} — {track.artist}" if track.artist else track.title
    text = f"Your request {song} is playing now on {song_request.station.name}."
    station_notice_send(
        station=song_request.station,
        recipient=song_request.user,
        text=text[:INBOX_MAX_TEXT_CHARS],
    )


asong_request_create = database_sync_to_async(song_request_create)
asong_request_decide = database_sync_to_async(song_request_decide)
asong_request_played = database_sync_to_async(song_request_played)
arequest_cue_next = database_sync_to_async(request_cue_next)
arequests_uncue = database_sync_to_async(requests_uncue)
