#!/usr/bin/env python
"""Chat fan-out in a station room and inbox delivery on one daphne worker.

Starts a real radio installation (SQLite in a temporary directory, DEBUG=0,
one daphne worker pinned to one CPU; ``--redis URL`` for the channels_redis
layer), creates users in bulk (one ``manage.py shell`` call) and their
sessions (one more), then, from a load generator pinned to another CPU:

* **chat**: N anonymous listeners in the room of a station that is off air,
  and S signed-in senders who together send ``--chat-rate`` chat messages per
  second (each sender at most 1/s, inside the default rate limit). The text
  is ``bench <n> <sent_ms>``; fan-out latency is each listener's receipt
  minus the send time, over all (message, listener) pairs.
* **inbox**: U signed-in users, one ``/ws/inbox/`` connection each, send
  private messages to random other users at ``--inbox-rate`` per second in
  total (each user rarely). Delivery latency is the recipient's
  ``inbox.message`` receipt minus the send time; ack latency is the sender's
  ``inbox.sent`` minus the send time.

Both report p50/p99/max, the delivered fraction, errors, and the server's
CPU % and RSS over the window. The client is a minimal WebSocket client on
``asyncio.Protocol`` (uvloop if installed); helpers come from
``bench/audience.py``. All traffic stays on 127.0.0.1.

    .venv/bin/python bench/chat.py
    .venv/bin/python bench/chat.py --redis redis://127.0.0.1:6379/14
    .venv/bin/python bench/chat.py --part inbox --profile
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import audience  # noqa: E402 - bench/audience.py, beside this script

from tests.support.servers import Deployment  # noqa: E402

STATION = "chatbench"
PASSWORD = "bench-password-1"
_time = time.time
HANDSHAKE, OPEN, CLOSED = audience.HANDSHAKE, audience.OPEN, audience.CLOSED


# --- a minimal text WebSocket client -----------------------------------------


class Client(asyncio.Protocol):
    """One WebSocket connection: the upgrade, then text frames to ``on_text``."""

    def __init__(self, port: int, path: str, cookie: str | None, on_text) -> None:
        self.port = port
        self.path = path
        self.cookie = cookie
        self.on_text = on_text
        self.transport = None
        self.state = HANDSHAKE
        self.buf = b""
        self.opened: asyncio.Future | None = None
        self.error = None
        self.close_code = None
        self.pending: deque[float] = deque()  # inbox sends awaiting an answer

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(audience.upgrade_request(self.path, self.port, self.cookie))

    def connection_lost(self, exc) -> None:
        self.state = CLOSED
        audience.settle(self.opened, exc or ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        now_ms = _time() * 1000.0
        if self.buf:
            data = self.buf + data
            self.buf = b""
        pos = 0
        if self.state == HANDSHAKE:
            pos = audience.read_upgrade(self, data)
            if pos is None:
                return
        n = len(data)
        while (frame := audience.parse_frame(data, pos)) is not None:
            opcode, start, end = frame
            pos = end
            if opcode == 1:
                self.on_text(self, data[start:end], now_ms)
            elif opcode == 9:
                self.transport.write(audience.pong_frame(data[start:end]))
            elif opcode == 8:
                if end - start >= 2:
                    self.close_code = (data[start] << 8) | data[start + 1]
                self.state = CLOSED
                self.transport.write(b"\x88\x80\0\0\0\0")
                self.transport.close()
                return
        if pos < n:
            self.buf = data[pos:]

    def send_json(self, message: dict) -> None:
        """A masked text frame (mask key 0: the payload goes as is)."""
        payload = json.dumps(message).encode()
        length = len(payload)
        if length < 126:
            head = bytes((0x81, 0x80 | length))
        else:
            head = bytes((0x81, 0x80 | 126)) + length.to_bytes(2, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_client(client: Client, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    client.opened = loop.create_future()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", client.port)), 15)
        await loop.create_connection(lambda: client, sock=sock)
        await asyncio.wait_for(client.opened, timeout)
    except Exception as problem:
        client.error = client.error or f"{type(problem).__name__}: {problem}"
        client.state = CLOSED
        if client.transport is not None:
            client.transport.abort()
        else:
            sock.close()


async def ramp(clients: list[Client], rate: int = 200, inflight: int = 40) -> None:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(inflight)
    tasks = []
    due = loop.time()
    for client in clients:
        await gate.acquire()
        task = loop.create_task(open_client(client))
        task.add_done_callback(lambda _: gate.release())
        tasks.append(task)
        due += 1 / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
    await asyncio.gather(*tasks)


# --- measuring ------------------------------------------------------------------


def stats(values: list[float]) -> dict:
    return {
        "p50": _r(audience.percentile(values, 0.50)),
        "p99": _r(audience.percentile(values, 0.99)),
        "max": _r(max(values, default=None)),
        "count": len(values),
    }


def _r(value):
    return None if value is None else round(value, 1)


class ServerMeter:
    """The server's CPU % (utime+stime) and RSS over a window."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.ticks0 = audience.proc_cpu_ticks(self.pid)
        self.gen0 = sum(os.times()[:2])
        self.rss_max = 0

    def sample(self) -> None:
        self.rss_max = max(self.rss_max, audience.rss_kb(self.pid))

    def stop(self) -> dict:
        seconds = time.perf_counter() - self.t0
        ticks = audience.proc_cpu_ticks(self.pid) - self.ticks0
        rss = audience.rss_kb(self.pid)
        return {
            "seconds": round(seconds, 1),
            "server_cpu_percent": round(100 * ticks / audience.CLK_TCK / seconds, 1),
            "server_rss_mib": round(rss / 1024, 1),
            "server_rss_max_mib": round(max(rss, self.rss_max) / 1024, 1),
            "generator_cpu_percent": round(
                100 * (sum(os.times()[:2]) - self.gen0) / seconds, 1
            ),
        }


async def sampler(meter: ServerMeter) -> None:
    while True:
        meter.sample()
        await asyncio.sleep(1)


def start_profiler(args, pid: int, name: str) -> subprocess.Popen | None:
    if not args.profile:
        return None
    py_spy = str(Path(sys.executable).parent / "py-spy")
    output = args.results / f"{name}.txt"
    audience.log(f"py-spy recording the server: {output}")
    return subprocess.Popen(
        ["taskset", "-c", str(args.client_cpu), py_spy, "record", "--pid", str(pid),
         "--duration", str(int(args.duration)), "--rate", "100", "--format", "raw",
         "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


# --- chat fan-out -----------------------------------------------------------------


async def run_chat(args, port: int, pid: int, sessions: dict[str, str]) -> dict:
    loop = asyncio.get_running_loop()
    path = f"/ws/stations/{STATION}/"
    latencies: list[float] = []
    received: dict[int, int] = {}
    errors: dict[str, int] = {}
    sent_ms: dict[int, float] = {}
    echo: list[float] = []

    def on_listener(client: Client, payload: bytes, now_ms: float) -> None:
        if b'"chat"' not in payload[:20]:
            return
        text = json.loads(payload)["text"]
        if text.startswith("bench "):
            _, n, t_ms = text.split()
            n = int(n)
            latencies.append(now_ms - float(t_ms))
            received[n] = received.get(n, 0) + 1

    def on_sender(client: Client, payload: bytes, now_ms: float) -> None:
        message = json.loads(payload)
        if message["type"] == "error":
            errors[message["code"]] = errors.get(message["code"], 0) + 1
        elif message["type"] == "chat" and message["user"] == client.username:
            t_ms = message["text"].split()[2]
            echo.append(now_ms - float(t_ms))

    listeners = [Client(port, path, None, on_listener) for _ in range(args.listeners)]
    senders = []
    for name in [f"sender{i:03d}" for i in range(args.senders)]:
        client = Client(port, path, f"sessionid={sessions[name]}", on_sender)
        client.username = name
        senders.append(client)
    audience.log(
        f"chat: connecting {len(listeners)} listeners and {len(senders)} senders"
    )
    await ramp(listeners + senders, rate=args.connect_rate)
    connected = sum(1 for c in listeners if c.state == OPEN)
    audience.log(f"chat: {connected} listeners connected; settling 3 s")
    await asyncio.sleep(3)

    meter = ServerMeter(pid)
    meter.start()
    sampling = loop.create_task(sampler(meter))
    profiler = start_profiler(args, pid, f"chat-{args.label}")
    interval = 1 / args.chat_rate
    t_start = loop.time()
    n = 0
    while loop.time() - t_start < args.duration:
        sender = senders[n % len(senders)]
        sender.send_json({"type": "chat", "text": f"bench {n} {_time() * 1000:.1f}"})
        sent_ms[n] = _time() * 1000
        n += 1
        await asyncio.sleep(max(0.0, t_start + n * interval - loop.time()))
    window = meter.stop()
    await asyncio.sleep(args.grace)
    sampling.cancel()
    if profiler is not None:
        profiler.wait(timeout=60)
    still = sum(1 for c in listeners if c.state == OPEN)
    expected = n * connected
    result = {
        "listeners": args.listeners,
        "connected": connected,
        "open_at_end": still,
        "senders": len(senders),
        "messages_sent": n,
        "rate_per_s": args.chat_rate,
        "errors": errors,
        "stored_and_echoed": len(echo),
        "delivered_pairs": len(latencies),
        "expected_pairs": expected,
        "delivered_fraction": round(len(latencies) / expected, 4) if expected else None,
        "messages_missing_somewhere": sum(
            1 for i in range(n) if received.get(i, 0) < connected
        ),
        "fanout_ms": stats(latencies),
        "sender_echo_ms": stats(echo),
        **window,
    }
    for client in listeners + senders:
        client.abort()
    await asyncio.sleep(1)
    return result


# --- inbox delivery ----------------------------------------------------------------


async def run_inbox(args, port: int, pid: int, sessions: dict[str, str]) -> dict:
    loop = asyncio.get_running_loop()
    delivery: list[float] = []
    acks: list[float] = []
    errors: dict[str, int] = {}
    got: set[int] = set()
    unread = [0]

    def on_text(client: Client, payload: bytes, now_ms: float) -> None:
        message = json.loads(payload)
        kind = message["type"]
        if kind == "inbox.message":
            text = message["text"]
            if text.startswith("bench "):
                _, n, t_ms = text.split()
                if message["to"] != client.username:
                    errors["wrong_recipient"] = errors.get("wrong_recipient", 0) + 1
                got.add(int(n))
                delivery.append(now_ms - float(t_ms))
        elif kind == "inbox.sent":
            acks.append(now_ms - client.pending.popleft())
        elif kind == "error":
            errors[message["code"]] = errors.get(message["code"], 0) + 1
            if client.pending:
                client.pending.popleft()
        elif kind == "inbox.unread":
            unread[0] += len(message["messages"])

    names = [f"user{i:04d}" for i in range(args.inbox_users)]
    clients = []
    for name in names:
        client = Client(port, "/ws/inbox/", f"sessionid={sessions[name]}", on_text)
        client.username = name
        clients.append(client)
    audience.log(f"inbox: connecting {len(clients)} users")
    await ramp(clients, rate=args.connect_rate)
    live = [c for c in clients if c.state == OPEN]
    audience.log(f"inbox: {len(live)} connected; settling 3 s")
    await asyncio.sleep(3)

    rng = random.Random(1)
    order = live[:]
    rng.shuffle(order)
    meter = ServerMeter(pid)
    meter.start()
    sampling = loop.create_task(sampler(meter))
    profiler = start_profiler(args, pid, f"inbox-{args.label}")
    interval = 1 / args.inbox_rate
    t_start = loop.time()
    n = 0
    while loop.time() - t_start < args.duration:
        sender = order[n % len(order)]
        recipient = rng.choice(names)
        while recipient == sender.username:
            recipient = rng.choice(names)
        now = _time() * 1000
        sender.pending.append(now)
        sender.send_json(
            {"type": "inbox.send", "to": recipient, "text": f"bench {n} {now:.1f}"}
        )
        n += 1
        await asyncio.sleep(max(0.0, t_start + n * interval - loop.time()))
    window = meter.stop()
    await asyncio.sleep(args.grace)
    sampling.cancel()
    if profiler is not None:
        profiler.wait(timeout=60)
    result = {
        "users": args.inbox_users,
        "connected": len(live),
        "open_at_end": sum(1 for c in clients if c.state == OPEN),
        "messages_sent": n,
        "rate_per_s": args.inbox_rate,
        "errors": errors,
        "delivered": len(got),
        "delivered_fraction": round(len(got) / n, 4) if n else None,
        "deliveries_total": len(delivery),
        "acks": len(acks),
        "unanswered": sum(len(c.pending) for c in clients),
        "delivery_ms": stats(delivery),
        "ack_ms": stats(acks),
        **window,
    }
    for client in clients:
        client.abort()
    await asyncio.sleep(1)
    return result


# --- setting up ---------------------------------------------------------------


def create_users(deployment: Deployment, names: list[str]) -> dict[str, str]:
    """Users in one bulk insert, then a session each; returns name -> key."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.hashers import make_password\n"
        "U = get_user_model()\n"
        f"h = make_password({PASSWORD!r})\n"
        f"U.objects.bulk_create([U(username=n, password=h) for n in {names!r}])\n"
    )
    deployment.manage("shell", "-c", code)
    code = (
        "import json\n"
        "from importlib import import_module\n"
        "from django.conf import settings\n"
        "from django.contrib.auth import get_user_model\n"
        "Store = import_module(settings.SESSION_ENGINE).SessionStore\n"
        "out = {}\n"
        f"for u in get_user_model().objects.filter(username__in={names!r}):\n"
        "    s = Store()\n"
        "    s['_auth_user_id'] = str(u.pk)\n"
        "    s['_auth_user_backend'] = settings.AUTHENTICATION_BACKENDS[0]\n"
        "    s['_auth_user_hash'] = u.get_session_auth_hash()\n"
        "    s.create()\n"
        "    out[u.username] = s.session_key\n"
        "print(json.dumps(out))\n"
    )
    return json.loads(deployment.manage("shell", "-c", code).strip().splitlines()[-1])


def start_server(args, workdir: Path, server_log: Path):
    deployment = audience.bench_deployment(workdir, args.redis)
    names = ["benchdj"]
    names += [f"sender{i:03d}" for i in range(args.senders)]
    names += [f"user{i:04d}" for i in range(args.inbox_users)]
    audience.log(f"creating {len(names)} users and their sessions")
    sessions = create_users(deployment, names)
    deployment.manage(
        "createstation", STATION, "--name", "Chat bench", "--dj", "benchdj"
    )
    worker = audience.start_logged_worker(deployment, args, server_log)
    return deployment, worker, sessions


def print_result(part: str, r: dict) -> None:
    if part == "chat":
        f, e = r["fanout_ms"], r["sender_echo_ms"]
        lines = [
            f"--- chat: {r['connected']}/{r['listeners']} listeners, "
            f"{r['senders']} senders, {r['messages_sent']} messages "
            f"({r['rate_per_s']}/s, {r['seconds']} s) ---",
            f"fan-out ms      p50 {f['p50']}  p99 {f['p99']}  max {f['max']}",
            f"delivered       {100 * (r['delivered_fraction'] or 0):.2f} % "
            f"({r['delivered_pairs']} / {r['expected_pairs']} pairs); "
            f"messages missed by someone {r['messages_missing_somewhere']}",
            f"sender echo ms  p50 {e['p50']}  p99 {e['p99']}  max {e['max']}"
            f" ({r['stored_and_echoed']} echoed); errors {r['errors']}",
        ]
    else:
        d, a = r["delivery_ms"], r["ack_ms"]
        lines = [
            f"--- inbox: {r['connected']}/{r['users']} users, "
            f"{r['messages_sent']} messages "
            f"({r['rate_per_s']}/s, {r['seconds']} s) ---",
            f"delivery ms     p50 {d['p50']}  p99 {d['p99']}  max {d['max']}",
            f"delivered       {100 * (r['delivered_fraction'] or 0):.2f} % "
            f"({r['delivered']} / {r['messages_sent']})",
            f"inbox.sent ms   p50 {a['p50']}  p99 {a['p99']}  max {a['max']} "
            f"({r['acks']} acks, {r['unanswered']} unanswered); errors {r['errors']}",
        ]
    lines.append(
        f"server CPU {r['server_cpu_percent']} %, RSS {r['server_rss_mib']} MiB "
        f"(max {r['server_rss_max_mib']}); generator CPU "
        f"{r['generator_cpu_percent']} %"
    )
    print("\n".join(lines), flush=True)


async def run(args, port: int, pid: int, sessions: dict[str, str]) -> dict:
    result = {}
    if args.part in ("chat", "both"):
        result["chat"] = await run_chat(args, port, pid, sessions)
        print_result("chat", result["chat"])
    if args.part in ("inbox", "both"):
        result["inbox"] = await run_inbox(args, port, pid, sessions)
        print_result("inbox", result["inbox"])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("chat", "inbox", "both"), default="both")
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--chat-rate", type=float, default=20.0)
    parser.add_argument("--inbox-users", type=int, default=1000)
    parser.add_argument("--inbox-rate", type=float, default=100.0)
    parser.add_argument("-d", "--duration", type=float, default=30.0)
    parser.add_argument("--grace", type=float, default=3.0)
    parser.add_argument("--connect-rate", type=int, default=200)
    parser.add_argument("--redis", help="REDIS_URL (default: in-memory layer)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy record each window (raw)"
    )
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    args.label = args.label or ("redis" if args.redis else "memory")

    audience.raise_nofile()
    os.sched_setaffinity(0, {args.client_cpu})
    workdir = Path(tempfile.mkdtemp(prefix="radio-chat-bench-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results = audience.RESULTS
    args.results.mkdir(parents=True, exist_ok=True)
    output = args.results / f"chat-{args.label}-{stamp}.json"
    deployment = None
    try:
        fingerprint = audience.product_fingerprint()
        audience.log(f"product code {fingerprint['sha256']}; starting daphne")
        deployment, worker, sessions = start_server(
            args, workdir, output.with_suffix(".server.log")
        )
        audience.log(
            f"daphne pid {worker.process.pid} on CPU {args.server_cpu}, generator "
            f"on CPU {args.client_cpu} ({'uvloop' if audience.uvloop else 'asyncio'}), "
            f"layer {'redis' if args.redis else 'in-memory'}"
        )
        coro = run(args, worker.port, worker.process.pid, sessions)
        result = (
            audience.uvloop.run(coro)
            if audience.uvloop is not None
            else asyncio.run(coro)
        )
    finally:
        if deployment is not None:
            with contextlib.suppress(Exception):
                deployment.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    audience.write_report(output, args, fingerprint, result)
    audience.log(f"wrote {output.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
