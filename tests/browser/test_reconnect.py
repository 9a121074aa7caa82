"""The listener page outlives a server restart: it reconnects and plays on."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DJ, STATION
from tests.browser.dj import PythonDj, make_show
from tests.browser.test_listener import LISTEN, click_play

CURRENT_TIME = "document.getElementById('audio').currentTime"


def test_page_reconnects_after_a_restart_and_plays_again(
    radio_server, new_page, tmp_path
):
    """It says so while the server is away, then resumes playing by itself."""
    dj = PythonDj(radio_server, DJ, STATION, make_show(tmp_path / "show.mp3"))
    try:
        dj.go_live()
        page = new_page(path=LISTEN)
        click_play(page)
        page.evaluate("""() => {
          globalThis.retryDelays = [];
          globalThis.radio.connection.on("state", (state, detail) => {
            if (state === "reconnecting") globalThis.retryDelays.push(detail.delayMs);
          });
        }""")
        radio_server.stop()
        dj.wait_dropped()
        expect(page.locator("#connection")).to_have_text("Reconnecting…")
        expect(page.get_by_role("button", name="Stop")).to_be_visible()

        # Retries back off: 250 ms doubling, at most 4 s (with ±20 % jitter).
        page.wait_for_function("() => globalThis.retryDelays.length >= 4")
        delays = page.evaluate("globalThis.retryDelays")
        assert delays[0] <= 250 * 1.2
        assert delays[3] >= 2000 * 0.8
        assert max(delays) <= 4000 * 1.2

        radio_server.start_again()
        expect(page.locator("#connection")).to_have_text("")
        expect(page.locator("#on-air")).to_have_attribute("data-on-air", "false")
        dj.go_live()
        expect(page.locator("#on-air")).to_have_attribute("data-on-air", "true")
        resumed_at = page.evaluate(CURRENT_TIME)
        page.wait_for_function(f"() => {CURRENT_TIME} >= {resumed_at + 2}")
        assert page.evaluate("document.getElementById('audio').error") is None
        expect(page.locator("#listen")).to_have_attribute("data-player", "playing")
    finally:
        dj.close()
