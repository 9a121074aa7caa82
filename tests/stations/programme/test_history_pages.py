"""The history page, the listener page's "Recently played" and the CSV
export, through Django's test clients."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client
from django.utils import timezone

from stations.programme.models import Play, Show
from tests.support.personas import Persona, signed_in

from ..conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = f"/stations/{STATION_SLUG}/history/"
CSV = f"/stations/{STATION_SLUG}/history.csv"


def play(station, started_at: datetime, title: str = "Song", **fields) -> Play:
    fields = {"artist": "Band", "source": "autodj", **fields}
    return Play.objects.create(
        station=station, title=title, started_at=started_at, **fields
    )


def client_of(persona, client_class=AsyncClient):
    """A test client carrying ``persona``'s session cookie."""
    client = client_class()
    if persona.cookie:
        client.cookies.load(persona.cookie)
    return client


def signed_in_staff():
    user, persona = signed_in("boss")
    user.is_staff = True
    user.save()
    return persona


@pytest.fixture
def staff(transactional_db):
    return signed_in_staff()


async def csv_rows(response) -> list[dict[str, str]]:
    text = "".join([part.decode() async for part in response.streaming_content])
    return list(csv.DictReader(io.StringIO(text)))


# --- History page -----------------------------------------------------------


def test_history_groups_plays_by_day_in_the_station_zone(station):
    """23:30 UTC on 1 March is 00:30 on 2 March in Berlin: the later day."""
    station.timezone = "Europe/Berlin"
    station.save()
    show = Show.objects.create(station=station, name="Night Owls", slug="owls")
    play(station, datetime(2026, 3, 1, 22, 0, tzinfo=UTC), "Before midnight")
    play(
        station,
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        "After midnight",
        source="live",
        dj_name="alice",
        show=show,
        listeners=12,
    )

    page = Client().get(HISTORY)

    assert page.status_code == 200
    html = page.content.decode()
    days = [html.index("2026-03-02"), html.index("2026-03-01")]
    assert days == sorted(days), "the newest day comes first"
    assert html.index("After midnight") < days[1] < html.index("Before midnight")
    assert '<time datetime="2026-03-02T00:30:00+01:00">00:30</time>' in html
    row = html[html.index("After midnight") :].split("</tr>")[0]
    assert "alice" in row and "Night Owls" in row and ">12<" in row
    before = html[html.index("Before midnight") :].split("</tr>")[0]
    assert "AutoDJ" in before


def test_history_pages_go_back_in_time(station, settings):
    settings.RADIO_HISTORY_PAGE_PLAYS = 2
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for minute in range(5):
        play(station, start + timedelta(minutes=minute), f"Track {minute}")
    client = Client()

    first = client.get(HISTORY).content.decode()
    last = client.get(HISTORY, {"page": 3}).content.decode()
    past_the_end = client.get(HISTORY, {"page": 99}).content.decode()

    assert "Track 4" in first and "Track 3" in first and "Track 2" not in first
    assert 'rel="next" href="?page=2"' in first
    assert "Track 0" in last and "Track 1" not in last
    assert "Page 3 of 3" in past_the_end
    assert Client().get("/stations/no-such/history/").status_code == 404


def test_titles_are_escaped_on_the_history_and_listener_pages(station):
    play(station, timezone.now(), "<script>alert(1)</script>", artist="<b>x</b>")
    client = Client()
    for url in (HISTORY, f"/stations/{STATION_SLUG}/"):
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_listener_page_shows_the_last_ten_titled_plays(station):
    start = timezone.now() - timedelta(hours=1)
    for minute in range(12):
        play(station, start + timedelta(minutes=minute), f"Tune {minute:02}")
    play(station, start + timedelta(minutes=20), "", artist="")

    html = Client().get(f"/stations/{STATION_SLUG}/").content.decode()

    recent = html[html.index('id="recent-plays"') :].split("</section>")[0]
    shown = [
        f"Tune {minute:02}" for minute in range(12) if f"Tune {minute:02}" in recent
    ]
    assert shown == [f"Tune {minute:02}" for minute in range(2, 12)]
    assert recent.index("Tune 11") < recent.index("Tune 02")
    assert 'data-limit="10"' in recent


def test_the_export_link_is_shown_to_djs_and_staff_only(
    station, dj, other_dj, listener, staff
):
    for persona, shown in (
        (Persona(), False),
        (listener, False),
        (other_dj, False),
        (dj, True),
        (staff, True),
    ):
        html = client_of(persona, Client).get(HISTORY).content.decode()
        assert ('id="history-export"' in html) is shown, persona.username


# --- CSV export -------------------------------------------------------------


async def test_the_csv_has_one_row_per_play_with_its_duration(station, dj):
    await station.__class__.objects.filter(pk=station.pk).aupdate(
        timezone="America/New_York"
    )
    show = await Show.objects.acreate(station=station, name="Drive", slug="drive")
    first = datetime(2026, 7, 4, 14, 0, tzinfo=UTC)
    await Play.objects.acreate(
        station=station, title="One", artist="A", source="autodj",
        started_at=first, listeners=3,
    )  # fmt: skip
    await Play.objects.acreate(
        station=station, title="Two", artist="B", source="live", dj_name="dj",
        started_at=first + timedelta(seconds=185.4), listeners=7, show=show,
    )  # fmt: skip
    # The next day in New York (02:00 UTC on the 5th is 22:00 on the 4th,
    # 05:00 is 01:00 on the 5th): outside the export, yet it ends "Two".
    await Play.objects.acreate(
        station=station, title="Three", artist="C", source="autodj",
        started_at=datetime(2026, 7, 5, 5, 0, tzinfo=UTC),
    )  # fmt: skip

    response = await client_of(dj).get(CSV, {"from": "2026-07-04", "to": "2026-07-04"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{STATION_SLUG}-plays-2026-07-04-2026-07-04.csv"'
    )
    rows = await csv_rows(response)
    assert rows == [
        {
            "started_at": "2026-07-04T14:00:00Z",
            "station": "Test FM",
            "title": "One",
            "artist": "A",
            "source": "autodj",
            "dj": "",
            "show": "",
            "listeners": "3",
            "duration_s": "185",
        },
        {
            "started_at": "2026-07-04T14:03:05.400000Z",
            "station": "Test FM",
            "title": "Two",
            "artist": "B",
            "source": "live",
            "dj": "dj",
            "show": "Drive",
            "listeners": "7",
            # 14:03:05.4 to 05:00:00 the next day.
            "duration_s": "53815",
        },
    ]


async def test_the_last_play_has_no_duration_yet_and_defaults_are_30_days(station, dj):
    now = timezone.now()
    await Play.objects.acreate(
        station=station,
        title="Old",
        source="autodj",
        started_at=now - timedelta(days=31),
    )
    await Play.objects.acreate(
        station=station,
        title="Now",
        source="autodj",
        started_at=now - timedelta(seconds=1),
    )

    response = await client_of(dj).get(CSV)

    rows = await csv_rows(response)
    assert [(row["title"], row["duration_s"]) for row in rows] == [("Now", "")]
    today = now.date()
    assert (
        f"-{(today - timedelta(days=29)).isoformat()}-{today.isoformat()}.csv"
        in (response["Content-Disposition"])
    )


async def test_csv_values_that_a_spreadsheet_would_run_are_quoted(station, dj):
    titles = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "\tTab", "Fine"]
    for index, title in enumerate(titles):
        await Play.objects.acreate(
            station=station, title=title, artist="=cmd|' /C calc'!A0",
            dj_name="@dj", source="live",
            started_at=timezone.now() - timedelta(minutes=10 - index),
        )  # fmt: skip

    rows = await csv_rows(await client_of(dj).get(CSV))

    assert [row["title"] for row in rows] == ["'" + t for t in titles[:-1]] + ["Fine"]
    assert {row["artist"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    assert {row["dj"] for row in rows} == {"'@dj"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "'from' must be a date as YYYY-MM-DD."),
        ({"to": "yesterday"}, "'to' must be a date as YYYY-MM-DD."),
        ({"from": "20260101"}, "'from' must be a date as YYYY-MM-DD."),
        ({"from": "x" * 5000}, "'from' must be a date as YYYY-MM-DD."),
        (
            {"from": "9999-12-31", "to": "9999-12-31"},
            "'to' must be between 1970-01-01 and 9998-12-31.",
        ),
        ({"from": "0001-01-01"}, "'from' must be between 1970-01-01 and 9998-12-31."),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "'from' must not be after 'to'."),
        (
            {"from": "2025-01-01", "to": "2026-01-02"},
            "At most 366 days may be exported at once.",
        ),
    ],
)
async def test_bad_dates_are_refused_with_a_clear_message(station, dj, query, message):
    response = await client_of(dj).get(CSV, query)

    assert response.status_code == 400
    assert response.content.decode() == message


async def test_a_year_may_be_exported(station, dj):
    response = await client_of(dj).get(CSV, {"from": "2024-01-01", "to": "2024-12-31"})

    assert response.status_code == 200
    assert (await csv_rows(response)) == []


async def test_only_staff_and_the_station_djs_may_export(
    station, other_dj, listener, staff
):
    await Play.objects.acreate(station=station, title="Secret", source="autodj",
                               started_at=timezone.now())  # fmt: skip
    anonymous = await AsyncClient().get(CSV)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")
    assert (await client_of(listener).get(CSV)).status_code == 403
    assert (await client_of(other_dj).get(CSV)).status_code == 403
    assert (
        await client_of(listener).get("/stations/no-such/history.csv")
    ).status_code == 404
    staff_rows = await csv_rows(await client_of(staff).get(CSV))
    assert [row["title"] for row in staff_rows] == ["Secret"]


# --- Admin ------------------------------------------------------------------


def test_the_admin_lists_plays_read_only_with_filters_and_search(
    station, other_station
):
    admin = get_user_model().objects.create_superuser("root", password=None)
    show = Show.objects.create(station=station, name="Morning", slug="morning")
    play(station, timezone.now(), "Findable", source="live", show=show)
    play(other_station, timezone.now(), "Elsewhere")
    client = Client()
    client.force_login(admin)
    changelist = "/admin/programme/play/"

    found = client.get(changelist, {"q": "findable"}).content.decode()
    live = client.get(changelist, {"source": "live"}).content.decode()

    assert "Findable" in found and "Elsewhere" not in found
    assert "Findable" in live and "Elsewhere" not in live
    for filter_link in ("station__id__exact=", "source=autodj", "show__id__exact="):
        assert filter_link in found
    assert client.get(changelist + "add/").status_code == 403
    stored = Play.objects.get(title="Findable")
    assert client.post(f"{changelist}{stored.pk}/delete/").status_code == 403
