"""While Redis is away, what needs the station bus answers 503, not 500."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from stations import runtime
from stations.models import Station
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_away(settings, monkeypatch):
    """The station bus of a worker whose Redis does not answer."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setattr(runtime, "_buses", {})


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/stations/away/status.json", "error"),
        ("/stations.json", "error"),
        ("/api/nowplaying/away", "detail"),
        ("/api/nowplaying", "detail"),
    ],
)
async def test_what_needs_the_bus_answers_503_with_retry_after(redis_away, path, field):
    await Station.objects.acreate(slug="away", name="Away")
    response = await AsyncClient().get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.json()[field]
