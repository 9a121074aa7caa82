"""Old listening sessions go: those that ended more than
``RADIO_STATS_RETENTION_DAYS`` ago, checked hourly by every worker."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from stations.models import Station

from .models import ListeningSession

logger = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 60 * 60


async def prune_regularly() -> None:
    while True:
        try:
            kept = timedelta(days=settings.RADIO_STATS_RETENTION_DAYS)
            cutoff = timezone.now() - kept
            await database_sync_to_async(sessions_prune, thread_sensitive=False)(
                older_than=cutoff
            )
        except Exception:
            logger.exception("Pruning the listening sessions failed")
        await asyncio.sleep(PRUNE_INTERVAL_SECONDS)


def sessions_prune(*, older_than: datetime) -> int:
    """Delete the sessions that ended before ``older_than``; how many went."""
    deleted = 0
    # Station by station, so each delete reads the (station, ended_at) index.
    for station_id in Station.objects.values_list("pk", flat=True):
        deleted += ListeningSession.objects.filter(
            station_id=station_id, ended_at__lt=older_than
        ).delete()[0]
    return deleted
