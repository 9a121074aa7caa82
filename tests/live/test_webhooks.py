"""Webhooks on two real daphne workers sharing Redis and PostgreSQL: each
event reaches a local receiver once, signed; a receiver that fails three
times gets it on the fourth try; receivers that never answer delay neither
the audio nor the chat."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.request

import pytest

from tests.live.conftest import DJ, LISTENER, STATION
from tests.live.test_broadcast import go_live, join
from tests.stations.webhooks.receiver import HANG, Receiver
from tests.support.clients import (
    Received,
    connect,
    listen,
    next_message,
    sign_in,
    stream_file,
)

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

SECRET = "live-test-secret"
POLL_S = 0.1
WEBHOOK_ENV = {
    "RADIO_WEBHOOK_ALLOW_PRIVATE": "1",
    "RADIO_WEBHOOK_POLL_SECONDS": str(POLL_S),
    "RADIO_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "RADIO_WEBHOOK_TIMEOUT_SECONDS": "2",
    "RADIO_WEBHOOK_SONG_INTERVAL_SECONDS": "0.5",
    "RADIO_AUTODJ": "0",
}
# The workers look at which stations have webhooks every poll; a new
# webhook counts everywhere after a few polls.
HOOKED_WITHIN_S = 5 * POLL_S
WAIT_S = 15.0


@pytest.fixture(scope="module")
def workers(shared_deployment):
    return [
        shared_deployment.start_worker(**WEBHOOK_ENV),
        shared_deployment.start_worker(**WEBHOOK_ENV),
    ]


@pytest.fixture(scope="module")
def api_key(shared_deployment) -> str:
    return shared_deployment.manage("createapikey", DJ[0], "--name", "hooks").strip()


def api(worker, method: str, path: str, key: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{worker.http_url}/api/stations/{STATION}/webhooks{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


async def add_webhook(
    worker, key: str, url: str, events: list[str], *, wait: bool = True
) -> int:
    """Add a webhook by the API; with ``wait``, until every worker knows."""
    status, body = await asyncio.to_thread(
        api,
        worker,
        "POST",
        "",
        key,
        {"url": url, "events": events, "kind": "generic", "secret": SECRET},
    )
    assert status == 201, body
    if wait:
        await asyncio.sleep(HOOKED_WITHIN_S)
    return body["id"]


async def remove_webhooks(worker, key: str) -> None:
    _, hooks = await asyncio.to_thread(api, worker, "GET", "", key)
    for hook in hooks:
        await asyncio.to_thread(api, worker, "DELETE", f"/{hook['id']}", key)


async def delivery_rows(deployment) -> list[list]:
    """(event, status, attempts) of every delivery, oldest first."""
    code = (
        "import json; from stations.webhooks.models import Delivery; "
        "print(json.dumps(list(Delivery.objects.order_by('id').values_list("
        "'event', 'status', 'attempts'))))"
    )
    printed = await asyncio.to_thread(deployment.shell, code)
    return json.loads(printed.strip().splitlines()[-1])


async def broadcast(worker, title: str, tone_mp3: bytes) -> None:
    """A DJ goes live on ``worker``, names a title, and stops."""
    console = await go_live(worker, "audio/mpeg")
    sender = asyncio.create_task(stream_file(console, tone_mp3, bitrate_kbps=128))
    await console.send(json.dumps({"type": "now_playing", "title": title}))
    await next_message(console, "now_playing")
    sender.cancel()
    await console.send(json.dumps({"type": "stop"}))
    await console.close()


async def test_each_event_reaches_the_receiver_once_signed(
    shared_deployment, workers, api_key, tone_mp3
):
    """Broadcasts on each worker: live_connect, song_changed, live_disconnect
    once each, though both workers see the events and poll the outbox."""
    first, second = workers
    events = ["song_changed", "live_connect", "live_disconnect"]
    async with Receiver() as receiver:
        await add_webhook(second, api_key, receiver.url, events)

        await broadcast(first, "From the first", tone_mp3)
        await broadcast(second, "From the second", tone_mp3)

        got = await receiver.wait_for(6, timeout=WAIT_S)
        async with asyncio.timeout(WAIT_S):
            while not all(
                row[1] == "delivered" for row in await delivery_rows(shared_deployment)
            ):
                await asyncio.sleep(0.2)
        rows = await delivery_rows(shared_deployment)
        await remove_webhooks(first, api_key)

    assert len(rows) == 6, rows
    assert len(receiver.received) == 6
    assert all(r.signed_with(SECRET) for r in got)
    assert len({r.headers["x-radio-delivery"] for r in got}) == 6
    told = [(r.json["event"], r.json["now_playing"]["song"]["title"]) for r in got]
    assert sorted(event for event, _ in told) == sorted(events * 2)
    titles = {title for event, title in told if event == "song_changed"}
    assert titles == {"From the first", "From the second"}


async def test_a_receiver_failing_three_times_gets_it_on_the_fourth_try(
    shared_deployment, workers, api_key, tone_mp3
):
    first, second = workers
    async with Receiver([500, 500, 503, 204]) as receiver:
        await add_webhook(first, api_key, receiver.url, ["live_connect"])

        console = await go_live(second, "audio/mpeg")
        got = await receiver.wait_for(4, timeout=WAIT_S)
        await console.send(json.dumps({"type": "stop"}))
        await console.close()
        async with asyncio.timeout(WAIT_S):
            while (rows := await delivery_rows(shared_deployment))[-1][1] != (
                "delivered"
            ):
                await asyncio.sleep(0.2)
        await remove_webhooks(first, api_key)

    assert rows[-1] == ["live_connect", "delivered", 4]
    assert len({r.body for r in got}) == 1
    assert all(r.signed_with(SECRET) for r in got)


async def measure(worker, listener, talker, seconds: float) -> tuple[float, float]:
    """The longest wait (ms) between two audio messages of the listener over
    ``seconds``, and the worst chat round trip (ms) of a message a second
    meanwhile."""
    received = Received()
    reading = asyncio.create_task(listen(listener, received))
    round_trips = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        text = f"ping {time.monotonic()}"
        sent = time.monotonic()
        await talker.send(json.dumps({"type": "chat", "text": text}))
        async with asyncio.timeout(WAIT_S):
            while (await next_message(talker, "chat"))["text"] != text:
                pass
        round_trips.append((time.monotonic() - sent) * 1000)
        await asyncio.sleep(1.0)
    reading.cancel()
    arrivals = [arrived for _, _, _, arrived in received.audio]
    assert len(arrivals) > seconds * 5, "the listener got too little audio"
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    return max(gaps), max(round_trips)


async def test_receivers_that_never_answer_delay_neither_audio_nor_chat(
    shared_deployment, workers, api_key, tone_mp3
):
    """With every place of the dispatcher taken by hanging receivers, and
    titles changing twice a second, a listener's audio keeps its cadence
    and a chat message its round trip, as without webhooks (within a
    margin for a machine shared with other tests)."""
    first, _ = workers
    console = await go_live(first, "audio/mpeg")
    long_tone = tone_mp3 * 4
    sender = asyncio.create_task(stream_file(console, long_tone, bitrate_kbps=128))
    listener, _ = await join(first)
    talker = await connect(
        f"{first.ws_url}/ws/stations/{STATION}/",
        cookie=await asyncio.to_thread(sign_in, first.http_url, *LISTENER),
    )
    await next_message(talker, "hello")
    titles = 0

    async def change_titles() -> None:
        nonlocal titles
        while True:
            titles += 1
            await console.send(
                json.dumps({"type": "now_playing", "title": f"Title {titles}"})
            )
            await asyncio.sleep(0.5)

    try:
        baseline = await measure(first, listener, talker, seconds=4)
        receivers = [Receiver([HANG]) for _ in range(16)]
        for receiver in receivers:
            await receiver.__aenter__()
            await add_webhook(
                first, api_key, receiver.url, ["song_changed"], wait=False
            )
        await asyncio.sleep(HOOKED_WITHIN_S)
        changing = asyncio.create_task(change_titles())
        async with asyncio.timeout(WAIT_S):
            for receiver in receivers:
                await receiver.wait_for(1, timeout=WAIT_S)
        hanging = await measure(first, listener, talker, seconds=4)
        changing.cancel()
    finally:
        sender.cancel()
        await console.send(json.dumps({"type": "stop"}))
        for socket in (console, listener, talker):
            await socket.close()
        await remove_webhooks(first, api_key)
        for receiver in receivers:
            await receiver.__aexit__(None, None, None)

    print(f"longest audio gap, worst chat round trip (ms): {baseline} -> {hanging}")
    assert hanging[0] <= max(baseline[0] * 2, 500)
    assert hanging[1] <= max(baseline[1] * 3, 500)
