"""Reading stations and their chat, for views and consumers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F
from django.utils import timezone

from radio.protocol import CHAT_HISTORY_MESSAGES

from .chat import chat_as_dict
from .models import ChatMessage, Station, StationMute
from .streaming.packets import OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE

if TYPE_CHECKING:
    from .streaming.bus import StationBus


def station_get(slug: str) -> Station | None:
    return Station.objects.filter(slug=slug).first()


async def astation_get(slug: str) -> Station | None:
    return await Station.objects.filter(slug=slug).afirst()


async def astation_states(
    bus: StationBus,
) -> list[tuple[Station, dict[str, Any], int]]:
    """Every station with its state and listener count on ``bus``."""
    stations = [station async for station in Station.objects.all()]
    states = await asyncio.gather(*(bus.state(station.pk) for station in stations))
    counts = await asyncio.gather(
        *(bus.listener_count(station.pk) for station in stations)
    )
    return list(zip(stations, states, counts, strict=True))


async def astation_directory(bus: StationBus) -> list[dict[str, Any]]:
    """Every station with its state on ``bus``, as ``stations.json`` lists them.

    On-air stations come first, then the most listened to, then by name.
    Each entry has the fields of ``status.json`` plus ``description``,
    ``url`` (the listener page) and ``schedule`` (the shows on now and next).
    """
    # Imported here: the programme's modules read stations through this one.
    from .programme.live import astations_schedules

    states = await astation_states(bus)
    schedules = await astations_schedules(
        [station for station, _, _ in states], timezone.now()
    )
    entries = [
        {
            "slug": station.slug,
            "name": station.name,
            "description": station.description,
            "url": station.get_absolute_url(),
            **state,
            "listeners": count,
            "schedule": schedules[station.pk],
        }
        for station, state, count in states
    ]
    entries.sort(
        key=lambda entry: (
            not entry["on_air"],
            -entry["listeners"],
            entry["name"].casefold(),
        )
    )
    return entries


def station_has_dj(station: Station, user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return station.djs.filter(pk=user.pk, is_active=True).exists()


async def astation_has_dj(
    station: Station, user: AbstractBaseUser | AnonymousUser
) -> bool:
    if not user.is_authenticated:
        return False
    return await station.djs.filter(pk=user.pk, is_active=True).aexists()


def station_list_of_dj(user: AbstractBaseUser) -> list[Station]:
    """The stations ``user`` may broadcast on, as ``station_has_dj`` says."""
    if not user.is_active:
        return []
    return list(Station.objects.filter(djs=user))


def station_format(station: Station) -> dict[str, Any]:
    """The ``format`` of the station's output as ``hello`` announces it."""
    return {
        "codec": "mp3",
        "bitrate": station.bitrate,
        "sample_rate": OUTPUT_SAMPLE_RATE,
        "channels": OUTPUT_CHANNELS,
    }


def station_managed_by(
    station: Station, user: AbstractBaseUser | AnonymousUser
) -> bool:
    """Whether ``user`` is one of the station's DJs, or staff: they moderate
    its chat, and change its shows, episodes and export its history."""
    return user.is_staff or station_has_dj(station, user)


async def astation_managed_by(
    station: Station, user: AbstractBaseUser | AnonymousUser
) -> bool:
    return user.is_staff or await astation_has_dj(station, user)


def station_chat_muted(station: Station, user: AbstractBaseUser) -> bool:
    return StationMute.objects.filter(station=station, user=user).exists()


def chat_history(
    station: Station, *, limit: int = CHAT_HISTORY_MESSAGES
) -> list[dict[str, Any]]:
    """The station's latest ``limit`` messages not deleted, oldest first.

    Every listener who joins reads it, so its rows come as values: a query
    with ``select_related`` leaves Django's compiler a reference cycle that
    waits for the garbage collector (docs/PERFORMANCE.md, the soak).
    """
    username = F(f"user__{get_user_model().USERNAME_FIELD}")
    latest = (
        ChatMessage.objects.filter(station=station, deleted_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("id", "text", "by_dj", "created_at", username=username)[:limit]
    )
    return [chat_as_dict(**row) for row in reversed(latest)]


achat_history = database_sync_to_async(chat_history)
