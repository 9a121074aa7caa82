#!/usr/bin/env python
"""HLS clients of one station on one daphne worker: what it answers.

Starts a real radio installation (SQLite in a temporary directory, one
daphne worker pinned to one CPU; ``--redis URL`` for the Redis bus), puts a
DJ on air through the Icecast source port (an MP3 tone at real-time pace),
then, from a load generator pinned to another CPU, runs ``--clients``
simulated HLS clients. Each keeps one keep-alive connection and, once a
second (at its own phase), asks for the playlist and then for its newest
segment: a playlist request and a segment request per second per client.

Reported per kind (playlist, segment): requests asked and answered per
second, latency p50/p99/max, and answers other than 200; and the server's
CPU % and RSS. Segments are made once per worker whatever the client count,
so this measures serving, not segmenting.

    .venv/bin/python bench/hls.py --clients 1000 --duration 30
    .venv/bin/python bench/hls.py --clients 10000 --duration 60 --ramp-rate 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import audience  # noqa: E402 - bench/audience.py, beside this script

from bench.api_load import percentiles, read_response  # noqa: E402
from tests.support.audio import make_tone  # noqa: E402

KINDS = ("playlist", "segment")
# Each client asks for both once in this many seconds.
PERIOD_S = 1.0
# Segments must be there before the clients start.
FIRST_SEGMENTS_TIMEOUT_S = 30.0


class Clients:
    """``count`` HLS clients of ``slug`` on ``port``, and what they got."""

    def __init__(self, port: int, slug: str, count: int) -> None:
        self.port = port
        self.prefix = f"/stations/{slug}/hls/"
        self.count = count
        self.latencies_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.statuses: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
        self.errors: dict[str, int] = {}
        self.connected = 0
        self.measuring = False

    def _request(self, name: str) -> bytes:
        return (
            f"GET {self.prefix}{name} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n"
        ).encode()

    async def run(self, *, ramp_rate: float, seconds: float) -> float:
        """Open the clients at ``ramp_rate`` a second, then measure for
        ``seconds``; the seconds measured."""
        stop = asyncio.Event()
        tasks = []
        for _ in range(self.count):
            tasks.append(asyncio.ensure_future(self._client(stop)))
            await asyncio.sleep(1 / ramp_rate)
        audience.log(f"{self.connected} clients connected; measuring")
        self.measuring = True
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        self.measuring = False
        took = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return took

    async def _client(self, stop: asyncio.Event) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError as problem:
            self._error(problem)
            return
        self.connected += 1
        loop = asyncio.get_running_loop()
        due = loop.time() + random.random() * PERIOD_S
        try:
            while not stop.is_set():
                await asyncio.sleep(max(0.0, due - loop.time()))
                due += PERIOD_S
                playlist = await self.get(reader, writer, "playlist", "live.m3u8")
                names = [
                    line
                    for line in playlist.decode().splitlines()
                    if line and not line.startswith("#")
                ]
                if names:
                    await self.get(reader, writer, "segment", names[-1])
        except (OSError, asyncio.IncompleteReadError, ValueError) as problem:
            self._error(problem)
        finally:
            writer.close()

    async def get(self, reader, writer, kind: str, name: str) -> bytes:
        started = time.perf_counter()
        writer.write(self._request(name))
        status, body = await read_response(reader)
        if self.measuring:
            self.latencies_ms[kind].append((time.perf_counter() - started) * 1000)
            if status != 200:
                counts = self.statuses[kind]
                counts[str(status)] = counts.get(str(status), 0) + 1
        return body

    def _error(self, problem: BaseException) -> None:
        name = type(problem).__name__
        self.errors[name] = self.errors.get(name, 0) + 1

    def report(self, seconds: float) -> dict:
        asked = self.connected / PERIOD_S
        return {
            "clients": self.count,
            "connected": self.connected,
            "seconds": round(seconds, 1),
            **{
                kind: {
                    "asked_per_s": asked,
                    "answered_per_s": round(len(self.latencies_ms[kind]) / seconds, 1),
                    "latency_ms": percentiles(self.latencies_ms[kind]),
                    "not_200": self.statuses[kind],
                }
                for kind in KINDS
            },
            "errors": self.errors,
        }


def start_server(args, workdir: Path, server_log: Path):
    deployment = audience.bench_deployment(workdir, args.redis)
    deployment.create_user(*audience.DJ)
    deployment.manage(
        "createstation", audience.STATION, "--name", "HLS bench",
        "--dj", audience.DJ[0], "--bitrate", str(args.bitrate),
    )  # fmt: skip
    return deployment, audience.start_logged_worker(deployment, args, server_log)


async def first_segments(port: int) -> None:
    """Wait until the playlist lists segments."""
    probe = Clients(port, audience.STATION, 1)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(FIRST_SEGMENTS_TIMEOUT_S):
            while b".mp3" not in await probe.get(
                reader, writer, "playlist", "live.m3u8"
            ):
                await asyncio.sleep(0.5)
    finally:
        writer.close()


async def run(args, worker, mp3: bytes) -> dict:
    source = await audience.IcecastSource.connect(worker.source_port, audience.DJ)
    player = asyncio.ensure_future(audience.play_looped(source, mp3, args.bitrate))
    try:
        await first_segments(worker.port)
        clients = Clients(worker.port, audience.STATION, args.clients)
        cpu_before = audience.proc_cpu_ticks(worker.process.pid)
        wall_before = time.monotonic()
        seconds = await clients.run(ramp_rate=args.ramp_rate, seconds=args.duration)
        cpu = (audience.proc_cpu_ticks(worker.process.pid) - cpu_before) / (
            audience.CLK_TCK * (time.monotonic() - wall_before)
        )
        return {
            **clients.report(seconds),
            "server": {
                "cpu_percent_with_ramp": round(cpu * 100, 1),
                "rss_kb": audience.rss_kb(worker.process.pid),
            },
        }
    finally:
        player.cancel()
        await source.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--clients", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--ramp-rate", type=float, default=500, help="clients/s")
    parser.add_argument("--bitrate", type=int, default=128)
    parser.add_argument("--redis", default=None, help="use the Redis bus at URL")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    output = audience.result_path(args.output, "hls")
    audience.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="hls-bench-"))
    deployment = None
    try:
        mp3 = make_tone(
            workdir / "tone.mp3", seconds=60, bitrate=f"{args.bitrate}k"
        ).read_bytes()
        deployment, worker = start_server(
            args, workdir, output.with_suffix(".server.log")
        )
        if audience.uvloop is not None:
            audience.uvloop.install()
        result = asyncio.run(run(args, worker, mp3))
    finally:
        if deployment is not None:
            deployment.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    audience.write_report(output, args, audience.product_fingerprint(), result)
    print(json.dumps(result, indent=1))
    audience.log(f"written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
