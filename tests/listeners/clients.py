"""Inbox WebSocket clients of ``radio.asgi.application`` for consumer tests."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from channels.testing import WebsocketCommunicator

from radio.asgi import application
from tests.support.personas import Persona

INBOX_PATH = "/ws/inbox/"
# An origin the host check accepts (ALLOWED_HOSTS has 127.0.0.1 by default).
# Longest wait for one message.
TIMEOUT_S = 5.0
# How long a socket must stay quiet to count as having received nothing.
QUIET_S = 0.3


class InboxSockets:
    """Opens inbox sockets for a test and disconnects those left open."""

    def __init__(self) -> None:
        self._opened: list[WebsocketCommunicator] = []

    def open(self, persona: Persona) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(
            application, INBOX_PATH, headers=persona.headers()
        )
        self._opened.append(communicator)
        return communicator

    async def connect(
        self, persona: Persona
    ) -> tuple[WebsocketCommunicator, list[dict[str, Any]]]:
        """An accepted socket and the unread messages it started with."""
        communicator = self.open(persona)
        connected, _ = await communicator.connect(timeout=TIMEOUT_S)
        assert connected, "the inbox refused the connection"
        first = await receive(communicator)
        assert first["type"] == "inbox.unread", first
        return communicator, first["messages"]

    async def close_all(self) -> None:
        for communicator in self._opened:
            if communicator.future.done():
                continue
            with contextlib.suppress(Exception):
                await communicator.disconnect(timeout=TIMEOUT_S)


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return json.loads(await communicator.receive_from(timeout=TIMEOUT_S))


async def receive_close(communicator: WebsocketCommunicator) -> int | None:
    """The code the server closes the socket with, past any other output."""
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT_S)
        if output["type"] == "websocket.close":
            return output.get("code")


async def send(communicator: WebsocketCommunicator, **message: Any) -> None:
    await communicator.send_json_to(message)


async def nothing_arrives(communicator: WebsocketCommunicator) -> bool:
    return await communicator.receive_nothing(timeout=QUIET_S)
