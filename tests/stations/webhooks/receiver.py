"""A webhook target for tests: a small HTTP server on 127.0.0.1 that
records each POST and answers as told (a status per request, or never)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

HANG = 0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        digest = hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(
            self.headers.get("x-radio-signature", ""), f"sha256={digest}"
        )


class Receiver:
    """Answers the n-th request with ``answers[n]`` (the last one after
    that); ``HANG`` never answers."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = answers or [204]
        self.received: list[Received] = []
        self.arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task] = set()

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        for task in self._handlers:
            task.cancel()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def _serve(self, reader, writer) -> None:
        self._handlers.add(asyncio.current_task())
        try:
            request_line = (await reader.readline()).decode()
            headers = {}
            while (line := (await reader.readline()).decode().strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            answer = self.answers[min(len(self.received), len(self.answers) - 1)]
            async with self.arrived:
                self.received.append(Received(request_line.split()[1], headers, body))
                self.arrived.notify_all()
            if answer == HANG:
                await asyncio.Event().wait()
            writer.write(
                f"HTTP/1.1 {answer} X\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        finally:
            writer.close()
            self._handlers.discard(asyncio.current_task())

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests, once there are ``count`` of them."""
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received) >= count)
        return self.received
