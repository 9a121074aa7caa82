#!/usr/bin/env python
"""How many WebSocket listeners one daphne worker holds, and how well.

Starts a real radio installation (SQLite in a temporary directory, DEBUG=0,
one daphne worker pinned to one CPU), puts a DJ on air who sends a real MP3
at real-time pace in 100 ms chunks, connects N listeners from a load
generator pinned to another CPU, waits until the station's output has caught
up with the DJ after the ramp, and measures a steady window:

* listeners connected; healthy (got >= 99 % of the audio messages published
  in the window, by ``seq``) and healthy in real time (also got >= 99 % of
  the window's duration in audio);
* relay latency (receipt minus the header's ``ingest_ms``) and end-to-end
  latency (receipt minus when the DJ sent the chunk) p50/p99/max, and how
  long chunks waited in the server before being ingested;
* time from opening the connection to holding 2 s of MP3 frames, for the
  ramp and for "probe" listeners that join during the window;
* the server's CPU % (utime+stime) and RSS, RSS per listener, and (with
  ``--gc-log``) its full garbage collections.

With ``--churn N``, N more listeners join every second of the window and
each leaves ``CHURN_STAY_S`` after it joined, so N leave a second too: each
is a listening session the server records (compare ``--no-stats``, which
turns the recording off, for the relay latency and CPU of the steady
listeners); the sessions written are counted after the server stops.

With ``--stalled M``, after that window M more listeners connect, read the
hello and the burst and then stop reading (small SO_RCVBUF); the script
reports the server's RSS and the kernel's TCP memory per stalled listener,
what became of the stalled connections and whether the healthy listeners'
latency changed.

The listeners are a minimal WebSocket client on ``asyncio.Protocol`` (uvloop
if installed): raw upgrade handshake, frames parsed in bulk, nothing copied
but the 12-byte header. All traffic stays on 127.0.0.1.

    .venv/bin/python bench/audience.py --listeners 3000 --duration 30 --gc-log
    .venv/bin/python bench/audience.py -n 500 --stalled 200 --stall-duration 60
    .venv/bin/python bench/audience.py -n 1000 --churn 50 [--no-stats]

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from bench.api_load import ApiLoad, SseWidgets  # noqa: E402
from bench.memory_census import Census, per_listener  # noqa: E402
from stations.streaming.mp3 import parse_header as parse_mp3_header  # noqa: E402
from tests.support.audio import make_tone  # noqa: E402
from tests.support.clients import connect as ws_connect  # noqa: E402
from tests.support.clients import sign_in  # noqa: E402
from tests.support.servers import Deployment, Worker  # noqa: E402

try:
    import uvloop
except ImportError:  # pragma: no cover - works without, only slower
    uvloop = None

RESULTS = PROJECT / "bench" / "results"
STATION = "bench"
DJ = ("benchdj", "bench-dj-password-1")
ORIGIN = "http://127.0.0.1"
# Any key will do; the server's accept value is not checked.
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
HEALTHY_SHARE = 0.99
# How long a --churn listener stays before it leaves (over the server's
# shortest recorded session, RADIO_STATS_MIN_SESSION_SECONDS).
CHURN_STAY_S = 5.0
FIRST_AUDIO_MS = 2000.0
HIST_MS = 60_000  # latency histogram: 1 ms buckets up to a minute
SLOW_MS = 50  # packets any listener got later than this are listed
# Issue 14's target for the relay latency p99 of healthy listeners.
RELAY_P99_TARGET_MS = 100
# How far the server's RSS may rise in the second half of the stalled window
# over the first half's peak and still count as bounded: a stalled
# listener's backlog is capped, so its memory must level off.
STALL_RSS_SLACK = 0.02
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
NOFILE = 200_000

_HEADER = struct.Struct(">IQ")
_unpack_header = _HEADER.unpack_from
_time = time.time
_perf = time.perf_counter

# tcp_info.tcpi_state values
TCP_STATES = {1: "established", 4: "fin_wait1", 7: "closed", 8: "close_wait"}

HANDSHAKE, OPEN, CLOSED = 0, 1, 2


def parse_frame(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """``(opcode, payload start, payload end)`` of the unmasked server frame
    at ``pos``, or None if ``data`` does not hold all of it yet."""
    n = len(data)
    if n - pos < 2:
        return None
    length = data[pos + 1] & 0x7F
    if length < 126:
        start = pos + 2
    elif length == 126:
        if n - pos < 4:
            return None
        length = (data[pos + 2] << 8) | data[pos + 3]
        start = pos + 4
    else:
        if n - pos < 10:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 10], "big")
        start = pos + 10
    end = start + length
    if end > n:
        return None
    return data[pos] & 0x0F, start, end


def pong_frame(payload: bytes) -> bytes:
    """The masked (key 0) pong answering a ping with ``payload``."""
    return b"\x8a" + bytes((0x80 | len(payload),)) + b"\0\0\0\0" + payload


def upgrade_request(path: str, port: int, cookie: str | None = None) -> bytes:
    """A client's WebSocket upgrade request for ``path``."""
    cookie_line = f"Cookie: {cookie}\r\n" if cookie else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {ORIGIN}\r\n{cookie_line}\r\n"
    ).encode()


def read_upgrade(client, data: bytes) -> int | None:
    """Take the server's answer to ``client``'s upgrade request from ``data``.

    Returns where the WebSocket frames begin, or None: the answer is not
    whole yet (it waits in ``client.buf``), or refused (``client`` closed).
    ``client`` has ``buf``, ``state``, ``error``, ``transport`` and
    ``opened``, which is settled here.
    """
    end = data.find(b"\r\n\r\n")
    if end < 0:
        client.buf = data
        return None
    if not data.startswith(b"HTTP/1.1 101"):
        client.error = data[: data.find(b"\r\n")].decode(errors="replace")
        client.state = CLOSED
        client.transport.abort()
        settle(client.opened, ConnectionError(client.error))
        return None
    client.state = OPEN
    settle(client.opened, None)
    return end + 4


def settle(opened: asyncio.Future | None, exc: BaseException | None) -> None:
    """Resolve a client's ``opened`` once: with None if the socket opened."""
    if opened is not None and not opened.done():
        if exc is None:
            opened.set_result(None)
        else:
            opened.set_exception(exc)


# --- the measuring window ---------------------------------------------------


@dataclass
class Window:
    """Audio published in [t0_ms, t1_ms) (by the header's ``ingest_ms``)."""

    t0_ms: int
    t1_ms: int = 2**63
    hist: list[int] = field(default_factory=lambda: [0] * HIST_MS)
    max_ms: int = 0
    seq_min: int = 2**32
    seq_max: int = -1
    # DJ sent the chunk -> listener got it (needs the seq -> chunk mapping)
    e2e_hist: list[int] = field(default_factory=lambda: [0] * HIST_MS)
    e2e_max_ms: int = 0
    # MP3 bytes of the messages published in the window (each counted once,
    # by the first listener to get it)
    audio_bytes: int = 0
    lags: list[float] = field(default_factory=list)
    # seq -> [worst latency, ingest_ms] for packets slower than SLOW_MS
    slow: dict[int, list[int]] = field(default_factory=dict)

    @property
    def published(self) -> int:
        return max(0, self.seq_max - self.seq_min + 1)


def hist_percentile(hist: list[int], share: float) -> float | None:
    total = sum(hist)
    if not total:
        return None
    goal = share * total
    seen = 0
    for value, count in enumerate(hist):
        seen += count
        if seen >= goal:
            return float(value)
    return float(len(hist) - 1)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- the listener -----------------------------------------------------------


class Client(asyncio.Protocol):
    """What every kind of listener's connection answers."""

    __slots__ = ()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


class Listener(Client):
    """One WebSocket listener: the upgrade, then frames parsed in bulk."""

    __slots__ = (
        "audio_ms",
        "audio_msgs",
        "bench",
        "buf",
        "bytes",
        "close_code",
        "error",
        "gaps",
        "hello",
        "kind",
        "last_seq",
        "measure",
        "need_audio",
        "opened",
        "records",
        "stall",
        "state",
        "t_audio",
        "t_closed",
        "t_hello",
        "t_open",
        "t_start",
        "transport",
        "wbytes",
        "wcount",
    )  # fmt: skip

    def __init__(self, bench: Bench, kind: str) -> None:
        self.bench = bench
        self.kind = kind  # "healthy", "stalled" or "probe"
        self.measure = kind == "healthy"
        self.stall = kind == "stalled"
        # The reference listener keeps (seq, ingest_ms, received_ms, bytes).
        self.records = [] if kind == "reference" else None
        self.transport = None
        self.state = HANDSHAKE
        self.buf = b""
        self.t_start = 0.0
        self.t_open = None
        self.t_hello = None
        self.t_audio = None
        self.audio_ms = 0.0
        self.need_audio = True
        self.hello = None
        self.audio_msgs = 0
        self.gaps = 0
        self.last_seq = None
        self.wcount = 0
        self.wbytes = 0
        self.close_code = None
        self.error = None
        self.opened = None
        self.t_closed = None
        self.bytes = 0

    # asyncio.Protocol

    def connection_made(self, transport) -> None:
        self.transport = transport
        port = self.bench.port
        transport.write(upgrade_request(f"/ws/stations/{STATION}/", port))

    def connection_lost(self, exc) -> None:
        if self.state != CLOSED:
            self.state = CLOSED
            self.t_closed = _perf()
        settle(self.opened, exc or ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        now_ms = _time() * 1000.0
        self.bytes += len(data)
        if self.buf:
            data = self.buf + data
            self.buf = b""
        pos = 0
        if self.state == HANDSHAKE:
            pos = read_upgrade(self, data)
            if pos is None:
                return
            self.t_open = _perf()
        n = len(data)
        window = self.bench.window
        while (frame := parse_frame(data, pos)) is not None:
            opcode, start, end = frame
            length = end - start
            pos = end
            if opcode == 2:
                self.audio_msgs += 1
                seq, ingest_ms = _unpack_header(data, start)
                last = self.last_seq
                if last is not None and seq != last + 1:
                    self.gaps += 1
                self.last_seq = seq
                if (
                    window is not None
                    and self.measure
                    and window.t0_ms <= ingest_ms < window.t1_ms
                ):
                    self.wcount += 1
                    self.wbytes += length - 12
                    latency = int(now_ms - ingest_ms)
                    if latency < 0:
                        latency = 0
                    if latency > SLOW_MS:
                        if latency > window.max_ms:
                            window.max_ms = latency
                        slow = window.slow.get(seq)
                        if slow is None:
                            window.slow[seq] = [latency, ingest_ms]
                        elif latency > slow[0]:
                            slow[0] = latency
                    elif latency > window.max_ms:
                        window.max_ms = latency
                    window.hist[latency if latency < HIST_MS else HIST_MS - 1] += 1
                    if seq < window.seq_min:
                        window.seq_min = seq
                    if seq > window.seq_max:
                        window.seq_max = seq
                        window.audio_bytes += length - 12
                    chunk = seq - self.bench.seq_offset
                    sent = self.bench.dj_sent_ms
                    if 0 <= chunk < len(sent):
                        latency = int(now_ms - sent[chunk])
                        if latency > window.e2e_max_ms:
                            window.e2e_max_ms = latency
                        window.e2e_hist[
                            latency if 0 <= latency < HIST_MS else HIST_MS - 1
                        ] += 1
                if self.records is not None:
                    self.records.append((seq, ingest_ms, now_ms, length - 12))
                if self.need_audio:
                    self._first_audio(data, start + 12, end)
                    if not self.need_audio and self.stall:
                        # Read nothing more: what is left of this chunk is
                        # dropped, like bytes a stalled player never reads.
                        self.transport.pause_reading()
                        return
            elif opcode == 1:
                if self.hello is None:
                    self.hello = json.loads(data[start:end])
                    self.t_hello = _perf()
            elif opcode == 9:
                self.transport.write(pong_frame(data[start:end]))
            elif opcode == 8:
                if length >= 2:
                    self.close_code = (data[start] << 8) | data[start + 1]
                self.state = CLOSED
                self.t_closed = _perf()
                self.transport.write(b"\x88\x80\0\0\0\0")
                self.transport.close()
                return
        if pos < n:
            self.buf = data[pos:]

    # helpers

    def _first_audio(self, data: bytes, offset: int, end: int) -> None:
        while offset < end:
            header = parse_mp3_header(data, offset)
            if header is None:
                self.error = "audio message is not whole MP3 frames"
                break
            self.audio_ms += header.duration_ms
            offset += header.length
        if self.audio_ms >= FIRST_AUDIO_MS:
            self.need_audio = False
            self.t_audio = _perf()
            if self.kind == "probe":
                self.bench.probe_done(self)

    def close(self) -> None:
        if self.transport is not None and self.state == OPEN:
            self.state = CLOSED
            self.t_closed = _perf()
            with contextlib.suppress(Exception):
                self.transport.write(b"\x88\x82\0\0\0\0\x03\xe8")  # 1000
                self.transport.close()

    @property
    def time_to_audio_ms(self) -> float | None:
        if self.t_audio is None:
            return None
        return (self.t_audio - self.t_start) * 1000

    def tcp_state(self) -> str:
        """The kernel's view of the connection (works while not reading)."""
        if self.transport is None:
            return "none"
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return "closed"
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        except OSError:
            return "closed"
        return TCP_STATES.get(info[0], str(info[0]))


class StreamListener(Client):
    """One ``stream.mp3`` listener, as a player is: the GET, then the body's
    bytes, counted (there is no ``seq`` or ``ingest_ms`` to time them by)."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.transport = None
        self.state = HANDSHAKE
        self.buf = b""
        self.bytes = 0
        self.opened = None
        self.error = None
        self.t_start = 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(
            f"GET /stations/{STATION}/stream.mp3 HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.bench.port}\r\n\r\n".encode()
        )

    def connection_lost(self, exc) -> None:
        self.state = CLOSED
        settle(self.opened, exc or ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        if self.state == HANDSHAKE:
            data = self.buf + data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            if not data.startswith(b"HTTP/1.1 200"):
                self.error = data[: data.find(b"\r\n")].decode(errors="replace")
                self.state = CLOSED
                self.transport.abort()
                settle(self.opened, ConnectionError(self.error))
                return
            self.state = OPEN
            settle(self.opened, None)
            data = data[end + 4 :]
        self.bytes += len(data)


def streams_report(
    streams: list[StreamListener], got: list[int], seconds: float, bitrate: int
) -> dict:
    """How many ``stream.mp3`` listeners got a window's audio in real time."""
    expected = bitrate * 1000 / 8 * seconds
    return {
        "listeners": len(streams),
        "open": sum(stream.is_open for stream in streams),
        "real_time": sum(count >= HEALTHY_SHARE * expected for count in got),
        "kbit_per_s_p50": _round(
            (percentile(got, 0.5) or 0) * 8 / 1000 / seconds if got else None
        ),
    }


# --- the server's process ---------------------------------------------------


def proc_cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def proc_status(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                values[key] = int(rest.split()[0])
    return values


def rss_kb(pid: int) -> int:
    return proc_status(pid)["VmRSS"]


def tcp_kernel_mem_kb() -> int:
    """Memory the kernel holds in TCP socket buffers, machine-wide."""
    with open("/proc/net/sockstat") as sockstat:
        for line in sockstat:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1]) * PAGE // 1024
    return 0


def server_send_queues(port: int) -> dict:
    """Bytes the kernel holds for the server's client sockets (``ss`` Send-Q)."""
    try:
        out = subprocess.run(
            ["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
            capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    queues = [int(line.split()[1]) for line in out.splitlines() if line.strip()]
    return {
        "sockets": len(queues),
        "send_q_total_kb": sum(queues) // 1024,
        "send_q_max_kb": max(queues, default=0) // 1024,
        "over_64kb": sum(1 for q in queues if q > 65536),
    }


def pin_all_threads(pid: int, cpus: set[int]) -> None:
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(tid), cpus)


def raise_nofile(pid: int = 0) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(NOFILE, soft)
    try:
        limits = (want, max(want, hard))
        if pid:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
        else:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
    except (ValueError, OSError):  # not privileged: up to the hard limit
        limits = (hard, hard)
        if pid:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
        else:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
    if pid:
        return resource.prlimit(pid, resource.RLIMIT_NOFILE)[0]
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def product_fingerprint() -> dict:
    """Which product code ran: other people change it between runs."""
    import hashlib

    digest = hashlib.sha256()
    newest = 0.0
    newest_file = ""
    files = sorted(
        path
        for folder in ("stations", "radio", "listeners")
        for path in (PROJECT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )
    for path in files:
        digest.update(str(path.relative_to(PROJECT)).encode())
        digest.update(path.read_bytes())
        mtime = path.stat().st_mtime
        if mtime > newest:
            newest, newest_file = mtime, str(path.relative_to(PROJECT))
    return {
        "sha256": digest.hexdigest()[:16],
        "files": len(files),
        "newest_change": datetime.fromtimestamp(newest, UTC).isoformat(
            timespec="seconds"
        ),
        "newest_file": newest_file,
    }


def result_path(output: Path | None, prefix: str) -> Path:
    """``output``, or ``bench/results/<prefix>-<UTC time>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return output or RESULTS / f"{prefix}-{stamp}.json"


def write_report(
    output: Path, args: argparse.Namespace, fingerprint: dict, result: dict
) -> None:
    """Write a run's ``result`` as JSON, with its date, command line, machine,
    product fingerprint and arguments."""
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "product": fingerprint,
        "args": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        },
        **result,
    }
    output.write_text(json.dumps(report, indent=1))


def machine() -> dict:
    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loop": "uvloop" if uvloop else "asyncio",
    }


# --- the DJ as a desktop encoder ----------------------------------------------


class IcecastSource:
    """A DJ on the Icecast source port: one PUT, then the MP3 bytes as they
    play, as BUTT or ffmpeg send them. Speaks as much of the WebSocket DJ's
    interface as the benchmark uses."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    @classmethod
    async def connect(
        cls, port: int, user: tuple[str, str], mount: str = f"/{STATION}"
    ) -> IcecastSource:
        """Go live on ``mount``: radio's station, or a mount of Icecast's own
        (which answers the same)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        writer.write(
            f"PUT {mount} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Basic {token}\r\nContent-Type: audio/mpeg\r\n"
            "ice-name: Bench\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        answer = await reader.readuntil(b"\r\n\r\n")
        if answer.startswith(b"HTTP/1.1 100"):
            answer = await reader.readuntil(b"\r\n\r\n")
        if not answer.startswith(b"HTTP/1.0 200"):
            raise RuntimeError(f"the source could not go live: {answer!r}")
        writer.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        return cls(writer)

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self._writer.close()

    def __aiter__(self) -> IcecastSource:
        return self

    async def __anext__(self) -> None:
        raise StopAsyncIteration


async def play_looped(
    source: IcecastSource, mp3: bytes, bitrate: int, chunk_ms: int = 100
) -> None:
    """``mp3`` at real-time pace in ``chunk_ms`` chunks, looped."""
    chunk = bitrate * chunk_ms // 8
    data = mp3[: len(mp3) // chunk * chunk]
    loop = asyncio.get_running_loop()
    started = loop.time()
    index = 0
    while True:
        offset = index * chunk % len(data)
        await source.send(data[offset : offset + chunk])
        index += 1
        await asyncio.sleep(max(0.0, started + index * chunk_ms / 1000 - loop.time()))


# --- the benchmark ------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, port: int, pid: int, mp3: bytes):
        self.args = args
        self.port = port
        self.pid = pid
        self.mp3 = mp3
        self.window: Window | None = None
        self.healthy: list[Listener] = []
        self.stalled: list[Listener] = []
        self.probes: list[Listener] = []
        self.churned: list[Listener] = []
        self.streams: list[StreamListener] = []
        self.inflight = asyncio.Semaphore(args.max_inflight)
        self.timeline: list[dict] = []
        self.t_begin = _perf()
        self.dj = None
        # Wall clock (ms) when the DJ handed chunk k to its socket, and the
        # offset from a chunk's index to the seq of the packet it completed
        # (each chunk holds several frame ends, so it makes exactly one).
        self.dj_sent_ms: list[float] = []
        self.seq_offset = 2**40
        self.reference: Listener | None = None
        self.dj_messages = 0
        self.dj_chunks = 0
        self.dj_late_ms = 0.0

    # connections

    async def open(self, listener: Listener, rcvbuf: int | None = None) -> None:
        loop = asyncio.get_running_loop()
        listener.opened = loop.create_future()
        listener.t_start = _perf()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            await asyncio.wait_for(
                loop.sock_connect(sock, ("127.0.0.1", self.port)),
                self.args.connect_timeout,
            )
            await loop.create_connection(lambda: listener, sock=sock)
            await asyncio.wait_for(listener.opened, self.args.connect_timeout)
        except Exception as problem:
            listener.error = listener.error or f"{type(problem).__name__}: {problem}"
            listener.state = CLOSED
            if listener.transport is not None:
                listener.transport.abort()
            else:
                sock.close()

    async def ramp(self, listeners: list[Listener], rcvbuf: int | None = None):
        """Open ``listeners`` at --rate per second, in batches every 50 ms."""
        loop = asyncio.get_running_loop()
        rate = self.args.rate
        batch = max(1, rate // 20)
        tasks = []
        due = loop.time()
        for first in range(0, len(listeners), batch):
            for listener in listeners[first : first + batch]:
                await self.inflight.acquire()
                task = loop.create_task(self.open(listener, rcvbuf))
                task.add_done_callback(lambda _: self.inflight.release())
                tasks.append(task)
            due += batch / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
        await asyncio.gather(*tasks)

    async def wait_first_audio(self, listeners: list[Listener], timeout: float):
        deadline = _perf() + timeout
        while _perf() < deadline:
            if all(not x.need_audio or not x.is_open for x in listeners):
                return
            await asyncio.sleep(0.1)

    # probes: listeners that join during the window, get 2 s of audio, leave

    def probe_done(self, listener: Listener) -> None:
        listener.close()

    async def run_probes(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.args.probe_rate
        due = loop.time()
        tasks = []
        while _perf() < until:
            listener = Listener(self, "probe")
            self.probes.append(listener)
            tasks.append(loop.create_task(self.open(listener)))
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))
        await asyncio.gather(*tasks)

    # churn: listeners that join and leave at --churn per second

    async def churn(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        batch = max(1, self.args.churn // 10)
        due = loop.time()
        staying: list[Listener] = []
        tasks = []
        while _perf() < until:
            while staying and _perf() - staying[0].t_start >= CHURN_STAY_S:
                staying.pop(0).close()
            for _ in range(batch):
                listener = Listener(self, "churn")
                self.churned.append(listener)
                staying.append(listener)
                tasks.append(loop.create_task(self.open(listener)))
            due += batch / self.args.churn
            await asyncio.sleep(max(0.0, due - loop.time()))
        await asyncio.gather(*tasks)
        for listener in staying:
            listener.close()

    # the DJ

    async def start_dj(self) -> None:
        if self.args.source == "icecast":
            self.dj = await IcecastSource.connect(self.args.source_port, DJ)
        else:
            self.dj = await self._websocket_dj()
        loop = asyncio.get_running_loop()
        self.dj_sender = loop.create_task(self._dj_send())
        self.dj_reader = loop.create_task(self._dj_read())

    async def change_titles(self, widgets: SseWidgets, seconds: float) -> None:
        """A new title from the DJ every ``--title-every`` seconds, noted
        with the widgets when it is sent."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        number = 0
        while loop.time() < until:
            number += 1
            title = f"Bench title {number}"
            widgets.title_set(title)
            await self.dj.send(
                json.dumps({"type": "now_playing", "title": title, "artist": "bench"})
            )
            await asyncio.sleep(self.args.title_every)

    async def _websocket_dj(self):
        http_url = f"http://127.0.0.1:{self.port}"
        cookie = await asyncio.to_thread(sign_in, http_url, *DJ)
        dj = await ws_connect(
            f"ws://127.0.0.1:{self.port}/ws/stations/{STATION}/broadcast/",
            cookie=cookie,
        )
        await dj.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
        while (reply := json.loads(await dj.recv()))["type"] != "live":
            if reply["type"] == "error":
                raise RuntimeError(f"the DJ could not go live: {reply}")
        await dj.send(
            json.dumps(
                {"type": "now_playing", "title": "Bench tone", "artist": "bench"}
            )
        )
        return dj

    async def _dj_send(self) -> None:
        """The MP3 at real-time pace in 100 ms chunks, looped."""
        chunk = self.args.bitrate * 1000 // 8 * self.args.chunk_ms // 1000
        loop = asyncio.get_running_loop()
        started = loop.time()
        index = 0
        # Whole chunks only, so that every chunk of every loop is full.
        data = self.mp3[: len(self.mp3) // chunk * chunk]
        while True:
            offset = (index * chunk) % len(data)
            piece = data[offset : offset + chunk]
            self.dj_sent_ms.append(_time() * 1000.0)
            await self.dj.send(piece)
            self.dj_chunks += 1
            index += 1
            delay = started + index * self.args.chunk_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.dj_late_ms = max(self.dj_late_ms, -delay * 1000)

    async def _dj_read(self) -> None:
        with contextlib.suppress(Exception):
            async for _ in self.dj:
                self.dj_messages += 1

    async def stop_dj(self) -> None:
        self.dj_sender.cancel()
        with contextlib.suppress(BaseException):
            await self.dj_sender
        with contextlib.suppress(Exception):
            if self.args.source != "icecast":
                await self.dj.send(json.dumps({"type": "stop"}))
            await asyncio.wait_for(self.dj.close(), 3)
        self.dj_reader.cancel()

    def calibrate(self) -> dict:
        """Find which seq each DJ chunk became, from the idle reference.

        At idle the server ingests a chunk within a few ms of its sending, so
        a packet belongs to the last chunk sent before its ``ingest_ms``.
        """
        import bisect
        from collections import Counter

        votes: Counter[int] = Counter()
        slack = []
        for seq, ingest_ms, _, _ in self.reference.records:
            chunk = bisect.bisect_right(self.dj_sent_ms, ingest_ms) - 1
            if chunk >= 0:
                votes[seq - chunk] += 1
        if not votes:
            raise RuntimeError("no audio reached the reference listener")
        offset, agree = votes.most_common(1)[0]
        for seq, ingest_ms, _, _ in self.reference.records:
            chunk = seq - offset
            if 0 <= chunk < len(self.dj_sent_ms):
                slack.append(ingest_ms - self.dj_sent_ms[chunk])
        self.seq_offset = offset
        return {
            "seq_offset": offset,
            "agreeing": agree,
            "packets": sum(votes.values()),
            "ingest_minus_sent_ms_max": round(max(slack), 1),
        }

    def behind_s(self) -> float:
        """How far the station's output is behind the DJ right now."""
        records = self.reference.records
        if not records:
            return float("inf")
        processed = records[-1][0] - self.seq_offset + 1
        return (len(self.dj_sent_ms) - processed) * self.args.chunk_ms / 1000

    async def wait_caught_up(self, timeout: float) -> float | None:
        """Wait until the output is back in step with the DJ after the ramp.

        Opening connections costs the server too; when it falls behind the
        DJ during the ramp it needs a while to catch up, and a window
        measured before then would show the ramp, not the steady state.
        """
        started = _perf()
        while _perf() - started < timeout:
            if self.behind_s() <= 0.3:
                return round(_perf() - started, 1)
            await asyncio.sleep(0.5)
        return None

    def input_lag(self, window: Window) -> dict:
        """DJ sent a chunk -> the server ingested it, for the window."""
        lags = []
        last_seq = None
        for seq, ingest_ms, _, _ in self.reference.records:
            if window.t0_ms <= ingest_ms < window.t1_ms:
                chunk = seq - self.seq_offset
                if 0 <= chunk < len(self.dj_sent_ms):
                    lags.append(ingest_ms - self.dj_sent_ms[chunk])
                last_seq = seq
        # How far the station's output is behind the DJ at the window's end.
        sent = sum(1 for t in self.dj_sent_ms if t < window.t1_ms)
        processed = (last_seq - self.seq_offset + 1) if last_seq is not None else 0
        return {
            "p50": _round(percentile(lags, 0.5)),
            "p99": _round(percentile(lags, 0.99)),
            "max": _round(max(lags, default=None)),
            "behind_at_end_s": round((sent - processed) * self.args.chunk_ms / 1000, 2),
        }

    # sampling

    def sample(self, phase: str) -> dict:
        status = proc_status(self.pid)
        point = {
            "t_s": round(_perf() - self.t_begin, 2),
            "phase": phase,
            "rss_kb": status["VmRSS"],
            "threads": status["Threads"],
            "cpu_ticks": proc_cpu_ticks(self.pid),
            "tcp_kernel_kb": tcp_kernel_mem_kb(),
            "healthy_open": sum(x.is_open for x in self.healthy),
            "stalled_open": sum(x.is_open for x in self.stalled),
        }
        self.timeline.append(point)
        return point

    async def sampler(self) -> None:
        self.phase = "start"
        while True:
            self.sample(self.phase)
            await asyncio.sleep(1.0)

    async def lag_monitor(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.02)
            lag = (loop.time() - before - 0.02) * 1000
            if self.window is not None:
                self.window.lags.append(lag)

    # one measuring window

    async def measure(self, seconds: float, *, probes: bool, stalled_watch=False):
        window = Window(t0_ms=int(_time() * 1000))
        for listener in self.healthy:
            listener.wcount = 0
            listener.wbytes = 0
        self.window = window
        cpu0, wall0 = proc_cpu_ticks(self.pid), _perf()
        gen0 = resource.getrusage(resource.RUSAGE_SELF)
        dj0 = self.dj_chunks
        rss_samples = []
        stalled_states = []
        until = _perf() + seconds
        probe_task = None
        if probes and self.args.probe_rate > 0:
            probe_task = asyncio.get_running_loop().create_task(self.run_probes(until))
        churn_task = None
        if probes and self.args.churn > 0:
            churn_task = asyncio.get_running_loop().create_task(self.churn(until))
        while _perf() < until:
            await asyncio.sleep(min(1.0, max(0.0, until - _perf())))
            rss_samples.append(rss_kb(self.pid))
            if stalled_watch:
                states: dict[str, int] = {}
                for listener in self.stalled:
                    state = listener.tcp_state()
                    states[state] = states.get(state, 0) + 1
                stalled_states.append(
                    {
                        "t_s": round(seconds - (until - _perf()), 1),
                        **states,
                        "server_kernel": server_send_queues(self.port),
                    }
                )
        window.t1_ms = int(_time() * 1000)
        cpu1, wall1 = proc_cpu_ticks(self.pid), _perf()
        gen1 = resource.getrusage(resource.RUSAGE_SELF)
        dj_chunks = self.dj_chunks - dj0
        # Let what was published in the window arrive before counting.
        await asyncio.sleep(self.args.grace)
        if probe_task is not None:
            await asyncio.wait_for(probe_task, self.args.connect_timeout + 5)
        if churn_task is not None:
            await asyncio.wait_for(churn_task, self.args.connect_timeout + 5)
        self.window = None
        return self.window_report(
            window,
            wall=wall1 - wall0,
            server_cpu_s=(cpu1 - cpu0) / CLK_TCK,
            gen_cpu_s=(gen1.ru_utime + gen1.ru_stime) - (gen0.ru_utime + gen0.ru_stime),
            rss_samples=rss_samples,
            stalled_states=stalled_states,
            dj_chunks=dj_chunks,
        )

    def window_report(self, window: Window, **measured) -> dict:
        published = window.published
        open_healthy = [x for x in self.healthy if x.is_open]
        needed = HEALTHY_SHARE * published
        healthy = sum(1 for x in open_healthy if published and x.wcount >= needed)
        # ... and got (nearly) as much audio as the window lasted: a station
        # that falls behind the DJ starves everyone, whatever the seqs say.
        audio_needed = HEALTHY_SHARE * measured["wall"] * self.args.bitrate * 1000 / 8
        realtime_healthy = sum(
            1
            for x in open_healthy
            if published and x.wcount >= needed and x.wbytes >= audio_needed
        )
        counts = sorted(x.wcount for x in open_healthy)
        slow = sorted(window.slow.items(), key=lambda kv: -kv[1][0])
        report = {
            "t0_ms": window.t0_ms,
            "t1_ms": window.t1_ms,
            "seconds": round(measured["wall"], 2),
            "listeners": len(self.healthy),
            "connected": len(open_healthy),
            "published_messages": published,
            "published_audio_s": round(
                window.audio_bytes * 8 / (self.args.bitrate * 1000), 2
            ),
            "dj_chunks_sent": measured["dj_chunks"],
            "healthy": healthy,
            "healthy_fraction": round(healthy / len(self.healthy), 4)
            if self.healthy
            else None,
            "realtime_healthy": realtime_healthy,
            "realtime_healthy_fraction": round(realtime_healthy / len(self.healthy), 4)
            if self.healthy
            else None,
            "received_min": counts[0] if counts else None,
            "received_median": counts[len(counts) // 2] if counts else None,
            "latency_ms": {
                "messages": sum(window.hist),
                "p50": hist_percentile(window.hist, 0.50),
                "p90": hist_percentile(window.hist, 0.90),
                "p99": hist_percentile(window.hist, 0.99),
                "p999": hist_percentile(window.hist, 0.999),
                "max": window.max_ms,
            },
            "end_to_end_ms": {
                "p50": hist_percentile(window.e2e_hist, 0.50),
                "p99": hist_percentile(window.e2e_hist, 0.99),
                "max": window.e2e_max_ms,
            },
            "server_input_lag_ms": self.input_lag(window),
            "realtime_ratio": round(
                window.audio_bytes * 8 / (self.args.bitrate * 1000) / measured["wall"],
                3,
            ),
            "server_cpu_percent": round(
                100 * measured["server_cpu_s"] / measured["wall"], 1
            ),
            "server_rss_kb": measured["rss_samples"][-1]
            if measured["rss_samples"]
            else None,
            "server_rss_kb_max": max(measured["rss_samples"], default=None),
            "generator_cpu_percent": round(
                100 * measured["gen_cpu_s"] / measured["wall"], 1
            ),
            "generator_lag_ms": {
                "p50": percentile(window.lags, 0.5),
                "p99": percentile(window.lags, 0.99),
                "max": max(window.lags, default=None),
            },
        }
        report["slow_packets"] = {
            "over_ms": SLOW_MS,
            "count": len(slow),
            "worst": [
                {
                    "seq": seq,
                    "latency_ms": lat,
                    "at_s": round((ing - window.t0_ms) / 1000, 2),
                }
                for seq, (lat, ing) in slow[:15]
            ],
        }
        if measured["stalled_states"]:
            report["stalled_tcp_states"] = measured["stalled_states"]
        return report


def join_times(listeners: list[Listener]) -> dict:
    times = [x.time_to_audio_ms for x in listeners if x.time_to_audio_ms is not None]
    opens = [(x.t_open - x.t_start) * 1000 for x in listeners if x.t_open is not None]
    errors: dict[str, int] = {}
    for listener in listeners:
        if listener.error:
            errors[listener.error] = errors.get(listener.error, 0) + 1
    return {
        "attempted": len(listeners),
        "got_2s_audio": len(times),
        "time_to_2s_audio_ms": {
            "p50": _round(percentile(times, 0.5)),
            "p99": _round(percentile(times, 0.99)),
            "max": _round(max(times, default=None)),
        },
        "handshake_ms": {
            "p50": _round(percentile(opens, 0.5)),
            "p99": _round(percentile(opens, 0.99)),
        },
        "errors": errors,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def run(
    args: argparse.Namespace, port: int, pid: int, mp3: bytes, holder: dict
) -> dict:
    bench = Bench(args, port, pid, mp3)
    loop = asyncio.get_running_loop()
    sampler = loop.create_task(bench.sampler())
    lag = loop.create_task(bench.lag_monitor())
    result: dict = {}
    try:
        bench.phase = "idle"
        await bench.start_dj()
        bench.reference = Listener(bench, "reference")
        await bench.open(bench.reference)
        if not bench.reference.is_open:
            raise RuntimeError(f"reference listener: {bench.reference.error}")
        # Let the burst fill and the process settle before the idle figure.
        await asyncio.sleep(args.idle_seconds)
        result["calibration"] = bench.calibrate()
        idle = bench.sample("idle")
        result["idle"] = {"rss_kb": idle["rss_kb"], "threads": idle["threads"]}
        census = None
        if args.memory_census:
            server_log = args.output_path.with_suffix(".server.log")
            census = Census(pid, tracemalloc_dump(server_log))
            baseline = await asyncio.to_thread(census.snapshot)
        log(f"on air; idle server RSS {idle['rss_kb'] / 1024:.1f} MiB")

        bench.phase = "ramp"
        bench.healthy = [Listener(bench, "healthy") for _ in range(args.listeners)]
        t0 = _perf()
        await bench.ramp(bench.healthy)
        bench.streams = [StreamListener(bench) for _ in range(args.stream_listeners)]
        await bench.ramp(bench.streams)
        await bench.wait_first_audio(bench.healthy, args.connect_timeout)
        ramp_s = _perf() - t0
        result["ramp"] = {"seconds": round(ramp_s, 1), **join_times(bench.healthy)}
        behind = bench.behind_s()
        caught_up = await bench.wait_caught_up(args.catchup_timeout)
        result["ramp"]["behind_dj_after_ramp_s"] = round(behind, 1)
        result["ramp"]["caught_up_after_s"] = caught_up
        log(
            f"{sum(x.is_open for x in bench.healthy)}/{args.listeners} listeners "
            f"connected in {ramp_s:.1f} s; output {behind:.1f} s behind the DJ, "
            + (
                f"caught up in {caught_up} s"
                if caught_up is not None
                else f"NOT caught up after {args.catchup_timeout} s"
            )
            + f"; warming up {args.warmup} s"
        )
        bench.phase = "warmup"
        widgets = None
        if args.sse:
            widgets = SseWidgets(port, f"/api/live/nowplaying/{STATION}", args.sse)
            await widgets.open()
            log(f"{widgets.connected}/{args.sse} now-playing widgets (SSE) connected")
        await asyncio.sleep(args.warmup)

        bench.phase = "steady"
        log(f"measuring {args.duration} s")
        if args.profile:
            holder["profiler"] = start_profiler(args, pid, args.output_path)
        api_load = (
            ApiLoad(
                port,
                f"/api/nowplaying/{STATION}",
                rate=args.api_rate,
                connections=args.api_connections,
            )
            if args.api_rate
            else None
        )
        extra = [
            loop.create_task(job)
            for job in (
                api_load.run(args.duration) if api_load else None,
                bench.change_titles(widgets, args.duration) if widgets else None,
            )
            if job is not None
        ]
        streamed = [stream.bytes for stream in bench.streams]
        started = _perf()
        steady = await bench.measure(args.duration, probes=True)
        if bench.streams:
            steady["streams"] = streams_report(
                bench.streams,
                [s.bytes - b for s, b in zip(bench.streams, streamed, strict=True)],
                _perf() - started,
                args.bitrate,
            )
            log(f"stream.mp3: {json.dumps(steady['streams'])}")
        await asyncio.gather(*extra)
        if api_load:
            steady["api"] = api_load.report()
            log(f"API: {json.dumps(steady['api'])}")
        if widgets:
            steady["sse"] = widgets.report()
            log(f"SSE: {json.dumps(steady['sse'])}")
            await widgets.close()
        steady["rss_per_listener_kb"] = (
            round((steady["server_rss_kb"] - idle["rss_kb"]) / args.listeners, 1)
            if args.listeners
            else None
        )
        steady["probe_joins"] = join_times(bench.probes)
        if args.churn:
            steady["churn_joins"] = join_times(bench.churned)
        result["steady"] = steady
        print_window("steady", steady)
        if census is not None:
            after = await asyncio.to_thread(census.snapshot)
            result["memory_census"] = per_listener(baseline, after, args.listeners)
            log(f"memory census: {json.dumps(result['memory_census'], indent=1)}")

        if args.stalled:
            bench.phase = "stalling"
            before = bench.sample("before-stalled")
            bench.stalled = [Listener(bench, "stalled") for _ in range(args.stalled)]
            log(f"connecting {args.stalled} stalled listeners")
            await bench.ramp(bench.stalled, rcvbuf=args.stalled_rcvbuf)
            await bench.wait_first_audio(bench.stalled, args.connect_timeout)
            bench.phase = "stalled"
            log(f"measuring {args.stall_duration} s with stalled listeners")
            stalled = await bench.measure(
                args.stall_duration, probes=False, stalled_watch=True
            )
            peak = max(
                p["rss_kb"]
                for p in bench.timeline
                if p["phase"] in ("stalling", "stalled")
            )
            peak_kernel = max(
                p["tcp_kernel_kb"]
                for p in bench.timeline
                if p["phase"] in ("stalling", "stalled")
            )
            stalled["stalled"] = {
                "count": args.stalled,
                "rcvbuf": args.stalled_rcvbuf,
                "connected_ok": sum(1 for x in bench.stalled if x.t_open is not None),
                "rss_before_kb": before["rss_kb"],
                "rss_peak_kb": peak,
                "rss_growth_per_stalled_kb": round(
                    (peak - before["rss_kb"]) / args.stalled, 1
                ),
                "rss_end_kb": stalled["server_rss_kb"],
                "tcp_kernel_kb_before": before["tcp_kernel_kb"],
                "tcp_kernel_kb_peak": peak_kernel,
                "tcp_kernel_growth_per_stalled_kb": round(
                    (peak_kernel - before["tcp_kernel_kb"]) / args.stalled, 1
                ),
                "tcp_states_end": stalled.get("stalled_tcp_states", [{}])[-1],
            }
            result["with_stalled"] = stalled
            stalled["verdict"] = stall_verdict(bench.timeline, steady, stalled)
            print_window("with stalled", stalled)
            print_stall_verdict(stalled["verdict"])
    finally:
        bench.phase = "teardown"
        result["final_gaps"] = {
            "healthy_with_gaps": sum(1 for x in bench.healthy if x.gaps),
            "close_codes": _close_codes(bench.healthy + bench.stalled),
        }
        for listener in bench.healthy + bench.stalled + bench.probes + bench.streams:
            listener.abort()
        if bench.reference is not None:
            bench.reference.abort()
        if bench.dj is not None:
            await bench.stop_dj()
            result["dj"] = {
                "chunks": bench.dj_chunks,
                "max_late_ms": round(bench.dj_late_ms, 1),
                "messages_received": bench.dj_messages,
            }
        sampler.cancel()
        lag.cancel()
    result["timeline"] = bench.timeline
    return result


def stall_verdict(timeline: list[dict], steady: dict, stalled: dict) -> dict:
    """Whether the server's memory levelled off while the stalled listeners
    stayed, and the healthy listeners did as well as in the steady window."""
    rss = [p["rss_kb"] for p in timeline if p["phase"] == "stalled"]
    half = max(1, len(rss) // 2)
    first_peak, second_peak = max(rss[:half]), max(rss[half:] or rss[-1:])
    p99 = stalled["latency_ms"]["p99"]
    return {
        "rss_kb_over_window": rss[:: max(1, len(rss) // 10)] + rss[-1:],
        "rss_first_half_peak_kb": first_peak,
        "rss_second_half_peak_kb": second_peak,
        "memory_bounded": second_peak <= first_peak * (1 + STALL_RSS_SLACK),
        "healthy_steady": steady["realtime_healthy"],
        "healthy_with_stalled": stalled["realtime_healthy"],
        "relay_p99_steady_ms": steady["latency_ms"]["p99"],
        "relay_p99_with_stalled_ms": p99,
        "others_unaffected": p99 is not None
        and p99 < RELAY_P99_TARGET_MS
        and stalled["realtime_healthy"] >= HEALTHY_SHARE * steady["realtime_healthy"],
    }


def print_stall_verdict(v: dict) -> None:
    over = " ".join(f"{kb / 1024:.1f}" for kb in v["rss_kb_over_window"])
    print(
        f"memory bounded        {'yes' if v['memory_bounded'] else 'NO'}: RSS MiB "
        f"over the window {over}; second half's peak "
        f"{v['rss_second_half_peak_kb'] / 1024:.1f} vs first half's "
        f"{v['rss_first_half_peak_kb'] / 1024:.1f} (+{100 * STALL_RSS_SLACK:.0f} % "
        f"allowed)\n"
        f"others unaffected     {'yes' if v['others_unaffected'] else 'NO'}: "
        f"{v['healthy_with_stalled']} healthy in real time (steady window "
        f"{v['healthy_steady']}), relay p99 {v['relay_p99_with_stalled_ms']} ms "
        f"(steady window {v['relay_p99_steady_ms']} ms; target < "
        f"{RELAY_P99_TARGET_MS} ms)",
        flush=True,
    )


def _close_codes(listeners: list[Listener]) -> dict:
    codes: dict[str, int] = {}
    for listener in listeners:
        if listener.close_code is not None:
            key = str(listener.close_code)
            codes[key] = codes.get(key, 0) + 1
    return codes


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def print_window(name: str, w: dict) -> None:
    lat = w["latency_ms"]
    lines = [
        f"--- {name} window ({w['seconds']} s) ---",
        f"listeners connected   {w['connected']} / {w['listeners']}",
        f"healthy (>=99% msgs)  {w['healthy']} "
        f"({100 * (w['healthy_fraction'] or 0):.1f} %)"
        f"  of {w['published_messages']} messages published "
        f"({w['published_audio_s']} s of audio)",
        f"healthy in real time  {w['realtime_healthy']} "
        f"({100 * (w['realtime_healthy_fraction'] or 0):.1f} %): also got >= 99 % of "
        f"{w['seconds']} s of audio",
        f"relay latency ms      p50 {lat['p50']}  p99 {lat['p99']}  max {lat['max']}"
        "  (ingest_ms -> receipt)",
        f"end-to-end ms         p50 {w['end_to_end_ms']['p50']}  p99 "
        f"{w['end_to_end_ms']['p99']}  max {w['end_to_end_ms']['max']}"
        "  (DJ send -> receipt)",
        f"station output        {w['realtime_ratio']} x real time; server input lag "
        f"p99 {w['server_input_lag_ms']['p99']} ms, "
        f"{w['server_input_lag_ms']['behind_at_end_s']} s behind the DJ at the end",
        f"server CPU            {w['server_cpu_percent']} %",
        f"server RSS            {w['server_rss_kb'] / 1024:.1f} MiB",
        f"generator CPU / lag   {w['generator_cpu_percent']} %  "
        f"p99 {round(w['generator_lag_ms']['p99'] or 0, 1)} ms",
    ]
    lag = w["generator_lag_ms"]["p99"] or 0
    if lag > 20 or w["generator_cpu_percent"] > 80:
        lines.append(
            "WARNING: the load generator was busy (lag p99 > 20 ms or CPU > 80 %): "
            "listeners read late, which changes how the server writes"
        )
    if "rss_per_listener_kb" in w:
        lines.append(f"RSS per listener      {w['rss_per_listener_kb']} KiB")
    if "probe_joins" in w:
        probe = w["probe_joins"]["time_to_2s_audio_ms"]
        lines.append(
            f"join -> 2 s audio     p50 {probe['p50']}  p99 {probe['p99']}  "
            f"max {probe['max']} ms ({w['probe_joins']['got_2s_audio']}/"
            f"{w['probe_joins']['attempted']} probes)"
        )
    if "stalled" in w:
        s = w["stalled"]
        lines.append(
            f"stalled               {s['count']}: "
            f"RSS +{s['rss_growth_per_stalled_kb']} KiB"
            f" each (peak {s['rss_peak_kb'] / 1024:.1f} MiB), kernel TCP +"
            f"{s['tcp_kernel_growth_per_stalled_kb']} KiB each; end states "
            f"{s['tcp_states_end']}"
        )
    print("\n".join(lines), flush=True)


# --- setting the server up ----------------------------------------------------


def bench_deployment(workdir: Path, redis_url: str | None) -> Deployment:
    """An installation in ``workdir`` for a bench whose clients all come
    from 127.0.0.1 (no per-address cap), on ``redis_url`` emptied first."""
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    return Deployment.create(
        database_url=f"sqlite:///{workdir / 'radio.sqlite3'}",
        redis_url=redis_url,
        MEDIA_ROOT=str(workdir / "media"),
        RADIO_MAX_CONNECTIONS_PER_IP="0",
    )


def start_server(args, workdir: Path, server_log: Path):
    deployment = bench_deployment(workdir, args.redis)
    deployment.env.update(
        RADIO_STATS_ENABLED="1" if args.stats else "0", **server_settings(args)
    )
    deployment.create_user(*DJ)
    deployment.manage(
        "createstation", STATION, "--name", "Bench", "--dj", DJ[0],
        "--bitrate", str(args.bitrate),
    )  # fmt: skip
    if not args.record:
        deployment.shell(
            "from stations.models import Station; "
            f"Station.objects.filter(slug={STATION!r}).update(record_broadcasts=False)"
        )
    instrument(deployment, args, server_log)
    worker = start_logged_worker(deployment, args, server_log)
    nofile = resource.prlimit(worker.process.pid, resource.RLIMIT_NOFILE)[0]
    return deployment, worker, nofile


def server_settings(args) -> dict[str, str]:
    """The server's settings that the options override."""
    settings = {
        "RADIO_LISTENER_MAX_STALL_SECONDS": args.max_stall,
        "RADIO_BATCH_FROM_LISTENERS": args.batch_from,
        "RADIO_BATCH_MS": args.batch_ms,
        "RADIO_AUDIO_WRITES_PER_SECOND": args.writes_per_second,
    }
    return {name: str(value) for name, value in settings.items() if value is not None}


def tracemalloc_dump(server_log: Path) -> Path:
    """Where ``--memory-census`` has the server dump its snapshots."""
    return server_log.with_suffix(".tracemalloc")


def instrument(deployment: Deployment, args, server_log: Path) -> None:
    """Put bench/server_hooks in the worker for ``--gc-log``,
    ``--gc-threshold``, ``--server-uvloop``, and ``BENCH_TRACEMALLOC`` or
    ``BENCH_GARBAGE`` in this process's environment."""
    hooks = {
        "BENCH_GC_LOG": str(server_log.with_suffix(".gc.log")) if args.gc_log else None,
        "BENCH_GC_THRESHOLD": getattr(args, "gc_threshold", None),
        "BENCH_UVLOOP": "1" if getattr(args, "server_uvloop", False) else None,
        "BENCH_TRACEMALLOC": (
            str(tracemalloc_dump(server_log))
            if getattr(args, "memory_census", False)
            else os.environ.get("BENCH_TRACEMALLOC")
        ),
        "BENCH_GARBAGE": os.environ.get("BENCH_GARBAGE"),
    }
    hooks = {name: value for name, value in hooks.items() if value}
    if not hooks:
        return
    probe = str(PROJECT / "bench" / "server_hooks")
    deployment.env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [probe, deployment.env.get("PYTHONPATH")])
    )
    deployment.env.update(hooks)


def start_logged_worker(deployment: Deployment, args, server_log: Path) -> Worker:
    """One daphne worker on ``args.server_cpu``, serving as ``bin/run`` does,
    its console (daphne's access log, tracebacks) appended to ``server_log``.

    The child inherits this process's CPU set, open-files limit and
    stdout/stderr; the generator goes back to ``args.client_cpu``.
    """
    os.sched_setaffinity(0, {args.server_cpu})
    saved = os.dup(1), os.dup(2)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(server_log, "ab") as log_file:
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)
    try:
        worker = deployment.start_worker("--websocket_timeout", "-1")
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        os.sched_setaffinity(0, {args.client_cpu})
    pin_all_threads(worker.process.pid, {args.server_cpu})
    raise_nofile(worker.process.pid)
    return worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--listeners", type=int, default=100)
    parser.add_argument(
        "-d",
        "--duration",
        type=float,
        default=30.0,
        help="steady window, seconds (default 30)",
    )
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--bitrate", type=int, default=128, help="kbit/s of the MP3")
    parser.add_argument("--chunk-ms", type=int, default=100)
    parser.add_argument(
        "--source",
        choices=("websocket", "icecast"),
        default="websocket",
        help="how the DJ sends: the broadcast WebSocket or the Icecast source port",
    )
    parser.add_argument(
        "--api-rate",
        type=float,
        default=0,
        help="GET /api/nowplaying/<station> per second during the steady window",
    )
    parser.add_argument("--api-connections", type=int, default=16)
    parser.add_argument(
        "--sse",
        type=int,
        default=0,
        help="now-playing widgets on /api/live/nowplaying/<station> (websocket DJ)",
    )
    parser.add_argument(
        "--title-every",
        type=float,
        default=3.0,
        help="with --sse: seconds between the DJ's titles (within its rate limit)",
    )
    parser.add_argument(
        "--stalled",
        type=int,
        default=0,
        help="stalled listeners added after the steady window",
    )
    parser.add_argument("--stall-duration", type=float, default=60.0)
    parser.add_argument("--stalled-rcvbuf", type=int, default=4096)
    parser.add_argument(
        "--max-stall",
        type=float,
        default=None,
        help="server's RADIO_LISTENER_MAX_STALL_SECONDS (default: its own)",
    )
    parser.add_argument(
        "--stream-listeners",
        type=int,
        default=0,
        help="stream.mp3 listeners besides the WebSocket ones",
    )
    parser.add_argument(
        "--batch-from",
        type=int,
        default=None,
        help="server's RADIO_BATCH_FROM_LISTENERS (0: never batch; default: its own)",
    )
    parser.add_argument(
        "--batch-ms",
        type=float,
        default=None,
        help="server's RADIO_BATCH_MS (default: its own)",
    )
    parser.add_argument(
        "--writes-per-second",
        type=float,
        default=None,
        help="server's RADIO_AUDIO_WRITES_PER_SECOND (0: no bound; default: its own)",
    )
    parser.add_argument("--rate", type=int, default=200, help="new connections per s")
    parser.add_argument(
        "--max-inflight",
        type=int,
        default=40,
        help="handshakes in progress at once (daphne's backlog is 50)",
    )
    parser.add_argument(
        "--probe-rate",
        type=float,
        default=5.0,
        help="listeners joining per s during the window",
    )
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    parser.add_argument("--grace", type=float, default=3.0)
    parser.add_argument(
        "--catchup-timeout",
        type=float,
        default=60.0,
        help="after the ramp, wait up to this long for the output "
        "to catch up with the DJ",
    )
    parser.add_argument("--idle-seconds", type=float, default=4.0)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument(
        "--profile",
        choices=("flamegraph", "raw", "speedscope"),
        help="py-spy record the server during the steady window",
    )
    parser.add_argument(
        "--profile-native",
        action="store_true",
        help="include C frames (py-spy --native)",
    )
    parser.add_argument(
        "--gc-log",
        action="store_true",
        help="log the server's garbage collections (bench/server_hooks)",
    )
    parser.add_argument(
        "--memory-census",
        action="store_true",
        help="where the server's memory per listener goes (tracemalloc; slows it)",
    )
    parser.add_argument(
        "--gc-threshold", help="EXPERIMENT: gc.set_threshold(a,b,c) in the server"
    )
    parser.add_argument(
        "--server-uvloop",
        action="store_true",
        help="EXPERIMENT: run daphne's Twisted asyncio reactor on uvloop",
    )
    parser.add_argument(
        "--record",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="record the DJ's broadcast, as stations do by default (--no-record)",
    )
    parser.add_argument(
        "--churn",
        type=int,
        default=0,
        help="listeners joining (and leaving) per s during the window",
    )
    parser.add_argument(
        "--stats",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="record listening sessions, as the server does by default (--no-stats)",
    )
    parser.add_argument("--redis", help="REDIS_URL (default: in-memory layer)")
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--output", type=Path, help="JSON file (default bench/results/)"
    )
    args = parser.parse_args()  # fmt: skip

    nofile = raise_nofile()
    os.sched_setaffinity(0, {args.client_cpu})
    workdir = Path(tempfile.mkdtemp(prefix="radio-bench-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"listeners-{args.listeners}" + (
        f"-stalled-{args.stalled}" if args.stalled else ""
    )
    name += f"-churn-{args.churn}" if args.churn else ""
    name += f"-streams-{args.stream_listeners}" if args.stream_listeners else ""
    name += "" if args.stats else "-no-stats"
    name += f"-{args.label}" if args.label else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = args.output or RESULTS / f"{name}-{stamp}.json"
    deployment = None
    try:
        warm = args.idle_seconds + args.warmup + args.duration + args.grace
        ramp = (args.listeners + args.stalled + args.stream_listeners) / args.rate + 30
        seconds = int(warm + ramp + (args.stall_duration if args.stalled else 0) + 60)
        mp3_path = make_tone(
            workdir / "tone.mp3", seconds=min(seconds, 600), bitrate=f"{args.bitrate}k"
        )
        mp3 = mp3_path.read_bytes()
        fingerprint = product_fingerprint()
        log(
            f"product code {fingerprint['sha256']} (last change "
            f"{fingerprint['newest_change']} in {fingerprint['newest_file']})"
        )
        log(f"{len(mp3) // 1024} KiB of MP3 at {args.bitrate} kbit/s; starting daphne")
        server_log = output.with_suffix(".server.log")
        deployment, worker, server_nofile = start_server(args, workdir, server_log)
        log(
            f"daphne pid {worker.process.pid} on CPU {args.server_cpu} "
            f"(nofile {server_nofile}), generator on CPU {args.client_cpu} "
            f"(nofile {nofile}, {'uvloop' if uvloop else 'asyncio'})"
        )
        args.output_path = output
        args.source_port = worker.source_port
        holder: dict = {}
        coro = run(args, worker.port, worker.process.pid, mp3, holder)
        result = uvloop.run(coro) if uvloop is not None else asyncio.run(coro)
        recorded = sum(p.stat().st_size for p in workdir.glob("media/recordings/*/*"))
        log(f"recorded {recorded // 1024} KiB of the broadcast")
    finally:
        profiler = holder.get("profiler") if "holder" in locals() else None
        if profiler is not None:
            with contextlib.suppress(Exception):
                profiler.wait(timeout=30)
        if deployment is not None:
            deployment.stop()
            if args.churn and "result" in locals():
                result["sessions_recorded"] = sessions_recorded(deployment)
                log(f"{result['sessions_recorded']} listening sessions recorded")
        shutil.rmtree(workdir, ignore_errors=True)
    if args.gc_log:
        gc_log = server_log.with_suffix(".gc.log")
        for key in ("steady", "with_stalled"):
            if key in result and gc_log.exists():
                result[key]["server_gc"] = gc_stats(gc_log, result[key])
                print_gc(key, result[key]["server_gc"])
    write_report(output, args, fingerprint, result)
    log(
        "wrote "
        + str(output.relative_to(PROJECT) if output.is_relative_to(PROJECT) else output)
    )
    return 0


def sessions_recorded(deployment: Deployment) -> int:
    """Listening sessions the stopped server wrote (``--churn``)."""
    code = (
        "from stations.statistics.models import ListeningSession; "
        "print(ListeningSession.objects.count())"
    )
    # The last line: Django's shell may say what it imported first.
    return int(deployment.shell(code).split()[-1])


def gc_stats(path: Path, window: dict) -> dict:
    """The server's collections during ``window`` (from bench/server_hooks)."""
    t0, t1 = window["t0_ms"] / 1000, window["t1_ms"] / 1000
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    summaries = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts[0] == "summary":
            summaries.append((float(parts[1]), [float(x) for x in parts[2:]]))
            continue
        at, generation, ms = float(parts[0]), int(parts[1]), float(parts[2])
        if t0 <= at < t1:
            pauses[generation].append(ms)
    inside = [values for at, values in summaries if t0 <= at < t1 + 5]
    stats = {
        f"gen{g}_over_2ms_or_full": {
            "count": len(v),
            "max_ms": round(max(v, default=0), 1),
            "total_ms": round(sum(v), 1),
        }
        for g, v in pauses.items()
    }
    if len(inside) >= 2:
        first, last = inside[0], inside[-1]
        stats["all_collections"] = {
            "counts": [int(last[i] - first[i]) for i in range(3)],
            "ms": [round(last[3 + i] - first[3 + i], 1) for i in range(3)],
        }
    slow = window.get("slow_packets", {}).get("worst", [])
    full = [
        float(line.split()[0]) - t0
        for line in path.read_text().splitlines()
        if not line.startswith("summary")
        and line.split()[1] == "2"
        and t0 - 1 <= float(line.split()[0]) < t1 + 1
    ]
    stats["full_collections_at_s"] = [round(t, 2) for t in full]
    stats["worst_packets_at_s"] = [p["at_s"] for p in slow]
    return stats


def print_gc(name: str, stats: dict) -> None:
    full = stats["gen2_over_2ms_or_full"]
    print(
        f"server GC ({name})    {full['count']} full collections, max "
        f"{full['max_ms']} ms, total {full['total_ms']} ms; at "
        f"{stats['full_collections_at_s']} s; worst packets at "
        f"{stats['worst_packets_at_s'][:8]} s",
        flush=True,
    )


def start_profiler(args, pid: int, output: Path) -> subprocess.Popen:
    """py-spy the server for the steady window, from the generator's CPU."""
    py_spy = str(Path(sys.executable).parent / "py-spy")
    if not os.path.exists(py_spy):
        py_spy = shutil.which("py-spy") or "py-spy"
    suffix = {"flamegraph": ".svg", "raw": ".txt", "speedscope": ".json"}[args.profile]
    command = [
        "taskset", "-c", str(args.client_cpu),
        py_spy, "record", "--pid", str(pid), "--duration", str(int(args.duration)),
        "--rate", "100", *(["--native"] if args.profile_native else []),
        "--format", args.profile,
        "--output", str(output.with_suffix(suffix)),
    ]  # fmt: skip
    log(f"py-spy recording the server: {output.with_suffix(suffix).name}")
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


if __name__ == "__main__":
    sys.exit(main())
