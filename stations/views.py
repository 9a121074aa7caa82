"""Station pages and the public status document."""

import asyncio
import os

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from .calls.selectors import call_rules
from .models import Station
from .programme.plays import RECENT_PLAYS, station_recent_plays
from .programme.selectors import station_now_and_next
from .runtime import get_bus
from .selectors import astation_directory, astation_get, station_has_dj


def directory(request: HttpRequest) -> HttpResponse:
    """The station directory; its script fills in and updates each station's
    state from ``stations.json``.

    Template: ``stations/directory.html``; context: ``stations``.
    """
    return render(
        request, "stations/directory.html", {"stations": Station.objects.all()}
    )


def listen(request: HttpRequest, slug: str) -> HttpResponse:
    """The listener page of one station.

    Template: ``stations/listen.html``; context: ``station``, ``on_now`` and
    ``up_next`` (schedule occurrences, or None), ``recent_plays`` with
    ``recent_plays_limit`` for "Recently played", and ``call_rules``.
    """
    station = get_object_or_404(Station, slug=slug)
    on_now, up_next = station_now_and_next(station, timezone.now())
    context = {
        "station": station,
        "on_now": on_now,
        "up_next": up_next,
        "recent_plays": station_recent_plays(station),
        "recent_plays_limit": RECENT_PLAYS,
        "call_rules": call_rules(station),
    }
    return render(request, "stations/listen.html", context)


@login_required
def studio(request: HttpRequest, slug: str) -> HttpResponse:
    """The DJ console; only the station's DJs may open it.

    Template: ``stations/studio.html``; context: ``station``.
    """
    station = get_object_or_404(Station, slug=slug)
    if not station_has_dj(station, request.user):
        raise PermissionDenied("Only this station's DJs may open its studio.")
    return render(request, "stations/studio.html", {"station": station})


async def status(request: HttpRequest, slug: str) -> JsonResponse:
    """``status.json``: what the station is playing and how many listen.

    Async, so that it reads the station bus of the server's event loop.
    """
    station = await astation_get(slug)
    if station is None:
        raise Http404("No such station.")
    bus = get_bus()
    return JsonResponse(
        {
            "slug": station.slug,
            "name": station.name,
            **(await bus.state(station.pk)),
            "listeners": await bus.listener_count(station.pk),
        }
    )


async def directory_status(request: HttpRequest) -> JsonResponse:
    """``stations.json``: every station's state, on-air stations first.

    Async for the same reason as ``status``; the directory page polls it.
    """
    return JsonResponse({"stations": await astation_directory(get_bus())})


@staff_member_required
async def worker_status(request: HttpRequest) -> JsonResponse:
    """What this worker process holds, for operators (staff only): its
    station hubs with their clients, and its asyncio tasks."""
    hubs = get_bus().hubs()
    return JsonResponse(
        {
            "pid": os.getpid(),
            "hubs": {
                str(station_id): {
                    "clients": hub.client_count,
                    "listeners": hub.local_count,
                }
                for station_id, hub in hubs.items()
            },
            "tasks": len(asyncio.all_tasks()),
        }
    )
