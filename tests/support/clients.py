"""Clients of a running radio server: sign-in, station sockets, audio."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any

import websockets

from stations.streaming.packets import HEADER_BYTES, now_ms, parse_header

ORIGIN = "http://127.0.0.1"


def sign_in(http_url: str, username: str, password: str) -> str:
    """Sign in through the login form; return the ``Cookie`` header to use."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{http_url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(
        f"{http_url}/accounts/login/", data=form, headers={"Referer": f"{http_url}/"}
    )
    opener.open(request).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, "sign-in failed"
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


async def connect(url: str, *, cookie: str | None = None, **kwargs: Any):
    headers = {"Cookie": cookie} if cookie else {}
    return await websockets.connect(
        url, origin=ORIGIN, additional_headers=headers, max_size=2**22, **kwargs
    )


@dataclass
class Received:
    """What a listener got: audio messages and JSON messages, in order."""

    audio: list[tuple[int, int, bytes, float]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seqs(self) -> list[int]:
        return [seq for seq, _, _, _ in self.audio]

    @property
    def mp3(self) -> bytes:
        return b"".join(frames for _, _, frames, _ in self.audio)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message["type"] == kind]


async def listen(socket, received: Received, *, until: str | None = None) -> Received:
    """Read ``socket`` into ``received`` until a message matches ``until``.

    ``until`` is ``"off_air"`` (the station went off air) or None (the
    socket closed).
    """
    async for message in socket:
        arrived = now_ms()
        if isinstance(message, bytes):
            seq, ingest_ms = parse_header(message)
            received.audio.append((seq, ingest_ms, message[HEADER_BYTES:], arrived))
            continue
        data = json.loads(message)
        data["_arrived"] = arrived
        received.messages.append(data)
        if until == "off_air" and data["type"] == "on_air" and not data["on_air"]:
            break
    return received


async def next_message(socket, kind: str) -> dict[str, Any]:
    """Read ``socket`` up to the next JSON message of type ``kind``."""
    async for message in socket:
        if isinstance(message, str) and (data := json.loads(message))["type"] == kind:
            return data
    raise AssertionError(f"the socket closed before a {kind!r} message")


async def stream_file(
    socket, data: bytes, *, bitrate_kbps: int, chunk_ms: int = 100
) -> None:
    """Send ``data`` in chunks at the pace it plays (``bitrate_kbps``)."""
    chunk_bytes = bitrate_kbps * 1000 // 8 * chunk_ms // 1000
    started = time.monotonic()
    for index, offset in enumerate(range(0, len(data), chunk_bytes)):
        await socket.send(data[offset : offset + chunk_bytes])
        delay = started + (index + 1) * chunk_ms / 1000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def send_chunks(socket, chunks: list[bytes], *, chunk_ms: int) -> None:
    """Send ``chunks`` one every ``chunk_ms``, as MediaRecorder does."""
    started = time.monotonic()
    for index, chunk in enumerate(chunks):
        await socket.send(chunk)
        delay = started + (index + 1) * chunk_ms / 1000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class Timeline:
    """Everything a listener received, in order, with arrival times (ms)."""

    items: list[tuple[int, object]] = field(default_factory=list)

    def audio(self) -> list[tuple[int, int, bytes]]:
        """(arrival, seq, frames) of each audio message."""
        return [
            (arrived, *item) for arrived, item in self.items if isinstance(item, tuple)
        ]

    def messages(self, kind: str) -> list[tuple[int, dict]]:
        return [
            (arrived, item)
            for arrived, item in self.items
            if isinstance(item, dict) and item["type"] == kind
        ]

    def between(self, start: int, end: int) -> list[tuple[int, int, bytes]]:
        """Audio messages after item ``start`` and before item ``end``."""
        return [
            (arrived, *item)
            for arrived, item in self.items[start + 1 : end]
            if isinstance(item, tuple)
        ]

    def index(self, kind: str, *, after: int = -1, **fields) -> int:
        """Position of the first message of ``kind`` with ``fields``."""
        for position, (_, item) in enumerate(self.items):
            if (
                position > after
                and isinstance(item, dict)
                and item["type"] == kind
                and all(item.get(k) == v for k, v in fields.items())
            ):
                return position
        raise AssertionError(f"no {kind} {fields} in {len(self.items)} items")


async def record(socket, timeline: Timeline, *, seconds: float) -> Timeline:
    """Read ``socket`` into ``timeline`` for ``seconds``; fail if it closes."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for message in socket:
                arrived = now_ms()
                if isinstance(message, bytes):
                    seq, _ = parse_header(message)
                    timeline.items.append((arrived, (seq, message[HEADER_BYTES:])))
                else:
                    timeline.items.append((arrived, json.loads(message)))
            raise AssertionError("the socket closed while recording")
    return timeline


def gap_ms(before: list[tuple[int, int, bytes]], after) -> int:
    """Time between the last audio of ``before`` and the first of ``after``."""
    return after[0][0] - before[-1][0]


def latency_ms(ingest_ms: int) -> int:
    return now_ms() - ingest_ms


def masked_frame(payload: bytes | str) -> bytes:
    """One client WebSocket frame (text for ``str``), masked as clients must."""
    opcode = 0x1 if isinstance(payload, str) else 0x2
    data = payload.encode() if isinstance(payload, str) else payload
    if len(data) < 126:
        header = bytes((0x80 | opcode, 0x80 | len(data)))
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + len(data).to_bytes(8, "big")
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def close_code_of_eager_client(
    port: int, path: str, messages: list[bytes | str], *, cookie: str | None = None
) -> int:
    """Send the upgrade request and ``messages`` in one write, before any
    answer, as a hostile client may; return the code the server closes with."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie_line = f"Cookie: {cookie}\r\n" if cookie else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n{cookie_line}\r\n"
    ).encode()
    writer.write(request + b"".join(masked_frame(m) for m in messages))
    try:
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        while True:
            first, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            if first & 0x0F == 0x8:
                return int.from_bytes(payload[:2], "big")
    finally:
        writer.close()
