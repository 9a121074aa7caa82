"""Storing finished sessions, and pruning old ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from stations.models import Station
from stations.statistics.models import ClientKind, ListeningSession, Transport
from stations.statistics.recorder import FinishedVisit, Visit
from stations.statistics.retention import sessions_prune
from stations.statistics.services import listening_sessions_create

from .sessions import session

pytestmark = pytest.mark.django_db(transaction=True)

STARTED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def finished(station_id: int, user_id: int | None = None) -> FinishedVisit:
    visit = Visit(
        station_id=station_id,
        transport=Transport.HTTP,
        user_agent="foobar2000/2.1",
        address="2001:db8::1",
        user_id=user_id,
        started_at=STARTED,
    )
    return FinishedVisit(visit, STARTED + timedelta(seconds=42), 42.0)


def test_sessions_are_stored_with_kind_and_hash_never_the_address():
    station = Station.objects.create(slug="a", name="A")
    assert listening_sessions_create([finished(station.pk)] * 3) == 3
    stored = ListeningSession.objects.first()
    assert stored.client_kind == ClientKind.WINAMP
    assert stored.duration_s == 42.0
    assert len(stored.address_hash) == 64
    assert "2001:db8" not in stored.address_hash


def test_a_deleted_station_or_user_does_not_lose_the_others_sessions():
    """Sessions of a station deleted while they waited are dropped; a
    deleted user's are kept without the user."""
    kept = Station.objects.create(slug="kept", name="Kept")
    gone = Station.objects.create(slug="gone", name="Gone")
    user = get_user_model().objects.create_user("leaver")
    batch = [finished(kept.pk, user.pk), finished(gone.pk), finished(kept.pk)]
    gone.delete()
    user.delete()

    assert listening_sessions_create(batch) == 2

    assert set(ListeningSession.objects.values_list("station_id", "user_id")) == {
        (kept.pk, None)
    }


def test_sessions_that_ended_before_the_cutoff_are_pruned():
    station = Station.objects.create(slug="a", name="A")
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    session(station, cutoff - timedelta(hours=2), 3600)
    crossing = session(station, cutoff - timedelta(minutes=30), 3600)
    assert sessions_prune(older_than=cutoff) == 1
    assert list(ListeningSession.objects.all()) == [crossing]
