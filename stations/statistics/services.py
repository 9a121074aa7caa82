"""Storing listening sessions."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from stations.models import Station

from .clients import client_kind
from .models import ListeningSession
from .privacy import address_hash, stats_salt
from .recorder import FinishedVisit


def listening_sessions_create(finished: Sequence[FinishedVisit]) -> int:
    """Store ``finished`` sessions in one insert; how many were stored.

    A station or user deleted while its sessions waited drops them.
    """
    salt = stats_salt()
    sessions = [
        ListeningSession(
            station_id=item.visit.station_id,
            started_at=item.visit.started_at,
            ended_at=item.ended_at,
            duration_s=item.duration_s,
            transport=item.visit.transport,
            client_kind=client_kind(item.visit.user_agent),
            user_id=item.visit.user_id,
            address_hash=address_hash(item.visit.address, salt),
        )
        for item in finished
    ]
    try:
        with transaction.atomic():
            ListeningSession.objects.bulk_create(sessions)
    except IntegrityError:
        sessions = _still_referable(sessions)
        ListeningSession.objects.bulk_create(sessions)
    return len(sessions)


def _still_referable(sessions: list[ListeningSession]) -> list[ListeningSession]:
    stations = set(
        Station.objects.filter(pk__in={s.station_id for s in sessions}).values_list(
            "pk", flat=True
        )
    )
    users = set(
        get_user_model()
        .objects.filter(pk__in={s.user_id for s in sessions if s.user_id})
        .values_list("pk", flat=True)
    )
    kept = []
    for session in sessions:
        if session.station_id not in stations:
            continue
        if session.user_id not in users:
            session.user_id = None
        kept.append(session)
    return kept
