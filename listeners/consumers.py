"""The private inbox socket, ``/ws/inbox/`` (docs/PROTOCOL.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from radio import protocol
from radio.protocol import ProtocolError
from radio.sockets import (
    Close,
    JsonSocket,
    arate_limit,
    arate_limit_writes,
    auser_active,
)

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


class InboxConsumer(JsonSocket):
    """``ws/inbox/``: a signed-in user's private messages, on every tab."""

    group: str | None = None
    uses_channel_layer = True

    async def join(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            raise Close(protocol.CLOSE_SIGN_IN_REQUIRED)
        self.user = user
        self.group = inbox.group_name(user.pk)
        # Joined before reading the unread messages, so that none falls in
        # between; one may come twice, and clients go by its id.
        await self.channel_layer.group_add(self.group, self.channel_name)
        unread = await ainbox_unread(user)
        await self.send_message({"type": protocol.INBOX_UNREAD, "messages": unread})

    async def leave(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def check_rights(self) -> None:
        if not await auser_active(self.user):
            raise Close(protocol.CLOSE_SIGN_IN_REQUIRED)

    # --- From the client -----------------------------------------------------

    async def handle_inbox_send(self, message: dict[str, Any]) -> None:
        to = protocol.username_field(message, "to")
        text = protocol.text_field(
            message, "text", max_chars=protocol.INBOX_MAX_TEXT_CHARS
        )
        if not text:
            raise ProtocolError('"text" must not be empty.')
        station = message.get("station")
        if station is not None:
            station = protocol.text_field(
                message, "station", max_chars=protocol.MAX_SLUG_CHARS
            )
        client_id = message.get("client_id")
        if client_id is not None:
            client_id = (
                protocol.text_field(
                    message, "client_id", max_chars=protocol.INBOX_MAX_CLIENT_ID_CHARS
                )
                or None
            )
        await arate_limit(
            "inbox",
            self.user.pk,
            burst=settings.RADIO_INBOX_BURST,
            per_second=settings.RADIO_INBOX_MESSAGES_PER_SECOND,
            refusal="Too many messages; wait a moment.",
        )
        try:
            sent = await ainbox_message_send(
                sender=self.user,
                to=to,
                text=text,
                station_slug=station,
                client_id=client_id,
            )
        except UnknownUser:
            raise self.unknown_user(to) from None
        except NotStationDj:
            raise ProtocolError(
                "Only a DJ of the station may send a shoutout from it.",
                protocol.FORBIDDEN,
            ) from None
        answer = {
            "type": protocol.INBOX_SENT,
            "id": sent.pk,
            "to": sent.recipient.get_username(),
            "ts": sent.created_at.isoformat(),
        }
        if client_id is not None:
            answer["client_id"] = client_id
        await self.send_message(answer)

    async def handle_inbox_read(self, message: dict[str, Any]) -> None:
        ids = message.get("ids")
        if (
            not isinstance(ids, list)
            or len(ids) > protocol.INBOX_MAX_READ_IDS
            or not all(protocol.is_id(id_) for id_ in ids)
        ):
            raise ProtocolError(
                f'"ids" must be a list of at most {protocol.INBOX_MAX_READ_IDS} '
                "message ids."
            )
        await arate_limit_writes(self.user.pk)
        # Every connection, this one too, hears of it through the group.
        await ainbox_messages_mark_read(user=self.user, ids=ids)

    async def handle_inbox_block(self, message: dict[str, Any]) -> None:
        username = self.other_username(message)
        await arate_limit_writes(self.user.pk)
        try:
            blocked = await ablock_create(blocker=self.user, username=username)
        except UnknownUser:
            raise self.unknown_user(username) from None
        await self.send_message(
            {"type": protocol.INBOX_BLOCKED, "user": blocked.get_username()}
        )

    async def handle_inbox_unblock(self, message: dict[str, Any]) -> None:
        username = self.other_username(message)
        await arate_limit_writes(self.user.pk)
        try:
            unblocked = await ablock_delete(blocker=self.user, username=username)
        except UnknownUser:
            raise self.unknown_user(username) from None
        await self.send_message(
            {"type": protocol.INBOX_UNBLOCKED, "user": unblocked.get_username()}
        )

    def other_username(self, message: dict[str, Any]) -> str:
        username = protocol.username_field(message, "user")
        if username == self.user.get_username():
            raise ProtocolError("You cannot block or unblock yourself.")
        return username

    @staticmethod
    def unknown_user(username: str) -> ProtocolError:
        return ProtocolError(f"No user is called {username!r}.", protocol.UNKNOWN_USER)

    # --- From the group ``inbox.<pk>`` ---------------------------------------

    async def inbox_message(self, event: dict[str, Any]) -> None:
        """A message to this user, from ``services.ainbox_message_send``."""
        await self.send_message(event["message"])

    async def inbox_read(self, event: dict[str, Any]) -> None:
        """Messages to this user were marked read, maybe on another tab."""
        await self.send_message({"type": protocol.INBOX_READ, "ids": event["ids"]})
