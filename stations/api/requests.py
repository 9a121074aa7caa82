"""Song requests in AzuraCast's shape: the tracks a listener may request
(``GET /stations/{slug}/requests``) and asking for one
(``POST /stations/{slug}/request/{request_id}``, signed in); for the
station's DJs the queue, their decisions on it, and skipping the AutoDJ's
track.

Thin: the rules are ``song_requests.rules``, the changes
``song_requests.services``. Answers carry AzuraCast's ``success``,
``message`` and ``formatted_message``, plus a ``code`` for each refusal.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from stations.library.autodj import askip
from stations.models import Station
from stations.runtime import get_bus
from stations.selectors import (
    astation_get,
    astation_managed_by,
    station_get,
    station_managed_by,
)
from stations.song_requests import rules
from stations.song_requests.models import (
    MAX_PENDING_LIMIT,
    MAX_RULE_MINUTES,
    SongRequest,
)
from stations.song_requests.selectors import (
    MAX_QUERY_CHARS,
    MAX_RESULTS,
    request_queue,
    request_rules,
    requestable_tracks,
)
from stations.song_requests.services import (
    NotPending,
    request_rules_update,
    song_request_create,
)
from stations.song_requests.services import song_request_decide as decide
from stations.streaming.bus import AUTODJ, LIVE

from . import schemas
from .auth import key_or_session
from .nowplaying import Site, song
from .routes import NO_SUCH_STATION, Slug, site_of

router = Router(tags=["Song requests"])
# The most results one search may skip: deeper pages are refused.
MAX_OFFSET = 10_000
# Each refusal's HTTP status.
REFUSAL_STATUS = {
    rules.REQUESTS_DISABLED: 403,
    rules.AUTH_REQUIRED: 401,
    rules.NOT_REQUESTABLE: 404,
    rules.TOO_SOON: 429,
    rules.QUEUE_FULL: 409,
    rules.RECENTLY_PLAYED: 409,
    rules.SAME_ARTIST: 409,
}
MANAGERS_ONLY = "Only the station's DJs may do this."
DECISIONS = {
    "play": SongRequest.Status.PLAYED,
    "skip": SongRequest.Status.SKIPPED,
    "decline": SongRequest.Status.DECLINED,
}


class StationRequest(Schema):
    """A track that may be requested, as AzuraCast's ``StationRequest``."""

    request_id: str
    request_url: str
    song: schemas.Song


class Answer(Schema):
    """AzuraCast's ``Status`` answer, with the refusal's ``code``."""

    success: bool
    code: str
    message: str
    formatted_message: str
    # For ``too_soon``: when the listener may ask again (ISO 8601).
    retry_at: datetime | None = None


class QueuedRequest(Schema):
    id: int
    title: str
    artist: str
    user: str
    requested_at: datetime
    # The AutoDJ has picked it to play next.
    cued: bool


class Rules(Schema):
    """A station's request rules, as its DJs see and set them."""

    enabled: bool
    per_user_minutes: int = Field(ge=0, le=MAX_RULE_MINUTES)
    repeat_minutes: int = Field(ge=0, le=MAX_RULE_MINUTES)
    max_pending: int = Field(ge=1, le=MAX_PENDING_LIMIT)
    artist_separation: bool


class Search(Schema):
    q: str = Field("", max_length=MAX_QUERY_CHARS)
    limit: int = Field(MAX_RESULTS, ge=1, le=MAX_RESULTS)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def answer(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "success": code == "ok",
        "code": code,
        "message": message,
        "formatted_message": message,
        **extra,
    }


def station_or_404(slug: str) -> Station:
    station = station_get(slug)
    if station is None:
        raise HttpError(404, NO_SUCH_STATION)
    return station


def managed_station_or_error(request: HttpRequest, slug: str) -> Station:
    """The station, if the caller is one of its DJs or staff; else 404/403."""
    station = station_or_404(slug)
    if not station_managed_by(station, request.auth):
        raise HttpError(403, MANAGERS_ONLY)
    return station


def request_item(station: Station, track, site: Site) -> dict[str, Any]:
    path = reverse(
        "api:song_request", kwargs={"slug": station.slug, "request_id": track.pk}
    )
    return {
        "request_id": str(track.pk),
        "request_url": site.url(path),
        "song": song(track.title, track.artist),
    }


@router.get(
    "/stations/{slug}/requests",
    response={200: list[StationRequest], 403: Answer, 404: schemas.Error},
    url_name="song_request_list",
)
def requestable(request: HttpRequest, slug: Slug, search: Query[Search]):
    """The tracks listeners may request, by artist and title; ``q`` picks
    those whose title or artist holds it."""
    station = station_or_404(slug)
    if not request_rules(station).enabled:
        return Status(
            403, answer(rules.REQUESTS_DISABLED, "This station does not take requests.")
        )
    tracks = requestable_tracks(
        station, search.q, limit=search.limit, offset=search.offset
    )
    site = site_of(request)
    return [request_item(station, track, site) for track in tracks]


@router.post(
    "/stations/{slug}/request/{request_id}",
    response={
        200: Answer,
        401: Answer,
        403: Answer,
        404: Answer,
        409: Answer,
        429: Answer,
    },
    auth=key_or_session,
    url_name="song_request",
)
def request_song(
    request: HttpRequest,
    slug: Slug,
    request_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    response: HttpResponse,
):
    """Ask for a track (its ``request_id`` from the list); refusals name
    the rule (``code``) and say why (``message``)."""
    station = station_get(slug)
    if station is None:
        return Status(404, answer("no_such_station", NO_SUCH_STATION))
    try:
        song_request_create(station=station, track_id=request_id, user=request.auth)
    except rules.RequestRefused as refused:
        if refused.retry_at is not None:
            wait = (refused.retry_at - timezone.now()).total_seconds()
            response["Retry-After"] = str(max(math.ceil(wait), 1))
        return Status(
            REFUSAL_STATUS[refused.code],
            answer(refused.code, refused.message, retry_at=refused.retry_at),
        )
    return Status(
        200, answer("ok", "Your request has been submitted and will play soon.")
    )


# --- For the station's DJs ---------------------------------------------------


@router.get(
    "/stations/{slug}/requests/queue",
    response={200: list[QueuedRequest], 403: schemas.Error, 404: schemas.Error},
    auth=key_or_session,
    url_name="song_request_queue",
)
def queue(request: HttpRequest, slug: Slug):
    """The pending requests, oldest (next) first; the station's DJs only."""
    station = managed_station_or_error(request, slug)
    return [
        {
            "id": pending.pk,
            "title": pending.track.title,
            "artist": pending.track.artist,
            "user": pending.user.get_username(),
            "requested_at": pending.created_at,
            "cued": pending.cued_at is not None,
        }
        for pending in request_queue(station.pk)
    ]


@router.get(
    "/stations/{slug}/requests/rules",
    response={200: Rules, 403: schemas.Error, 404: schemas.Error},
    auth=key_or_session,
    url_name="song_request_rules",
)
def rules_read(request: HttpRequest, slug: Slug):
    """The station's request rules; the station's DJs only."""
    return request_rules(managed_station_or_error(request, slug))


@router.put(
    "/stations/{slug}/requests/rules",
    response={200: Rules, 403: schemas.Error, 404: schemas.Error},
    auth=key_or_session,
)
def rules_write(request: HttpRequest, slug: Slug, changed: Rules):
    """Set the station's request rules; the station's DJs only."""
    station = managed_station_or_error(request, slug)
    return request_rules_update(station=station, **changed.model_dump())


@router.post(
    "/stations/{slug}/requests/{request_pk}/{decision}",
    response={200: Answer, 403: schemas.Error, 404: schemas.Error, 409: Answer},
    auth=key_or_session,
)
def decide_request(
    request: HttpRequest,
    slug: Slug,
    request_pk: Annotated[int, Path(ge=1, le=2**63 - 1)],
    decision: Literal["play", "skip", "decline"],
):
    """A DJ's decision on a pending request: ``play`` (the DJ plays it; the
    requester is told), ``skip`` or ``decline``."""
    station = managed_station_or_error(request, slug)
    try:
        decide(request_id=request_pk, status=DECISIONS[decision], station_id=station.pk)
    except SongRequest.DoesNotExist:
        raise HttpError(404, "No such request.") from None
    except NotPending as done:
        return Status(409, answer("not_pending", f"That request was {done} already."))
    return Status(200, answer("ok", f"Request {DECISIONS[decision].label}."))


@router.post(
    "/stations/{slug}/skip",
    response={202: Answer, 403: schemas.Error, 404: schemas.Error, 409: Answer},
    auth=key_or_session,
    url_name="autodj_skip",
)
async def skip(request: HttpRequest, slug: Slug):
    """Make the AutoDJ fade into its next track now; the station's DJs and
    staff only. 409 while a DJ is live, or while the AutoDJ does not play."""
    station = await astation_get(slug)
    if station is None:
        raise HttpError(404, NO_SUCH_STATION)
    if not await astation_managed_by(station, request.auth):
        raise HttpError(403, MANAGERS_ONLY)
    source = (await get_bus().state(station.pk))["source"]
    if source == LIVE:
        return Status(
            409, answer("dj_live", "A DJ is live: the AutoDJ plays nothing now.")
        )
    if source != AUTODJ:
        return Status(
            409, answer("not_autodj", "The AutoDJ is not playing: nothing to skip.")
        )
    await askip(station.pk)
    return Status(202, answer("ok", "Skipping to the next track."))
