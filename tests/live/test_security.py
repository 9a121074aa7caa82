"""Attacks from outside on a real daphne, and what they must leave behind:
nothing taken, nothing leaked, nobody else affected."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import DJ, FAN, LISTENER, OPERATOR, OTHER_DJ, STATION, STRANGER
from tests.live.test_broadcast import go_live, join
from tests.live.test_chat_and_inbox import open_inbox
from tests.support.audio import frames_duration_ms, make_tone
from tests.support.clients import (
    Received,
    close_code_of_eager_client,
    connect,
    listen,
    next_message,
    sign_in,
    stream_file,
)

pytestmark = pytest.mark.live

BROADCAST_PATH = f"/ws/stations/{STATION}/broadcast/"
# How long a worker may take to notice that a client has gone.
SETTLE_S = 5.0
# The flood: two minutes of audio, sent as fast as the socket takes it.
FLOOD_SECONDS = 120
# What a flooding DJ can get on air before the server stops them: the head
# start (RADIO_DJ_AUDIO_HEAD_START_SECONDS) and a little for the time taken.
MAX_FLOODED_AUDIO_S = 15
# One MP3 frame of silence at 128 kbit/s, 44.1 kHz, stereo.
MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)
# Each would leave a connection open if requests did not close theirs.
PAGE_REQUESTS = 20


def get_json(worker, path: str, cookie: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{worker.http_url}{path}", headers={"Cookie": cookie} if cookie else {}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


class WorkerProbe:
    """What a worker holds, as its operator sees it in /worker.json."""

    def __init__(self, worker) -> None:
        self.worker = worker
        self.cookie = sign_in(worker.http_url, *OPERATOR)

    def status(self) -> dict:
        return get_json(self.worker, "/worker.json", self.cookie)

    def listeners(self) -> int:
        return get_json(self.worker, f"/stations/{STATION}/status.json")["listeners"]

    def tasks(self) -> int:
        return self.status()["tasks"]

    async def settles_to(
        self, clients: int, listeners: int, *, tasks: int | None = None
    ) -> bool:
        """Whether the worker gets back to ``clients`` and ``listeners`` (and
        at most ``tasks`` asyncio tasks), with no ffmpeg left running.

        Polled, since the worker has no event to await from outside; the
        event loop keeps running meanwhile, so the test's own clients can
        hang up.
        """
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self._holds, clients, listeners, tasks):
                return True
            await asyncio.sleep(0.1)
        return False

    def _holds(self, clients: int, listeners: int, tasks: int | None) -> bool:
        status = self.status()
        return (
            sum(hub["clients"] for hub in status["hubs"].values()) == clients
            and self.listeners() == listeners
            and (tasks is None or status["tasks"] <= tasks)
            and not self.worker.children("ffmpeg")
        )


async def closed_with(websocket) -> int:
    """The code the server closes ``websocket`` with, past what it sends."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(SETTLE_S):
            while True:
                await websocket.recv()
    return closed.value.rcvd.code


async def replies_until_closed(websocket) -> list[dict]:
    """The JSON messages ``websocket`` gets until the server closes it."""
    replies = []
    with contextlib.suppress(ConnectionClosed):
        async for message in websocket:
            if isinstance(message, str):
                replies.append(json.loads(message))
    return replies


async def assert_no_message(websocket, kind: str, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            await next_message(websocket, kind)


@pytest.fixture(scope="module")
def probe(server):
    return WorkerProbe(server)


async def test_start_sent_at_once_by_outsiders_takes_nothing(server, probe):
    """Anonymous users and non-DJs sending ``start`` (and audio) right after
    the handshake are closed 4401/4403; the station never goes on air."""
    listener, hello = await join(server)
    assert hello["on_air"] is False
    # With the listener's own task: the station's ticker is running by now.
    tasks_before = probe.tasks()
    stranger = sign_in(server.http_url, *STRANGER)
    attack = [json.dumps({"type": "start", "format": "audio/mpeg"}), MP3_FRAME * 40]
    for cookie, code in [(None, 4401), (stranger, 4403)] * 5:
        closed = await close_code_of_eager_client(
            server.port, BROADCAST_PATH, attack, cookie=cookie
        )
        assert closed == code

    await assert_no_message(listener, "on_air")
    assert await probe.settles_to(clients=1, listeners=1)
    dj = await go_live(server, "audio/mpeg")
    assert (await next_message(listener, "on_air"))["source"] == "live"
    await dj.send(json.dumps({"type": "stop"}))
    await dj.close()
    await listener.close()
    assert await probe.settles_to(clients=0, listeners=0, tasks=tasks_before)


@pytest.mark.parametrize(
    ("mime", "container", "encoding"),
    [
        ("audio/mpeg", "mp3", {"codec": "libmp3lame"}),
        ("audio/webm;codecs=opus", "webm", {"codec": "libopus", "sample_rate": 48000}),
    ],
)
async def test_a_dj_flooding_audio_is_taken_off_air(
    server, probe, tmp_path, mime, container, encoding
):
    """Two minutes of audio sent in a burst: the DJ gets ``too_fast`` and 4400,
    listeners hear at most the head start, and the station is free again with
    no task or ffmpeg left behind."""
    flood = make_tone(
        tmp_path / f"flood.{container}", seconds=FLOOD_SECONDS, **encoding
    ).read_bytes()
    listener, _ = await join(server)
    # With the listener's own task: the station's ticker is running by now.
    tasks_before = probe.tasks()
    heard = asyncio.create_task(listen(listener, Received(), until="off_air"))
    dj = await go_live(server, mime)
    replies = asyncio.create_task(replies_until_closed(dj))
    started = time.monotonic()
    with contextlib.suppress(ConnectionClosed):
        for offset in range(0, len(flood), 64 * 1024):
            await dj.send(flood[offset : offset + 64 * 1024])
    sent_in_s = time.monotonic() - started
    async with asyncio.timeout(SETTLE_S):
        errors = [reply for reply in await replies if reply["type"] == "error"]
        received = await heard

    assert sent_in_s < 5
    assert dj.close_code == 4400
    assert [error["code"] for error in errors] == ["too_fast"]
    on_air = [message["on_air"] for message in received.of_type("on_air")]
    assert on_air == [True, False]
    assert 0 < frames_duration_ms(received.mp3) / 1000 < MAX_FLOODED_AUDIO_S
    await listener.close()
    assert await probe.settles_to(clients=0, listeners=0, tasks=tasks_before)
    dj = await go_live(server, "audio/mpeg")
    await dj.close()


async def test_an_ended_http_stream_leaves_its_hub(server, probe, tone_mp3):
    """stream.mp3 clients that hang up, on air or off, are gone from the
    worker's hub and its listener count."""
    for on_air in (False, True):
        dj = await go_live(server, "audio/mpeg") if on_air else None
        sending = dj and asyncio.create_task(
            stream_file(dj, tone_mp3, bitrate_kbps=128)
        )
        streams = [await open_http_stream(server) for _ in range(3)]
        assert await probe.settles_to(clients=3 + bool(dj), listeners=3)
        if dj:
            for reader, _ in streams:
                assert b"HTTP/1.1 200" in await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(16 * 1024)
        for _, writer in streams:
            writer.close()
        assert await probe.settles_to(clients=int(bool(dj)), listeners=0)
        if dj:
            sending.cancel()
            await dj.close()


async def test_page_requests_leave_no_database_connection_open(server):
    """Each HTTP request's thread closes its SQLite connection as it ends,
    rather than leaving it (a file and a page cache) to the collector."""

    def page() -> None:
        with urllib.request.urlopen(f"{server.http_url}/") as response:
            assert response.status == 200

    await asyncio.to_thread(page)
    before = database_files(server)
    for _ in range(PAGE_REQUESTS):
        await asyncio.to_thread(page)
    # SQLite may keep one closed connection's file open, for the next.
    assert database_files(server) <= before + 1


def database_files(worker) -> int:
    """The worker's open files on its SQLite database."""
    database = worker.env["DATABASE_URL"].removeprefix("sqlite:///")
    count = 0
    for fd in Path(f"/proc/{worker.process.pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):
            count += os.readlink(fd) == database
    return count


async def open_http_stream(worker):
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
    writer.write(
        f"GET /stations/{STATION}/stream.mp3 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nIcy-MetaData: 1\r\n\r\n".encode()
    )
    return reader, writer


# --- PostgreSQL and Redis, two workers ---------------------------------------


@pytest.fixture(scope="module")
def workers(shared_deployment):
    return shared_deployment.start_worker(), shared_deployment.start_worker()


# Text that JSON can carry (json.dumps escapes it) but no database stores:
# a lone surrogate, and NUL (which PostgreSQL refuses).
UNSTORABLE = ["\ud800", "nul \x00 inside"]


@pytest.mark.redis
@pytest.mark.postgres
async def test_text_no_database_stores_is_refused(workers):
    """Chat and inbox text with a lone surrogate or NUL, and ids past 64 bits,
    get ``bad_request``; the sockets stay open and counts stay right."""
    first, second = workers
    probes = WorkerProbe(first), WorkerProbe(second)
    chatter = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(first.http_url, *LISTENER),
    )
    await next_message(chatter, "hello")
    inbox, _ = await open_inbox(first, LISTENER)
    for text in UNSTORABLE:
        await chatter.send(json.dumps({"type": "chat", "text": text}))
        assert (await next_message(chatter, "error"))["code"] == "bad_request"
        for message in (
            {"type": "inbox.send", "to": text, "text": "hi"},
            {"type": "inbox.send", "to": DJ[0], "text": text},
            {"type": "inbox.send", "to": DJ[0], "text": "hi", "station": text},
        ):
            await inbox.send(json.dumps(message))
            assert (await next_message(inbox, "error"))["code"] == "bad_request"
    for ids in ([2**70], [-1], [0]):
        await inbox.send(json.dumps({"type": "inbox.read", "ids": ids}))
        assert (await next_message(inbox, "error"))["code"] == "bad_request"
    await chatter.send(json.dumps({"type": "chat", "text": "still here"}))
    assert (await next_message(chatter, "chat"))["text"] == "still here"
    await inbox.send(json.dumps({"type": "inbox.send", "to": DJ[0], "text": "hi"}))
    assert (await next_message(inbox, "inbox.sent"))["to"] == DJ[0]

    await chatter.close()
    await inbox.close()
    for probe in probes:
        assert await probe.settles_to(clients=0, listeners=0)


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_dj_removed_while_live_goes_off_air_at_once(
    shared_deployment, workers, tone_mp3
):
    """Taking a DJ off the station closes their broadcast socket on another
    worker (error ``forbidden``, 4403) and the station goes off air."""
    first, second = workers
    listener, _ = await join(second)
    dj = await go_live(first, "audio/mpeg", OTHER_DJ)
    await dj.send(tone_mp3[:32000])
    assert (await next_message(listener, "on_air"))["on_air"] is True
    replies = asyncio.create_task(replies_until_closed(dj))

    shared_deployment.shell(
        "from django.contrib.auth.models import User; "
        "from stations.models import Station; "
        f"Station.objects.get(slug={STATION!r}).djs.remove("
        f"User.objects.get(username={OTHER_DJ[0]!r}))"
    )
    async with asyncio.timeout(SETTLE_S):
        errors = [reply for reply in await replies if reply["type"] == "error"]
        off_air = await next_message(listener, "on_air")
    assert dj.close_code == 4403
    assert [error["code"] for error in errors] == ["forbidden"]
    assert off_air["on_air"] is False
    with pytest.raises(ConnectionClosed) as refused:
        await go_live(second, "audio/mpeg", OTHER_DJ)
    assert refused.value.rcvd.code == 4403
    await listener.close()


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_deactivated_user_loses_inbox_and_chat_everywhere(
    shared_deployment, workers
):
    """Deactivating an account closes its inbox (4401) on one worker and
    makes its station socket on the other an anonymous listener's."""
    first, second = workers
    inbox, _ = await open_inbox(first, FAN)
    room = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(second.http_url, *FAN),
    )
    await next_message(room, "hello")

    shared_deployment.shell(
        "from django.contrib.auth.models import User; "
        f"fan = User.objects.get(username={FAN[0]!r}); "
        "fan.is_active = False; fan.save()"
    )
    assert await closed_with(inbox) == 4401
    async with asyncio.timeout(SETTLE_S):
        told = await next_message(room, "error")
    assert told["code"] == "auth_required"
    await room.send(json.dumps({"type": "chat", "text": "still me?"}))
    assert (await next_message(room, "error"))["code"] == "auth_required"
    await room.close()
