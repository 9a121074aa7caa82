"""Load on the public API for ``bench/audience.py``: ``GET`` requests at a
fixed rate over keep-alive connections, and Server-Sent Events widgets that
time how long a title takes to reach them.

Raw HTTP/1.1 on asyncio streams, so the generator's cost per request stays
small next to the server's.
"""

from __future__ import annotations

import asyncio
import json
import time


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1], 1)}


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one response with a Content-Length body; its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


class ApiLoad:
    """``GET path`` at ``rate`` per second in all, over ``connections``
    keep-alive connections; a connection that falls behind sends at once."""

    def __init__(self, port: int, path: str, *, rate: float, connections: int):
        self.port = port
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        ).encode()
        self.rate = rate
        self.connections = connections
        self.latencies_ms: list[float] = []
        self.errors: dict[str, int] = {}
        self.seconds = 0.0

    async def run(self, seconds: float) -> None:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                self._connection(index, started, seconds)
                for index in range(self.connections)
            )
        )
        self.seconds = time.perf_counter() - started

    async def _connection(self, index: int, started: float, seconds: float) -> None:
        interval = self.connections / self.rate
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        sent = 0
        try:
            while True:
                due = started + (index / self.connections + sent) * interval
                if due - started >= seconds:
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                t0 = time.perf_counter()
                writer.write(self.request)
                status, _ = await read_response(reader)
                self.latencies_ms.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    self.errors[str(status)] = self.errors.get(str(status), 0) + 1
                sent += 1
        except (OSError, asyncio.IncompleteReadError) as problem:
            name = type(problem).__name__
            self.errors[name] = self.errors.get(name, 0) + 1
        finally:
            writer.close()

    def report(self) -> dict:
        done = len(self.latencies_ms)
        return {
            "asked_per_s": self.rate,
            "answered_per_s": round(done / self.seconds, 1) if self.seconds else 0,
            "answered": done,
            "latency_ms": percentiles(self.latencies_ms),
            "errors": self.errors,
        }


class SseWidgets:
    """``count`` widgets on ``path``; each notes when a title reaches it."""

    def __init__(self, port: int, path: str, count: int):
        self.port = port
        self.path = path
        self.count = count
        # Title -> when it was set, and the delays of its arrivals.
        self.set_at: dict[str, float] = {}
        self.delays_ms: list[float] = []
        self.connected = 0
        self.errors: dict[str, int] = {}
        self._tasks: list[asyncio.Task] = []

    async def open(self, *, rate: float = 200.0) -> None:
        loop = asyncio.get_running_loop()
        ready = [loop.create_future() for _ in range(self.count)]
        for future in ready:
            self._tasks.append(loop.create_task(self._widget(future)))
            await asyncio.sleep(1 / rate)
        await asyncio.wait(ready, timeout=30)

    def title_set(self, title: str) -> None:
        self.set_at[title] = time.time()

    async def _widget(self, ready: asyncio.Future) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(
                f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            await reader.readuntil(b"\r\n\r\n")
            self.connected += 1
            ready.set_result(None)
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"data:"):
                    self._arrived(line[5:])
        except (OSError, asyncio.IncompleteReadError, ValueError) as problem:
            name = type(problem).__name__
            self.errors[name] = self.errors.get(name, 0) + 1
            if not ready.done():
                ready.set_result(None)

    def _arrived(self, data: bytes) -> None:
        now_playing = json.loads(data).get("now_playing") or {}
        title = (now_playing.get("song") or {}).get("title", "")
        set_at = self.set_at.get(title)
        if set_at is not None:
            self.delays_ms.append((time.time() - set_at) * 1000)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def report(self) -> dict:
        titles = len(self.set_at)
        return {
            "widgets": self.count,
            "connected": self.connected,
            "titles": titles,
            "arrivals": len(self.delays_ms),
            "expected_arrivals": titles * self.connected,
            "delay_ms": percentiles(self.delays_ms),
            "errors": self.errors,
        }
