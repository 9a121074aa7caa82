"""The API on a real daphne, with a key made by ``manage.py createapikey``."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.live.conftest import LISTENER, STATION
from tests.live.test_broadcast import go_live

pytestmark = pytest.mark.live

# RADIO_API_CACHE_SECONDS of the test deployments (the default).
API_CACHE_S = 5
WAIT_S = 5.0


def get_me(server, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.http_url}/api/me", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_a_key_from_createapikey_opens_the_api_as_its_user(sqlite_deployment, server):
    key = sqlite_deployment.manage("createapikey", LISTENER[0], "--name", "bot")

    assert key.count("\n") == 1
    assert get_me(server, key.strip()) == (200, {"username": LISTENER[0]})
    assert get_me(server, key.strip() + "x") == (401, {"detail": "Unauthorized"})


def test_createapikey_fails_in_one_line_for_an_unknown_user(sqlite_deployment):
    with pytest.raises(RuntimeError) as failure:
        sqlite_deployment.manage("createapikey", "nobody")

    error = str(failure.value).split("failed:\n", 1)[1]
    assert error == "CommandError: No user is called 'nobody'.\n"


def get_nowplaying(server, query: str = "") -> tuple[dict[str, str], dict]:
    url = f"{server.http_url}/api/nowplaying/{STATION}{query}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(response.headers), json.load(response)


def test_repeated_reads_are_answered_by_the_shared_cache(server):
    # A query of its own: nothing else has read this address yet. An answer
    # built in the last second of the worker's interval may not be kept.
    query = f"?probe={uuid.uuid4().hex}"
    deadline = time.monotonic() + WAIT_S
    while True:
        first_headers, first = get_nowplaying(server, query)
        if first_headers["Cache-Control"] != "public, max-age=0":
            break
        assert time.monotonic() < deadline, first_headers

    again_headers, again = get_nowplaying(server, query)

    assert again == first
    assert "Age" not in first_headers
    assert int(again_headers["Age"]) <= API_CACHE_S
    assert again_headers["Cache-Control"] == first_headers["Cache-Control"]
    assert again_headers["Access-Control-Allow-Origin"] == "*"


async def test_a_new_title_is_read_within_the_cache_interval(server):
    get_nowplaying(server)
    dj = await go_live(server, "audio/webm;codecs=opus")
    title = f"Fresh {uuid.uuid4().hex[:8]}"
    await dj.send(json.dumps({"type": "now_playing", "title": title, "artist": "A"}))
    sent_at = time.monotonic()
    try:
        while (await asyncio.to_thread(get_nowplaying, server))[1]["now_playing"][
            "song"
        ]["title"] != title:
            assert time.monotonic() - sent_at < API_CACHE_S + 1
            await asyncio.sleep(0.1)
    finally:
        await dj.close()
