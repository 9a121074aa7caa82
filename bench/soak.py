#!/usr/bin/env python
"""The soak bench: one worker with Redis under a changing audience for an hour.

Starts a real radio installation (SQLite in a temporary directory, DEBUG=0,
one daphne worker serving ``radio.asgi`` pinned to CPU 0, ``REDIS_URL`` from
``--redis``), a station with a small library of ffmpeg-made tracks for the
AutoDJ, and, from a load generator on CPU 1, for ``--minutes``:

* ``--listeners`` steady listeners, and ``--churn`` more joining every second,
  each leaving ``audience.CHURN_STAY_S`` later;
* the DJ on the broadcast socket (an MP3 at real-time pace, as in
  ``bench/audience.py``) for ``--switch-minutes``, then the AutoDJ for as
  long, and so on;
* chat at ``--chat-rate`` messages a second from signed-in users in the
  station's room, and inbox messages at ``--inbox-rate`` between users.

Every minute it prints a line and keeps a record: the server's RSS, open
files, asyncio tasks (``/worker.json``), ffmpeg children, the steady
listeners' relay latency (receipt minus the header's ``ingest_ms``), healthy
and closed listeners, churn joins, chat and inbox deliveries and errors, and
lines of the server's log that tell of an exception. At the end the churn,
chat and inbox stop, the DJ is live as at the start, and the open files,
tasks and ffmpeg children are compared with the start; the verdict holds the
run against the issue's targets. The JSON goes to
``bench/results/soak-<UTC time>.json``, the server's log beside it.

    .venv/bin/python bench/soak.py --redis redis://127.0.0.1:6379/9
    .venv/bin/python bench/soak.py --redis redis://127.0.0.1:6379/9 \\
        --minutes 3 --switch-minutes 1 --listeners 200 --churn 5

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

import audience  # noqa: E402 - bench/audience.py, beside this script
import autodj  # noqa: E402
import chat  # noqa: E402

from tests.support.audio import make_tone  # noqa: E402
from tests.support.servers import Deployment, Worker  # noqa: E402

STATION = audience.STATION
STAFF = "soakstaff"
# The targets of issue 14.
RSS_GROWTH_LIMIT = 0.05
# How many open files and tasks above the start still count as "back to the
# baseline": a session being written or a connection closing at the moment
# of the count is not a leak; a leak grows with the hour, far past this.
BASELINE_SLACK = 5
# Before the baseline and the final count: connections settle, the churned
# listeners' sessions are written.
SETTLE_S = 10.0
# Lines of the server's console that tell of an exception: a traceback, and
# the ERROR log line before it that says what failed.
LOG_PROBLEMS = (
    "Traceback",
    " ERROR ",
    "Task exception was never retrieved",
    "Unhandled error",
)
# Loop lag p99 of the load generator over which it reads late, and the
# latency it measures is partly its own.
GENERATOR_BUSY_LAG_MS = 20
# Lines of the log kept for the report, for the run and for each minute.
KEEP_LINES = 20
TRACK_TONES = (440, 550, 660, 770, 880)
_time = time.time


async def paced(rate: float, until: float):
    """0, 1, 2, ... at ``rate`` a second until the loop's clock reaches
    ``until``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    n = 0
    while loop.time() < until:
        yield n
        n += 1
        await asyncio.sleep(max(0.0, start + n / rate - loop.time()))


def stamped(n: int) -> str:
    """A message text holding its number and when it was sent."""
    return f"soak {n} {_time() * 1000:.1f}"


def sent_ms(text: str) -> float | None:
    if not text.startswith("soak "):
        return None
    return float(text.split()[2])


# --- chat and inbox ---------------------------------------------------------


@dataclass
class Tally:
    """Messages of one kind since the last ``take``."""

    sent: int = 0
    delivered: int = 0
    acked: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def deliver(self, text: str, now_ms: float) -> None:
        sent = sent_ms(text)
        if sent is not None:
            self.delivered += 1
            self.latencies.append(now_ms - sent)

    def report(self) -> dict:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "acked": self.acked,
            "delivery_ms": chat.stats(self.latencies),
            "errors": self.errors,
        }


def take_tally(load: ChatLoad | InboxLoad) -> dict:
    """What ``load`` counted since the last call."""
    tally, load.tally = load.tally, Tally()
    return tally.report()


class ChatLoad:
    """Signed-in senders chat in the station's room in turn, at ``rate`` a
    second; an anonymous reader in the room counts what arrives."""

    def __init__(self, port: int, sessions: list[str], rate: float) -> None:
        path = f"/ws/stations/{STATION}/"
        self.rate = rate
        self.tally = Tally()
        self.reader = chat.Client(port, path, None, self._on_reader)
        self.senders = [
            chat.Client(port, path, f"sessionid={key}", self._on_sender)
            for key in sessions
        ]

    @property
    def clients(self) -> list[chat.Client]:
        return [self.reader, *self.senders]

    def _on_reader(self, client: chat.Client, payload: bytes, now_ms: float) -> None:
        if b'"chat"' in payload[:20]:
            self.tally.deliver(json.loads(payload)["text"], now_ms)

    def _on_sender(self, client: chat.Client, payload: bytes, now_ms: float) -> None:
        if b'"error"' in payload[:20]:
            self.tally.error(json.loads(payload)["code"])

    async def run(self, until: float) -> None:
        async for n in paced(self.rate, until):
            sender = self.senders[n % len(self.senders)]
            self.tally.sent += 1
            if sender.state != audience.OPEN:
                self.tally.error("sender_closed")
                continue
            sender.send_json({"type": "chat", "text": stamped(n)})


class InboxLoad:
    """Users on ``/ws/inbox/`` write to random other users in turn, at
    ``rate`` a second in all."""

    def __init__(self, port: int, sessions: dict[str, str], rate: float) -> None:
        self.rate = rate
        self.tally = Tally()
        self.rng = random.Random(1)
        self.clients = []
        for name, key in sessions.items():
            client = chat.Client(port, "/ws/inbox/", f"sessionid={key}", self._on_text)
            client.username = name
            self.clients.append(client)

    def _on_text(self, client: chat.Client, payload: bytes, now_ms: float) -> None:
        message = json.loads(payload)
        kind = message["type"]
        if kind == "inbox.message" and message["to"] == client.username:
            self.tally.deliver(message["text"], now_ms)
        elif kind == "inbox.sent":
            self.tally.acked += 1
        elif kind == "error":
            self.tally.error(message["code"])

    async def run(self, until: float) -> None:
        count = len(self.clients)
        async for n in paced(self.rate, until):
            sender = self.clients[n % count]
            recipient = self.clients[(n + self.rng.randrange(1, count)) % count]
            self.tally.sent += 1
            if sender.state != audience.OPEN:
                self.tally.error("sender_closed")
                continue
            sender.send_json(
                {"type": "inbox.send", "to": recipient.username, "text": stamped(n)}
            )


# --- the server -------------------------------------------------------------


class LogWatch:
    """Whole lines added to the server's log that tell of an exception."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.count = 0
        self.first: list[str] = []  # the first KEEP_LINES of them

    def take(self) -> list[str]:
        """The new lines, counted."""
        found = self.read_new()
        self.count += len(found)
        self.first += found[: KEEP_LINES - len(self.first)]
        return found

    def read_new(self) -> list[str]:
        """The new lines, not counted."""
        with open(self.path, "rb") as log_file:
            log_file.seek(self.offset)
            data = log_file.read()
        data = data[: data.rfind(b"\n") + 1]
        self.offset += len(data)
        return [
            line
            for line in data.decode(errors="replace").splitlines()
            if any(problem in line for problem in LOG_PROBLEMS)
        ]


def worker_status(worker: Worker, cookie: str) -> dict:
    """``/worker.json`` as a staff user: the worker's hubs and tasks."""
    request = urllib.request.Request(
        f"{worker.http_url}/worker.json", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def connections_to(pid: int, port: int) -> int:
    """How many of process ``pid``'s TCP sockets are connected to ``port``."""
    fd_dir = f"/proc/{pid}/fd"
    sockets = set()
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(FileNotFoundError):
            target = os.readlink(f"{fd_dir}/{fd}")
            if target.startswith("socket:["):
                sockets.add(target[len("socket:[") : -1])
    count = 0
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                count += remote_port == port and fields[9] in sockets
    return count


async def server_state(worker: Worker, cookie: str, redis_port: int | None) -> dict:
    """The worker's memory, open files (those connected to Redis apart: its
    connection pool grows with the most commands ever in flight at once),
    tasks, hub clients and ffmpeg children."""
    pid = worker.process.pid
    status = await asyncio.to_thread(worker_status, worker, cookie)
    open_files = len(os.listdir(f"/proc/{pid}/fd"))
    to_redis = connections_to(pid, redis_port) if redis_port else 0
    return {
        "rss_kb": audience.rss_kb(pid),
        "open_files": open_files,
        "redis_connections": to_redis,
        "files_but_redis": open_files - to_redis,
        "tasks": status["tasks"],
        "hub_clients": sum(hub["clients"] for hub in status["hubs"].values()),
        "ffmpeg": len(worker.children("ffmpeg")),
    }


# --- the run ----------------------------------------------------------------


class Soak:
    """The audience, the sources and the chatter of one soak run."""

    def __init__(
        self,
        args,
        worker: Worker,
        sessions: dict[str, str],
        mp3: bytes,
        log: LogWatch,
    ) -> None:
        self.args = args
        self.worker = worker
        self.cookie = f"sessionid={sessions[STAFF]}"
        self.redis_port = (
            urllib.parse.urlsplit(args.redis).port or 6379 if args.redis else None
        )
        self.bench = audience.Bench(args, worker.port, worker.process.pid, mp3)
        self.chat = ChatLoad(
            worker.port, [sessions[n] for n in sender_names(args)], args.chat_rate
        )
        self.inbox = InboxLoad(
            worker.port, {n: sessions[n] for n in inbox_names(args)}, args.inbox_rate
        )
        self.log = log
        self.source = "autodj"
        self.switches = 0
        self.records: list[dict] = []

    async def server_state(self) -> dict:
        return await server_state(self.worker, self.cookie, self.redis_port)

    async def set_up(self) -> dict:
        """The DJ live, the steady listeners and the chat and inbox users
        connected; returns the server's state then (the baseline)."""
        bench = self.bench
        await self.go_live()
        bench.healthy = [
            audience.Listener(bench, "healthy") for _ in range(self.args.listeners)
        ]
        await bench.ramp(bench.healthy)
        await bench.wait_first_audio(bench.healthy, self.args.connect_timeout)
        await chat.ramp(self.chat.clients + self.inbox.clients, rate=self.args.rate)
        audience.log(
            f"{sum(x.is_open for x in bench.healthy)}/{self.args.listeners} "
            f"listeners, {sum(c.state == audience.OPEN for c in self.chat.clients)} "
            f"in the chat, {sum(c.state == audience.OPEN for c in self.inbox.clients)}"
            f" on the inbox; settling {SETTLE_S:.0f} s"
        )
        await asyncio.sleep(SETTLE_S)
        return await self.server_state()

    async def go_live(self) -> None:
        await self.bench.start_dj()
        self.source = "live"

    async def leave(self) -> None:
        await self.bench.stop_dj()
        self.source = "autodj"

    async def switch_sources(self, until: float) -> None:
        """The DJ and the AutoDJ in turn, ``--switch-minutes`` each."""
        loop = asyncio.get_running_loop()
        while (left := until - loop.time()) > 0:
            await asyncio.sleep(min(left, self.args.switch_minutes * 60))
            if loop.time() >= until:
                return
            await (self.leave() if self.source == "live" else self.go_live())
            self.switches += 1

    async def drive(self) -> None:
        """The run itself: load for ``--minutes``, a record every minute."""
        loop = asyncio.get_running_loop()
        seconds = self.args.minutes * 60
        start = loop.time()
        until = start + seconds
        self.bench.window = audience.Window(t0_ms=int(_time() * 1000))
        self.log.take()
        jobs = [
            loop.create_task(job)
            for job in (
                self.switch_sources(until),
                self.chat.run(until),
                self.inbox.run(until),
                self.bench.churn(time.perf_counter() + seconds)
                if self.args.churn
                else None,
            )
            if job is not None
        ]
        for minute in range(1, self.args.minutes + 1):
            await asyncio.sleep(max(0.0, start + minute * 60 - loop.time()))
            raise_failed(jobs)
            record = await self.minute(minute)
            self.records.append(record)
            print_minute(record)
        await asyncio.gather(*jobs)

    async def minute(self, number: int) -> dict:
        return {
            "minute": number,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": self.source,
            "switches": self.switches,
            **steady_minute(self.bench),
            "churn": audience.join_times(take_churned(self.bench)),
            "chat": take_tally(self.chat),
            "inbox": take_tally(self.inbox),
            "server": await self.server_state(),
            "log_problems": self.log.take()[:KEEP_LINES],
        }

    async def wind_down(self) -> dict:
        """With the churn, chat and inbox stopped and the DJ live as at the
        start, the server's state once it has settled."""
        if self.source != "live":
            await self.go_live()
        await asyncio.sleep(SETTLE_S)
        self.log.take()
        return await self.server_state()

    async def close(self) -> None:
        bench = self.bench
        for listener in bench.healthy + bench.churned:
            listener.abort()
        for client in self.chat.clients + self.inbox.clients:
            client.abort()
        if self.source == "live":
            await bench.stop_dj()


def raise_failed(jobs: list[asyncio.Task]) -> None:
    """Stop the run if a part of the load failed (a DJ who cannot go live)."""
    for job in jobs:
        if job.done() and job.exception() is not None:
            raise job.exception()


def steady_minute(bench: audience.Bench) -> dict:
    """The steady listeners over the minute that ends now; a new one begins.

    Audio in flight at the turn of the minute counts in neither.
    """
    window = bench.window
    window.t1_ms = int(_time() * 1000)
    bench.window = audience.Window(t0_ms=window.t1_ms)
    published = window.published
    needed = audience.HEALTHY_SHARE * published
    healthy = sum(1 for x in bench.healthy if x.is_open and x.wcount >= needed > 0)
    for listener in bench.healthy:
        listener.wcount = 0
        listener.wbytes = 0
    return {
        "published_messages": published,
        "listeners": {
            "healthy": healthy,
            "closed": sum(1 for x in bench.healthy if not x.is_open),
            "of": len(bench.healthy),
        },
        "relay_ms": {
            "messages": sum(window.hist),
            "p50": audience.hist_percentile(window.hist, 0.50),
            "p99": audience.hist_percentile(window.hist, 0.99),
            "max": window.max_ms,
        },
        "generator_lag_p99_ms": audience.percentile(window.lags, 0.99),
    }


def take_churned(bench: audience.Bench) -> list[audience.Listener]:
    """The churn listeners that left (or failed to join) since the last
    call; those still staying are counted in the minute they leave."""
    left = [x for x in bench.churned if x.state == audience.CLOSED]
    bench.churned = [x for x in bench.churned if x.state != audience.CLOSED]
    return left


def print_minute(r: dict) -> None:
    server, relay, listeners = r["server"], r["relay_ms"], r["listeners"]
    churn, talk, inbox = r["churn"], r["chat"], r["inbox"]
    audience.log(
        f"min {r['minute']:>3} {r['source']:<6} RSS {server['rss_kb'] / 1024:.1f} MiB"
        f"  files {server['open_files']} (Redis {server['redis_connections']})"
        f"  tasks {server['tasks']}"
        f"  ffmpeg {server['ffmpeg']}  relay p99 {relay['p99']} ms"
        f" (max {relay['max']})  healthy {listeners['healthy']}/{listeners['of']}"
        f" closed {listeners['closed']}  churn {churn['got_2s_audio']}/"
        f"{churn['attempted']}  chat {talk['delivered']}/{talk['sent']}"
        f" inbox {inbox['delivered']}/{inbox['sent']}"
        f" errors {sum(talk['errors'].values()) + sum(inbox['errors'].values())}"
        f"  log {len(r['log_problems'])}  generator lag p99 "
        f"{round(r['generator_lag_p99_ms'] or 0)} ms"
    )


# --- the verdict ------------------------------------------------------------


def verdict(args, result: dict, log: LogWatch, at_stop: list[str]) -> dict:
    """The run against the issue's targets, each check with its figures;
    ``at_stop`` are the log's lines telling of an exception written while
    the server stopped, ``log`` counted those before."""
    records, baseline, end = result["minutes"], result["baseline"], result["end"]
    busy = [
        r["minute"]
        for r in records
        if (r["generator_lag_p99_ms"] or 0) > GENERATOR_BUSY_LAG_MS
    ]
    return {
        "rss_growth": rss_check(args, records),
        "open_files_back": back_to_baseline("files_but_redis", baseline, end),
        "redis_connections": {
            "baseline": baseline["redis_connections"],
            "end": end["redis_connections"],
        },
        "tasks_back": back_to_baseline("tasks", baseline, end),
        "ffmpeg_back": back_to_baseline("ffmpeg", baseline, end, slack=0),
        "relay_p99": relay_check(records),
        "server_log": {
            "during_run": log.count,
            "at_stop": len(at_stop),
            "first": (log.first + at_stop)[:KEEP_LINES],
            "ok": not log.count and not at_stop,
        },
        "generator_busy_minutes": busy,
    }


def rss_check(args, records: list[dict]) -> dict:
    """RSS growth from the end of minute ``--settle-minutes`` to the peak
    after it; from minute 1 in a run no longer than that."""
    reference = min(args.settle_minutes, len(records))
    if reference == len(records):
        reference = 1
    base = records[reference - 1]["server"]["rss_kb"]
    peak = max(r["server"]["rss_kb"] for r in records[reference - 1 :])
    growth = (peak - base) / base
    return {
        "from_minute": reference,
        "rss_kb": base,
        "peak_kb": peak,
        "growth_percent": round(100 * growth, 2),
        "ok": growth < RSS_GROWTH_LIMIT,
    }


def back_to_baseline(
    key: str, baseline: dict, end: dict, *, slack: int = BASELINE_SLACK
) -> dict:
    return {
        "baseline": baseline[key],
        "end": end[key],
        "ok": end[key] <= baseline[key] + slack,
    }


def relay_check(records: list[dict]) -> dict:
    p99s = {r["minute"]: r["relay_ms"]["p99"] for r in records}
    limit = audience.RELAY_P99_TARGET_MS
    over = [minute for minute, p99 in p99s.items() if p99 is None or p99 >= limit]
    return {
        "worst_p99_ms": max((p for p in p99s.values() if p is not None), default=None),
        "minutes_over": over,
        "ok": bool(records) and not over,
    }


def print_verdict(checks: dict) -> None:
    rss, files, tasks = (
        checks["rss_growth"],
        checks["open_files_back"],
        checks["tasks_back"],
    )
    ffmpeg, relay, log = (
        checks["ffmpeg_back"],
        checks["relay_p99"],
        checks["server_log"],
    )
    lines = [
        "--- verdict ---",
        f"{mark(rss)} RSS growth after minute {rss['from_minute']}: "
        f"{rss['growth_percent']} % (< {100 * RSS_GROWTH_LIMIT:.0f} %)",
        f"{mark(files)} open files but Redis's back to baseline: {files['end']} "
        f"(baseline {files['baseline']}, slack {BASELINE_SLACK}); connections to "
        f"Redis {checks['redis_connections']['baseline']} at the start, "
        f"{checks['redis_connections']['end']} at the end",
        f"{mark(tasks)} asyncio tasks back to baseline: {tasks['end']} "
        f"(baseline {tasks['baseline']}, slack {BASELINE_SLACK})",
        f"{mark(ffmpeg)} ffmpeg children back to baseline: {ffmpeg['end']} "
        f"(baseline {ffmpeg['baseline']})",
        f"{mark(relay)} relay p99 < {audience.RELAY_P99_TARGET_MS} ms every minute: "
        f"worst {relay['worst_p99_ms']} ms; minutes over {relay['minutes_over']}",
        f"{mark(log)} server log: {log['during_run']} lines telling of an "
        f"exception during the run, {log['at_stop']} while it stopped",
        *(f"    {line}" for line in log["first"][:5]),
    ]
    if checks["generator_busy_minutes"]:
        lines.append(
            "WARNING: the load generator was busy (loop lag p99 > "
            f"{GENERATOR_BUSY_LAG_MS} ms) in "
            f"minutes {checks['generator_busy_minutes']}: listeners read late, "
            "and the relay latency includes it"
        )
    print("\n".join(lines), flush=True)


def mark(check: dict) -> str:
    return "PASS" if check["ok"] else "FAIL"


# --- setting up -------------------------------------------------------------


def sender_names(args) -> list[str]:
    return [f"chatter{i:03d}" for i in range(args.chat_senders)]


def inbox_names(args) -> list[str]:
    return [f"writer{i:04d}" for i in range(args.inbox_users)]


def install(args, workdir: Path) -> tuple[Deployment, dict[str, str], bytes]:
    """The installation, its users with their sessions, the station with its
    library; returns them and the DJ's MP3."""
    deployment = Deployment.create(
        database_url=f"sqlite:///{workdir / 'radio.sqlite3'}",
        redis_url=args.redis,
        MEDIA_ROOT=str(workdir / "media"),
        # Every listener comes from 127.0.0.1: no per-address cap.
        RADIO_MAX_CONNECTIONS_PER_IP="0",
    )
    names = [STAFF, *sender_names(args), *inbox_names(args)]
    audience.log(f"creating {len(names)} users and their sessions")
    sessions = chat.create_users(deployment, names)
    tracks = [
        make_tone(
            workdir / f"track{tone}.mp3", seconds=args.track_seconds, frequency=tone
        )
        for tone in TRACK_TONES[: args.tracks]
    ]
    dj_mp3 = make_tone(workdir / "dj.mp3", seconds=60, frequency=220)
    audience.log(f"adding {len(tracks)} tracks of {args.track_seconds} s")
    deployment.set_up(
        users=[audience.DJ],
        commands=[
            ("createstation", STATION, "--name", "Soak", "--dj", audience.DJ[0]),
            ("addtrack", STATION, *map(str, tracks)),
        ],
        then=f"User.objects.filter(username={STAFF!r}).update(is_staff=True)",
    )
    return deployment, sessions, dj_mp3.read_bytes()


async def soak(
    args, worker: Worker, sessions: dict[str, str], mp3: bytes, log: LogWatch
) -> dict:
    run = Soak(args, worker, sessions, mp3, log)
    lag = asyncio.get_running_loop().create_task(run.bench.lag_monitor())
    try:
        baseline = await run.set_up()
        audience.log(f"baseline {json.dumps(baseline)}; running {args.minutes} min")
        await run.drive()
        end = await run.wind_down()
        audience.log(f"after the churn {json.dumps(end)}")
    finally:
        lag.cancel()
        await run.close()
    # Messages sent at the end of the last minute arrive after its record.
    late = {"chat": take_tally(run.chat), "inbox": take_tally(run.inbox)}
    totals = {kind: message_totals(run.records, kind, late[kind]) for kind in late}
    audience.log(f"in all {json.dumps(totals)}")
    return {"baseline": baseline, "minutes": run.records, "end": end, "totals": totals}


def message_totals(records: list[dict], kind: str, late: dict) -> dict:
    """Chat or inbox messages sent, delivered and acknowledged over the run,
    with the errors by code."""
    tallies = [r[kind] for r in records] + [late]
    errors: dict[str, int] = {}
    for tally in tallies:
        for code, count in tally["errors"].items():
            errors[code] = errors.get(code, 0) + count
    return {
        **{key: sum(t[key] for t in tallies) for key in ("sent", "delivered", "acked")},
        "errors": errors,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument(
        "--churn", type=int, default=20, help="listeners joining (and leaving) per s"
    )
    parser.add_argument("--switch-minutes", type=float, default=5.0)
    parser.add_argument("--chat-rate", type=float, default=5.0)
    parser.add_argument(
        "--chat-senders",
        type=int,
        default=20,
        help="signed-in users who chat in turn (each within the rate limit)",
    )
    parser.add_argument("--inbox-rate", type=float, default=5.0)
    parser.add_argument("--inbox-users", type=int, default=100)
    parser.add_argument(
        "--settle-minutes",
        type=int,
        default=5,
        help="RSS growth is measured from the end of this minute",
    )
    parser.add_argument("--tracks", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--track-seconds", type=int, default=120)
    parser.add_argument("--redis", help="REDIS_URL (default: in-memory layer)")
    parser.add_argument("--rate", type=int, default=200, help="new connections per s")
    parser.add_argument("--max-inflight", type=int, default=40)
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument(
        "--gc-log",
        action="store_true",
        help="log the server's garbage collections (bench/server_hooks)",
    )
    # What audience.Bench reads: its DJ on the broadcast socket at 128 kbit/s.
    parser.set_defaults(source="websocket", bitrate=128, chunk_ms=100)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    audience.raise_nofile()
    os.sched_setaffinity(0, {args.client_cpu})
    workdir = Path(tempfile.mkdtemp(prefix="radio-soak-"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    audience.RESULTS.mkdir(parents=True, exist_ok=True)
    output = audience.RESULTS / f"soak-{stamp}.json"
    args.server_log = output.with_suffix(".server.log")
    deployment = None
    try:
        fingerprint = audience.product_fingerprint()
        audience.log(f"product code {fingerprint['sha256']}; setting up")
        deployment, sessions, mp3 = install(args, workdir)
        audience.instrument(deployment, args, args.server_log)
        worker = audience.start_logged_worker(deployment, args, args.server_log)
        autodj.wait_until_playing(worker, [STATION])
        audience.log(
            f"daphne pid {worker.process.pid} on CPU {args.server_cpu}, the AutoDJ "
            f"playing; layer {'redis' if args.redis else 'in-memory'}"
        )
        log = LogWatch(args.server_log)
        coro = soak(args, worker, sessions, mp3, log)
        loop_run = audience.uvloop.run if audience.uvloop else asyncio.run
        result = loop_run(coro)
    finally:
        if deployment is not None:
            with contextlib.suppress(Exception):
                deployment.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["verdict"] = verdict(args, result, log, log.read_new())
    audience.write_report(output, args, fingerprint, result)
    print_verdict(result["verdict"])
    audience.log(f"wrote {output.relative_to(PROJECT)}")
    checks = [
        check
        for check in result["verdict"].values()
        if isinstance(check, dict) and "ok" in check
    ]
    return 0 if all(check["ok"] for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
