"""The private inbox socket, ``/ws/inbox/`` (docs/PROTOCOL.md)."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from radio.ratelimit import get_rate_limiter
from stations import protocol
from stations.protocol import ProtocolError
from stations.streaming.transport import SERVER_SEND, send_close_frame

from . import inbox
from .selectors import ainbox_unread
from .services import (
    NotStationDj,
    UnknownUser,
    ablock_create,
    ablock_delete,
    ainbox_message_send,
    ainbox_messages_mark_read,
)


class InboxConsumer(AsyncWebsocketConsumer):
    """``ws/inbox/``: a signed-in user's private messages, on every tab."""

    group: str | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=protocol.CLOSE_SIGN_IN_REQUIRED)
            return
        self.user = user
        self.group = inbox.group_name(user.pk)
        # Joined before reading the unread messages, so that none falls in
        # between; one may come twice, and clients go by its id.
        await self.channel_layer.group_add(self.group, self.channel_name)
        unread = await ainbox_unread(user)
        await self.send_message({"type": inbox.UNREAD, "messages": unread})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def send_message(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, separators=(",", ":")))

    # --- From the client -----------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if self.group is None:
            return  # Closing: not signed in.
        try:
            if bytes_data is not None:
                raise ProtocolError("The inbox takes JSON text messages only.")
            if len(text_data.encode()) > settings.RADIO_MAX_TEXT_FRAME_BYTES:
                await self.close_too_big()
                return
            await self.receive_message(protocol.decode_message(text_data))
        except ProtocolError as problem:
            await self.send_message(protocol.error(problem.code, str(problem)))

    async def receive_message(self, message: dict[str, Any]) -> None:
        handler = {
            inbox.SEND: self.receive_send,
            inbox.READ: self.receive_read,
            inbox.BLOCK: self.receive_block,
            inbox.UNBLOCK: self.receive_unblock,
        }.get(message["type"])
        if handler is None:
            raise ProtocolError(f"Unknown message type {message['type']!r}.")
        await handler(message)

    async def receive_send(self, message: dict[str, Any]) -> None:
        to = username_field(message, "to")
        text = protocol.text_field(message, "text", max_chars=inbox.MAX_TEXT_CHARS)
        if not text:
            raise ProtocolError('"text" must not be empty.')
        station = message.get("station")
        if station is not None and not isinstance(station, str):
            raise ProtocolError('"station" must be a station slug or null.')
        limiter = get_rate_limiter(
            "inbox",
            burst=settings.RADIO_INBOX_BURST,
            per_second=settings.RADIO_INBOX_MESSAGES_PER_SECOND,
        )
        if not limiter.allow(self.user.pk):
            raise ProtocolError(
                "Too many messages; wait a moment.", protocol.RATE_LIMITED
            )
        try:
            sent = await ainbox_message_send(
                sender=self.user, to=to, text=text, station_slug=station
            )
        except UnknownUser:
            raise self.unknown_user(to) from None
        except NotStationDj:
            raise ProtocolError(
                "Only a DJ of the station may send a shoutout from it.",
                protocol.FORBIDDEN,
            ) from None
        await self.send_message(
            {
                "type": inbox.SENT,
                "id": sent.pk,
                "to": sent.recipient.get_username(),
                "ts": sent.created_at.isoformat(),
            }
        )

    async def receive_read(self, message: dict[str, Any]) -> None:
        ids = message.get("ids")
        if (
            not isinstance(ids, list)
            or len(ids) > inbox.MAX_READ_IDS
            or not all(type(id_) is int for id_ in ids)
        ):
            raise ProtocolError(
                f'"ids" must be a list of at most {inbox.MAX_READ_IDS} integers.'
            )
        # Every connection, this one too, hears of it through the group.
        await ainbox_messages_mark_read(user=self.user, ids=ids)

    async def receive_block(self, message: dict[str, Any]) -> None:
        username = self.other_username(message)
        try:
            blocked = await ablock_create(blocker=self.user, username=username)
        except UnknownUser:
            raise self.unknown_user(username) from None
        await self.send_message({"type": inbox.BLOCKED, "user": blocked.get_username()})

    async def receive_unblock(self, message: dict[str, Any]) -> None:
        username = self.other_username(message)
        try:
            unblocked = await ablock_delete(blocker=self.user, username=username)
        except UnknownUser:
            raise self.unknown_user(username) from None
        await self.send_message(
            {"type": inbox.UNBLOCKED, "user": unblocked.get_username()}
        )

    def other_username(self, message: dict[str, Any]) -> str:
        username = username_field(message, "user")
        if username == self.user.get_username():
            raise ProtocolError("You cannot block or unblock yourself.")
        return username

    @staticmethod
    def unknown_user(username: str) -> ProtocolError:
        return ProtocolError(f"No user is called {username!r}.", inbox.UNKNOWN_USER)

    async def close_too_big(self) -> None:
        if not send_close_frame(
            self.scope[SERVER_SEND], protocol.CLOSE_MESSAGE_TOO_BIG
        ):
            await self.close(code=protocol.CLOSE_MESSAGE_TOO_BIG)

    # --- From the group ``inbox.<pk>`` ---------------------------------------

    async def inbox_message(self, event: dict[str, Any]) -> None:
        """A message to this user, from ``services.inbox_message_send``."""
        await self.send_message(event["message"])

    async def inbox_read(self, event: dict[str, Any]) -> None:
        """Messages to this user were marked read, maybe on another tab."""
        await self.send_message({"type": inbox.READ, "ids": event["ids"]})


def username_field(message: dict[str, Any], name: str) -> str:
    """A non-empty username field of ``message``."""
    username = protocol.text_field(message, name, max_chars=inbox.MAX_USERNAME_CHARS)
    if not username:
        raise ProtocolError(f'"{name}" must name a user.')
    return username
