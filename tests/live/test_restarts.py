"""Deploys and crashes: a worker stopped with SIGTERM lets its clients go to
the other worker at once; a DJ whose worker was killed takes the station
back at once on another.

Two workers share Redis and PostgreSQL. The clients do what the pages do
behind a load balancer that sends new connections to a worker that is up:
told 1012, they connect again at once, here explicitly to the other worker.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time

import pytest
from websockets.exceptions import ConnectionClosed

from radio.shutdown import DRAIN_TIMEOUT_S
from stations.streaming.packets import HEADER_BYTES, now_ms
from tests.live.conftest import DJ, LOUD_STATION, STATION
from tests.live.test_autodj import make_library, running
from tests.live.test_broadcast import join
from tests.live.test_sources import put, send_paced, status_of
from tests.support.audio import frames_duration_ms, make_tone
from tests.support.clients import connect, next_message, sign_in
from tests.support.servers import free_port_pair

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

# The longest silence a listener may hear across a restart.
MAX_SILENCE_MS = 2000
# A stopping worker drains for at most DRAIN_TIMEOUT_S, then exits.
EXIT_TIMEOUT_S = DRAIN_TIMEOUT_S + 10
CHUNK_MS = 100
BITRATE_KBPS = 128
# Of the burst after a reconnect, the listener page plays the newest 0.8 s
# (docs/PROTOCOL.md, "The listener page"); the burst arrives at once.
PAGE_BURST_MS = 800
BURST_ARRIVAL_MS = 500
# More audio than this ahead of the playhead makes the page jump ahead.
MAX_AHEAD_MS = 1600
JUMP_TO_MS = 700
# How long the listeners are followed after the restart.
AFTER_RESTART_S = 5.0
CLOSE_SERVICE_RESTART = 1012
CLOSE_DJ_ALREADY_LIVE = 4409


@pytest.fixture(scope="module")
def long_tone(tmp_path_factory) -> bytes:
    """Long enough to stream through a restart, at 128 kbit/s."""
    path = tmp_path_factory.mktemp("restart-audio") / "tone.mp3"
    return make_tone(path, seconds=20).read_bytes()


@pytest.fixture(scope="module")
def pair(shared_deployment, tmp_path_factory):
    """Two workers; the AutoDJ plays the loud station on the first."""
    tracks = make_library(tmp_path_factory.mktemp("restart-library"))
    shared_deployment.manage("addtrack", LOUD_STATION, *map(str, tracks))
    first = shared_deployment.start_worker()
    asyncio.run(wait_for_autodj(first))
    return first, shared_deployment.start_worker()


async def wait_for_autodj(worker) -> None:
    async with asyncio.timeout(20):
        while True:
            socket, hello = await join(worker, LOUD_STATION)
            await socket.close()
            if hello["source"] == "autodj":
                return
            await asyncio.sleep(0.2)


class Follower:
    """A listener page: on 1012 it joins the other worker at once."""

    def __init__(self, station: str) -> None:
        self.station = station
        self.arrivals: list[int] = []
        # (arrival ms, duration ms, which connection) of each audio message.
        self.audio: list[tuple[int, float, int]] = []
        self.on_air: list[bool] = []
        self.close_codes: list[int | None] = []

    async def follow(self, first, then, *, until: asyncio.Event) -> None:
        socket, _ = await join(first, self.station)
        try:
            await self._read(socket, until)
            if until.is_set():
                return
            self.close_codes.append(socket.close_code)
            socket, _ = await join(then, self.station)
            await self._read(socket, until)
            assert until.is_set(), f"closed again with {socket.close_code}"
        finally:
            await socket.close()

    async def _read(self, socket, until: asyncio.Event) -> None:
        stop = asyncio.ensure_future(until.wait())
        reading = asyncio.ensure_future(self._audio(socket))
        await asyncio.wait([stop, reading], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        reading.cancel()

    async def _audio(self, socket) -> None:
        try:
            async for message in socket:
                if isinstance(message, bytes):
                    arrived = now_ms()
                    self.arrivals.append(arrived)
                    duration = frames_duration_ms(message[HEADER_BYTES:])
                    self.audio.append((arrived, duration, len(self.close_codes)))
                elif (data := json.loads(message))["type"] == "on_air":
                    self.on_air.append(data["on_air"])
        except ConnectionClosed:
            pass

    def longest_silence_heard_ms(self) -> float:
        """The longest the page's player runs dry: each audio message plays
        after the audio before it, from its arrival on. As on the listener
        page, of each connection's burst only the newest PAGE_BURST_MS are
        played, and more than MAX_AHEAD_MS buffered jumps to JUMP_TO_MS
        before its end."""
        silence, ends_at = 0.0, self.audio[0][0]
        for arrived, duration in self._played():
            silence = max(silence, arrived - ends_at)
            ends_at = max(ends_at, arrived) + duration
            if ends_at - arrived > MAX_AHEAD_MS:
                ends_at = arrived + JUMP_TO_MS
        return silence

    def _played(self) -> list[tuple[int, float]]:
        played = []
        for connection in sorted({item[2] for item in self.audio}):
            audio = [item[:2] for item in self.audio if item[2] == connection]
            burst_ends = audio[0][0] + BURST_ARRIVAL_MS
            burst = [item for item in audio if item[0] < burst_ends]
            kept_ms, first_kept = 0.0, len(burst)
            while first_kept > 0 and kept_ms < PAGE_BURST_MS:
                first_kept -= 1
                kept_ms += burst[first_kept][1]
            played += audio[first_kept:]
        return played

    def longest_silence_ms(self, *, after: int) -> int:
        times = [after, *(t for t in self.arrivals if t > after)]
        return max(later - earlier for earlier, later in itertools.pairwise(times))


class Console:
    """The DJ's console: streams audio in real time; on 1012 it goes live
    again at once on the other worker and carries on."""

    def __init__(self, cookie: str) -> None:
        self.cookie = cookie
        self.replies: list[dict] = []
        self.close_codes: list[int | None] = []
        self.socket = None

    async def go_live(self, worker) -> dict:
        self.socket = await connect(
            f"{worker.ws_url}/ws/stations/{STATION}/broadcast/", cookie=self.cookie
        )
        await self.socket.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
        reply = await next_message(self.socket, "live")
        reply["_arrived"] = now_ms()
        self.replies.append(reply)
        return reply

    async def stream(self, audio: bytes, *, then) -> None:
        chunk_bytes = BITRATE_KBPS * 1000 // 8 * CHUNK_MS // 1000
        started = time.monotonic()
        for index, offset in enumerate(range(0, len(audio), chunk_bytes)):
            try:
                await self.socket.send(audio[offset : offset + chunk_bytes])
            except ConnectionClosed:
                self.close_codes.append(self.socket.close_code)
                await self.go_live(then)
            delay = started + (index + 1) * CHUNK_MS / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        await self.socket.send(json.dumps({"type": "stop"}))
        await self.socket.close()


async def stream_mp3_to_the_end(worker) -> bytes:
    """Everything a ``stream.mp3`` response of ``worker`` sends, to its end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
    writer.write(
        f"GET /stations/{STATION}/stream.mp3 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n\r\n".encode()
    )
    try:
        return await reader.read()
    finally:
        writer.close()


async def test_a_rolling_restart_moves_everyone_to_the_other_worker(pair, long_tone):
    """SIGTERM the worker of a DJ, their listeners and the AutoDJ: 1012 for
    every socket, the DJ resumes on the other worker, the AutoDJ moves
    there, nobody hears more than 2 s of silence; the worker exits without
    leaving ffmpeg behind and starts again."""
    stopping, survivor = pair
    console = Console(sign_in(stopping.http_url, *DJ))
    await console.go_live(stopping)
    done = asyncio.Event()
    followers = [Follower(STATION), Follower(LOUD_STATION)]
    following = [
        asyncio.create_task(follower.follow(stopping, survivor, until=done))
        for follower in followers
    ]
    streaming = asyncio.create_task(console.stream(long_tone, then=survivor))
    http_stream = asyncio.create_task(stream_mp3_to_the_end(stopping))
    await asyncio.sleep(3)
    orphans = stopping.children("ffmpeg")

    stopping.process.send_signal(signal.SIGTERM)
    signalled_at = now_ms()
    await asyncio.to_thread(stopping.process.wait, EXIT_TIMEOUT_S)
    exited_s = (now_ms() - signalled_at) / 1000
    await asyncio.sleep(AFTER_RESTART_S)
    done.set()
    await asyncio.gather(*following)
    body = await asyncio.wait_for(http_stream, 5)
    streaming.cancel()
    await console.stop()

    assert orphans, "the AutoDJ played on the stopped worker"
    assert not [pid for pid in orphans if running(pid)]
    print(f"exited {exited_s:.1f} s after SIGTERM")
    assert console.close_codes == [CLOSE_SERVICE_RESTART]
    assert [reply["resumed"] for reply in console.replies] == [False, True]
    resumed_ms = console.replies[1]["_arrived"] - signalled_at
    print(f"the DJ was live again {resumed_ms} ms after SIGTERM")
    for follower in followers:
        assert follower.close_codes == [CLOSE_SERVICE_RESTART]
        silence = follower.longest_silence_heard_ms()
        gap = follower.longest_silence_ms(after=signalled_at - 1000)
        print(f"{follower.station}: {silence:.0f} ms heard, {gap} ms between arrivals")
        assert silence <= MAX_SILENCE_MS
    assert body.endswith(b"0\r\n\r\n"), "the stream.mp3 response was cut, not ended"
    assert survivor.children("ffmpeg"), "the AutoDJ did not move"

    await asyncio.to_thread(stopping.start_again)
    socket, hello = await join(stopping)
    await socket.close()
    assert hello["type"] == "hello"


async def test_a_dj_whose_worker_was_killed_is_live_again_at_once(pair, long_tone):
    """SIGKILL the DJ's worker: the DJ reconnects to the other worker and is
    live again at once, resuming; a second console of a DJ live on a living
    worker still gets 4409."""
    doomed, survivor = pair
    cookie = sign_in(survivor.http_url, *DJ)
    done = asyncio.Event()
    listener = Follower(STATION)
    following = asyncio.create_task(listener.follow(survivor, None, until=done))
    console = Console(cookie)
    await console.go_live(doomed)
    third = len(long_tone) // 3
    await console.stream(long_tone[:third], then=None)
    await assert_refused(survivor, cookie)

    doomed.process.kill()
    await asyncio.to_thread(doomed.process.wait)
    killed_at = now_ms()
    reply = await console.go_live(survivor)
    live_after_ms = now_ms() - killed_at
    await assert_refused(survivor, cookie)
    await console.stream(long_tone[third : 2 * third], then=None)
    done.set()
    await following
    await console.stop()
    await asyncio.to_thread(doomed.start_again)

    assert reply["resumed"] is True
    print(f"live again {live_after_ms} ms after the kill")
    assert listener.close_codes == []
    assert listener.longest_silence_ms(after=killed_at) <= MAX_SILENCE_MS


async def assert_refused(worker, cookie: str) -> None:
    """A second console of the DJ who is live is refused with 4409."""
    second = await connect(
        f"{worker.ws_url}/ws/stations/{STATION}/broadcast/", cookie=cookie
    )
    await second.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
    with pytest.raises(ConnectionClosed):
        await next_message(second, "live")
    assert second.close_code == CLOSE_DJ_ALREADY_LIVE


async def test_an_encoder_on_a_stopping_worker_resumes_on_another(
    shared_deployment, pair, long_tone
):
    """SIGTERM the worker an Icecast encoder streams to: the source is cut,
    its broadcast kept; the encoder reconnects to another worker's source
    port and carries on without the station going off air. (Its sign-in
    takes longer than a console's, which reuses its session.)"""
    _, survivor = pair
    stopping = shared_deployment.start_worker(RADIO_SOURCE_PORT=str(free_port_pair()))
    done = asyncio.Event()
    listener = Follower(STATION)
    following = asyncio.create_task(listener.follow(survivor, None, until=done))
    third = len(long_tone) // 3

    reader, writer = await open_source(stopping)
    sending = asyncio.create_task(send_paced(writer, long_tone[:third]))
    await asyncio.sleep(2)
    stopping.process.send_signal(signal.SIGTERM)
    signalled_at = now_ms()
    async with asyncio.timeout(EXIT_TIMEOUT_S):
        while await reader.read(4096):
            pass
    cut_ms = now_ms() - signalled_at
    sending.cancel()
    writer.transport.abort()
    reader, writer = await open_source(survivor)
    reopened_ms = now_ms() - signalled_at
    await send_paced(writer, long_tone[third : 2 * third])
    writer.close()
    done.set()
    await following
    await asyncio.to_thread(stopping.process.wait, EXIT_TIMEOUT_S)

    silence = listener.longest_silence_ms(after=signalled_at)
    print(f"source cut {cut_ms} ms after SIGTERM, back at {reopened_ms} ms;")
    print(f"longest silence {silence} ms")
    # Within the reconnect grace: the station stayed on air, and went on.
    assert listener.on_air == [True]
    assert listener.arrivals[-1] > signalled_at + reopened_ms


async def open_source(worker):
    """An Icecast source of the DJ on ``worker``'s source port, answered 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.source_port)
    writer.write(put().encode())
    assert status_of(await reader.readuntil(b"\r\n\r\n")) == 200
    return reader, writer
