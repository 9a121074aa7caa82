"""Listening sessions made directly in the database for the tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from stations.statistics.models import ClientKind, ListeningSession, Transport


def session(
    station,
    started_at: datetime,
    seconds: float,
    *,
    address_hash: str = "a" * 64,
    client_kind: ClientKind = ClientKind.BROWSER,
    transport: Transport = Transport.WEBSOCKET,
    user=None,
) -> ListeningSession:
    return ListeningSession.objects.create(
        station=station,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=seconds),
        duration_s=seconds,
        transport=transport,
        client_kind=client_kind,
        user=user,
        address_hash=address_hash,
    )
