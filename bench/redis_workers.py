#!/usr/bin/env python
"""The Redis work of one station as workers are added: commands/s and CPU.

For each worker count (``--workers``, default 1 2 4 8) it starts afresh: a
Redis server of its own, a radio installation on it (SQLite in a temporary
directory), that many daphne workers pinned to one CPU, a DJ on the Icecast
source port (an MP3 tone at real-time pace, 100 ms writes) and
``--listeners`` WebSocket listeners split evenly across the workers, from a
generator pinned to the other CPU. After ``--settle`` seconds it measures
``--duration`` seconds:

* Redis's commands per second, in all and by command (INFO commandstats,
  without the bench's own INFO calls), and its CPU % (INFO cpu);
* each worker's CPU %;
* the listeners that got the station's audio: at least 99 % of the audio
  messages the best-served listener got, and that listener's messages a second.

The station's Redis work should grow with the workers, never with the
listeners: compare ``--listeners 400`` with ``--listeners 1600`` at one count.

    .venv/bin/python bench/redis_workers.py --workers 1 2 4 8 --listeners 400
    .venv/bin/python bench/redis_workers.py --workers 1 --listeners 1600
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
import redis.asyncio as aioredis  # noqa: E402

from tests.support.audio import make_tone  # noqa: E402
from tests.support.clients import connect  # noqa: E402
from tests.support.servers import RedisServer  # noqa: E402

# Listeners connecting at once (daphne's backlog is 50).
CONNECTING_AT_ONCE = 40
HEALTHY_SHARE = 0.99


class Listeners:
    """WebSocket listeners of the station that count their audio messages."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.audio = [0] * len(urls)
        self._readers: list[asyncio.Task] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def opened(index: int):
            async with gate:
                return index, await connect(self.urls[index])

        for index, socket in await asyncio.gather(
            *(opened(index) for index in range(len(self.urls)))
        ):
            self._readers.append(asyncio.create_task(self._read(index, socket)))

    async def _read(self, index: int, socket) -> None:
        async for message in socket:
            if isinstance(message, bytes):
                self.audio[index] += 1

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def redis_counters(client: aioredis.Redis) -> dict:
    """Redis's calls by command and its CPU seconds so far."""
    stats = await client.info("commandstats")
    cpu = await client.info("cpu")
    return {
        "calls": {
            name.removeprefix("cmdstat_"): value["calls"]
            for name, value in stats.items()
            if name != "cmdstat_info"
        },
        "cpu_s": cpu["used_cpu_sys"] + cpu["used_cpu_user"],
    }


async def measure(args, workers, redis_url: str, mp3: bytes) -> dict:
    source = await audience.IcecastSource.connect(workers[0].source_port, audience.DJ)
    player = asyncio.ensure_future(audience.play_looped(source, mp3, args.bitrate))
    path = f"/ws/stations/{audience.STATION}/"
    listeners = Listeners(
        [workers[i % len(workers)].ws_url + path for i in range(args.listeners)]
    )
    client = aioredis.Redis.from_url(redis_url)
    try:
        await listeners.open()
        await asyncio.sleep(args.settle)
        pids = [worker.process.pid for worker in workers]
        before = await redis_counters(client)
        ticks_before = [audience.proc_cpu_ticks(pid) for pid in pids]
        audio_before = list(listeners.audio)
        started = time.monotonic()
        await asyncio.sleep(args.duration)
        seconds = time.monotonic() - started
        after = await redis_counters(client)
        ticks = [audience.proc_cpu_ticks(pid) for pid in pids]
        audio = [
            now - then for now, then in zip(listeners.audio, audio_before, strict=True)
        ]
    finally:
        await listeners.close()
        await client.aclose()
        player.cancel()
        await source.close()
    calls = {
        name: (count - before["calls"].get(name, 0)) / seconds
        for name, count in after["calls"].items()
    }
    best = max(audio)
    return {
        "workers": len(workers),
        "listeners": args.listeners,
        "seconds": round(seconds, 1),
        "redis": {
            "commands_per_s": round(sum(calls.values()), 1),
            "cpu_percent": round((after["cpu_s"] - before["cpu_s"]) / seconds * 100, 2),
            "by_command": {
                name: round(rate, 1)
                for name, rate in sorted(calls.items(), key=lambda item: -item[1])
                if rate > 0
            },
        },
        "worker_cpu_percent": [
            round((end - start) / audience.CLK_TCK / seconds * 100, 1)
            for start, end in zip(ticks_before, ticks, strict=True)
        ],
        "listeners_healthy": sum(got >= HEALTHY_SHARE * best for got in audio),
        "best_messages_per_s": round(best / seconds, 1),
    }


def run_with(args, worker_count: int, workdir: Path, mp3: bytes, log: Path) -> dict:
    redis_server = RedisServer.start()
    deployment = None
    try:
        audience.pin_all_threads(redis_server.process.pid, {args.server_cpu})
        installation = workdir / f"workers-{worker_count}"
        installation.mkdir()
        deployment = audience.bench_deployment(installation, redis_server.url)
        deployment.create_user(*audience.DJ)
        deployment.manage(
            "createstation", audience.STATION, "--name", "Redis bench",
            "--dj", audience.DJ[0], "--bitrate", str(args.bitrate),
        )  # fmt: skip
        workers = [
            audience.start_logged_worker(deployment, args, log)
            for _ in range(worker_count)
        ]
        return asyncio.run(measure(args, workers, redis_server.url, mp3))
    finally:
        if deployment is not None:
            deployment.stop()
        redis_server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("-n", "--listeners", type=int, default=400)
    parser.add_argument("--settle", type=float, default=10)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--bitrate", type=int, default=128)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    output = audience.result_path(args.output, "redis-workers")
    audience.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="redis-bench-"))
    runs = []
    try:
        mp3 = make_tone(
            workdir / "tone.mp3", seconds=60, bitrate=f"{args.bitrate}k"
        ).read_bytes()
        for worker_count in args.workers:
            run = run_with(
                args, worker_count, workdir, mp3, output.with_suffix(".server.log")
            )
            audience.log(json.dumps(run))
            runs.append(run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    audience.write_report(output, args, audience.product_fingerprint(), {"runs": runs})
    audience.log(f"written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
