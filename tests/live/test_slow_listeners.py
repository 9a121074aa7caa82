"""Listeners that stop reading cost bounded memory and delay nobody."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time

import pytest

from tests.live.conftest import LOUD_STATION
from tests.live.test_broadcast import go_live, join
from tests.live.test_http_stream import read_status
from tests.support.audio import make_tone
from tests.support.clients import Received, listen, stream_file

pytestmark = pytest.mark.live

STALLED_LISTENERS = 20
# The DJ sends this many seconds of 320 kbit/s audio each second, so that
# every stalled socket would hold megabytes if nothing held them back: far
# more than the ~1 MB the kernel's socket buffers absorb on loopback.
SPEEDUP = 12
SEND_SECONDS = 10
MAX_STALL_S = 3
# What all stalled listeners together may add to the server's memory.
RSS_GROWTH_LIMIT = 15 * 2**20
# At real-time pace: the socket and transport buffers fill in a few seconds
# at 320 kbit/s, then MAX_STALL_S passes.
REAL_TIME_SECONDS = 30
STALL_NOTICED_WITHIN_S = 15


def stalled_listener(port: int, station: str = LOUD_STATION) -> socket.socket:
    """A WebSocket client that reads the handshake and then nothing more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/stations/{station}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Origin: http://127.0.0.1\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_until_closed(sock: socket.socket) -> int | None:
    """Read until the server ends the connection; return its close code.

    A client that reads nothing cannot receive the close frame queued behind
    the audio, so the server may end up resetting the connection: None then.
    """
    sock.settimeout(30)
    data = bytearray()
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except ConnectionResetError:
        return None
    offset = 0
    while offset + 2 <= len(data):
        opcode, length = data[offset] & 0x0F, data[offset + 1] & 0x7F
        offset += 2
        if length == 126:
            (length,) = struct.unpack_from(">H", data, offset)
            offset += 2
        elif length == 127:
            (length,) = struct.unpack_from(">Q", data, offset)
            offset += 8
        if opcode == 8:
            return struct.unpack_from(">H", data, offset)[0]
        offset += length
    return None


@pytest.fixture(scope="module")
def strict_server(sqlite_deployment):
    return sqlite_deployment.start_worker(
        RADIO_LISTENER_MAX_STALL_SECONDS=str(MAX_STALL_S),
        # The DJ here sends SPEEDUP times faster than real time on purpose.
        RADIO_DJ_MAX_AUDIO_SPEED=str(SPEEDUP * 2),
    )


async def test_stalled_listeners_are_bounded_and_dropped(strict_server, tmp_path):
    """Stalled sockets skip audio, then get 4408; a reader hears every packet."""
    loud = make_tone(
        tmp_path / "loud.mp3", seconds=SEND_SECONDS * SPEEDUP, bitrate="320k"
    )
    audio = loud.read_bytes()
    healthy_socket, _ = await join(strict_server, LOUD_STATION)
    stalled = [stalled_listener(strict_server.port) for _ in range(STALLED_LISTENERS)]
    rss_before = strict_server.rss_bytes()

    dj = await go_live(strict_server, "audio/mpeg", station=LOUD_STATION)
    healthy = Received()
    reader = asyncio.create_task(listen(healthy_socket, healthy, until="off_air"))
    await stream_file(dj, audio, bitrate_kbps=320 * SPEEDUP)
    rss_after = strict_server.rss_bytes()
    await dj.send('{"type": "stop"}')
    await asyncio.wait_for(reader, timeout=20)
    await healthy_socket.close()
    await dj.close()

    assert rss_after - rss_before < RSS_GROWTH_LIMIT
    seqs = healthy.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the reader missed audio"
    codes = await asyncio.gather(
        *(asyncio.to_thread(read_until_closed, sock) for sock in stalled)
    )
    assert set(codes) <= {4408, None}
    for sock in stalled:
        sock.close()


async def test_stalled_listeners_are_noticed_at_real_time_pace(strict_server, tmp_path):
    """At the pace of a real broadcast a stall is noticed within seconds.

    Without a fixed socket send buffer, Linux grows it to take megabytes,
    and only daphne's ping timeout (about 50 s) would drop the listener.
    """
    audio = make_tone(tmp_path / "real.mp3", seconds=REAL_TIME_SECONDS, bitrate="320k")
    dj = await go_live(strict_server, "audio/mpeg", station=LOUD_STATION)
    sender = asyncio.create_task(stream_file(dj, audio.read_bytes(), bitrate_kbps=320))
    healthy_socket, _ = await join(strict_server, LOUD_STATION)
    stalled = [stalled_listener(strict_server.port, LOUD_STATION) for _ in range(3)]
    started = time.monotonic()
    while (await asyncio.to_thread(read_status, strict_server, LOUD_STATION))[
        "listeners"
    ] > 1:
        assert not sender.done(), "the stalled listeners were never dropped"
        await asyncio.sleep(0.5)
    dropped_after = time.monotonic() - started
    sender.cancel()
    await healthy_socket.close()
    await dj.close()
    for sock in stalled:
        sock.close()
    assert dropped_after < STALL_NOTICED_WITHIN_S
