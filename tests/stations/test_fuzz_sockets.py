"""Random frames on the station room, the DJ's broadcast socket and the inbox
(Hypothesis): every answer is a message of the protocol, every error code and
close code is one docs/PROTOCOL.md documents, and nothing is logged as failed.

HYPOTHESIS_PROFILE=thorough tries 5000 frames instead of 200 (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from radio import protocol
from tests.support.fuzz import (
    SENTINEL,
    documented_close_codes,
    documented_error_codes,
    frames,
    is_sentinel_answer,
)

from .clients import Sockets, broadcast_path, room_path
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

INBOX_PATH = "/ws/inbox/"
# How long one answer may take, on a busy machine.
ANSWER_TIMEOUT_S = 10


def test_every_error_and_close_code_is_documented():
    """The protocol's codes are the ones docs/PROTOCOL.md's tables list."""
    close_codes = {
        value
        for name, value in vars(protocol).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }
    assert set(protocol.ERROR_CODES) == documented_error_codes()
    assert close_codes <= documented_close_codes()


# --- Sending --------------------------------------------------------------------


@dataclass
class Answer:
    """What one random frame got back."""

    types: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)
    close_code: int | None = None


@dataclass
class Fuzzer:
    """Sends random frames on sockets that it reconnects when they close."""

    sockets: Sockets
    targets: dict[str, tuple[str, Any]]
    open: dict[str, WebsocketCommunicator] = field(default_factory=dict)

    async def send(self, target: str, frame: str | bytes) -> Answer:
        socket = await self.socket(target)
        if isinstance(frame, bytes):
            await socket.send_to(bytes_data=frame)
        else:
            await socket.send_to(text_data=frame)
        await socket.send_to(text_data=SENTINEL)
        answer = Answer()
        while True:
            output = await socket.receive_output(timeout=ANSWER_TIMEOUT_S)
            if output["type"] == "websocket.close":
                answer.close_code = output.get("code")
                del self.open[target]
                return answer
            if output.get("text") is None:
                continue  # audio
            message = json.loads(output["text"])
            if is_sentinel_answer(message):
                return answer
            answer.types.append(message["type"])
            if message["type"] == protocol.ERROR:
                answer.error_codes.append(message["code"])

    async def socket(self, target: str) -> WebsocketCommunicator:
        if target not in self.open:
            path, persona = self.targets[target]
            self.open[target] = await self.sockets.connect(path, persona)
        return self.open[target]


async def test_random_frames_get_documented_answers(
    sockets, station, dj, listener, caplog
):
    """Random JSON (wrong types, huge numbers, deep nesting, unknown fields,
    lone surrogates) and random binary frames on the three sockets are
    answered with protocol messages, documented error codes and documented
    close codes, never 1011; nothing is logged as an error."""
    fuzzer = Fuzzer(
        sockets,
        {
            "room": (room_path(STATION_SLUG), listener),
            "broadcast": (broadcast_path(STATION_SLUG), dj),
            "inbox": (INBOX_PATH, listener),
        },
    )
    error_codes = documented_error_codes()
    close_codes = documented_close_codes() - {protocol.CLOSE_INTERNAL_ERROR}
    loop = asyncio.get_running_loop()

    # Hypothesis runs in a thread; the sockets stay on this test's loop.
    @settings(
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target=st.sampled_from(sorted(fuzzer.targets)), frame=frames)
    @example(target="room", frame="[" * 2000 + "]" * 2000)
    @example(target="inbox", frame='{"type": "inbox.send", "to": "\ud800"}')
    @example(target="broadcast", frame='{"type": "now_playing", "title": 1e999}')
    def answers_are_documented(target: str, frame: str | bytes) -> None:
        sent = asyncio.run_coroutine_threadsafe(fuzzer.send(target, frame), loop)
        answer = sent.result(timeout=ANSWER_TIMEOUT_S * 3)
        assert set(answer.types) <= set(protocol.MESSAGE_TYPES), answer
        assert set(answer.error_codes) <= error_codes, answer
        assert answer.close_code is None or answer.close_code in close_codes, answer

    with caplog.at_level(logging.WARNING):
        await asyncio.to_thread(answers_are_documented)
    failures = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not failures, failures[0].getMessage()
