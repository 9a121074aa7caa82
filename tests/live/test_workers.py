"""Two daphne workers sharing Redis and PostgreSQL act as one server."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from stations.streaming.bus import LEASE_TTL_S
from tests.live.conftest import DJ, OTHER_DJ, STATION
from tests.live.test_api_sse import Widget
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

# The API's answers are kept 5 s (RADIO_API_CACHE_SECONDS), and counts take a
# second more to reach every worker.
API_WAIT_S = 8.0


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


# Where the one-off show of the schedule test begins: after both sockets join.
SHOW_LEAD_S = 3
MAKE_SHOW = f"""
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from stations.models import Station
from stations.programme.models import Slot
from stations.programme.services import show_create
show = show_create(
    station=Station.objects.get(slug={STATION!r}),
    name="Across Workers",
    hosts=[get_user_model().objects.get(username={DJ[0]!r})],
)
Slot.objects.create(
    show=show, kind="once", duration_minutes=1,
    starts_at=timezone.now() + timedelta(seconds={SHOW_LEAD_S}),
)
"""
RENAME_SHOW = """
from stations.programme.models import Show
from stations.programme.services import show_update
show = Show.objects.get(name="Across Workers")
show_update(show=show, name="Renamed <b>", hosts=show.hosts.all())
"""


async def test_every_worker_tells_its_listeners_the_show_on_now(
    shared_deployment, workers
):
    """hello carries the next show; each worker says schedule when it begins,
    and when an operator renames it (through Redis)."""
    await asyncio.to_thread(shared_deployment.shell, MAKE_SHOW)
    joined = [await join(worker) for worker in workers]
    for _, hello in joined:
        assert hello["schedule"]["now"] is None
        assert hello["schedule"]["next"]["show"]["hosts"] == [DJ[0]]
    async with asyncio.timeout(SHOW_LEAD_S + 5):
        begun = [await next_message(socket, "schedule") for socket, _ in joined]
    for message in begun:
        assert message["now"]["show"]["name"] == "Across Workers"
        assert message["now"]["start"] == joined[0][1]["schedule"]["next"]["start"]
    await asyncio.to_thread(shared_deployment.shell, RENAME_SHOW)
    async with asyncio.timeout(10):
        renamed = [await next_message(socket, "schedule") for socket, _ in joined]
    for socket, _ in joined:
        await socket.close()
    assert [m["now"]["show"]["name"] for m in renamed] == ["Renamed <b>"] * 2


async def test_the_api_of_either_worker_tells_the_whole_station(workers):
    """The DJ and one listener on one worker, another listener on the other:
    both workers' nowplaying API say who is live, the title and both
    listeners, and a widget on the other worker is pushed the title."""
    dj_worker, other_worker = workers
    sockets = [(await join(worker))[0] for worker in workers]
    widget = await Widget.connect(other_worker)
    await widget.next_object()
    dj = await go_live(dj_worker, "audio/webm;codecs=opus")
    await dj.send(
        json.dumps({"type": "now_playing", "title": "Both", "artist": "Ways"})
    )
    try:
        while (pushed := await widget.next_object())["now_playing"]["song"][
            "title"
        ] != "Both":
            pass
        assert pushed["live"]["is_live"] is True
        for worker in workers:
            await until_nowplaying(
                worker, lambda answer: answer["listeners"]["total"] == 2
            )
            answer = await until_nowplaying(
                worker, lambda answer: answer["now_playing"]["song"]["title"] == "Both"
            )
            assert answer["live"]["is_live"] is True
            assert answer["live"]["streamer_name"] == DJ[0]
    finally:
        await widget.close()
        for socket in (dj, *sockets):
            await socket.close()


async def until_nowplaying(worker, wanted) -> dict:
    """The worker's ``/api/nowplaying/<station>`` once ``wanted(it)``; its
    answers are up to RADIO_API_CACHE_SECONDS old."""
    url = f"{worker.http_url}/api/nowplaying/{STATION}"
    async with asyncio.timeout(API_WAIT_S):
        while not wanted(answer := await asyncio.to_thread(read_json, url)):
            await asyncio.sleep(0.2)
    return answer


def read_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)
