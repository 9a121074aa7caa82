"""The statistics page and its CSV exports through Django's test clients:
who may see them, what they hold."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import AsyncClient, Client
from django.utils import timezone

from stations.programme.models import Play
from stations.statistics.models import ClientKind, Transport
from tests.support.personas import signed_in

from ..conftest import STATION_SLUG
from .sessions import session

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = f"/stations/{STATION_SLUG}/studio/statistics/"
SESSIONS_CSV = f"{PAGE}sessions.csv"
PLAYS_CSV = f"{PAGE}plays.csv"


def client_of(persona, client_class=Client):
    client = client_class()
    if persona.cookie:
        client.cookies.load(persona.cookie)
    return client


async def csv_rows(response) -> list[dict[str, str]]:
    text = "".join([part.decode() async for part in response.streaming_content])
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("path", [PAGE, SESSIONS_CSV, PLAYS_CSV])
def test_anonymous_visitors_are_sent_to_sign_in(station, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("path", [PAGE, SESSIONS_CSV, PLAYS_CSV])
def test_a_listener_is_refused(station, listener, path):
    assert client_of(listener).get(path).status_code == 403


@pytest.mark.parametrize("path", [PAGE, SESSIONS_CSV, PLAYS_CSV])
def test_another_stations_dj_is_refused(station, other_dj, path):
    assert client_of(other_dj).get(path).status_code == 403


def test_an_unknown_station_is_not_found(dj):
    response = client_of(dj).get("/stations/no-such/studio/statistics/")
    assert response.status_code == 404


def test_staff_see_the_page(station):
    user, persona = signed_in("boss")
    user.is_staff = True
    user.save()
    assert client_of(persona).get(PAGE).status_code == 200


@pytest.mark.parametrize("path", [PAGE, SESSIONS_CSV, PLAYS_CSV])
def test_an_unknown_range_is_a_bad_request(station, dj, path):
    response = client_of(dj).get(path, {"range": "x" * 5000})
    assert response.status_code == 400
    assert response.content == b"'range' must be one of 24h, 7d, 30d."


def test_the_dj_sees_the_figures_and_the_charts_data(station, dj):
    now = timezone.now()
    session(station, now - timedelta(hours=2), 1800, client_kind=ClientKind.VLC)
    session(station, now - timedelta(hours=1), 1800, address_hash="b" * 64)

    response = client_of(dj).get(PAGE, {"range": "7d"})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<dd id="stat-sessions">2</dd>' in page
    assert '<dd id="stat-unique">2</dd>' in page
    assert '<dd id="stat-hours">1.0</dd>' in page
    assert 'href="?range=7d" aria-current="page"' in page
    chart = response.context["chart"]
    assert chart["range"] == "7d"
    assert len(chart["times"]) == len(chart["average"]) == len(chart["peak"])
    assert max(chart["peak"]) == 1
    assert chart["clients"] == [
        {"label": "Browser", "sessions": 1},
        {"label": "VLC", "sessions": 1},
    ]
    assert '<script id="statistics-data" type="application/json">' in page


def test_the_studio_links_to_the_page(station, dj):
    studio = client_of(dj).get(f"/stations/{STATION_SLUG}/studio/")
    assert f'href="{PAGE}"' in studio.content.decode()


async def test_the_sessions_csv_has_each_session_of_the_range(station, dj):
    now = timezone.now()
    user, _ = await signed_in_async("=evil")
    await asession(station, now - timedelta(hours=3), 90.5, user=user)
    await asession(
        station, now - timedelta(days=3), 60, transport=Transport.HTTP
    )  # not in 24 h

    response = await client_of(dj, AsyncClient).get(SESSIONS_CSV)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="test-fm-sessions-24h.csv"' in response["Content-Disposition"]
    [row] = await csv_rows(response)
    assert row["duration_s"] == "90.5"
    assert row["transport"] == "websocket"
    assert row["client"] == "browser"
    assert row["user"] == "'=evil"
    assert row["address_hash"] == "a" * 64
    rows_7d = await csv_rows(
        await client_of(dj, AsyncClient).get(SESSIONS_CSV, {"range": "7d"})
    )
    assert [r["transport"] for r in rows_7d] == ["http", "websocket"]


async def test_the_plays_csv_counts_listeners_of_each_play(station, dj):
    now = timezone.now()
    first = now - timedelta(hours=1)
    await Play.objects.acreate(
        station=station, title="=cmd", artist="Band", source="autodj",
        started_at=first, listeners=4,
    )  # fmt: skip
    await Play.objects.acreate(
        station=station, title="Next", artist="Band", source="autodj",
        started_at=first + timedelta(minutes=5), listeners=1,
    )  # fmt: skip
    await asession(station, first - timedelta(minutes=1), 120)
    await asession(station, first + timedelta(minutes=2), 600)

    rows = await csv_rows(await client_of(dj, AsyncClient).get(PLAYS_CSV))

    assert [r["title"] for r in rows] == ["'=cmd", "Next"]
    assert rows[0]["listeners_at_start"] == "4"
    assert rows[0]["sessions"] == "2"
    assert rows[0]["peak_listeners"] == "1"
    assert rows[0]["duration_s"] == "300"
    assert rows[0]["listening_s"] == str(60 + 180)
    assert rows[1]["sessions"] == "1"
    assert rows[1]["listening_s"] == str(420)


async def signed_in_async(username):
    from asgiref.sync import sync_to_async

    return await sync_to_async(signed_in)(username)


async def asession(*args, **kwargs):
    from asgiref.sync import sync_to_async

    return await sync_to_async(session)(*args, **kwargs)


def test_the_admin_lists_sessions_read_only(station):
    """Staff see the sessions with filters; none can be added or changed."""
    user, persona = signed_in("admin")
    user.is_staff = user.is_superuser = True
    user.save()
    stored = session(station, timezone.now() - timedelta(hours=1), 60)
    client = client_of(persona)
    listing = client.get(
        "/admin/statistics/listeningsession/", {"client_kind": "browser"}
    )
    assert listing.status_code == 200
    assert f"/admin/statistics/listeningsession/{stored.pk}/change/" in (
        listing.content.decode()
    )
    assert client.get("/admin/statistics/listeningsession/add/").status_code == 403
    change = client.post(
        f"/admin/statistics/listeningsession/{stored.pk}/change/", {"duration_s": 1}
    )
    assert change.status_code == 403
