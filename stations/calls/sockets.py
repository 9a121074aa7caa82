"""Call-ins on the station sockets (docs/PROTOCOL.md, "Call-ins").

The room socket is the caller's side (``CallerSocket``), the broadcast
socket the DJ console's (``CallDesk``). The server only signals: it keeps
the calls' states, passes each side's WebRTC signals to the other and
ends calls that drop or run over their time. The audio goes between the
two browsers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings

from radio import protocol
from radio.protocol import CALL_MAX_TEXT_CHARS, ProtocolError
from radio.sockets import arate_limit, arate_limit_writes
from stations.runtime import run_in_background

from . import operator
from .models import Call
from .selectors import acall_queue, acall_rules
from .services import (
    acall_answer,
    acall_end_by_dj,
    acall_move,
    acall_request,
    acalls_pause,
)
from .switchboard import get_switchboard

logger = logging.getLogger(__name__)


async def arate_limit_signals(user_pk: int) -> None:
    """Count a WebRTC signal: a call takes a few dozen."""
    await arate_limit(
        "call-signals",
        user_pk,
        burst=settings.RADIO_CALL_SIGNALS_BURST,
        per_second=settings.RADIO_CALL_SIGNALS_PER_SECOND,
        refusal="Too many call signals; wait a moment.",
    )


def no_such_call() -> ProtocolError:
    return ProtocolError(
        "That is not a call of yours that is answered.", protocol.NO_SUCH_CALL
    )


class CallerSocket:
    """The station room's side of a call: a signed-in listener calls in."""

    call_id: int | None = None
    # The answering console's address, once the DJ answers.
    call_peer: str | None = None
    call_address: str | None = None

    async def handle_call_request(self, message: dict[str, Any]) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            raise ProtocolError("Sign in to call the station.", protocol.AUTH_REQUIRED)
        text = protocol.text_field(message, "text", max_chars=CALL_MAX_TEXT_CHARS)
        await arate_limit_writes(user.pk)
        if self.call_address is None:
            self.call_address = await get_switchboard().address(self)
        change = await acall_request(
            station=self.station, caller=user, text=text, address=self.call_address
        )
        self.call_id, self.call_peer = change.call.pk, None
        await operator.announce(self.station, change)

    async def handle_call_signal(self, message: dict[str, Any]) -> None:
        call_id = protocol.id_field(message, "id")
        signal = protocol.call_signal_field(message)
        if call_id != self.call_id or self.call_peer is None:
            raise no_such_call()
        await arate_limit_signals(self.scope["user"].pk)
        await operator.relay_signal(self.call_peer, call_id, signal)

    async def handle_call_hangup(self, message: dict[str, Any]) -> None:
        call_id = protocol.id_field(message, "id")
        if call_id != self.call_id:
            raise no_such_call()
        await operator.end(self.station, call_id, Call.End.CALLER)

    def call_message(self, message: dict[str, Any]) -> None:
        """From the switchboard: the call changed, or the DJ signals."""
        if message["kind"] == operator.STATE:
            call = message["call"]
            if call["id"] == self.call_id:
                ended = call["state"] == Call.State.ENDED
                self.call_peer = None if ended else message["dj"] or None
                self.call_id = None if ended else self.call_id
            self.write_message(call)
        elif (
            message["kind"] == operator.SIGNAL
            and message["message"]["id"] == self.call_id
        ):
            self.write_message(message["message"])

    async def hang_up_caller(self, code: int) -> None:
        """The socket closed, or its user signed out: the call ends, so the
        line is free at once."""
        call_id, address = self.call_id, self.call_address
        self.call_id = self.call_peer = self.call_address = None
        try:
            if call_id is not None:
                deliberate = code in protocol.DELIBERATE_CLOSE_CODES
                reason = Call.End.CALLER if deliberate else Call.End.DROPPED
                await operator.end(self.station, call_id, reason)
        finally:
            if address is not None:
                get_switchboard().forget(address)


class CallDesk:
    """The DJ console's side: the station's queue, and the calls it answered."""

    desk_address: str | None = None

    async def open_desk(self) -> None:
        """Follow the station's calls; the first ``calls`` message is the queue."""
        self.answered: dict[int, tuple[str, asyncio.TimerHandle]] = {}
        switchboard = get_switchboard()
        try:
            self.desk_address = await switchboard.address(self)
            await switchboard.watch_station(self.station.pk, self)
        except Exception as error:
            # The channel layer is away (Redis): the console works without calls.
            logger.warning("A console opened without call-ins: %s", error)
            self.desk_address = None
            return
        self.write_message(await acall_queue(self.station))

    def desk_ready(self) -> str:
        if self.desk_address is None:
            raise ProtocolError(
                "Call-ins cannot reach the other workers now; reload the console.",
                protocol.UNAVAILABLE,
            )
        return self.desk_address

    async def handle_call_accept(self, message: dict[str, Any]) -> None:
        call_id = protocol.id_field(message, "id")
        address = self.desk_ready()
        await arate_limit_writes(self.scope["user"].pk)
        change = await acall_answer(
            station=self.station,
            dj=self.scope["user"],
            call_id=call_id,
            address=address,
        )
        rules = await acall_rules(self.station)
        timer = asyncio.get_running_loop().call_later(
            rules.time_limit.total_seconds(), self.call_time_up, call_id
        )
        self.answered[call_id] = (change.call.caller_address, timer)
        await operator.announce(self.station, change)

    async def handle_call_air(self, message: dict[str, Any]) -> None:
        await self.move_call(message)

    async def handle_call_private(self, message: dict[str, Any]) -> None:
        await self.move_call(message)

    async def handle_call_hold(self, message: dict[str, Any]) -> None:
        await self.move_call(message)

    async def move_call(self, message: dict[str, Any]) -> None:
        call_id = protocol.id_field(message, "id")
        await arate_limit_writes(self.scope["user"].pk)
        change = await acall_move(
            station=self.station,
            call_id=call_id,
            kind=message["type"],
            address=self.desk_ready(),
        )
        await operator.announce(self.station, change)

    async def handle_call_hangup(self, message: dict[str, Any]) -> None:
        await self.end_call(message, block=False)

    async def handle_call_block(self, message: dict[str, Any]) -> None:
        await self.end_call(message, block=True)

    async def end_call(self, message: dict[str, Any], *, block: bool) -> None:
        """Decline a waiting call or hang up an answered one; ``block``: the
        caller may not call the station again."""
        call_id = protocol.id_field(message, "id")
        user = self.scope["user"]
        await arate_limit_writes(user.pk)
        change = await acall_end_by_dj(
            station=self.station,
            call_id=call_id,
            address=self.desk_ready(),
            block_by=user if block else None,
        )
        await operator.announce(self.station, change)

    async def handle_calls_pause(self, message: dict[str, Any]) -> None:
        paused = message.get("paused")
        if not isinstance(paused, bool):
            raise ProtocolError('"paused" must be true or false.')
        self.desk_ready()
        await arate_limit_writes(self.scope["user"].pk)
        await acalls_pause(station=self.station, paused=paused)
        await operator.announce_queue(self.station)

    async def handle_call_signal(self, message: dict[str, Any]) -> None:
        call_id = protocol.id_field(message, "id")
        signal = protocol.call_signal_field(message)
        if call_id not in self.answered:
            raise no_such_call()
        await arate_limit_signals(self.scope["user"].pk)
        caller_address, _ = self.answered[call_id]
        await operator.relay_signal(caller_address, call_id, signal)

    def call_time_up(self, call_id: int) -> None:
        run_in_background(operator.end(self.station, call_id, Call.End.TIME_LIMIT))

    def call_message(self, message: dict[str, Any]) -> None:
        """From the switchboard: the queue changed, a call of this console
        changed, or its caller signals."""
        if message["kind"] == operator.QUEUE:
            self.write_message(message["queue"])
        elif message["kind"] == operator.SIGNAL:
            if message["message"]["id"] in self.answered:
                self.write_message(message["message"])
        elif message["kind"] == operator.STATE:
            call = message["call"]
            if call["state"] == Call.State.ENDED and call["id"] in self.answered:
                _, timer = self.answered.pop(call["id"])
                timer.cancel()

    async def close_desk(self) -> None:
        """The console closed: the calls it answered end, so their callers
        are not left on a dead line."""
        if self.desk_address is None:
            return
        switchboard = get_switchboard()
        try:
            for call_id, (_, timer) in list(self.answered.items()):
                timer.cancel()
                await operator.end(self.station, call_id, Call.End.DROPPED)
        finally:
            switchboard.forget(self.desk_address)
            await switchboard.unwatch_station(self.station.pk, self)
