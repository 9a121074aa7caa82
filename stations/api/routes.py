"""The public read endpoints: now playing, schedule and history.

Thin: each reads through ``nowplaying`` or ``programme`` and answers 404
with a ``detail`` for an unknown station. Async, so that the station bus of
the server's event loop is read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from stations.models import Station
from stations.runtime import get_bus
from stations.selectors import astation_get

from . import schemas
from .cache import abuilt_once, seconds_left
from .live import nowplaying_events
from .nowplaying import Site, anowplaying, anowplaying_all, nowplaying_key
from .programme import (
    HISTORY_MAX_PAGE_PLAYS,
    HISTORY_PAGE_PLAYS,
    astation_history,
    astation_schedule,
)

router = Router(tags=["Now playing"])
NO_SUCH_STATION = "No such station."
# Reads answer HEAD too, as a player or a link checker may probe with it.
READ_METHODS = ["GET", "HEAD"]
# A station's slug, as long as ``Station.slug`` may be.
Slug = Annotated[str, Path(max_length=50)]
# The longest page number accepted: pages past the history are empty.
MAX_PAGE = 100_000


def site_of(request: HttpRequest) -> Site:
    return Site(f"{request.scheme}://{request.get_host()}")


def shared_while_kept(response: HttpResponse, key: Hashable) -> None:
    """Let shared caches keep the answer for as long as this worker keeps it:
    ``radio.middleware.SharedCache`` in front of Django, nginx, a CDN."""
    response["Cache-Control"] = f"public, max-age={int(seconds_left(key))}"


async def cached_for_station(
    what: str,
    slug: str,
    build: Callable[[Station], Awaitable[Any]],
    response: HttpResponse,
) -> Any:
    """``build(station)``, or what it gave within ``RADIO_API_CACHE_SECONDS``;
    404 if there is no such station."""

    async def build_if_found() -> Any:
        station = await astation_get(slug)
        return None if station is None else await build(station)

    found = await abuilt_once(what, build_if_found)
    if found is None:
        raise HttpError(404, NO_SUCH_STATION)
    shared_while_kept(response, what)
    return found


@router.api_operation(READ_METHODS, "/nowplaying", response=list[schemas.NowPlaying])
async def nowplaying_all(request: HttpRequest, response: HttpResponse):
    """Every station's now playing, as AzuraCast's ``/api/nowplaying``."""
    site = site_of(request)
    found = await anowplaying_all(get_bus(), site)
    shared_while_kept(response, nowplaying_key("*", site))
    return found


@router.api_operation(
    READ_METHODS,
    "/nowplaying/{slug}",
    response={200: schemas.NowPlaying, 404: schemas.Error},
)
async def nowplaying(request: HttpRequest, response: HttpResponse, slug: Slug):
    """One station's now playing, as AzuraCast's ``/api/nowplaying/{id}``."""
    site = site_of(request)
    found = await anowplaying(slug, get_bus(), site)
    if found is None:
        raise HttpError(404, NO_SUCH_STATION)
    shared_while_kept(response, nowplaying_key(slug, site))
    return found


@router.api_operation(
    READ_METHODS,
    "/stations/{slug}/schedule",
    response={200: list[schemas.ScheduleEntry], 404: schemas.Error},
)
async def schedule(request: HttpRequest, response: HttpResponse, slug: Slug):
    """The station's shows in the coming week, as AzuraCast's schedule."""
    return await cached_for_station(
        f"schedule:{slug}",
        slug,
        lambda station: astation_schedule(station, timezone.now()),
        response,
    )


class HistoryPage(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    limit: int = Field(HISTORY_PAGE_PLAYS, ge=1, le=HISTORY_MAX_PAGE_PLAYS)


@router.api_operation(
    READ_METHODS,
    "/stations/{slug}/history",
    response={200: list[schemas.SongHistory], 404: schemas.Error},
)
async def history(
    request: HttpRequest,
    response: HttpResponse,
    slug: Slug,
    paging: Query[HistoryPage],
):
    """The station's play history, newest first, ``limit`` plays a page."""
    return await cached_for_station(
        f"history:{slug}:{paging.page}:{paging.limit}",
        slug,
        lambda station: astation_history(
            station, page=paging.page, per_page=paging.limit
        ),
        response,
    )


@router.get(
    "/live/nowplaying/{slug}",
    response={200: schemas.NowPlaying, 404: schemas.Error},
    openapi_extra={
        "responses": {
            200: {
                "description": "Server-Sent Events; each ``data`` is a "
                "NowPlaying object.",
                "content": {"text/event-stream": {}},
            }
        }
    },
)
async def nowplaying_live(request: HttpRequest, slug: Slug):
    """The station's now playing pushed as Server-Sent Events: at connect
    and on every change, with a keep-alive comment while nothing changes."""
    station = await astation_get(slug)
    if station is None:
        raise HttpError(404, NO_SUCH_STATION)
    response = StreamingHttpResponse(
        nowplaying_events(station, site_of(request)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    # nginx would otherwise hold the events back in its buffer.
    response["X-Accel-Buffering"] = "no"
    return response
