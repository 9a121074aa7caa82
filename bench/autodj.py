#!/usr/bin/env python
"""What the AutoDJ costs and how quickly it hands over, on a real server.

Three parts, each on its own real installation (SQLite in a temporary
directory, one daphne worker serving ``radio.asgi`` as ``bin/run`` does):

* ``cpu``: S stations, each with a library of two 10-minute 128 kbit/s MP3
  tracks, all played by the AutoDJ; the CPU time of the worker and its
  ffmpeg processes over a window, per station.
* ``memory``: one station whose library is one track of ``--track-minutes``
  (two hours by default); the RSS of the worker and its ffmpeg processes
  while it plays, against the same worker idle (``RADIO_AUTODJ=0``).
* ``switch``: one station playing its library and one listener; a DJ goes
  live for a few seconds and stops, or goes live and drops the connection,
  ``--switches`` times each; the gap in the listener's audio (arrival of
  the first audio of the new source minus arrival of the last audio of the
  old one) at each takeover and each return.

    .venv/bin/python bench/autodj.py --part cpu --stations 10 --duration 60
    .venv/bin/python bench/autodj.py --part memory --track-minutes 120
    .venv/bin/python bench/autodj.py --part switch --switches 10

Results are printed and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from tests.support.audio import make_tone  # noqa: E402
from tests.support.clients import (  # noqa: E402
    Timeline,
    connect,
    gap_ms,
    record,
    sign_in,
    stream_file,
)
from tests.support.servers import Deployment, Worker  # noqa: E402

RESULTS = PROJECT / "bench" / "results"
DJ = ("benchdj", "bench-dj-password-1")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KINDS = ("rss", "pss", "uss")
MIB = 1024 * 1024


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(parents.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_bytes(pid: int) -> dict[str, int]:
    """Resident (RSS), proportional (PSS) and private (USS) memory of ``pid``.

    ffmpeg's RSS is mostly shared library pages; USS is what it alone holds.
    """
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) * 1024
    return {
        "rss": fields["Rss"],
        "pss": fields["Pss"],
        "uss": fields["Private_Clean"] + fields["Private_Dirty"],
    }


def command(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def installation(folder: Path, stations: int) -> Deployment:
    deployment = Deployment.create(
        database_url=f"sqlite:///{folder / 'radio.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        RADIO_MAX_TRACK_SECONDS=str(4 * 60 * 60),
    )
    deployment.create_user(*DJ)
    for index in range(stations):
        deployment.manage(
            "createstation", f"auto{index}", "--name", f"Auto {index}", "--dj", DJ[0]
        )
    return deployment


def status(worker: Worker, slug: str) -> dict:
    with urllib.request.urlopen(f"{worker.http_url}/stations/{slug}/status.json") as r:
        return json.load(r)


def wait_until_playing(worker: Worker, slugs: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(status(worker, slug)["source"] == "autodj" for slug in slugs):
            return
        time.sleep(0.5)
    raise RuntimeError("the AutoDJ did not start playing every station")


def measure_cpu(args, folder: Path) -> dict:
    deployment = installation(folder, args.stations)
    tracks = [
        make_tone(folder / f"track{tone}.mp3", seconds=600, frequency=tone)
        for tone in (440, 660)
    ]
    slugs = [f"auto{index}" for index in range(args.stations)]
    for slug in slugs:
        deployment.manage("addtrack", slug, *map(str, tracks))
    worker = deployment.start_worker("--websocket_timeout", "-1")
    try:
        wait_until_playing(worker, slugs)
        time.sleep(args.warmup)
        pids = descendants(worker.process.pid)
        before = {pid: cpu_seconds(pid) for pid in pids}
        started = time.monotonic()
        time.sleep(args.duration)
        elapsed = time.monotonic() - started
        used: dict[str, float] = {}
        for pid in pids:
            name = "worker" if pid == worker.process.pid else command(pid)
            used[name] = used.get(name, 0.0) + cpu_seconds(pid) - before[pid]
        ffmpegs = len(pids) - 1
    finally:
        deployment.stop()
    total_percent = sum(used.values()) / elapsed * 100
    return {
        "stations": args.stations,
        "window_s": round(elapsed, 1),
        "ffmpeg_processes": ffmpegs,
        "cpu_percent_of_one_core": {
            name: round(seconds / elapsed * 100, 2) for name, seconds in used.items()
        },
        "cpu_percent_total": round(total_percent, 2),
        "cpu_percent_per_station": round(total_percent / args.stations, 2),
    }


def peak_memory(worker: Worker, seconds: float) -> dict[str, dict[str, int]]:
    """The most memory the worker, and it with its ffmpeg processes, held."""
    peak = {"worker": dict.fromkeys(KINDS, 0), "total": dict.fromkeys(KINDS, 0)}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sizes = {pid: memory_bytes(pid) for pid in descendants(worker.process.pid)}
        for kind in KINDS:
            total = sum(size[kind] for size in sizes.values())
            peak["total"][kind] = max(peak["total"][kind], total)
            own = sizes[worker.process.pid][kind]
            peak["worker"][kind] = max(peak["worker"][kind], own)
        time.sleep(0.5)
    return peak


def measure_memory(args, folder: Path) -> dict:
    deployment = installation(folder, 1)
    started = time.monotonic()
    track = make_tone(
        folder / "long-mix.mp3", seconds=args.track_minutes * 60, frequency=440
    )
    made_s = time.monotonic() - started
    started = time.monotonic()
    deployment.manage("addtrack", "auto0", str(track))
    added_s = time.monotonic() - started
    try:
        idle = deployment.start_worker("--websocket_timeout", "-1", RADIO_AUTODJ="0")
        status(idle, "auto0")
        time.sleep(args.warmup)
        idle_memory = peak_memory(idle, 5)["worker"]
        idle.stop()
        worker = deployment.start_worker("--websocket_timeout", "-1")
        wait_until_playing(worker, ["auto0"])
        playing = peak_memory(worker, args.duration)
    finally:
        deployment.stop()
    return {
        "track_minutes": args.track_minutes,
        "track_mib": round(track.stat().st_size / MIB, 1),
        "make_track_s": round(made_s, 1),
        "addtrack_s": round(added_s, 1),
        **{
            f"{kind}_mib": {
                "idle_worker": round(idle_memory[kind] / MIB, 1),
                "playing_worker": round(playing["worker"][kind] / MIB, 1),
                "playing_worker_and_ffmpeg": round(playing["total"][kind] / MIB, 1),
                "above_idle": round(
                    (playing["total"][kind] - idle_memory[kind]) / MIB, 1
                ),
            }
            for kind in KINDS
        },
    }


async def switch_once(worker: Worker, dj_audio: bytes, *, drop: bool) -> dict:
    listener = await connect(f"{worker.ws_url}/ws/stations/auto0/")
    timeline = Timeline()
    recording = asyncio.create_task(record(listener, timeline, seconds=8))
    await asyncio.sleep(2)
    dj = await connect(
        f"{worker.ws_url}/ws/stations/auto0/broadcast/",
        cookie=sign_in(worker.http_url, *DJ),
    )
    await dj.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
    while json.loads(await dj.recv())["type"] != "live":
        pass
    await stream_file(dj, dj_audio, bitrate_kbps=128)
    if drop:
        dj.transport.abort()
    else:
        await dj.send(json.dumps({"type": "stop"}))
        await dj.close()
    await recording
    await listener.close()

    took_over = timeline.index("on_air", source="live")
    back = timeline.index("on_air", after=took_over, source="autodj")
    autodj = timeline.between(0, took_over)
    live = timeline.between(took_over, back)
    again = timeline.between(back, len(timeline.items))
    return {"takeover_ms": gap_ms(autodj, live), "return_ms": gap_ms(live, again)}


def measure_switches(args, folder: Path) -> dict:
    deployment = installation(folder, 1)
    track = make_tone(folder / "library.mp3", seconds=120, frequency=440)
    deployment.manage("addtrack", "auto0", str(track))
    dj_audio = make_tone(folder / "dj.mp3", seconds=3, frequency=220).read_bytes()
    worker = deployment.start_worker("--websocket_timeout", "-1")
    try:
        wait_until_playing(worker, ["auto0"])
        runs = {
            kind: [
                asyncio.run(switch_once(worker, dj_audio, drop=kind == "drop"))
                for _ in range(args.switches)
            ]
            for kind in ("stop", "drop")
        }
    finally:
        deployment.stop()

    def summary(values: list[int]) -> dict:
        return {"p50": statistics.median(values), "max": max(values), "all": values}

    return {
        "switches": args.switches,
        "takeover_gap_ms": summary(
            [run["takeover_ms"] for kind in runs.values() for run in kind]
        ),
        "return_after_stop_gap_ms": summary([r["return_ms"] for r in runs["stop"]]),
        "return_after_drop_gap_ms": summary([r["return_ms"] for r in runs["drop"]]),
    }


PARTS = {"cpu": measure_cpu, "memory": measure_memory, "switch": measure_switches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=sorted(PARTS), required=True)
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--track-minutes", type=int, default=120)
    parser.add_argument("--switches", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radio-bench-") as folder:
        result = PARTS[args.part](args, Path(folder))
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({os.cpu_count()} CPUs, {platform.machine()})",
        "result": result,
    }
    print(json.dumps(report, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"autodj-{args.part}-{stamp}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
