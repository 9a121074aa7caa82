"""Listener statistics on two real daphne workers sharing Redis and
PostgreSQL: while a DJ is live (their console is no listener), 50
listeners, on WebSockets and ``stream.mp3``, join and leave at times the
test sets; each worker records its own and the station's sessions CSV then
holds exactly those 50, with their durations, client kinds and users.

The workers run with ``--proxy-headers``, as behind nginx, and each
listener sends its own ``X-Forwarded-For``: the sessions are told apart by
their address hashes, which the test computes with the workers' salt.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import hmac
import io
import time
import urllib.request
from dataclasses import dataclass

import pytest
import websockets

from tests.live.conftest import DJ, LISTENER, STATION
from tests.live.test_broadcast import go_live
from tests.support.clients import ORIGIN, sign_in, stream_file

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

SALT = "live-test-salt"
FLUSH_SECONDS = 0.5
LISTENERS = 50
# One in five listens with stream.mp3, the rest on the listener page's socket.
HTTP_EVERY = 5
# Every 60 ms one more listener joins; each stays 1.2 s to 2.4 s.
JOIN_EVERY_S = 0.06
WAIT_S = 20.0
# How far a session's duration (the server's monotonic clock, from join to
# leave) may be from the client's measure (from the first bytes of the
# answer to the close). The server joins the listener before it answers
# and hears of the close one hop after it: both widen the server's measure
# by a network hop and the event loop's delay, milliseconds on one machine,
# up to a few hundred when the two-core machine is busy.
TOLERANCE_S = 0.3

AGENTS = [
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "browser",
    ),
    ("VLC/3.0.21 LibVLC/3.0.21", "vlc"),
    ("AppleCoreMedia/1.0.0.21H16 (iPhone; U; CPU OS 17_7 like Mac OS X)", "apple"),
    ("foobar2000/2.1.5", "winamp"),
    ("curl/8.5.0", "bot"),
]


@dataclass
class Plan:
    """One listener: where, how, and for how long the test keeps it."""

    index: int
    worker: object
    http: bool
    agent: str
    kind: str
    stay_s: float
    cookie: str | None = None
    measured_s: float = 0.0

    @property
    def address(self) -> str:
        return f"10.0.{self.index // 250}.{self.index % 250 + 1}"

    @property
    def address_hash(self) -> str:
        return hmac.new(
            SALT.encode(), self.address.encode(), hashlib.sha256
        ).hexdigest()

    def headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.address, "User-Agent": self.agent}
        if self.cookie:
            headers["Cookie"] = self.cookie
        return headers


@pytest.fixture(scope="module")
def workers(shared_deployment):
    settings = {
        "RADIO_STATS_SALT": SALT,
        "RADIO_STATS_FLUSH_SECONDS": str(FLUSH_SECONDS),
    }
    return [
        shared_deployment.start_worker("--proxy-headers", **settings),
        shared_deployment.start_worker("--proxy-headers", **settings),
    ]


async def listen_on_socket(plan: Plan) -> None:
    socket = await websockets.connect(
        f"{plan.worker.ws_url}/ws/stations/{STATION}/",
        origin=ORIGIN,
        additional_headers=plan.headers(),
        user_agent_header=None,
    )
    await socket.recv()  # hello: the server has joined the listener
    began = time.monotonic()
    # Read all along, so that the close handshake is not stuck behind counts.
    reader = asyncio.create_task(drain(socket))
    await asyncio.sleep(plan.stay_s)
    plan.measured_s = time.monotonic() - began
    await socket.close()
    await reader


async def drain(socket) -> None:
    async for _ in socket:
        pass


async def listen_to_stream(plan: Plan) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", plan.worker.port)
    lines = [f"GET /stations/{STATION}/stream.mp3 HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in plan.headers().items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    began = time.monotonic()
    body = asyncio.create_task(read_until_closed(reader))
    await asyncio.sleep(plan.stay_s)
    plan.measured_s = time.monotonic() - began
    body.cancel()
    writer.close()
    await writer.wait_closed()


async def read_until_closed(reader) -> None:
    while await reader.read(65536):
        pass


def sessions_csv(worker, cookie: str) -> list[dict[str, str]]:
    request = urllib.request.Request(
        f"{worker.http_url}/stations/{STATION}/studio/statistics/sessions.csv",
        headers={"Cookie": cookie},
    )
    with urllib.request.urlopen(request) as response:
        return list(csv.DictReader(io.StringIO(response.read().decode())))


async def rows_once_stored(worker, cookie: str, count: int) -> list[dict[str, str]]:
    """The sessions CSV once it has ``count`` rows (they are written in the
    background), and still after two more flushes (none twice)."""
    async with asyncio.timeout(WAIT_S):
        while len(await asyncio.to_thread(sessions_csv, worker, cookie)) < count:
            await asyncio.sleep(0.2)
    await asyncio.sleep(2 * FLUSH_SECONDS)
    return await asyncio.to_thread(sessions_csv, worker, cookie)


async def test_fifty_listeners_on_two_workers_give_exact_sessions_and_hours(
    workers, tone_mp3
):
    dj = await go_live(workers[0], "audio/mpeg")
    sender = asyncio.create_task(stream_file(dj, tone_mp3 * 4, bitrate_kbps=128))
    listener_cookie = sign_in(workers[0].http_url, *LISTENER)
    plans = []
    for index in range(LISTENERS):
        agent, kind = AGENTS[index % len(AGENTS)]
        http = index % HTTP_EVERY == HTTP_EVERY - 1
        plans.append(
            Plan(
                index=index,
                worker=workers[index % 2],
                http=http,
                agent=agent,
                kind=kind,
                stay_s=1.2 + (index % 7) * 0.2,
                # Some listeners of the page are signed in.
                cookie=listener_cookie if not http and index % 10 == 3 else None,
            )
        )

    async def run(plan: Plan) -> None:
        await asyncio.sleep(plan.index * JOIN_EVERY_S)
        await (listen_to_stream if plan.http else listen_on_socket)(plan)

    await asyncio.gather(*(run(plan) for plan in plans))
    sender.cancel()
    await dj.close()

    dj_cookie = sign_in(workers[1].http_url, *DJ)
    rows = await rows_once_stored(workers[1], dj_cookie, LISTENERS)
    assert len(rows) == LISTENERS
    by_hash = {row["address_hash"]: row for row in rows}
    assert len(by_hash) == LISTENERS
    for plan in plans:
        row = by_hash[plan.address_hash]
        assert row["transport"] == ("http" if plan.http else "websocket")
        assert row["client"] == plan.kind
        assert row["user"] == (LISTENER[0] if plan.cookie else "")
        duration = float(row["duration_s"])
        assert plan.measured_s - 0.05 <= duration <= plan.measured_s + TOLERANCE_S, (
            plan,
            row,
        )
    measured_total = sum(plan.measured_s for plan in plans)
    stored_total = sum(float(row["duration_s"]) for row in rows)
    assert stored_total == pytest.approx(measured_total, abs=LISTENERS * TOLERANCE_S)


async def test_a_worker_that_stops_writes_its_listeners_sessions(
    shared_deployment, workers
):
    """Listeners still connected when their worker is stopped (SIGTERM, as
    in a deploy) keep their sessions, ended then."""
    leaving = shared_deployment.start_worker(
        "--proxy-headers", RADIO_STATS_SALT=SALT, RADIO_STATS_FLUSH_SECONDS="60"
    )
    agent, kind = AGENTS[1]
    plan = Plan(index=200, worker=leaving, http=False, agent=agent, kind=kind, stay_s=0)
    socket = await websockets.connect(
        f"{leaving.ws_url}/ws/stations/{STATION}/",
        origin=ORIGIN,
        additional_headers=plan.headers(),
        user_agent_header=None,
    )
    await socket.recv()
    began = time.monotonic()
    await asyncio.sleep(1.5)
    await asyncio.to_thread(leaving.stop)
    held_s = time.monotonic() - began
    with contextlib.suppress(websockets.ConnectionClosed):
        await socket.close()

    dj_cookie = sign_in(workers[0].http_url, *DJ)
    rows = await asyncio.to_thread(sessions_csv, workers[0], dj_cookie)
    [row] = [row for row in rows if row["address_hash"] == plan.address_hash]
    assert row["client"] == kind
    assert 1.5 <= float(row["duration_s"]) <= held_s + TOLERANCE_S
