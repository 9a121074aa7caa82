"""Song requests on a real daphne whose AutoDJ plays a library of short
generated tracks: a signed-in listener's request plays next, marked as a
request on the station socket and in the now-playing API, and the
requester's inbox hears of it; a DJ skips the AutoDJ's track."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.live.conftest import DJ, LISTENER, STATION
from tests.live.test_autodj import wait_for_autodj
from tests.support.audio import make_tone
from tests.support.clients import connect, next_message, sign_in

pytestmark = pytest.mark.live

TRACK_SECONDS = 4
# Long enough to be skipped, and to be read as playing in the API.
LONG_SECONDS = 30
REQUESTED = "Requested Tune"


def make_library(folder: Path) -> list[Path]:
    """Three short tones in the playlist, and a longer one to request."""
    short = [
        make_tone(
            folder / f"tone{n}.mp3",
            seconds=TRACK_SECONDS,
            frequency=440 + 220 * n,
            tags={"title": f"Tone {n}", "artist": f"Artist {n}"},
        )
        for n in range(3)
    ]
    requested = make_tone(
        folder / "requested.mp3",
        seconds=LONG_SECONDS,
        frequency=1320,
        tags={"title": REQUESTED, "artist": "The Requested"},
    )
    return [*short, requested]


@pytest.fixture(scope="module")
def worker(sqlite_deployment, tmp_path_factory):
    tracks = make_library(tmp_path_factory.mktemp("request-library"))
    sqlite_deployment.manage("addtrack", STATION, *map(str, tracks))
    sqlite_deployment.shell(
        "from stations.models import Station; "
        "from stations.song_requests.services import request_rules_update; "
        f"request_rules_update(station=Station.objects.get(slug={STATION!r}), "
        "enabled=True)"
    )
    return sqlite_deployment.start_worker(RADIO_API_CACHE_SECONDS="0.1")


def call(url: str, *, cookie: str | None = None, method: str = "GET"):
    """(status, JSON body); a session's POST carries its CSRF token."""
    headers = {"Accept": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
        token = dict(part.split("=", 1) for part in cookie.split("; "))["csrftoken"]
        headers["X-CSRFToken"] = token
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


async def nowplaying_until(worker, condition, *, timeout: float) -> dict:
    """Poll the now-playing API until ``condition(body)``; its body then."""
    deadline = time.monotonic() + timeout
    while True:
        _, body = await asyncio.to_thread(
            call, f"{worker.http_url}/api/nowplaying/{STATION}"
        )
        if condition(body):
            return body
        assert time.monotonic() < deadline, f"never true; last: {body}"
        await asyncio.sleep(0.2)


async def titles_until(socket, title: str, *, timeout: float) -> list[dict]:
    """The station socket's ``now_playing`` messages up to one of ``title``."""
    seen = []
    async with asyncio.timeout(timeout):
        while not seen or seen[-1]["title"] != title:
            seen.append(await next_message(socket, "now_playing"))
    return seen


async def test_a_listeners_request_plays_next_and_they_hear_of_it(worker):
    listener = await wait_for_autodj(worker)
    cookie = sign_in(worker.http_url, *LISTENER)
    inbox = await connect(f"{worker.ws_url}/ws/inbox/", cookie=cookie)
    await next_message(inbox, "inbox.unread")

    status, found = call(f"{worker.http_url}/api/stations/{STATION}/requests?q=request")
    assert status == 200
    [item] = found
    assert item["song"]["title"] == REQUESTED
    status, answer = call(item["request_url"], cookie=cookie, method="POST")
    assert (status, answer["success"]) == (200, True), answer

    upcoming = await nowplaying_until(
        worker, lambda body: body["playing_next"] is not None, timeout=5
    )
    assert upcoming["playing_next"]["song"]["title"] == REQUESTED
    assert upcoming["playing_next"]["is_request"] is True
    assert upcoming["station"]["requests_enabled"] is True

    # The AutoDJ may have picked one track before the request came.
    seen = await titles_until(listener, REQUESTED, timeout=3 * TRACK_SECONDS + 5)
    assert len(seen) <= 2, [message["title"] for message in seen]
    assert seen[-1]["is_request"] is True
    assert all(message["is_request"] is False for message in seen[:-1])

    notice = await asyncio.wait_for(next_message(inbox, "inbox.message"), timeout=5)
    assert notice["kind"] == "notice"
    assert notice["text"] == (
        f"Your request {REQUESTED} — The Requested is playing now on Live Test."
    )
    playing = await nowplaying_until(
        worker,
        lambda body: body["now_playing"]["song"]["title"] == REQUESTED,
        timeout=5,
    )
    assert playing["now_playing"]["is_request"] is True
    assert playing["playing_next"] is None

    # The same listener may not ask again so soon.
    status, refused = call(item["request_url"], cookie=cookie, method="POST")
    assert (status, refused["code"]) == (429, "too_soon")
    await listener.close()
    await inbox.close()


async def test_a_dj_skips_the_autodj_track(worker):
    """The long track gives way within a crossfade of the skip, long before
    its end."""
    listener = await wait_for_autodj(worker)
    playing = await nowplaying_until(
        worker,
        lambda body: body["now_playing"]["song"]["title"] == REQUESTED,
        timeout=LONG_SECONDS + 4 * TRACK_SECONDS,
    )
    assert playing["now_playing"]["remaining"] > 10
    skip = f"{worker.http_url}/api/stations/{STATION}/skip"

    listener_cookie = sign_in(worker.http_url, *LISTENER)
    assert call(skip, cookie=listener_cookie, method="POST")[0] == 403
    dj_cookie = sign_in(worker.http_url, *DJ)
    asked = time.monotonic()
    status, answer = call(skip, cookie=dj_cookie, method="POST")
    assert (status, answer["code"]) == (202, "ok")
    following = await asyncio.wait_for(next_message(listener, "now_playing"), timeout=6)

    assert following["title"] != REQUESTED
    assert time.monotonic() - asked < 5
    await listener.close()


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_request_and_a_skip_reach_the_autodj_on_another_worker(
    shared_deployment, tmp_path_factory
):
    """Asked on the worker that does not play the station: the request plays,
    the requester hears of it there, and a skip moves the playout on."""
    tracks = make_library(tmp_path_factory.mktemp("shared-request-library"))
    shared_deployment.manage("addtrack", STATION, *map(str, tracks))
    shared_deployment.shell(
        "from stations.models import Station; "
        "from stations.song_requests.services import request_rules_update; "
        f"request_rules_update(station=Station.objects.get(slug={STATION!r}), "
        "enabled=True)"
    )
    workers = [
        shared_deployment.start_worker(RADIO_API_CACHE_SECONDS="0.1") for _ in range(2)
    ]
    (await wait_for_autodj(workers[0])).transport.abort()
    [other] = [worker for worker in workers if not worker.children("ffmpeg")]
    listener = await wait_for_autodj(other)
    cookie = sign_in(other.http_url, *LISTENER)
    inbox = await connect(f"{other.ws_url}/ws/inbox/", cookie=cookie)
    await next_message(inbox, "inbox.unread")
    [item] = call(f"{other.http_url}/api/stations/{STATION}/requests?q=request")[1]

    assert call(item["request_url"], cookie=cookie, method="POST")[0] == 200
    seen = await titles_until(listener, REQUESTED, timeout=3 * TRACK_SECONDS + 5)
    assert seen[-1]["is_request"] is True
    notice = await asyncio.wait_for(next_message(inbox, "inbox.message"), timeout=5)
    assert notice["kind"] == "notice"

    dj_cookie = sign_in(other.http_url, *DJ)
    asked = time.monotonic()
    skip = f"{other.http_url}/api/stations/{STATION}/skip"
    assert call(skip, cookie=dj_cookie, method="POST")[0] == 202
    following = await asyncio.wait_for(next_message(listener, "now_playing"), timeout=6)
    assert following["title"] != REQUESTED
    assert time.monotonic() - asked < 5
    await listener.close()
    await inbox.close()
