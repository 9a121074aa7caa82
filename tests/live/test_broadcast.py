"""A DJ goes live on a real daphne; listeners on real sockets hear it."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics

import pytest
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import DJ, LOUD_STATION, STATION
from tests.support.audio import decoded_seconds, frames_duration_ms, make_tone
from tests.support.clients import (
    Received,
    connect,
    listen,
    next_message,
    send_chunks,
    sign_in,
    stream_file,
)

pytestmark = pytest.mark.live

SENT_SECONDS = 6.0
BURST_MS = 2000
# Audio arriving this soon after the first is taken as part of the burst;
# audio sent live would take longer than this to add up to BURST_MS.
BURST_ARRIVAL_MS = 500
# Messages arriving this close together came in one write; packets written
# one by one come about 100 ms apart.
SAME_WRITE_MS = 20


async def go_live(
    worker, mime: str, user: tuple[str, str] = DJ, station: str = STATION
):
    dj = await connect(
        f"{worker.ws_url}/ws/stations/{station}/broadcast/",
        cookie=sign_in(worker.http_url, *user),
    )
    await dj.send(json.dumps({"type": "start", "format": mime}))
    # The console is in the room: the station's events reach it meanwhile,
    # an AutoDJ's next title among them.
    while (reply := json.loads(await dj.recv()))["type"] != "live":
        assert reply["type"] in (
            "listeners",
            "chat.history",
            "calls",
            "on_air",
            "now_playing",
        ), reply
    return dj


async def join(worker, station: str = STATION) -> tuple[object, dict]:
    socket = await connect(f"{worker.ws_url}/ws/stations/{station}/")
    hello = json.loads(await socket.recv())
    assert hello["type"] == "hello"
    return socket, hello


def burst_ms(received: Received) -> float:
    """Audio that arrived at once, with the first audio message."""
    first_at = received.audio[0][3]
    return sum(
        frames_duration_ms(frames)
        for _, _, frames, arrived in received.audio
        if arrived - first_at < BURST_ARRIVAL_MS
    )


def assert_whole_frames_without_gaps(received: Received) -> None:
    for _, _, frames, _ in received.audio:
        frames_duration_ms(frames)
    seqs = received.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq has gaps"


async def broadcast_to_listeners(
    worker, mime: str, send
) -> tuple[list[Received], Received]:
    """Three listeners from the start and one late joiner hear a broadcast."""
    listeners = [await join(worker) for _ in range(3)]
    for _, hello in listeners:
        assert hello["on_air"] is False
    dj = await go_live(worker, mime)
    received = [Received() for _ in listeners]
    readers = [
        asyncio.create_task(listen(socket, into, until="off_air"))
        for (socket, _), into in zip(listeners, received, strict=True)
    ]
    await dj.send(
        json.dumps({"type": "now_playing", "title": "Tone", "artist": "Sine"})
    )
    sender = asyncio.create_task(send(dj))
    await asyncio.sleep(SENT_SECONDS / 2)
    late_socket, late_hello = await join(worker)
    late = Received()
    late_reader = asyncio.create_task(listen(late_socket, late, until="off_air"))
    await sender
    await dj.send(json.dumps({"type": "stop"}))
    await asyncio.wait_for(asyncio.gather(*readers, late_reader), timeout=20)
    for socket, _ in [*listeners, (late_socket, None)]:
        await socket.close()
    await dj.close()
    assert late_hello["on_air"] is True
    assert late_hello["now_playing"]["title"] == "Tone"
    return received, late


async def check_broadcast(worker, mime: str, send) -> list[Received]:
    received, late = await broadcast_to_listeners(worker, mime, send)
    for listener in received:
        assert_whole_frames_without_gaps(listener)
        assert decoded_seconds(listener.mp3) == pytest.approx(SENT_SECONDS, rel=0.05)
        [now_playing] = listener.of_type("now_playing")
        assert (now_playing["title"], now_playing["artist"]) == ("Tone", "Sine")
        assert now_playing["seq"] == listener.seqs[0]
        assert any(m["count"] >= 3 for m in listener.of_type("listeners"))
    assert received[0].mp3 == received[1].mp3 == received[2].mp3

    assert_whole_frames_without_gaps(late)
    assert burst_ms(late) >= BURST_MS
    assert late.mp3 in received[0].mp3
    return received


async def test_mp3_broadcast_reaches_every_listener(server, tone_mp3):
    """MP3 from the DJ is re-framed, not re-encoded, and heard by all."""

    async def send(dj):
        await stream_file(dj, tone_mp3, bitrate_kbps=128)

    await check_broadcast(server, "audio/mpeg", send)


async def test_many_listeners_get_the_same_audio_a_few_packets_a_write(
    sqlite_deployment, tone_mp3
):
    """On a worker that writes in batches from 2 listeners on, everyone
    still gets whole frames, gapless seqs and the burst, several packets at
    a time."""
    worker = sqlite_deployment.start_worker(RADIO_BATCH_FROM_LISTENERS="2")

    async def send(dj):
        await stream_file(dj, tone_mp3, bitrate_kbps=128)

    for listener in await check_broadcast(worker, "audio/mpeg", send):
        arrivals = [arrived for *_, arrived in listener.audio]
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        writes = 1 + sum(gap > SAME_WRITE_MS for gap in gaps)
        assert writes <= len(arrivals) / 2, gaps


async def test_webm_opus_broadcast_is_transcoded_for_every_listener(server, tone_webm):
    """MediaRecorder's WebM/Opus in 250 ms chunks comes out as MP3."""
    chunk_count = int(SENT_SECONDS * 4)
    size = -(-len(tone_webm) // chunk_count)
    chunks = [tone_webm[i : i + size] for i in range(0, len(tone_webm), size)]

    encoders = []

    async def send(dj):
        await send_chunks(dj, chunks[:4], chunk_ms=250)
        encoders.append(server.children("ffmpeg"))
        await send_chunks(dj, chunks[4:], chunk_ms=250)
        encoders.append(server.children("ffmpeg"))

    [listener, *_] = await check_broadcast(server, "audio/webm;codecs=opus", send)
    # Audio messages of 100 ms or more, like a DJ's MP3 chunks; not one per
    # 26 ms frame as ffmpeg writes them. A busy machine may stall ffmpeg long
    # enough to cut a message short now and then.
    durations = [frames_duration_ms(frames) for _, _, frames, _ in listener.audio]
    assert statistics.median(durations) >= 100
    [first], [last] = encoders
    assert first == last, "one ffmpeg for the whole broadcast"
    assert server.children("ffmpeg") == [], "the encoder was reaped"


async def test_dj_whose_connection_drops_carries_on_after_reconnecting(
    server, tone_mp3
):
    """A dropped DJ who reconnects in the grace window keeps the station on air."""
    socket, _ = await join(server)
    dj = await go_live(server, "audio/mpeg")
    await dj.send(json.dumps({"type": "now_playing", "title": "Before", "artist": ""}))
    half = len(tone_mp3) // 2
    await stream_file(dj, tone_mp3[:half], bitrate_kbps=128)
    dj.transport.abort()

    again = await connect(
        f"{server.ws_url}/ws/stations/{STATION}/broadcast/",
        cookie=sign_in(server.http_url, *DJ),
    )
    await again.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
    reply = await next_message(again, "live")
    await stream_file(again, tone_mp3[half:], bitrate_kbps=128)
    await again.send(json.dumps({"type": "stop"}))
    received = await asyncio.wait_for(listen(socket, Received(), until="off_air"), 20)
    await socket.close()
    await again.close()

    assert reply["resumed"] is True
    on_air = received.of_type("on_air")
    assert [message["on_air"] for message in on_air] == [True, False]
    assert received.of_type("now_playing")[0]["title"] == "Before"
    seqs = received.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert decoded_seconds(received.mp3) == pytest.approx(SENT_SECONDS, rel=0.05)


async def test_burst_is_whole_at_high_bitrate(server, tmp_path):
    """A 320 kbit/s station's burst reaches a joiner whole, without a gap."""
    audio = make_tone(tmp_path / "loud.mp3", seconds=SENT_SECONDS, bitrate="320k")
    dj = await go_live(server, "audio/mpeg", station=LOUD_STATION)
    sender = asyncio.create_task(stream_file(dj, audio.read_bytes(), bitrate_kbps=320))
    await asyncio.sleep(SENT_SECONDS / 2)
    socket, hello = await join(server, LOUD_STATION)
    await sender
    await dj.send(json.dumps({"type": "stop"}))
    late = await asyncio.wait_for(listen(socket, Received(), until="off_air"), 20)
    await socket.close()
    await dj.close()

    assert hello["format"]["bitrate"] == 320
    assert_whole_frames_without_gaps(late)
    assert burst_ms(late) >= BURST_MS


async def test_oversize_messages_close_1009(server, tone_mp3):
    """Audio or JSON over the size limits closes the socket with 1009."""
    listener, _ = await join(server)
    dj = await go_live(server, "audio/mpeg")
    await dj.send(tone_mp3[:16000])
    await dj.send(bytes(256 * 1024 + 1))
    with pytest.raises(ConnectionClosed) as closed:
        await dj.recv()
    assert closed.value.rcvd.code == 1009
    assert (await next_message(listener, "on_air"))["on_air"] is True
    assert (await next_message(listener, "on_air"))["on_air"] is False

    await listener.send(json.dumps({"type": "chat", "text": "x" * 5000}))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await listener.recv()
    assert closed.value.rcvd.code == 1009
