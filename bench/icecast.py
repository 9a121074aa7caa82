#!/usr/bin/env python
"""Icecast's side of the side-by-side: how many plain HTTP MP3 listeners
Icecast holds on one core, measured as bench/audience.py measures radio.

Starts Debian's ``icecast2`` (a configuration in a temporary directory, all
its threads pinned to one CPU), puts a source on a mount over the Icecast
protocol (a real MP3 at real-time pace in ``--chunk-ms`` chunks, as BUTT
or ffmpeg send it), connects N listeners (``GET /bench``, body bytes counted) from a
generator pinned to the other CPU, and measures a steady window:

* listeners connected, and those that got >= 99 % of the window's audio
  (by bytes at the stream's bitrate): "in real time";
* Icecast's CPU % (all its threads, utime+stime) and RSS per listener, and
  the generator's CPU % (near 100 %, it is the limit, not Icecast).

radio's figures for the same load come from bench/audience.py
(``--stream-listeners N --source icecast`` for the same HTTP listeners,
``-n N`` for WebSocket ones); docs/PERFORMANCE.md sets them side by side.

    .venv/bin/python bench/icecast.py --listeners 15000 --rate 50

Needs ``icecast2`` (``apt-get install -y icecast2``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bench.audience import (  # noqa: E402
    CLK_TCK,
    HEALTHY_SHARE,
    RESULTS,
    IcecastSource,
    machine,
    percentile,
    play_looped,
    proc_cpu_ticks,
    raise_nofile,
    rss_kb,
)
from tests.support.audio import make_tone  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

try:
    import uvloop
except ImportError:  # pragma: no cover - works without, only slower
    uvloop = None

MOUNT = "/bench"
SOURCE_PASSWORD = "bench-source"

CONFIG = """<icecast>
  <limits>
    <clients>{clients}</clients>
    <sources>2</sources>
    <queue-size>524288</queue-size>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>65535</burst-size>
    <source-timeout>10</source-timeout>
  </limits>
  <authentication>
    <source-password>{password}</source-password>
    <admin-user>admin</admin-user>
    <admin-password>{password}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket>
    <port>{port}</port>
    <bind-address>127.0.0.1</bind-address>
  </listen-socket>
  <fileserve>0</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>{directory}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>{directory}/icecast.pid</pidfile>
  </paths>
  <logging>
    <errorlog>error.log</errorlog>
    <accesslog>access.log</accesslog>
    <loglevel>2</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
    <changeowner><user>nobody</user><group>nogroup</group></changeowner>
  </security>
</icecast>
"""


class HttpListener:
    """A player: the GET, then the body's bytes, counted.

    Read every ``--read-ms`` rather than as bytes arrive: Icecast writes each
    listener as often as its source writes, and a generator woken for each of
    those is saturated long before Icecast is (10,000 listeners of a 100 ms
    source: 96 % of its core). The kernel keeps what arrives in between.
    """

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setblocking(False)
        self.bytes = 0
        self.open = False

    async def connect(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.socket, ("127.0.0.1", port))
        await loop.sock_sendall(
            self.socket,
            f"GET {MOUNT} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode(),
        )
        head = b""
        while (end := head.find(b"\r\n\r\n")) < 0:
            if not (data := await loop.sock_recv(self.socket, 65536)):
                raise ConnectionError("closed before the response's head")
            head += data
        status = head[: head.find(b"\r\n")]
        if b" 200 " not in status:
            raise ConnectionError(status.decode(errors="replace"))
        self.bytes = len(head) - end - 4
        self.open = True

    def read(self) -> None:
        """Count what has arrived since the last read."""
        while self.open:
            try:
                data = self.socket.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.open = False
            self.bytes += len(data)


def start_icecast(directory: Path, port: int, clients: int, cpu: int):
    """icecast2 on ``port``, its threads on ``cpu``; its log in ``directory``."""
    binary = shutil.which("icecast2") or shutil.which("icecast")
    if binary is None:
        sys.exit("icecast2 is not installed: apt-get install -y icecast2")
    directory.chmod(0o777)
    config = directory / "icecast.xml"
    config.write_text(
        CONFIG.format(
            clients=clients, password=SOURCE_PASSWORD, port=port, directory=directory
        )
    )
    process = subprocess.Popen(
        ["taskset", "-c", str(cpu), binary, "-c", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    raise_nofile(process.pid)
    return process


async def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return


async def ramp(
    port: int, count: int, rate: float, listeners: list[HttpListener]
) -> None:
    """``count`` listeners at ``rate`` a second, added to ``listeners`` (read
    from their first second) as each is connected."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    connecting = []
    for index in range(count):
        await asyncio.sleep(max(0.0, started + index / rate - loop.time()))
        listener = HttpListener()
        listeners.append(listener)
        connecting.append(loop.create_task(listener.connect(port)))
    await asyncio.gather(*connecting, return_exceptions=True)


async def read_forever(listeners: list[HttpListener], read_s: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        for listener in listeners:
            listener.read()
        await asyncio.sleep(max(0.0, started + read_s - loop.time()))


def cpu_s(before: os.times_result, after: os.times_result) -> float:
    """This process's CPU seconds between two ``os.times()``."""
    return after.user + after.system - before.user - before.system


async def run(args: argparse.Namespace) -> dict:
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="bench-icecast-"))
    process = start_icecast(directory, port, args.listeners + 100, args.server_cpu)
    try:
        await wait_listening(port)
        os.sched_setaffinity(0, {args.client_cpu})
        raise_nofile()
        mp3 = make_tone(
            directory / "tone.mp3", seconds=args.mp3_seconds, bitrate=f"{args.bitrate}k"
        ).read_bytes()
        source = await IcecastSource.connect(port, ("source", SOURCE_PASSWORD), MOUNT)
        playing = asyncio.create_task(
            play_looped(source, mp3, args.bitrate, args.chunk_ms)
        )
        ramp_started = time.monotonic()
        listeners: list[HttpListener] = []
        reading = asyncio.create_task(read_forever(listeners, args.read_ms / 1000))
        await ramp(port, args.listeners, args.rate, listeners)
        ramp_s = time.monotonic() - ramp_started
        await asyncio.sleep(args.warmup)
        bytes0 = [listener.bytes for listener in listeners]
        cpu0, wall0 = proc_cpu_ticks(process.pid), time.monotonic()
        generator0 = os.times()
        await asyncio.sleep(args.duration)
        cpu1, wall1 = proc_cpu_ticks(process.pid), time.monotonic()
        generator1 = os.times()
        got = [
            listener.bytes - before
            for listener, before in zip(listeners, bytes0, strict=True)
        ]
        rss = rss_kb(process.pid)
        playing.cancel()
        reading.cancel()
        seconds = wall1 - wall0
        expected = args.bitrate * 1000 / 8 * seconds
        connected = sum(listener.open for listener in listeners)
        return {
            "listeners": args.listeners,
            "connected": connected,
            "ramp_s": round(ramp_s, 1),
            "real_time": sum(count >= HEALTHY_SHARE * expected for count in got),
            "kbit_per_s_p50": round(
                (percentile(got, 0.5) or 0) * 8 / 1000 / seconds, 1
            ),
            "server_cpu_percent": round(100 * (cpu1 - cpu0) / CLK_TCK / seconds, 1),
            "generator_cpu_percent": round(
                100 * cpu_s(generator0, generator1) / seconds, 1
            ),
            "server_rss_kb": rss,
            "rss_per_listener_kb": round(rss / max(connected, 1), 1),
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--listeners", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200, help="joins a second")
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--bitrate", type=int, default=128)
    parser.add_argument(
        "--chunk-ms", type=int, default=100, help="the source's writes (default 100)"
    )
    parser.add_argument("--mp3-seconds", type=float, default=60.0)
    parser.add_argument(
        "--read-ms", type=int, default=250, help="how often listeners read"
    )
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    args = parser.parse_args()
    runner = uvloop.run if uvloop else asyncio.run
    steady = runner(run(args))
    version = subprocess.run(
        [shutil.which("icecast2") or "icecast", "-v"], capture_output=True, text=True
    ).stdout.strip()
    report = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "machine": machine(),
        "icecast": version,
        "args": vars(args),
        "steady": steady,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS / f"icecast-{args.listeners}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    print(json.dumps(steady, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
