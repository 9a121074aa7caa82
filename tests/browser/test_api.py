"""The public API in Chromium, as a widget on another site and a developer
reading the docs see it: the docs page renders its operations, and the
browser's own EventSource, from another origin, gets the DJ's new title."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.conftest import DJ, STATION
from tests.browser.dj import PythonDj, make_show

LATEST_TITLE = """() => {
  const events = globalThis.nowPlaying || [];
  return events.length ? events[events.length - 1].now_playing.song.title : null;
}"""


class BlankPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html>")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def widget_site():
    """Another site on this machine: what it reads from radio across
    origins, CORS must allow, and no policy of radio's applies to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BlankPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


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


def test_a_widget_on_another_site_hears_the_new_title(
    dj, new_page, radio_server, widget_site
):
    page = new_page()
    page.goto(widget_site)
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
