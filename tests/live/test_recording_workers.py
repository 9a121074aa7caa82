"""On two daphne workers sharing Redis, PostgreSQL and MEDIA_ROOT, a DJ
whose connection drops on one worker and who resumes on the other carries
on in the same episode and file."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.live.conftest import DJ, STATION
from tests.live.test_broadcast import go_live, join
from tests.live.test_recording import episodes_in_feed, get, path_of, tracklist_of
from tests.support.audio import decoded_seconds, frames_duration_ms
from tests.support.clients import (
    Received,
    connect,
    listen,
    next_message,
    sign_in,
    stream_file,
)

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

SENT_SECONDS = 6.0


@pytest.fixture(scope="module")
def workers(shared_deployment):
    return shared_deployment.start_worker(), shared_deployment.start_worker()


async def test_a_dj_resumed_on_another_worker_goes_on_in_the_same_episode(
    workers, tone_mp3
):
    """The file is what listeners heard across the drop; each title is at
    the audio it was set before, whichever worker recorded it."""
    first, second = workers
    listener, _ = await join(second)
    dj = await go_live(first, "audio/mpeg")
    await dj.send(json.dumps({"type": "now_playing", "title": "Before", "artist": ""}))
    half = len(tone_mp3) // 2
    await stream_file(dj, tone_mp3[:half], bitrate_kbps=128)
    dj.transport.abort()

    again = await connect(
        f"{second.ws_url}/ws/stations/{STATION}/broadcast/",
        cookie=sign_in(second.http_url, *DJ),
    )
    await again.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
    reply = await next_message(again, "live")
    await again.send(
        json.dumps({"type": "now_playing", "title": "After", "artist": ""})
    )
    await stream_file(again, tone_mp3[half:], bitrate_kbps=128)
    await again.send(json.dumps({"type": "stop"}))
    received = await asyncio.wait_for(listen(listener, Received(), until="off_air"), 20)
    await listener.close()
    await again.close()
    assert reply["resumed"] is True

    [entry] = await episodes_in_feed(first, 1)
    [enclosure] = entry.enclosures
    with get(second, path_of(enclosure.href)) as response:
        audio = response.read()
    assert audio == received.mp3
    assert decoded_seconds(audio) == pytest.approx(SENT_SECONDS, rel=0.05)

    with get(first, path_of(entry.link)) as response:
        tracklist = tracklist_of(response.read().decode())
    assert [title for _, title in tracklist] == ["Before", "After"]
    [after] = received.of_type("now_playing")[1:]
    before_after = b"".join(
        frames for seq, _, frames, _ in received.audio if seq < after["seq"]
    )
    assert tracklist[0][0] == 0
    assert tracklist[1][0] == pytest.approx(
        frames_duration_ms(before_after) / 1000, abs=0.001
    )
