"""The schedule page and "on now" in Chromium, in the reader's time zone
(New York) rather than the station's (Berlin)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DJ, STATION

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = "America/New_York"
# en-GB: 24-hour times, which the assertions spell.
READER = {"timezone_id": NEW_YORK, "locale": "en-GB"}
SCHEDULE = f"/stations/{STATION}/schedule/"


@pytest.fixture(scope="module")
def programme(deployment) -> datetime:
    """Two shows in the week of 2026-12-07 and one on now; when that one ends."""
    deployment.shell(
        "from stations.models import Station; "
        f"Station.objects.filter(slug={STATION!r}).update(timezone='Europe/Berlin')"
    )

    def addshow(name: str, start: str, minutes: int = 60) -> None:
        deployment.manage(
            "addshow", STATION, name, "--host", DJ[0], "--once", start,
            "--minutes", str(minutes),
        )  # fmt: skip

    addshow("Late Jazz", "2026-12-09 20:00")
    addshow("Night Owls", "2026-12-10 01:00", minutes=30)
    start = datetime.now(BERLIN).replace(second=0, microsecond=0) - timedelta(minutes=1)
    addshow("Right Now", f"{start:%Y-%m-%d %H:%M}")
    return start + timedelta(minutes=60)


def test_the_week_is_laid_out_in_the_readers_time_zone(programme, new_page):
    """20:00 and 01:00 in Berlin are 14:00 and 19:00 of the day before in New York."""
    page = new_page(path=f"{SCHEDULE}?week=2026-12-07", **READER)
    schedule = page.locator("#schedule")
    expect(schedule).to_have_attribute("data-ready", "true")
    expect(schedule).to_have_attribute("data-zone", NEW_YORK)
    wednesday = page.locator('.schedule-day[data-date="2026-12-09"] li')
    expect(wednesday).to_have_count(2)
    expect(wednesday.nth(0)).to_contain_text("14:00")
    expect(wednesday.nth(0)).to_contain_text("Late Jazz")
    expect(wednesday.nth(1)).to_contain_text("19:00")
    expect(wednesday.nth(1)).to_contain_text("Night Owls")
    expect(page.locator('.schedule-day[data-date="2026-12-10"]')).to_contain_text(
        "Nothing scheduled"
    )
    expect(page.locator("#next-week")).to_have_attribute(
        "href", f"{SCHEDULE}?week=2026-12-14"
    )
    page.locator("#previous-week").click()
    expect(page.locator(".schedule-day").first).to_have_attribute(
        "data-date", "2026-11-30"
    )


def test_the_show_on_now_is_marked_on_the_schedule_and_the_listener_page(
    programme, new_page
):
    page = new_page(path=SCHEDULE, **READER)
    expect(page.locator(".schedule-slot.on-now")).to_contain_text("Right Now")
    listen = new_page(path=f"/stations/{STATION}/", **READER)
    expect(listen.locator("#programme")).to_have_attribute("data-now", "right-now")
    expect(listen.locator("#show-now")).to_have_text("Right Now")
    until = programme.astimezone(ZoneInfo(NEW_YORK))
    today = datetime.now(ZoneInfo(NEW_YORK)).date()
    label = f"{until:%H:%M}" if until.date() == today else f"{until:%a %H:%M}"
    # The server wrote Berlin's time; the page's script, New York's.
    expect(listen.locator("#show-now-time")).to_have_text(f"until {label}")


def test_the_directory_says_what_is_on_now(programme, new_page):
    page = new_page(path="/", **READER)
    line = page.locator(f'.station-card[data-slug="{STATION}"] .station-programme')
    expect(line).to_contain_text("On now: Right Now (until")
