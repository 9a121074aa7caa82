"""The public API in Chromium, as a widget on another site and a developer
reading the docs see it: the docs page renders its operations, and the
browser's own EventSource, from another origin, gets the DJ's new title."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DJ, STATION
from tests.browser.dj import PythonDj, make_show

# A page of another origin (the same server by its other name): what it
# reads across origins, CORS must allow.
WIDGET_PAGE = "http://localhost:{port}/stations.json"
LATEST_TITLE = """() => {
  const events = globalThis.nowPlaying || [];
  return events.length ? events[events.length - 1].now_playing.song.title : null;
}"""


@pytest.fixture(scope="module")
def dj(radio_server, tmp_path_factory):
    show = make_show(tmp_path_factory.mktemp("show") / "show.mp3")
    dj = PythonDj(radio_server, DJ, STATION, show)
    dj.go_live()
    yield dj
    dj.close()


def test_the_docs_page_lists_the_operations(new_page):
    page = new_page(path="/api/docs/")

    page.get_by_text("/api/nowplaying/{slug}").first.wait_for()
    assert page.get_by_text("/api/live/nowplaying/{slug}").count() >= 1


def test_a_widget_on_another_site_hears_the_new_title(dj, new_page, radio_server):
    page = new_page()
    page.goto(WIDGET_PAGE.format(port=radio_server.port))
    page.evaluate(
        """(url) => {
          globalThis.nowPlaying = [];
          const source = new EventSource(url);
          source.onmessage = (event) => nowPlaying.push(JSON.parse(event.data));
        }""",
        f"{radio_server.http_url}/api/live/nowplaying/{STATION}",
    )
    page.wait_for_function("() => globalThis.nowPlaying.length > 0")

    dj.announce("Across origins")

    page.wait_for_function(
        f"() => ({LATEST_TITLE})() === 'Across origins'", timeout=10_000
    )
    assert page.evaluate("location.origin") != radio_server.http_url
