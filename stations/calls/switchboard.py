"""Call messages between sockets on any worker.

A call joins two sockets that may be on different workers: the caller's
room socket and the console of the DJ who answered. Each has an address
here, stored with the call, and the two sides' messages (the WebRTC
signalling, the call's changes) go to it. A station's DJ consoles also
hear every change of its queue, wherever they are.

As ``radio.sockets.RightsRelay`` does, each worker has one channel-layer
channel for all its sockets, not one per socket: a room socket that never
calls takes nothing of the channel layer. A worker's channel joins a
station's group while one of the station's consoles is open here.

Messages are delivered to a socket by calling its ``call_message``, in
the order they were sent, at once: no task per message, so that an offer
is never overtaken by its candidates.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# A channel name never holds this; an address is "<channel>|<socket>".
SEPARATOR = "|"
DELIVER = "call.deliver"
TELL_DESKS = "call.desks"


class CallSocket(Protocol):
    def call_message(self, message: dict[str, Any]) -> None: ...


def desks_group(station_id: int) -> str:
    return f"calls.{station_id}"


class Switchboard:
    """This worker's end of the call messages (one per event loop)."""

    def __init__(self) -> None:
        self._sockets: dict[str, CallSocket] = {}
        self._desks: dict[int, set[CallSocket]] = {}
        self._numbers = itertools.count(1)
        self._channel: str | None = None
        self._opening = asyncio.Lock()
        self._task: asyncio.Task | None = None

    async def address(self, socket: CallSocket) -> str:
        """Where ``socket`` hears of a call from now on, from any worker."""
        channel = await self._open()
        number = str(next(self._numbers))
        self._sockets[number] = socket
        return f"{channel}{SEPARATOR}{number}"

    def forget(self, address: str) -> None:
        channel, _, number = address.partition(SEPARATOR)
        if channel == self._channel:
            self._sockets.pop(number, None)

    async def watch_station(self, station_id: int, desk: CallSocket) -> None:
        """Tell ``desk`` (a DJ console) of every change of the station's calls."""
        channel = await self._open()
        desks = self._desks.setdefault(station_id, set())
        if not desks:
            await get_channel_layer().group_add(desks_group(station_id), channel)
        desks.add(desk)

    async def unwatch_station(self, station_id: int, desk: CallSocket) -> None:
        desks = self._desks.get(station_id, set())
        desks.discard(desk)
        if not desks and self._desks.pop(station_id, None) is not None:
            await get_channel_layer().group_discard(
                desks_group(station_id), self._channel
            )

    async def send(self, address: str, message: dict[str, Any]) -> None:
        """Deliver ``message`` to the socket at ``address``; dropped if it
        has gone."""
        channel, _, number = address.partition(SEPARATOR)
        if channel == self._channel:
            self._deliver(number, message)
        else:
            await get_channel_layer().send(
                channel, {"type": DELIVER, "to": number, "message": message}
            )

    async def tell_desks(self, station_id: int, message: dict[str, Any]) -> None:
        """Deliver ``message`` to every console of the station, on every worker."""
        await get_channel_layer().group_send(
            desks_group(station_id),
            {"type": TELL_DESKS, "station": station_id, "message": message},
        )

    async def _open(self) -> str:
        async with self._opening:
            if self._channel is None:
                self._channel = await get_channel_layer().new_channel()
                self._task = asyncio.get_running_loop().create_task(
                    self._receive(self._channel)
                )
        return self._channel

    async def _receive(self, channel: str) -> None:
        layer = get_channel_layer()
        while True:
            try:
                envelope = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Redis away: channels-redis subscribes again when it is back.
                logger.warning("The switchboard cannot hear calls now: %s", error)
                await asyncio.sleep(1.0)
                continue
            if envelope.get("type") == DELIVER:
                self._deliver(envelope["to"], envelope["message"])
            elif envelope.get("type") == TELL_DESKS:
                for desk in tuple(self._desks.get(envelope["station"], ())):
                    self._call(desk, envelope["message"])

    def _deliver(self, number: str, message: dict[str, Any]) -> None:
        socket = self._sockets.get(number)
        if socket is not None:
            self._call(socket, message)

    @staticmethod
    def _call(socket: CallSocket, message: dict[str, Any]) -> None:
        try:
            socket.call_message(message)
        except Exception:
            logger.exception("A socket failed to take a call message")


# One switchboard per event loop, as the channel layer's connections are.
_switchboards: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Switchboard] = (
    weakref.WeakKeyDictionary()
)


def get_switchboard() -> Switchboard:
    loop = asyncio.get_running_loop()
    switchboard = _switchboards.get(loop)
    if switchboard is None:
        switchboard = _switchboards[loop] = Switchboard()
    return switchboard
