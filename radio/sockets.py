"""What every JSON WebSocket of radio shares (docs/PROTOCOL.md).

A socket is accepted, then joins: it checks who may use it and takes what it
needs, or refuses with a close code. Until it has joined, and once it is
closing, client messages are dropped unread. A joined socket's JSON messages
are size-checked, decoded and handed to ``handle_<type>`` (``chat.delete``
goes to ``handle_chat_delete``); a ``ProtocolError`` is answered with an
``error`` message. Any other error in any handler closes the socket with 1011
and releases what it took, as a disconnect does.

Every socket of a signed-in user is in the channel-layer group of that user,
on every worker, so that it hears when the user's rights change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from . import protocol
from .daphne import send_close_frame
from .middleware import SERVER_SEND
from .protocol import ProtocolError
from .ratelimit import get_rate_limiter

logger = logging.getLogger(__name__)

# Client message types: dotted lowercase words, which name a handler.
MESSAGE_TYPE = re.compile(r"[a-z]+(?:[._][a-z]+)*")
# The group event that tells a user's sockets to check their rights again.
RIGHTS_CHANGED = "user.rights_changed"


class Close(Exception):
    """Raised by ``join`` or a handler: close the socket with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class JsonSocket(AsyncWebsocketConsumer):
    """A WebSocket that speaks the JSON protocol; subclasses add hooks."""

    joined = False
    closed_by_server = False
    _left = False
    _user_group: str | None = None

    # --- Hooks for subclasses ------------------------------------------------

    async def join(self) -> None:
        """Check the client may use this socket and take what it needs.

        Raise ``Close`` to refuse. Runs once, after the socket is accepted.
        """

    async def leave(self, code: int) -> None:
        """Release what ``join`` took; called once, however the socket ends."""

    async def check_rights(self) -> None:
        """The user's rights changed: raise ``Close`` if they are gone."""

    async def send_message(self, message: dict[str, Any]) -> None:
        await self.send(text_data=protocol.encode(message))

    async def receive_bytes(self, data: bytes) -> None:
        raise ProtocolError("This socket takes JSON text messages only.")

    # --- Lifecycle -----------------------------------------------------------

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        if user.is_authenticated:
            # Joined before the rights are checked, so no change is missed.
            self._user_group = user_group_name(user.pk)
            await self.channel_layer.group_add(self._user_group, self.channel_name)
        await self.join()
        self.joined = True

    async def disconnect(self, code: int) -> None:
        if self._left:
            return
        self._left = True
        self.joined = False
        if self._user_group is not None:
            await self.channel_layer.group_discard(self._user_group, self.channel_name)
        await self.leave(code)

    async def dispatch(self, message: dict[str, Any]) -> None:
        try:
            await super().dispatch(message)
        except StopConsumer:
            raise
        except Close as close:
            await self.close_with(close.code)
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
            elif len(text_data.encode()) > settings.RADIO_MAX_TEXT_FRAME_BYTES:
                await self.close_with(protocol.CLOSE_MESSAGE_TOO_BIG)
            else:
                await self.receive_message(protocol.decode_message(text_data))
        except ProtocolError as problem:
            await self.send_message(protocol.error(problem.code, str(problem)))

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


def rate_limit(
    purpose: str, user_pk: int, *, burst: int, per_second: float, refusal: str
) -> None:
    """Count a user's message for ``purpose``; refuse it over the limit."""
    limiter = get_rate_limiter(purpose, burst=burst, per_second=per_second)
    if not limiter.allow(user_pk):
        raise ProtocolError(refusal, protocol.RATE_LIMITED)


def rate_limit_writes(user_pk: int) -> None:
    """Count a message that writes to the database (marking read, blocking,
    moderating); refuse it beyond the rate that keeps the database free."""
    rate_limit(
        "writes",
        user_pk,
        burst=settings.RADIO_WRITES_BURST,
        per_second=settings.RADIO_WRITES_PER_SECOND,
        refusal="Too many changes at once; wait a moment.",
    )


def rate_limit_titles(user_pk: int) -> None:
    """Count a DJ's title change, from the console or an encoder; refuse
    it over the limit."""
    rate_limit(
        "titles",
        user_pk,
        burst=settings.RADIO_NOW_PLAYING_BURST,
        per_second=settings.RADIO_NOW_PLAYING_PER_SECOND,
        refusal="The title changes too often; wait a moment.",
    )


async def auser_active(user: AbstractBaseUser) -> bool:
    """Whether ``user`` still exists and may sign in."""
    return await get_user_model().objects.filter(pk=user.pk, is_active=True).aexists()


def user_group_name(user_pk: int) -> str:
    """The channel-layer group of every socket of one signed-in user."""
    return f"user.{user_pk}"


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
        send(user_group_name(pk), {"type": RIGHTS_CHANGED})
