"""Reading calls: the queue DJs see, and a call as its caller sees it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F

from radio import protocol
from stations.models import Station

from .models import Call, CallRules


def call_rules(station: Station) -> CallRules:
    """The station's rules; the defaults (no calls) if it has none."""
    return CallRules.objects.filter(station=station).first() or CallRules(
        station=station
    )


acall_rules = database_sync_to_async(call_rules)


def ends_at(call: Call, time_limit: timedelta) -> datetime | None:
    return call.answered_at + time_limit if call.answered_at else None


def call_for_caller(call: Call, time_limit: timedelta) -> dict[str, Any]:
    """The ``call`` message that tells a caller where their call stands."""
    message: dict[str, Any] = {
        "type": protocol.CALL,
        "id": call.pk,
        "state": call.state,
    }
    if call.state == Call.State.ENDED:
        message["reason"] = call.end_reason
    elif call.answered_at:
        message["ends_at"] = ends_at(call, time_limit).isoformat()
        message["ice_servers"] = settings.RADIO_ICE_SERVERS
    return message


def call_queue(station: Station) -> dict[str, Any]:
    """The ``calls`` message: the station's open calls, oldest first, for
    its DJs' consoles."""
    rules = call_rules(station)
    calls = Call.objects.filter(station=station).exclude(state=Call.State.ENDED)
    username = get_user_model().USERNAME_FIELD
    rows = calls.values(
        "id", "text", "state", "requested_at", "answered_at",
        user=F(f"caller__{username}"), answered_by=F(f"dj__{username}"),
    )  # fmt: skip
    return {
        "type": protocol.CALLS,
        "enabled": rules.enabled,
        "paused": rules.paused,
        "time_limit_s": rules.time_limit.total_seconds(),
        "ice_servers": settings.RADIO_ICE_SERVERS,
        "calls": [
            {
                **row,
                "requested_at": row["requested_at"].isoformat(),
                "answered_at": row["answered_at"] and row["answered_at"].isoformat(),
                "ends_at": row["answered_at"]
                and (row["answered_at"] + rules.time_limit).isoformat(),
            }
            for row in rows
        ],
    }


acall_queue = database_sync_to_async(call_queue)
