"""The station directory lists stations, on-air first, and keeps up by itself."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import (
    DJ,
    PHONE,
    QUIET_STATION,
    QUIET_STATION_NAME,
    STATION,
    STATION_NAME,
)
from tests.browser.dj import PythonDj, make_show


def stations_json(server) -> list[dict]:
    with urllib.request.urlopen(f"{server.http_url}/stations.json") as response:
        assert response.headers["Content-Type"] == "application/json"
        return json.load(response)["stations"]


def test_directory_updates_without_reload(radio_server, new_page, tmp_path):
    """Going on air moves a station first; its listener count follows."""
    page = new_page(path="/")
    cards = page.locator(".station-card")
    expect(cards).to_have_count(2)
    # Both off air: by name.
    expect(cards.locator(".station-title")).to_have_text(
        [QUIET_STATION_NAME, STATION_NAME]
    )
    expect(cards.first.locator(".on-air-badge")).to_have_text("Off air")
    page.evaluate("globalThis.notReloaded = true")

    dj = PythonDj(radio_server, DJ, STATION, make_show(tmp_path / "show.mp3"))
    try:
        dj.go_live()
        dj.announce("Midnight Tones", "The Testers")
        expect(cards.locator(".station-title")).to_have_text(
            [STATION_NAME, QUIET_STATION_NAME]
        )
        live = cards.first
        expect(live).to_have_attribute("data-on-air", "true")
        expect(live.locator(".on-air-badge")).to_have_text("On air")
        expect(live.locator(".station-now")).to_have_text(
            "Now: The Testers \u2013 Midnight Tones"
        )
        expect(live.locator(".listeners .count")).to_have_text("0")

        listener = new_page(path=f"/stations/{STATION}/")
        expect(listener.locator("#listener-count")).to_have_text("1")
        expect(live.locator(".listeners .count")).to_have_text("1")
        listener.close()
        expect(live.locator(".listeners .count")).to_have_text("0")

        entries = stations_json(radio_server)
        assert [entry["slug"] for entry in entries] == [STATION, QUIET_STATION]
        assert entries[0]["on_air"] is True
        assert entries[0]["now_playing"]["title"] == "Midnight Tones"
        assert entries[0]["url"] == f"/stations/{STATION}/"
        assert entries[1]["on_air"] is False

        dj.stop()
        expect(cards.locator(".station-title")).to_have_text(
            [QUIET_STATION_NAME, STATION_NAME]
        )
        expect(cards.last.locator(".on-air-badge")).to_have_text("Off air")
    finally:
        dj.close()
    assert page.evaluate("globalThis.notReloaded") is True


def test_directory_fits_a_phone(radio_server, new_page):
    """At phone size the list has no horizontal overflow."""
    page = new_page(path="/", viewport=PHONE)
    expect(page.locator(".station-card .on-air-badge").first).not_to_have_text("…")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
    for card in page.locator(".station-card").all():
        for part in (card, card.locator(".on-air-badge"), card.locator(".listeners")):
            box = part.bounding_box()
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"], part
