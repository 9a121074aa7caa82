"""``stream.mp3``: the station as plain HTTP, for VLC, ffplay and <audio>."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from stations.streaming.icy import strip_metadata
from tests.live.conftest import STATION
from tests.live.test_broadcast import go_live, join
from tests.support.audio import decoded_seconds
from tests.support.clients import next_message, stream_file

pytestmark = pytest.mark.live

READ_SECONDS = 5.0


async def open_stream(worker, *, icy: bool, station: str = STATION):
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
    request = f"GET /stations/{station}/stream.mp3 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if icy:
        request += "Icy-MetaData: 1\r\n"
    writer.write((request + "\r\n").encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status, *lines = head.strip().split("\r\n")
    headers = {}
    for line in lines:
        name, value = line.split(": ", 1)
        headers[name.lower()] = value
    return reader, writer, status, headers


async def read_chunked_for(reader, seconds: float) -> bytes:
    """The body of a chunked response, read for ``seconds``."""
    body = bytearray()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        size = int((await reader.readline()).strip(), 16)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    return bytes(body)


async def test_stream_with_icy_metadata_carries_audio_and_title(server, tone_mp3):
    """With Icy-MetaData: 1 the stream interleaves StreamTitle blocks."""
    dj = await go_live(server, "audio/mpeg")
    await dj.send(
        json.dumps({"type": "now_playing", "title": "Tone", "artist": "Sine"})
    )
    sender = asyncio.create_task(stream_file(dj, tone_mp3 * 2, bitrate_kbps=128))
    reader, writer, status, headers = await open_stream(server, icy=True)
    body = await read_chunked_for(reader, READ_SECONDS)
    writer.close()
    sender.cancel()
    await dj.close()

    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "audio/mpeg"
    assert headers["icy-name"] == "Live Test"
    assert headers["icy-br"] == "128"
    metaint = int(headers["icy-metaint"])
    audio, titles = strip_metadata(body, metaint)
    assert "Sine - Tone" in titles
    # The burst plus what was read live.
    assert decoded_seconds(audio) >= READ_SECONDS


async def test_stream_without_icy_is_plain_mp3(server, tone_mp3):
    """Without Icy-MetaData the body is MP3 frames only."""
    dj = await go_live(server, "audio/mpeg")
    sender = asyncio.create_task(stream_file(dj, tone_mp3, bitrate_kbps=128))
    reader, writer, _status, headers = await open_stream(server, icy=False)
    body = await read_chunked_for(reader, 2)
    writer.close()
    sender.cancel()
    await dj.close()

    assert "icy-metaint" not in headers
    assert decoded_seconds(body) >= 2


async def test_stream_of_unknown_station_is_404(server):
    """An unknown slug answers 404."""
    _reader, writer, status, _headers = await open_stream(
        server, icy=False, station="nowhere"
    )
    writer.close()
    assert status == "HTTP/1.1 404 Not Found"


async def test_status_json_tells_what_is_on(server, tone_mp3):
    """status.json has the on-air state, now playing and listener count."""
    socket, _ = await join(server)
    dj = await go_live(server, "audio/mpeg")
    await dj.send(
        json.dumps({"type": "now_playing", "title": "Tone", "artist": "Sine"})
    )
    await dj.send(tone_mp3[:16000])
    assert (await next_message(socket, "now_playing"))["title"] == "Tone"
    status = await asyncio.to_thread(read_status, server)
    await dj.close()
    await socket.close()

    assert status["slug"] == STATION
    assert status["name"] == "Live Test"
    assert (status["on_air"], status["source"]) == (True, "live")
    assert status["now_playing"]["title"] == "Tone"
    assert status["now_playing"]["artist"] == "Sine"
    assert status["listeners"] == 1


def read_status(worker, station: str = STATION) -> dict:
    url = f"{worker.http_url}/stations/{station}/status.json"
    with urllib.request.urlopen(url) as response:
        return json.load(response)
