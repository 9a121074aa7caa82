"""A DJ for browser tests: the Python client, streaming from its own thread.

Playwright's sync API owns the test's thread, so the DJ's asyncio loop runs
in another one; every method here blocks until the DJ's loop has done it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from tests.support.clients import connect, sign_in

# Audio sent per message, as a browser's MediaRecorder would, in ms.
CHUNK_MS = 100
# How long an operation of the DJ may take, in seconds.
DJ_TIMEOUT_S = 15.0


def make_show(path: Path, *, seconds: int = 120, bitrate_kbps: int = 128) -> bytes:
    """A tone that changes pitch every second, as bare MP3 frames.

    No ID3 tag or Xing frame, so the file can be looped without anything but
    audio between its frames.
    """
    # 330, 440 and 550 Hz in turn; the comma is escaped for the filter graph.
    tone = "0.4*sin(2*PI*(330+110*mod(floor(t)\\,3))*t)"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"aevalsrc={tone}:d={seconds}",
         "-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k",
         "-id3v2_version", "0", "-write_xing", "0", "-f", "mp3", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


class PythonDj:
    """A DJ of ``station`` on ``server`` who sends ``mp3`` at real time, looped."""

    def __init__(self, server, user: tuple[str, str], station: str, mp3: bytes):
        self.server = server
        self.user = user
        self.station = station
        self.mp3 = mp3
        self.bitrate_kbps = 128
        self.socket = None
        self.streaming: asyncio.Task | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=DJ_TIMEOUT_S)

    def go_live(self) -> None:
        """Connect, ``start`` and stream until ``stop()`` or a dropped socket."""
        self.run(self._go_live())

    def announce(self, title: str, artist: str = "") -> None:
        """Send ``now_playing``."""
        message = {"type": "now_playing", "title": title, "artist": artist}
        self.run(self.socket.send(json.dumps(message)))

    def stop(self) -> None:
        """End the broadcast cleanly (the station goes off air)."""
        self.run(self._stop())

    def wait_dropped(self) -> None:
        """Block until the server has dropped the DJ's socket."""
        self.run(self._wait_dropped())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _go_live(self) -> None:
        cookie = sign_in(self.server.http_url, *self.user)
        url = f"{self.server.ws_url}/ws/stations/{self.station}/broadcast/"
        self.socket = await connect(url, cookie=cookie)
        await self.socket.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
        while (reply := json.loads(await self.socket.recv()))["type"] != "live":
            assert reply["type"] in (
                "listeners",
                "chat.history",
                "calls",
                "on_air",
            ), reply
        self.streaming = asyncio.create_task(self._stream(self.socket))

    async def _stream(self, socket) -> None:
        chunk_bytes = self.bitrate_kbps * 1000 // 8 * CHUNK_MS // 1000
        started = time.monotonic()
        index = offset = 0
        reader = asyncio.create_task(self._drain(socket))
        try:
            while True:
                chunk = self.mp3[offset : offset + chunk_bytes]
                offset = (offset + len(chunk)) % len(self.mp3)
                await socket.send(chunk)
                index += 1
                delay = started + index * CHUNK_MS / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        except ConnectionClosed:
            pass
        finally:
            reader.cancel()

    async def _drain(self, socket) -> None:
        """Read (and drop) what the server sends, so that it never backs up."""
        with contextlib.suppress(ConnectionClosed):
            async for _ in socket:
                pass

    async def _stop(self) -> None:
        if self.streaming is not None:
            self.streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.streaming
            self.streaming = None
        if self.socket is not None:
            await self.socket.close()
            self.socket = None

    async def _wait_dropped(self) -> None:
        if self.streaming is not None:
            await self.streaming
            self.streaming = None
