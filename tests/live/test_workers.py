"""Two daphne workers sharing Redis and PostgreSQL act as one server."""

from __future__ import annotations

import asyncio
import json

import pytest

from stations.streaming.bus import LEASE_TTL_S
from tests.live.conftest import OTHER_DJ
from tests.live.test_broadcast import (
    BURST_MS,
    SENT_SECONDS,
    assert_whole_frames_without_gaps,
    burst_ms,
    go_live,
    join,
)
from tests.support.audio import decoded_seconds
from tests.support.clients import Received, listen, next_message, stream_file

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture(scope="module")
def workers(shared_deployment):
    return shared_deployment.start_worker(), shared_deployment.start_worker()


async def test_listeners_on_another_worker_hear_the_dj(workers, tone_mp3):
    """DJ on one worker, listeners on the other: same audio, burst included."""
    dj_worker, listener_worker = workers
    local_socket, _ = await join(dj_worker)
    remote_socket, remote_hello = await join(listener_worker)
    assert remote_hello["on_air"] is False
    dj = await go_live(dj_worker, "audio/mpeg")
    local, remote, late = Received(), Received(), Received()
    readers = [
        asyncio.create_task(listen(local_socket, local, until="off_air")),
        asyncio.create_task(listen(remote_socket, remote, until="off_air")),
    ]
    await dj.send(
        json.dumps({"type": "now_playing", "title": "Across", "artist": "Workers"})
    )
    sender = asyncio.create_task(stream_file(dj, tone_mp3, bitrate_kbps=128))
    await asyncio.sleep(SENT_SECONDS / 2)
    late_socket, late_hello = await join(listener_worker)
    readers.append(asyncio.create_task(listen(late_socket, late, until="off_air")))
    await sender
    await dj.send(json.dumps({"type": "stop"}))
    await asyncio.wait_for(asyncio.gather(*readers), timeout=20)
    for socket in (local_socket, remote_socket, late_socket, dj):
        await socket.close()

    assert remote.mp3 == local.mp3
    assert_whole_frames_without_gaps(remote)
    assert decoded_seconds(remote.mp3) == pytest.approx(SENT_SECONDS, rel=0.05)
    [now_playing] = remote.of_type("now_playing")
    assert now_playing["title"] == "Across"
    assert now_playing["seq"] == remote.seqs[0]
    assert any(message["count"] >= 2 for message in remote.of_type("listeners"))

    assert late_hello["on_air"] is True
    assert late_hello["now_playing"]["title"] == "Across"
    assert_whole_frames_without_gaps(late)
    assert burst_ms(late) >= BURST_MS
    assert late.mp3 in local.mp3


async def test_one_dj_at_a_time_across_workers(workers, tone_mp3):
    """A second DJ on another worker is refused with 4409 while one is live."""
    first, second = workers
    dj = await go_live(first, "audio/mpeg")
    await dj.send(tone_mp3[:16000])
    with pytest.raises(Exception) as refused:
        await go_live(second, "audio/mpeg", OTHER_DJ)
    assert getattr(refused.value, "rcvd", None) is not None
    assert refused.value.rcvd.code == 4409
    await dj.send(json.dumps({"type": "stop"}))
    await dj.close()


async def test_station_goes_off_air_when_its_producers_worker_dies(
    shared_deployment, workers, tone_mp3
):
    """Kill the DJ's worker: listeners elsewhere hear the station go off air."""
    _, listener_worker = workers
    doomed = shared_deployment.start_worker()
    socket, _ = await join(listener_worker)
    dj = await go_live(doomed, "audio/mpeg")
    await dj.send(tone_mp3[:32000])
    assert (await next_message(socket, "on_air"))["on_air"] is True
    doomed.process.kill()
    async with asyncio.timeout(LEASE_TTL_S + 5):
        off_air = await next_message(socket, "on_air")
    await socket.close()
    assert off_air["on_air"] is False
