"""Redis restarts under a live broadcast: two workers ride it out.

The workers share a Redis server of this module's own, stopped for
``OUTAGE_S`` and started again empty (no persistence), as a Redis restart
in production is, while a DJ is live on one worker and listeners are on
both.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import psycopg
import pytest

from tests.live.conftest import DJ, LISTENER, LOUD_STATION, populate
from tests.live.test_security import WorkerProbe
from tests.support.audio import make_tone
from tests.support.clients import (
    Received,
    connect,
    listen,
    next_message,
    sign_in,
    stream_file,
)
from tests.support.servers import Deployment, RedisServer

pytestmark = [pytest.mark.live, pytest.mark.postgres]

OUTAGE_S = 5.0
# Listeners hear the DJ again this soon after Redis is back.
HEARD_AGAIN_S = 3.0
# Enough audio for the warm-up, the outage and what follows.
TONE_S = 22
# How long chat may take to work again (the first try may find out that
# Redis is back only as it fails).
CHAT_BACK_S = 5.0
# The most warnings and errors one worker may log about the outage: Redis
# lost and back, the channel layer's reader failing, a lease claimed back.
MAX_OUTAGE_LOG_RECORDS = 6


@pytest.fixture(scope="module")
def own_redis():
    server = RedisServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def deployment(own_redis, postgres_url, tmp_path_factory):
    database = f"radio_redis_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(postgres_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    deployment = Deployment.create(
        database_url=postgres_url.rsplit("/", 1)[0] + f"/{database}",
        redis_url=own_redis.url,
    )
    populate(deployment)
    logs = tmp_path_factory.mktemp("logs")
    deployment.start_worker(log_path=logs / "a.log")
    deployment.start_worker(log_path=logs / "b.log")
    yield deployment
    deployment.stop()
    admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def long_tone(tmp_path_factory) -> bytes:
    """A 128 kbit/s tone: the 320 kbit/s station transcodes it (ffmpeg)."""
    path = tmp_path_factory.mktemp("audio") / "long.mp3"
    return make_tone(path, seconds=TONE_S).read_bytes()


async def room(worker, cookie: str | None = None):
    url = f"{worker.ws_url}/ws/stations/{LOUD_STATION}/"
    socket = await connect(url, cookie=cookie)
    assert json.loads(await socket.recv())["type"] == "hello"
    return socket


async def open_console(worker):
    """A DJ's console on ``worker``, once it has the station's call queue."""
    url = f"{worker.ws_url}/ws/stations/{LOUD_STATION}/broadcast/"
    socket = await connect(url, cookie=sign_in(worker.http_url, *DJ))
    await next_message(socket, "calls")
    return socket


async def audio_after(received: Received, since_ms: int, deadline_s: float) -> int:
    """When the first audio arriving after ``since_ms`` arrived."""
    async with asyncio.timeout(deadline_s):
        while True:
            later = [arrived for *_, arrived in received.audio if arrived > since_ms]
            if later:
                return later[0]
            await asyncio.sleep(0.05)


async def chat_reaches(sender, received: Received, text: str) -> float:
    """Send ``text`` until it works; seconds it took to reach ``received``."""
    started = time.monotonic()
    async with asyncio.timeout(CHAT_BACK_S):
        while True:
            await sender.send(json.dumps({"type": "chat", "text": text}))
            for _ in range(20):
                if any(m["text"] == text for m in received.of_type("chat")):
                    return time.monotonic() - started
                await asyncio.sleep(0.05)


def warnings_logged(worker) -> list[str]:
    """The first lines of the worker's warnings and errors since it started."""
    lines = worker.log_path.read_text().splitlines()
    return [line for line in lines if line.split(" ")[2:3] in (["WARNING"], ["ERROR"])]


async def test_a_redis_restart_under_a_live_broadcast(deployment, own_redis, long_tone):
    """Stop Redis for 5 s and start it again, empty, while a DJ is live on A
    and listeners are on A and B: nothing crashes or leaks, listeners hear
    the DJ again within 3 s, the DJ is still live, chat works again, and
    each worker says it once."""
    first, second = deployment.workers
    probes = [WorkerProbe(first), WorkerProbe(second)]
    chatter = sign_in(second.http_url, *LISTENER)
    idle_tasks = []
    for worker, probe in zip(deployment.workers, probes, strict=True):
        # What a worker keeps once it has served anyone: the bus's ticker,
        # the rights relay, the call switchboard (a DJ's console opens it),
        # the channel layer's readers.
        await (await room(worker, chatter)).close()
        await (await open_console(worker)).close()
        assert await probe.settles_to(0, 0)
        idle_tasks.append(probe.tasks())

    dj = await connect(
        f"{first.ws_url}/ws/stations/{LOUD_STATION}/broadcast/",
        cookie=sign_in(first.http_url, *DJ),
    )
    await dj.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
    console = Received()
    console_reader = asyncio.create_task(listen(dj, console))
    sockets = [await room(first), await room(second, chatter)]
    heard = [Received(), Received()]
    readers = [
        asyncio.create_task(listen(socket, got, until="off_air"))
        for socket, got in zip(sockets, heard, strict=True)
    ]
    sender = asyncio.create_task(stream_file(dj, long_tone, bitrate_kbps=128))
    for got in heard:
        await audio_after(got, 0, deadline_s=10)
    assert len(first.children("ffmpeg")) == 1
    assert first.client_connections() >= 2  # the DJ and a listener

    own_redis.stop()
    await asyncio.sleep(OUTAGE_S)
    own_redis.start_again()
    back_ms = int(time.time() * 1000)

    for got in heard:
        arrived = await audio_after(got, back_ms, deadline_s=HEARD_AGAIN_S + 2)
        assert arrived - back_ms <= HEARD_AGAIN_S * 1000
    assert await chat_reaches(sockets[1], heard[0], "back again?") < CHAT_BACK_S
    assert not console_reader.done(), (
        f"the DJ's socket closed with {dj.close_code} {dj.close_reason!r}",
        console.messages[-3:],
        warnings_logged(first)[-5:],
    )
    assert [m for m in console.messages if m["type"] == "error"] == []
    assert [m["type"] for m in console.messages].count("live") == 1

    await sender
    await dj.send(json.dumps({"type": "stop"}))
    await asyncio.wait_for(asyncio.gather(*readers), timeout=15)
    for socket in [*sockets, dj]:
        await socket.close()
    await console_reader

    idle = zip(deployment.workers, probes, idle_tasks, strict=True)
    for worker, probe, tasks in idle:
        assert worker.process.poll() is None
        assert await probe.settles_to(0, 0, tasks=tasks), (probe.tasks(), tasks)
        assert worker.client_connections() == 0
    for worker in deployment.workers:
        log = warnings_logged(worker)
        assert sum("Lost Redis" in line for line in log) == 1, log
        assert sum("Redis back after" in line for line in log) == 1, log
        assert len(log) <= MAX_OUTAGE_LOG_RECORDS, log
