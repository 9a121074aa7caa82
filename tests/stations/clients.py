"""WebSocket clients of ``radio.asgi.application`` for consumer tests.

They go through the whole ASGI stack (origin check, session and auth
middleware, ``ServerSendMiddleware``) with channels' ``WebsocketCommunicator``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from channels.testing import WebsocketCommunicator

from radio.asgi import application
from tests.support.personas import ORIGIN, Persona

# An origin the host check accepts (ALLOWED_HOSTS has 127.0.0.1 by default).
# Longest wait for one message; generous, since ffmpeg may be slow to start.
TIMEOUT_S = 5.0
# Messages the server may push at any moment, which most tests look past:
# listener counts come from a ticker, chat history follows ``hello``.
UNSOLICITED_TYPES = frozenset({"listeners", "chat.history"})


def room_path(slug: str) -> str:
    return f"/ws/stations/{slug}/"


def broadcast_path(slug: str) -> str:
    return f"/ws/stations/{slug}/broadcast/"


class Sockets:
    """Opens WebSockets for a test and disconnects those it leaves open."""

    def __init__(self) -> None:
        self._opened: list[WebsocketCommunicator] = []

    def open(
        self, path: str, persona: Persona, *, origin: str = ORIGIN
    ) -> WebsocketCommunicator:
        """A communicator for ``path``, not yet connected."""
        communicator = WebsocketCommunicator(
            application, path, headers=persona.headers(origin)
        )
        self._opened.append(communicator)
        return communicator

    async def connect(self, path: str, persona: Persona) -> WebsocketCommunicator:
        """A socket the server has accepted."""
        communicator = self.open(path, persona)
        connected, _ = await communicator.connect(timeout=TIMEOUT_S)
        assert connected, f"{path} refused the connection"
        return communicator

    async def join(
        self, slug: str, persona: Persona
    ) -> tuple[WebsocketCommunicator, dict[str, Any]]:
        """A listener in the station room, with the ``hello`` it got."""
        room = await self.connect(room_path(slug), persona)
        hello = json.loads(await room.receive_from(timeout=TIMEOUT_S))
        assert hello["type"] == "hello", hello
        return room, hello

    async def studio(self, slug: str, persona: Persona) -> WebsocketCommunicator:
        """A DJ's broadcast socket, past the listener count, chat history
        and call queue."""
        studio = await self.connect(broadcast_path(slug), persona)
        first = await receive_json(studio, skip=())
        assert first["type"] == "listeners", first
        history = await receive_json(studio, skip=())
        assert history["type"] == "chat.history", history
        queue = await receive_json(studio, skip=())
        assert queue["type"] == "calls", queue
        return studio

    async def close_all(self) -> None:
        for communicator in self._opened:
            if communicator.future.done():
                continue
            with contextlib.suppress(Exception):
                await communicator.disconnect(timeout=TIMEOUT_S)


# --- Receiving ---------------------------------------------------------------


async def receive_any(
    communicator: WebsocketCommunicator,
    *,
    timeout: float = TIMEOUT_S,
    skip: frozenset[str] | tuple[str, ...] = UNSOLICITED_TYPES,
) -> bytes | dict[str, Any]:
    """The next audio message (bytes) or JSON message, past ``skip`` types."""
    while True:
        frame = await communicator.receive_from(timeout=timeout)
        if isinstance(frame, bytes):
            return frame
        message = json.loads(frame)
        if message["type"] not in skip:
            return message


async def receive_json(
    communicator: WebsocketCommunicator,
    *,
    timeout: float = TIMEOUT_S,
    skip: frozenset[str] | tuple[str, ...] = UNSOLICITED_TYPES,
) -> dict[str, Any]:
    """The next JSON message, past ``skip`` types; audio fails the test."""
    message = await receive_any(communicator, timeout=timeout, skip=skip)
    assert isinstance(message, dict), "expected a JSON message, got audio"
    return message


async def receive_type(
    communicator: WebsocketCommunicator, kind: str, *, timeout: float = TIMEOUT_S
) -> dict[str, Any]:
    """The next JSON message of type ``kind``; other messages are dropped."""
    while True:
        message = await receive_any(communicator, timeout=timeout)
        if isinstance(message, dict) and message["type"] == kind:
            return message


async def receive_close(
    communicator: WebsocketCommunicator, *, timeout: float = TIMEOUT_S
) -> int | None:
    """The code the server closes the socket with, past any other output."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code")
        assert output["type"] == "websocket.send", output


async def receive_reply(
    communicator: WebsocketCommunicator, *, timeout: float = TIMEOUT_S
) -> dict[str, Any]:
    """The next JSON message, or ``{"closed": code}`` if the socket closes."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return {"closed": output.get("code")}
        if output.get("text") is not None:
            message = json.loads(output["text"])
            if message["type"] not in UNSOLICITED_TYPES:
                return message


async def messages_within(
    communicator: WebsocketCommunicator, seconds: float
) -> list[bytes | dict[str, Any]]:
    """Everything the socket receives for ``seconds``, audio and JSON."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    received: list[bytes | dict[str, Any]] = []
    while (left := deadline - loop.time()) > 0:
        # receive_nothing() waits without cancelling the application on
        # timeout, unlike receive_from().
        if not await communicator.receive_nothing(timeout=left):
            frame = await communicator.receive_from()
            received.append(frame if isinstance(frame, bytes) else json.loads(frame))
    return received


# --- Broadcasting ------------------------------------------------------------


async def go_live(
    studio: WebsocketCommunicator, mime: str = "audio/mpeg"
) -> dict[str, Any]:
    """Send ``start`` and return the ``live`` answer."""
    await studio.send_json_to({"type": "start", "format": mime})
    return await receive_type(studio, "live")


async def send_audio(
    studio: WebsocketCommunicator, data: bytes, *, chunk_bytes: int = 8192
) -> int:
    """Send ``data`` as binary messages of ``chunk_bytes``; return how many."""
    chunks = [data[i : i + chunk_bytes] for i in range(0, len(data), chunk_bytes)]
    for chunk in chunks:
        await studio.send_to(bytes_data=chunk)
    return len(chunks)
