"""Reads of webhooks and their deliveries."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from stations.models import Station
from stations.programme.models import Episode

from .events import EPISODE_PUBLISHED
from .models import Delivery, Webhook
from .outbox import KEEP_DAYS

# Deliveries shown with a webhook in the studio and the admin.
RECENT_DELIVERIES = 20


def hooked_stations() -> dict[int, frozenset[str]]:
    """The events wanted by each station's enabled webhooks, by station id."""
    wanted: dict[int, set[str]] = {}
    rows = Webhook.objects.filter(enabled=True).values_list("station_id", "events")
    for station_id, events in rows:
        wanted.setdefault(station_id, set()).update(events)
    return {station_id: frozenset(events) for station_id, events in wanted.items()}


def station_webhooks(station: Station) -> list[Webhook]:
    return list(station.webhooks.order_by("created_at", "id"))


def station_deliveries(station: Station) -> list[Delivery]:
    """The station's newest deliveries, for its log."""
    return list(
        Delivery.objects.filter(webhook__station=station)
        .select_related("webhook")
        .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
    )


def episodes_unannounced(station_id: int) -> list[Episode]:
    """Published, finished episodes the station's webhooks were not told of:
    those that ended since its first such webhook, within the log's days."""
    # JSON lists cannot be searched on SQLite; a station has few webhooks.
    created = [
        webhook.created_at
        for webhook in Webhook.objects.filter(station_id=station_id, enabled=True)
        if EPISODE_PUBLISHED in webhook.events
    ]
    if not created:
        return []
    since = max(min(created), timezone.now() - timedelta(days=KEEP_DAYS))
    told = set(
        Delivery.objects.filter(
            webhook__station_id=station_id,
            event=EPISODE_PUBLISHED,
            created_at__gte=since,
        ).values_list("dedupe_key", flat=True)
    )
    episodes = Episode.objects.filter(
        station_id=station_id, published=True, ended_at__gte=since
    ).select_related("show", "station")
    return [episode for episode in episodes if episode_key(episode) not in told]


def episode_key(episode: Episode) -> str:
    return f"episode:{episode.pk}"
