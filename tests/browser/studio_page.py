"""The DJ console in tests: a listener socket read in the background, and
the steps a DJ takes on the console page (used by test_studio.py and
test_desk.py, and by the ``sockets``, ``room`` and ``studio`` fixtures).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import urllib.request
from array import array
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from stations.streaming.packets import HEADER_BYTES, parse_header
from tests.browser.conftest import STATION
from tests.support.audio import CHANNELS, SAMPLE_RATE
from tests.support.clients import connect

STUDIO = f"/stations/{STATION}/studio/"
# How long a listener or the console may take to see something, in seconds.
WAIT_S = 15
# A chunk of the tone microphone is well above this peak level (0 to 1).
SIGNAL_LEVEL = 0.05
# The station must be off air this soon after a test, so the next may go live.
OFF_AIR_WAIT_S = 12


class BackgroundSocket:
    """A WebSocket client read by an event loop in its own thread.

    Playwright's sync API owns the test's thread, so the socket lives in
    another one; the test waits on what it has received.
    """

    def __init__(self, url: str, *, cookie: str | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.audio: list[tuple[int, bytes]] = []
        self.changed = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.socket = self.call(connect(url, cookie=cookie))
        self.reader = asyncio.run_coroutine_threadsafe(self.read(), self.loop)

    def call(self, coroutine, timeout: float = WAIT_S):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def read(self) -> None:
        async for message in self.socket:
            with self.changed:
                if isinstance(message, bytes):
                    seq, _ = parse_header(message)
                    self.audio.append((seq, message[HEADER_BYTES:]))
                else:
                    self.messages.append(json.loads(message))
                self.changed.notify_all()

    def send_json(self, message: dict[str, Any]) -> None:
        self.call(self.socket.send(json.dumps(message)))

    def wait_for(
        self, kind: str, test: Callable[[dict], bool] = lambda _: True
    ) -> dict[str, Any]:
        """The first JSON message of type ``kind`` that passes ``test``."""

        def found():
            return next(
                (m for m in self.messages if m["type"] == kind and test(m)), None
            )

        with self.changed:
            message = self.changed.wait_for(found, timeout=WAIT_S)
        assert message is not None, f"no {kind!r} message in {WAIT_S} s"
        return message

    def audio_bytes(self) -> int:
        with self.changed:
            return sum(len(frames) for _, frames in self.audio)

    def wait_for_audio(self, total_bytes: int) -> None:
        """Until at least ``total_bytes`` of MP3 have arrived in all."""
        with self.changed:
            arrived = self.changed.wait_for(
                lambda: sum(len(f) for _, f in self.audio) >= total_bytes,
                timeout=WAIT_S,
            )
        assert arrived, f"less than {total_bytes} bytes of audio in {WAIT_S} s"

    def mp3_since(self, index: int) -> bytes:
        with self.changed:
            return b"".join(frames for _, frames in self.audio[index:])

    def close(self) -> None:
        self.call(self.socket.close())
        self.reader.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=WAIT_S)


def station_status(server, station: str = STATION) -> dict[str, Any]:
    with urllib.request.urlopen(
        f"{server.http_url}/stations/{station}/status.json"
    ) as r:
        return json.load(r)


def wait_until_off_air(server) -> None:
    deadline = time.monotonic() + OFF_AIR_WAIT_S
    while station_status(server)["on_air"]:
        assert time.monotonic() < deadline, "the station stayed on air"
        time.sleep(0.2)


def level(page: Page, meter: str) -> float:
    return float(page.locator(f"#{meter}").get_attribute("data-level"))


def wait_for_signal(page: Page, meter: str) -> None:
    page.wait_for_function(
        "([id, floor]) => Number(document.getElementById(id).dataset.level) > floor",
        arg=[meter, SIGNAL_LEVEL],
    )


def state_label(page: Page):
    return page.locator("#broadcast-state-label")


def turn_on_mic(page: Page) -> None:
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_label("Microphone")).to_be_enabled()
    wait_for_signal(page, "mic-meter")


def go_live(page: Page) -> None:
    page.get_by_role("button", name="Go live").click()
    expect(state_label(page)).to_have_text("Live")


def stop(page: Page) -> None:
    page.get_by_role("button", name="Stop").click()
    expect(state_label(page)).to_have_text("Stopped")


def peak(mp3: bytes) -> float:
    """The loudest sample of ``mp3`` decoded, 0 to 1."""
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "mp3", "-i", "pipe:0",
         "-f", "s16le", "-ac", str(CHANNELS), "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=mp3, capture_output=True, check=True,
    ).stdout  # fmt: skip
    samples = array("h", pcm[: len(pcm) // 2 * 2])
    return max((abs(sample) for sample in samples), default=0) / 32768
