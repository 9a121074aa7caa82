"""The play history on two real daphne workers sharing Redis and PostgreSQL:
each title is stored once, whoever set it and whichever worker was told,
with the listeners of both workers; the CSV export streams it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.live.conftest import DJ, STATION
from tests.live.test_autodj import make_library
from tests.live.test_broadcast import go_live, join
from tests.live.test_sources import (
    ffmpeg_source,
    icecast_url,
    stop_source,
    update_title,
)
from tests.support.audio import make_tone
from tests.support.clients import sign_in, stream_file

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

# How long a title may take to reach a listener, or a play the database.
WAIT_S = 15.0
SOURCE_SECONDS = 12


@pytest.fixture(scope="module")
def workers(shared_deployment, tmp_path_factory):
    """Two workers; the station's AutoDJ plays on one of them."""
    tracks = make_library(tmp_path_factory.mktemp("library"))
    shared_deployment.manage("addtrack", STATION, *map(str, tracks))
    return [shared_deployment.start_worker(), shared_deployment.start_worker()]


class Ear:
    """A listener of the station on one worker, read all along (so that it
    keeps up); its JSON messages wait in a queue for the test."""

    def __init__(self, socket, hello: dict[str, Any]) -> None:
        self.socket = socket
        self.hello = hello
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.now_playing: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def join(cls, worker) -> Ear:
        return cls(*await join(worker))

    async def _read(self) -> None:
        async for message in self.socket:
            if isinstance(message, str):
                data = json.loads(message)
                if data["type"] == "now_playing":
                    self.now_playing.append(data)
                await self.messages.put(data)

    async def until(self, matches: Callable[[dict[str, Any]], bool]) -> dict:
        """The next message that ``matches``."""
        async with asyncio.timeout(WAIT_S):
            while not matches(message := await self.messages.get()):
                pass
            return message

    async def next_title(self, **fields: str) -> dict[str, Any]:
        """The next ``now_playing`` with ``fields``."""
        return await self.until(
            lambda m: (
                m["type"] == "now_playing"
                and all(m[name] == value for name, value in fields.items())
            )
        )

    async def counted(self, count: int) -> None:
        """Once this worker counts ``count`` listeners on all workers."""
        if self.hello["listeners"] != count:
            await self.until(lambda m: m["type"] == "listeners" and m["count"] == count)

    async def close(self) -> None:
        await self.socket.close()
        await self._reader


def csv_rows(worker, cookie: str) -> list[dict[str, str]]:
    request = urllib.request.Request(
        f"{worker.http_url}/stations/{STATION}/history.csv", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        return list(csv.DictReader(io.StringIO(response.read().decode())))


def same_instant(row: dict[str, str], now_playing: dict[str, Any]) -> bool:
    stored = datetime.fromisoformat(row["started_at"])
    return stored == datetime.fromisoformat(now_playing["started_at"])


async def stored_play(worker, cookie: str, now_playing: dict[str, Any]) -> dict:
    """The CSV row of ``now_playing``, once it is stored (in the background)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            rows = await asyncio.to_thread(csv_rows, worker, cookie)
            if found := [row for row in rows if same_instant(row, now_playing)]:
                return found[0]
            await asyncio.sleep(0.1)


async def test_every_title_is_stored_once_with_its_source_dj_and_listeners(
    workers, tone_mp3, tmp_path
):
    """An AutoDJ track, a console DJ's title, and encoder titles sent to each
    worker: one row each, with both workers' listeners counted."""
    first, second = workers
    ears = [await Ear.join(first), await Ear.join(second)]
    for ear in ears:
        await ear.counted(2)
    # Titles from now on are published by a worker that has counted both.
    counted_at = datetime.now(UTC)
    cookie = await asyncio.to_thread(sign_in, second.http_url, *DJ)
    expected: list[tuple[dict[str, Any], dict[str, str]]] = []

    track = await ears[0].until(
        lambda m: (
            m["type"] == "now_playing"
            and m["source"] == "autodj"
            and datetime.fromisoformat(m["started_at"]) > counted_at
        )
    )
    expected.append((track, {"source": "autodj", "dj": ""}))

    console = await go_live(first, "audio/mpeg")
    sender = asyncio.create_task(stream_file(console, tone_mp3, bitrate_kbps=128))
    await console.send(
        json.dumps({"type": "now_playing", "title": "Console <b>", "artist": "=DJ"})
    )
    said = await ears[1].next_title(title="Console <b>")
    expected.append((said, {"source": "live", "dj": DJ[0], "artist": "'=DJ"}))
    sender.cancel()
    await console.send(json.dumps({"type": "stop"}))
    await console.close()
    await ears[0].next_title(source="autodj")

    tone = make_tone(tmp_path / "source.mp3", seconds=SOURCE_SECONDS)
    source_started = datetime.now(UTC)
    source = ffmpeg_source(tone, icecast_url(first), "-f", "mp3")
    try:
        # Not the console's on_air, which may still wait in the queue.
        await ears[0].until(
            lambda m: (
                m["type"] == "on_air"
                and m["source"] == "live"
                and datetime.fromisoformat(m["broadcast"]["started_at"])
                > source_started
            )
        )
        # The source port is shared: either worker may hold the broadcast,
        # so a title goes to each worker's site; one of them is the other.
        for worker, song in (
            (first, "Band - Sent Here"),
            (second, "Band - Sent There"),
        ):
            query = f"charset=UTF-8&song={urllib.parse.quote(song)}"
            answer = await asyncio.to_thread(update_title, worker, query, worker.port)
            assert "<return>1</return>" in answer
            title = song.split(" - ")[1]
            encoder = await ears[0].next_title(title=title, artist="Band")
            expected.append((encoder, {"source": "live", "dj": DJ[0]}))
    finally:
        stop_source(source)

    for now_playing, fields in expected:
        row = await stored_play(second, cookie, now_playing)
        assert row["title"] == now_playing["title"]
        assert row["listeners"] == "2", row
        assert {name: row[name] for name in fields} == fields
    # The AutoDJ may be back with a title that is still being stored.
    heard = list(ears[0].now_playing)
    for now_playing in heard:
        await stored_play(first, cookie, now_playing)
    rows = await asyncio.to_thread(csv_rows, first, cookie)
    for now_playing in heard:
        copies = [row for row in rows if same_instant(row, now_playing)]
        assert len(copies) == 1, (now_playing, copies)
    for ear in ears:
        await ear.close()
