"""The listener page's "Request a song" in Chromium: a signed-in listener
searches the library, requests a track and sees the answer, refusals
included; anybody else is asked to sign in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DJ, FAN, LISTENER, STATION
from tests.support.audio import make_tone

LISTEN = f"/stations/{STATION}/"
ATTACK = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def radio_server(deployment, tmp_path_factory):
    """The site with a small library and requests on, the AutoDJ off."""
    folder = tmp_path_factory.mktemp("request-library")
    tracks = [
        make_tone(
            folder / f"{n}.mp3", seconds=2, tags={"title": title, "artist": artist}
        )
        for n, (title, artist) in enumerate(
            [("Morning Tune", "Larks"), ("Evening Tune", "Owls"), (ATTACK, "Mallory")]
        )
    ]
    deployment.manage("addtrack", STATION, *map(str, tracks))
    deployment.shell(
        "from stations.models import Station; "
        "from stations.song_requests.services import request_rules_update; "
        f"request_rules_update(station=Station.objects.get(slug={STATION!r}), "
        "enabled=True)"
    )
    # Without the AutoDJ, whose plays would make the tracks "recently played".
    return deployment.start_worker(RADIO_AUTODJ="0")


def test_a_listener_searches_requests_and_is_refused_a_second_time(new_page):
    page = new_page(LISTENER, path=LISTEN)
    panel = page.locator("#song-requests")
    results = panel.locator("#request-results li")
    # The whole library first, by artist.
    expect(results).to_have_count(3)
    expect(results.first).to_contain_text("Morning Tune")
    # User text is shown as text.
    expect(panel.get_by_text(ATTACK)).to_be_visible()

    panel.get_by_label("Title or artist").fill("tune")
    panel.get_by_role("button", name="Search").click()
    expect(results).to_have_count(2)
    results.filter(has_text="Evening Tune").get_by_role("button").click()

    note = panel.locator("#request-note")
    expect(note).to_have_text("Your request has been submitted and will play soon.")
    expect(note).to_have_attribute("data-kind", "ok")

    results.filter(has_text="Morning Tune").get_by_role("button").click()
    expect(note).to_have_text(
        "You may request one song every 5 minutes: try again in 5 minutes."
    )
    expect(note).to_have_attribute("data-kind", "error")

    panel.get_by_label("Title or artist").fill("nothing of the sort")
    panel.get_by_role("button", name="Search").click()
    expect(note).to_have_text("Nothing found.")
    expect(results).to_have_count(0)


def test_nobody_signed_in_is_asked_to_sign_in(new_page):
    page = new_page(path=LISTEN)
    panel = page.locator("#song-requests")

    expect(panel).to_contain_text("Sign in to request a song.")
    expect(panel.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", f"/accounts/login/?next={LISTEN}"
    )
    expect(panel.locator("#request-search")).to_have_count(0)


def test_a_dj_sets_the_rules_and_declines_a_request(new_page, radio_server):
    listener = new_page(FAN, path=LISTEN)
    listener_panel = listener.locator("#song-requests")
    listener_panel.locator("#request-results li").filter(
        has_text="Morning Tune"
    ).get_by_role("button").click()
    expect(listener_panel.locator("#request-note")).to_have_attribute("data-kind", "ok")

    page = new_page(DJ, path=f"/stations/{STATION}/studio/")
    panel = page.locator("#requests-panel")
    rules = panel.locator("#request-rules")
    expect(rules.locator("[name=enabled]")).to_be_checked()
    expect(rules.locator("[name=max_pending]")).to_have_value("10")
    queued = panel.locator("#request-queue li").filter(has_text="Morning Tune")
    expect(queued).to_contain_text(f"for {FAN[0]}")

    queued.get_by_role("button", name="Decline").click()
    expect(panel.locator("#requests-note")).to_have_text("Request declined.")
    expect(queued).to_have_count(0)

    rules.locator("[name=max_pending]").fill("4")
    rules.get_by_role("button", name="Save rules").click()
    expect(panel.locator("#requests-note")).to_have_text("Rules saved.")
    page.reload()
    expect(panel.locator("#request-rules [name=max_pending]")).to_have_value("4")
