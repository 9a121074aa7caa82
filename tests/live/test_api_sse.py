"""``/api/live/nowplaying/<slug>`` on a real daphne: a widget gets the
NowPlaying object at connect and each change within a second, keep-alive
comments while nothing changes, and leaves nothing behind when it goes."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.live.conftest import STATION, sqlite_installation
from tests.live.test_broadcast import go_live
from tests.live.test_security import WorkerProbe

pytestmark = pytest.mark.live

# How long a change may take to reach a connected widget.
CHANGE_S = 1.0
# Keep-alive comments come this often here (RADIO_API_SSE_KEEPALIVE_SECONDS).
KEEP_ALIVE_S = 0.5
WAIT_S = 5.0


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    deployment = sqlite_installation(
        tmp_path_factory, RADIO_API_SSE_KEEPALIVE_SECONDS=str(KEEP_ALIVE_S)
    )
    yield deployment.start_worker()
    deployment.stop()


class Widget:
    """An EventSource-like client of one station's SSE stream."""

    def __init__(self, reader: asyncio.StreamReader, writer, headers: str) -> None:
        self.reader = reader
        self.writer = writer
        self.headers = headers.lower()

    @classmethod
    async def connect(cls, worker, slug: str = STATION) -> Widget:
        reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
        # HTTP/1.0: the body comes as it is, not in chunks, until the end.
        writer.write(
            f"GET /api/live/nowplaying/{slug} HTTP/1.0\r\n"
            f"Host: 127.0.0.1:{worker.port}\r\n\r\n".encode()
        )
        async with asyncio.timeout(WAIT_S):
            headers = (await reader.readuntil(b"\r\n\r\n")).decode()
        return cls(reader, writer, headers)

    async def next_message(self) -> str:
        """The next SSE message: its lines up to the blank line."""
        async with asyncio.timeout(WAIT_S):
            return (await self.reader.readuntil(b"\n\n")).decode()

    async def next_object(self) -> dict[str, Any]:
        while not (message := await self.next_message()).startswith("data: "):
            pass
        return json.loads(message.removeprefix("data: "))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def test_a_djs_title_reaches_a_widget_within_a_second(worker):
    widget = await Widget.connect(worker)
    first = await widget.next_object()
    dj = await go_live(worker, "audio/webm")

    sent_at = time.monotonic()
    await dj.send(
        json.dumps({"type": "now_playing", "title": "Tone", "artist": "Sine"})
    )
    while (pushed := await widget.next_object())["now_playing"]["song"][
        "title"
    ] != "Tone":
        pass
    took = time.monotonic() - sent_at

    assert "content-type: text/event-stream" in widget.headers
    assert "access-control-allow-origin: *" in widget.headers
    assert first["station"]["shortcode"] == STATION
    assert first["live"]["is_live"] is False
    assert took < CHANGE_S
    assert pushed["now_playing"]["song"]["text"] == "Sine - Tone"
    assert pushed["live"]["is_live"] is True
    assert pushed["live"]["streamer_name"] == "dj"
    await dj.close()
    await widget.close()


async def test_a_quiet_stream_is_kept_alive_and_a_gone_widget_leaves_nothing(worker):
    probe = WorkerProbe(worker)
    widget = await Widget.connect(worker)
    await widget.next_object()

    assert await widget.next_message() == ": keep-alive\n\n"
    assert await probe.settles_to(clients=1, listeners=0)
    await widget.close()
    assert await probe.settles_to(clients=0, listeners=0)


async def test_an_unknown_station_is_a_404(worker):
    widget = await Widget.connect(worker, "nope")

    assert widget.headers.split("\r\n")[0].endswith("404 not found")
    await widget.close()
