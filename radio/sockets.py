"""What every JSON WebSocket of radio shares (docs/PROTOCOL.md).

A socket is accepted, then joins: it checks who may use it and takes what it
needs, or refuses with a close code. Until it has joined, and once it is
closing, client messages are dropped unread. A joined socket's JSON messages
are size-checked, decoded and handed to ``handle_<type>`` (``chat.delete``
goes to ``handle_chat_delete``); a ``ProtocolError`` is answered with an
``error`` message, and so is a database that cannot be reached
(``unavailable``: nothing was stored, the client may send again). A database
away while joining or checking rights closes with 1013, after which clients
reconnect. Any other error in any handler closes the socket with 1011 and
releases what it took, as a disconnect does.

Every socket of a signed-in user hears when the user's rights change, on
every worker: through the worker's one ``RightsRelay``, so that a socket
takes nothing of the channel layer (a Redis SUBSCRIBE with channels-redis's
pub/sub layer) unless it needs the layer itself, as the inbox does.

When the worker stops (``radio.shutdown``), every open socket is closed with
1012 (service restart), after ``server_restarting`` let go of what it holds.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    transaction,
)

from . import protocol, shutdown
from .daphne import forget_closed_protocol, send_close_frame
from .middleware import SERVER_SEND
from .protocol import ProtocolError
from .ratelimit import get_rate_limiter

logger = logging.getLogger(__name__)

# Client message types: dotted lowercase words, which name a handler.
MESSAGE_TYPE = re.compile(r"[a-z]+(?:[._][a-z]+)*")
# The group event that tells a user's sockets to check their rights again,
# sent to every worker's relay with the user's pk.
RIGHTS_CHANGED = "user.rights_changed"
# What the database raises when it cannot be reached: its server restarts,
# or the connection to it broke. Django reconnects on the next call.
DATABASE_AWAY = (OperationalError, InterfaceError)
RIGHTS_GROUP = "rights"
# A relay that could not reach the channel layer tries again this often.
RELAY_RETRY_S = 1.0


class Close(Exception):
    """Raised by ``join`` or a handler: close the socket with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class JsonSocket(AsyncWebsocketConsumer):
    """A WebSocket that speaks the JSON protocol; subclasses add hooks.

    Without ``uses_channel_layer`` the socket has no channel of its own.
    """

    joined = False
    closed_by_server = False
    _left = False
    _rights_user: int | None = None
    uses_channel_layer = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.uses_channel_layer:
            self.channel_layer_alias = None

    # --- Hooks for subclasses ------------------------------------------------

    async def join(self) -> None:
        """Check the client may use this socket and take what it needs.

        Raise ``Close`` to refuse. Runs once, after the socket is accepted.
        """

    async def leave(self, code: int) -> None:
        """Release what ``join`` took; called once, however the socket ends."""

    async def check_rights(self) -> None:
        """The user's rights changed: raise ``Close`` if they are gone."""

    async def server_restarting(self) -> None:
        """The worker is stopping: close so that the client comes back at
        once, to another worker. ``leave`` follows, as for any close."""
        await self.close_with(protocol.CLOSE_SERVICE_RESTART)

    async def send_message(self, message: dict[str, Any]) -> None:
        await self.send(text_data=protocol.encode(message))

    async def receive_bytes(self, data: bytes) -> None:
        raise ProtocolError("This socket takes JSON text messages only.")

    # --- Lifecycle -----------------------------------------------------------

    async def connect(self) -> None:
        await self.accept()
        shutdown.track(self, self.server_restarting)
        user = self.scope["user"]
        if user.is_authenticated:
            # Followed before the rights are checked, so no change is missed.
            self._rights_user = user.pk
            await get_rights_relay().follow(user.pk, self)
        await self.join()
        self.joined = True

    async def disconnect(self, code: int) -> None:
        if self._left:
            return
        self._left = True
        self.joined = False
        try:
            if self._rights_user is not None:
                get_rights_relay().forget(self._rights_user, self)
            await self.leave(code)
        finally:
            shutdown.forget(self)
            forget_closed_protocol(self.scope.get(SERVER_SEND))

    async def dispatch(self, message: dict[str, Any]) -> None:
        try:
            await super().dispatch(message)
        except StopConsumer:
            raise
        except Close as close:
            await self.close_with(close.code)
        except DATABASE_AWAY:
            logger.warning(
                "Closing a %s socket: the database was away during %s",
                type(self).__name__, message["type"],
            )  # fmt: skip
            await forget_broken_connections()
            if message["type"] == "websocket.disconnect":
                raise StopConsumer() from None
            await self.close_with(protocol.CLOSE_TRY_AGAIN_LATER)
        except Exception:
            logger.exception(
                "Closing a %s socket: %s failed", type(self).__name__, message["type"]
            )
            if message["type"] == "websocket.disconnect":
                raise StopConsumer() from None
            await self.fail()

    async def fail(self) -> None:
        """Close with 1011 after an unexpected error, releasing everything."""
        self.closed_by_server = True
        try:
            await self.disconnect(protocol.CLOSE_INTERNAL_ERROR)
        except Exception:
            logger.exception("Releasing a failed %s socket failed too", type(self))
        await self.close_with(protocol.CLOSE_INTERNAL_ERROR)

    async def close(self, code: int | bool | None = None, reason: str | None = None):
        self.closed_by_server = True
        self.joined = False
        await super().close(code, reason)

    async def close_with(self, code: int) -> None:
        """Close with ``code``, which may be 1009 or 1011 too.

        daphne's close takes only 1000 and 3000-4999; other codes are sent
        as a close frame of their own.
        """
        daphne_refuses = not (code == 1000 or 3000 <= code <= 4999)
        if daphne_refuses and send_close_frame(self.scope[SERVER_SEND], code):
            self.closed_by_server = True
            self.joined = False
        else:
            await self.close(code=code)

    # --- From the client -----------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if not self.joined:
            return
        try:
            if bytes_data is not None:
                await self.receive_bytes(bytes_data)
            elif utf8_length(text_data) > settings.RADIO_MAX_TEXT_FRAME_BYTES:
                await self.close_with(protocol.CLOSE_MESSAGE_TOO_BIG)
            else:
                await self.receive_message(protocol.decode_message(text_data))
        except ProtocolError as problem:
            await self.send_message(protocol.error(problem.code, str(problem)))
        except DATABASE_AWAY:
            logger.warning(
                "The database was away for a %s message", type(self).__name__
            )
            await forget_broken_connections()
            await self.send_message(
                protocol.error(
                    protocol.UNAVAILABLE,
                    "The server cannot store that just now; nothing was "
                    "saved. Try again in a moment.",
                )
            )

    async def receive_message(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        handler = None
        if MESSAGE_TYPE.fullmatch(kind):
            handler = getattr(self, "handle_" + kind.replace(".", "_"), None)
        if handler is None:
            raise ProtocolError(f"Unknown message type {kind[:50]!r}.")
        await handler(message)

    # --- From the user's group -----------------------------------------------

    async def user_rights_changed(self, event: dict[str, Any]) -> None:
        if self.joined:
            await self.check_rights()


async def forget_broken_connections() -> None:
    """Close the ORM's connections that broke, so the next query opens anew.

    ``database_sync_to_async`` does this around its own calls, but the async
    ORM's calls (``aget``, ``aexists``) share the thread and do not.
    """
    await sync_to_async(close_old_connections)()


def utf8_length(text: str) -> int:
    """The bytes ``text`` takes as UTF-8; a lone surrogate (text that came
    from no real UTF-8, as ASGI servers other than daphne may pass on)
    counts as the three bytes it would take."""
    return len(text.encode("utf-8", "surrogatepass"))


async def arate_limit(
    purpose: str, user_pk: int, *, burst: int, per_second: float, refusal: str
) -> None:
    """Count a user's message for ``purpose``; refuse it over the limit.

    The limit holds across workers with REDIS_URL (``radio.ratelimit``).
    """
    limiter = get_rate_limiter(purpose, burst=burst, per_second=per_second)
    if not await limiter.aallow(user_pk):
        raise ProtocolError(refusal, protocol.RATE_LIMITED)


async def arate_limit_writes(user_pk: int) -> None:
    """Count a message that writes to the database (marking read, blocking,
    moderating); refuse it beyond the rate that keeps the database free."""
    await arate_limit(
        "writes",
        user_pk,
        burst=settings.RADIO_WRITES_BURST,
        per_second=settings.RADIO_WRITES_PER_SECOND,
        refusal="Too many changes at once; wait a moment.",
    )


async def arate_limit_titles(user_pk: int) -> None:
    """Count a DJ's title change, from the console or an encoder; refuse
    it over the limit."""
    await arate_limit(
        "titles",
        user_pk,
        burst=settings.RADIO_NOW_PLAYING_BURST,
        per_second=settings.RADIO_NOW_PLAYING_PER_SECOND,
        refusal="The title changes too often; wait a moment.",
    )


async def auser_active(user: AbstractBaseUser) -> bool:
    """Whether ``user`` still exists and may sign in."""
    return await get_user_model().objects.filter(pk=user.pk, is_active=True).aexists()


class RightsRelay:
    """Tells this worker's sockets when their user's rights change.

    One channel-layer channel per worker, in the group every worker's relay
    is in, instead of a subscription per socket: a socket follows its user
    here without touching Redis, so sockets open while Redis is away.
    """

    def __init__(self) -> None:
        self._sockets: dict[int, set[JsonSocket]] = {}
        self._task: asyncio.Task | None = None
        self._first_try = asyncio.Event()
        self._checks: set[asyncio.Task] = set()

    async def follow(self, user_pk: int, socket: JsonSocket) -> None:
        """Tell ``socket`` of ``user_pk``'s changes from now on.

        The first socket waits for the relay's first try to subscribe, so a
        change right after it connects reaches it; later ones do not wait.
        """
        self._sockets.setdefault(user_pk, set()).add(socket)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._relay())
        await self._first_try.wait()

    def forget(self, user_pk: int, socket: JsonSocket) -> None:
        sockets = self._sockets.get(user_pk, set())
        sockets.discard(socket)
        if not sockets:
            self._sockets.pop(user_pk, None)

    async def _relay(self) -> None:
        layer = get_channel_layer()
        channel = await self._subscribe(layer)
        while True:
            message = await layer.receive(channel)
            for socket in tuple(self._sockets.get(message.get("user"), ())):
                check = asyncio.get_running_loop().create_task(
                    socket.dispatch({"type": RIGHTS_CHANGED})
                )
                self._checks.add(check)
                check.add_done_callback(self._checks.discard)

    async def _subscribe(self, layer) -> str:
        while True:
            try:
                channel = await layer.new_channel()
                await layer.group_add(RIGHTS_GROUP, channel)
                return channel
            except Exception as error:
                logger.warning("Cannot follow rights changes yet: %s", error)
                await asyncio.sleep(RELAY_RETRY_S)
            finally:
                self._first_try.set()


# One relay per event loop, as the channel layer's connections are.
_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RightsRelay] = (
    weakref.WeakKeyDictionary()
)


def get_rights_relay() -> RightsRelay:
    """The rights relay of the running event loop."""
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        relay = _relays[loop] = RightsRelay()
    return relay


def notify_rights_changed(user_pks: Iterable[int]) -> None:
    """Tell the users' open sockets, on every worker, to check their rights.

    Called inside a transaction: the sockets hear of it once it commits.
    """
    pks = list(user_pks)
    if pks:
        transaction.on_commit(lambda: _send_rights_changed(pks), robust=True)


def _send_rights_changed(user_pks: list[int]) -> None:
    send = async_to_sync(get_channel_layer().group_send)
    for pk in user_pks:
        send(RIGHTS_GROUP, {"type": RIGHTS_CHANGED, "user": pk})
