"""Hostile clients on real daphne workers sharing Redis, each a limit that
holds against the abuser alone: one chat allowance on every worker,
connections per address, full stations, connections that never finish their
handshake, and a client sending random frames while others listen and chat."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import re
import time

import pytest
import websockets

from radio import protocol
from tests.live.conftest import DJ, FAN, LISTENER, STATION, STRANGER
from tests.live.test_broadcast import go_live
from tests.support.clients import (
    Received,
    connect,
    listen,
    next_message,
    sign_in,
    stream_file,
)
from tests.support.fuzz import (
    SENTINEL,
    documented_close_codes,
    documented_error_codes,
    draw_wire_frames,
    is_sentinel_answer,
)

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

CHAT_BURST = 5
# The default of RADIO_MAX_CONNECTIONS_PER_IP.
MAX_CONNECTIONS_PER_IP = 50
SMALL_STATION = "small"
SMALL_STATION_MAX_LISTENERS = 2
# The default of RADIO_HANDSHAKE_TIMEOUT_SECONDS, and the bound.
HANDSHAKE_TIMEOUT_S = 8.0
HANDSHAKE_BOUND_S = 10.0
# What a client sees when daphne drops the connection without a close frame.
CLOSE_DROPPED = 1006
# Random frames one client sends in the fuzzing test.
FUZZ_FRAMES = 300
# Another address of this machine: loopback is all of 127.0.0.0/8.
OTHER_ADDRESS = "127.0.0.2"


@pytest.fixture(scope="module")
def workers(shared_deployment):
    shared_deployment.manage(
        "createstation", SMALL_STATION, "--name", "Small", "--dj", "dj"
    )
    shared_deployment.shell(
        "from stations.models import Station; "
        f"Station.objects.filter(slug={SMALL_STATION!r})"
        f".update(max_listeners={SMALL_STATION_MAX_LISTENERS})"
    )
    # A bucket that hardly refills: what passes is the burst, in all.
    slow_chat = {"RADIO_CHAT_MESSAGES_PER_SECOND": "0.01"}
    return (
        shared_deployment.start_worker(**slow_chat),
        shared_deployment.start_worker(**slow_chat),
    )


async def close_code(socket) -> int:
    """Read ``socket`` until the server closes it; the close code."""
    async with asyncio.timeout(10):
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await socket.recv()
    return socket.close_code


async def test_a_user_on_two_workers_gets_one_chat_allowance(workers):
    """Chat sent on both workers at once passes a burst's worth in all; the
    rest is refused with rate_limited, and another user still chats."""
    first, second = workers
    cookie = sign_in(first.http_url, *LISTENER)
    talkers = [
        await connect(f"{worker.ws_url}/ws/stations/{STATION}/", cookie=cookie)
        for worker in workers
    ]
    other = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(second.http_url, *STRANGER),
    )
    for socket in (*talkers, other):
        await next_message(socket, "chat.history")
    outcomes = []
    for index in range(2 * CHAT_BURST):
        socket, text = talkers[index % 2], f"twice {index}"
        await socket.send(json.dumps({"type": "chat", "text": text}))
        outcomes.append(await chat_outcome(socket, text))
    await other.send(json.dumps({"type": "chat", "text": "still here"}))
    others_outcome = await chat_outcome(other, "still here")
    for socket in (*talkers, other):
        await socket.close()

    assert outcomes == ["chat"] * CHAT_BURST + [protocol.RATE_LIMITED] * CHAT_BURST
    assert others_outcome == "chat"


async def chat_outcome(socket, text: str) -> str:
    """What became of chat ``text`` just sent on ``socket``: "chat" once it
    comes back from the room, or the code of the error that refused it."""
    async with asyncio.timeout(10):
        while True:
            message = await next_json(socket)
            if message["type"] == protocol.ERROR:
                return message["code"]
            if message["type"] == protocol.CHAT and message["text"] == text:
                return "chat"


async def station_socket(worker, station: str = STATION, *, address: str, **kwargs):
    """A station socket from ``address`` (a loopback address)."""
    return await connect(
        f"{worker.ws_url}/ws/stations/{station}/", local_addr=(address, 0), **kwargs
    )


def stream_status(worker, station: str, *, address: str) -> tuple[int, dict]:
    """The status and headers of ``stream.mp3`` fetched from ``address``."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", worker.port, timeout=10, source_address=(address, 0)
    )
    try:
        connection.request("GET", f"/stations/{station}/stream.mp3")
        response = connection.getresponse()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


async def test_one_address_holds_at_most_its_cap_of_connections(workers):
    """The 51st socket from one address is closed with 4429 and its
    stream.mp3 answered 429; the first 50 and another address are served,
    and a socket closed makes room for one more."""
    first, _ = workers
    flooder = "127.0.0.3"
    held = []
    for _ in range(MAX_CONNECTIONS_PER_IP):
        socket = await station_socket(first, address=flooder)
        await next_message(socket, "hello")
        held.append(socket)
    refused = await station_socket(first, address=flooder)
    refused_code = await close_code(refused)
    stream = await asyncio.to_thread(stream_status, first, STATION, address=flooder)
    neighbour = await station_socket(first, address=OTHER_ADDRESS)
    neighbours_hello = await next_message(neighbour, "hello")
    # The first socket is still served: it hears the count of all 51.
    async with asyncio.timeout(10):
        while (await next_message(held[0], "listeners"))["count"] <= len(held):
            pass
    await held.pop().close()
    readmitted = await admitted_soon(first, address=flooder)
    for socket in (*held, neighbour, readmitted):
        await socket.close()

    assert refused_code == protocol.CLOSE_TOO_MANY_CONNECTIONS
    assert stream[0] == 429
    assert int(stream[1]["Retry-After"]) > 0
    assert neighbours_hello["station"]["slug"] == STATION


async def admitted_soon(worker, *, address: str):
    """A station socket from ``address``, once the worker has let a closed
    one go (it hears of the close a moment after the client)."""
    async with asyncio.timeout(10):
        while True:
            socket = await station_socket(worker, address=address)
            with contextlib.suppress(websockets.ConnectionClosed):
                await next_message(socket, "hello")
                return socket
            assert socket.close_code == protocol.CLOSE_TOO_MANY_CONNECTIONS


async def test_a_full_station_refuses_the_next_listener_on_every_worker(workers):
    """With its two listeners on two workers, the station refuses a third on
    either worker with 4503 and stream.mp3 with 503; its DJ's console still
    joins, and a listener who leaves makes room."""
    first, second = workers
    one = await station_socket(first, SMALL_STATION, address=OTHER_ADDRESS)
    two = await station_socket(second, SMALL_STATION, address=OTHER_ADDRESS)
    # Each worker has counted both once its listener hears the count of 2.
    for socket in (one, two):
        async with asyncio.timeout(10):
            while (await next_message(socket, "listeners"))["count"] < 2:
                pass
    codes = [
        await close_code(await station_socket(worker, SMALL_STATION, address=address))
        for worker in workers
        for address in ("127.0.0.1", OTHER_ADDRESS)
    ]
    stream = await asyncio.to_thread(
        stream_status, first, SMALL_STATION, address=OTHER_ADDRESS
    )
    console = await connect(
        f"{first.ws_url}/ws/stations/{SMALL_STATION}/broadcast/",
        cookie=sign_in(first.http_url, *DJ),
    )
    console_count = await next_message(console, "listeners")
    await one.close()
    three = await station_socket(first, SMALL_STATION, address=OTHER_ADDRESS)
    threes_hello = await next_message(three, "hello")
    for socket in (two, three, console):
        await socket.close()

    assert codes == [protocol.CLOSE_STATION_FULL] * 4
    assert stream[0] == 503
    assert int(stream[1]["Retry-After"]) > 0
    assert console_count["count"] == SMALL_STATION_MAX_LISTENERS
    assert threes_hello["station"]["slug"] == SMALL_STATION


async def seconds_until_dropped(reader, writer, trickle: bytes) -> float:
    """Send ``trickle`` a byte a second until the server drops the
    connection; how long it took from the connection's opening."""
    opened = time.monotonic()
    async with asyncio.timeout(HANDSHAKE_BOUND_S * 2):
        for byte in trickle:
            writer.write(bytes([byte]))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    if await reader.read(1) == b"":
                        break
        else:
            await reader.read()
    writer.close()
    return time.monotonic() - opened


async def status_answer(reader, writer) -> bytes:
    """The status line and headers of ``status.json`` asked on a kept-alive
    connection; the body is read too, so the next request may follow."""
    path = f"/stations/{STATION}/status.json"
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    async with asyncio.timeout(10):
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(length.group(1)))
    return head


async def test_a_connection_that_never_finishes_its_handshake_is_dropped(workers):
    """A silent connection, and one that sends its request a byte a second,
    are both dropped within 10 s, while a kept-alive HTTP connection and a
    WebSocket that opened with them are served on."""
    first, _ = workers
    silent = await asyncio.open_connection("127.0.0.1", first.port)
    slow = await asyncio.open_connection("127.0.0.1", first.port)
    keep_alive = await asyncio.open_connection("127.0.0.1", first.port)
    first_answer = await status_answer(*keep_alive)
    listener = await station_socket(first, address="127.0.0.1")
    await next_message(listener, "hello")
    request = (
        f"GET /ws/stations/{STATION}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "X-Padding: slowly\r\n" * 20
    ).encode()
    silent_s, slow_s = await asyncio.gather(
        seconds_until_dropped(*silent, trickle=b""),
        seconds_until_dropped(*slow, trickle=request),
    )
    second_answer = await status_answer(*keep_alive)
    listener_pong = await asyncio.wait_for(await listener.ping(), 10)
    keep_alive[1].close()
    await listener.close()

    assert HANDSHAKE_TIMEOUT_S - 1 < silent_s < HANDSHAKE_BOUND_S
    assert HANDSHAKE_TIMEOUT_S - 1 < slow_s < HANDSHAKE_BOUND_S
    assert first_answer.startswith(b"HTTP/1.1 200")
    assert second_answer.startswith(b"HTTP/1.1 200")
    assert listener_pong is not None


async def fuzz(worker, frames: list[str | bytes], *, cookie: str) -> dict[str, set]:
    """Send ``frames`` on the station room, each followed by the sentinel
    and answered before the next; reconnect after each close. The error
    codes and close codes that came back."""
    url = f"{worker.ws_url}/ws/stations/{STATION}/"
    codes: dict[str, set] = {"errors": set(), "closes": set()}
    socket = None
    for frame in frames:
        if socket is None:
            socket = await connect(url, cookie=cookie)
            await next_message(socket, "chat.history")
        try:
            await socket.send(frame)
            await socket.send(SENTINEL)
            async with asyncio.timeout(10):
                while not is_sentinel_answer(message := await next_json(socket)):
                    if message["type"] == protocol.ERROR:
                        codes["errors"].add(message["code"])
        except websockets.ConnectionClosed:
            codes["closes"].add(socket.close_code)
            socket = None
    if socket is not None:
        await socket.close()
    return codes


async def next_json(socket) -> dict:
    """The next JSON message of ``socket``, past any audio."""
    while isinstance(message := await socket.recv(), bytes):
        pass
    return json.loads(message)


async def test_random_frames_from_one_client_trouble_nobody_else(workers, tone_mp3):
    """A few hundred random frames from one signed-in client get documented
    codes only, never 1011; text that is not UTF-8 is dropped by daphne;
    meanwhile a listener hears every audio message of a live DJ, another
    user chats, and the worker stays up."""
    first, _ = workers
    frames = await asyncio.to_thread(draw_wire_frames, FUZZ_FRAMES)
    dj = await go_live(first, "audio/mpeg")
    streaming = asyncio.create_task(stream_file(dj, tone_mp3, bitrate_kbps=128))
    listener = await station_socket(first, address=OTHER_ADDRESS)
    received = Received()
    listening = asyncio.create_task(listen(listener, received))
    chatter = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/", cookie=sign_in(first.http_url, *FAN)
    )
    await next_message(chatter, "chat.history")

    codes = await fuzz(first, frames, cookie=sign_in(first.http_url, *STRANGER))
    not_utf8 = await station_socket(first, address=OTHER_ADDRESS)
    await not_utf8.send(b"\xc3\x28 not UTF-8", text=True)
    not_utf8_code = await close_code(not_utf8)
    await chatter.send(json.dumps({"type": "chat", "text": "still talking"}))
    chatters_outcome = await chat_outcome(chatter, "still talking")
    await streaming
    await dj.close()
    listening.cancel()
    for socket in (listener, chatter):
        await socket.close()

    assert len(frames) > FUZZ_FRAMES / 2
    assert codes["errors"] <= documented_error_codes()
    assert codes["closes"] <= documented_close_codes() - {protocol.CLOSE_INTERNAL_ERROR}
    assert not_utf8_code == CLOSE_DROPPED
    assert chatters_outcome == "chat"
    seqs = received.seqs
    assert len(seqs) > 10
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert first.process.poll() is None
