"""The station room and the DJ's broadcast socket (docs/PROTOCOL.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from radio.ratelimit import get_rate_limiter

from . import protocol
from .chat import CHAT, CHAT_DELETED, CHAT_HISTORY
from .models import CHAT_MAX_CHARS
from .protocol import ProtocolError
from .runtime import broadcast_settings, get_bus, run_in_background
from .selectors import achat_history, astation_get, astation_has_dj, station_format
from .services import (
    ChatForbidden,
    ChatNotFound,
    achat_message_create,
    achat_message_delete,
    achat_mute,
    achat_unmute,
)
from .streaming.broadcast import MAX_TITLE_CHARS, Broadcast
from .streaming.bus import Claim
from .streaming.hub import StationHub, listeners_with_users
from .streaming.ingest import UnsupportedFormat
from .streaming.listeners import ControlListener, Listener
from .streaming.transcoder import TranscoderError
from .streaming.transport import (
    SERVER_SEND,
    Transport,
    send_close_frame,
    websocket_transport,
)

logger = logging.getLogger(__name__)

# Close codes a client sends when it leaves on purpose.
DELIBERATE_CLOSE_CODES = {1000, 1001}
# Longest username a moderator may name (Django's username max_length).
MAX_USERNAME_CHARS = 150

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class StationSocket(AsyncWebsocketConsumer):
    """What both station sockets share: the station, limits, JSON errors,
    the station's chat and its moderation."""

    transport: Transport | None = None
    listener: Listener | None = None
    closed_by_server = False

    async def connect(self) -> None:
        await self.accept()
        self.station = await astation_get(self.scope["url_route"]["kwargs"]["slug"])
        if self.station is None:
            await self.close(code=protocol.CLOSE_NO_SUCH_STATION)
            return
        await self.join()

    async def join(self) -> None:
        raise NotImplementedError

    def attach_listener(self, listener_class: type[Listener]) -> Listener:
        self.transport = websocket_transport(self.scope[SERVER_SEND])
        user = self.scope["user"]
        self.listener = listener_class(
            self.transport,
            max_stall_s=settings.RADIO_LISTENER_MAX_STALL_SECONDS,
            on_too_slow=self.close_too_far_behind,
            username=user.get_username() if user.is_authenticated else None,
        )
        return self.listener

    async def close(self, code: int | bool | None = None, reason: str | None = None):
        self.closed_by_server = True
        await super().close(code, reason)

    async def close_too_big(self) -> None:
        self.closed_by_server = True
        if not send_close_frame(
            self.scope[SERVER_SEND], protocol.CLOSE_MESSAGE_TOO_BIG
        ):
            await self.close(code=protocol.CLOSE_MESSAGE_TOO_BIG)

    def close_too_far_behind(self) -> None:
        run_in_background(self.close(code=protocol.CLOSE_TOO_FAR_BEHIND))

    def send_message(self, message: dict[str, Any]) -> None:
        self.transport.send_text(json.dumps(message, separators=(",", ":")))

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        try:
            if bytes_data is not None:
                await self.receive_audio(bytes_data)
            elif len(text_data.encode()) > settings.RADIO_MAX_TEXT_FRAME_BYTES:
                await self.close_too_big()
            else:
                await self.receive_message(protocol.decode_message(text_data))
        except ProtocolError as problem:
            self.send_message(protocol.error(problem.code, str(problem)))

    async def receive_audio(self, data: bytes) -> None:
        raise ProtocolError("Only a live DJ sends audio, on the broadcast socket.")

    def handlers(self) -> dict[str, Handler]:
        """The client message types this socket takes, with their handlers."""
        return {
            "chat.delete": self.chat_delete,
            "chat.mute": self.chat_mute,
            "chat.unmute": self.chat_unmute,
        }

    async def receive_message(self, message: dict[str, Any]) -> None:
        handler = self.handlers().get(message["type"])
        if handler is None:
            raise ProtocolError(f"Unknown message type {message['type']!r}.")
        await handler(message)

    # --- Chat ----------------------------------------------------------------

    def signed_in_user(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            raise ProtocolError("Sign in to chat.", protocol.AUTH_REQUIRED)
        return user

    async def chat_delete(self, message: dict[str, Any]) -> None:
        message_id = message.get("id")
        if type(message_id) is not int:
            raise ProtocolError('"id" must be the id of a chat message.')
        await self.moderate(achat_message_delete, message_id=message_id)

    async def chat_mute(self, message: dict[str, Any]) -> None:
        username = self.username_field(message)
        await self.moderate(achat_mute, username=username)
        self.send_message({"type": "chat.muted", "user": username})

    async def chat_unmute(self, message: dict[str, Any]) -> None:
        username = self.username_field(message)
        await self.moderate(achat_unmute, username=username)
        self.send_message({"type": "chat.unmuted", "user": username})

    @staticmethod
    def username_field(message: dict[str, Any]) -> str:
        username = protocol.text_field(message, "user", max_chars=MAX_USERNAME_CHARS)
        if not username:
            raise ProtocolError('"user" must name a user.')
        return username

    async def moderate(self, service, **arguments: Any) -> None:
        """Call a moderation service as the signed-in user."""
        actor = self.signed_in_user()
        try:
            await service(station=self.station, actor=actor, **arguments)
        except ChatForbidden as problem:
            raise ProtocolError(str(problem), protocol.FORBIDDEN) from None
        except ChatNotFound as problem:
            raise ProtocolError(str(problem)) from None

    async def join_hub(
        self, kind: type[Listener], first: Callable[[StationHub], dict[str, Any]]
    ) -> None:
        """Join the station's hub as a ``kind``, after ``first(hub)`` and chat.history.

        Chat that comes while the history is read is sent after it, once.
        """
        hub = await get_bus().attach(self.station.pk)
        listener = self.attach_listener(kind)
        mark = hub.events_published
        history = await achat_history(self.station)
        # From here to join() nothing is awaited, so the burst and the live
        # packets that follow it meet without a gap.
        self.send_message(first(hub))
        self.send_message({"type": CHAT_HISTORY, "messages": history})
        hub.join(listener)
        in_history = {message["id"] for message in history}
        for event in hub.events_since(mark):
            if event.type == CHAT_DELETED or (
                event.type == CHAT and event.data["id"] not in in_history
            ):
                listener.deliver_event(event)

    async def disconnect(self, code: int) -> None:
        if self.listener is not None:
            bus = get_bus()
            bus.hub(self.station.pk).leave(self.listener)
            await self.transport.aclose()
            await bus.detach(self.station.pk)


class StationConsumer(StationSocket):
    """``ws/stations/<slug>/``: the station's audio, state and listeners."""

    async def join(self) -> None:
        user = self.scope["user"]
        await self.join_hub(
            Listener,
            lambda hub: {
                "type": "hello",
                "station": {"slug": self.station.slug, "name": self.station.name},
                **hub.state.as_dict(),
                "listeners": hub.listener_estimate + 1,
                "user": user.get_username() if user.is_authenticated else None,
                "format": station_format(self.station),
            },
        )

    def handlers(self) -> dict[str, Handler]:
        return {"chat": self.chat, **super().handlers()}

    async def chat(self, message: dict[str, Any]) -> None:
        """A chat message from the signed-in user; the session says who."""
        user = self.signed_in_user()
        text = protocol.text_field(message, "text", max_chars=CHAT_MAX_CHARS)
        if not text:
            raise ProtocolError('"text" must not be empty.')
        limiter = get_rate_limiter(
            "chat",
            burst=settings.RADIO_CHAT_BURST_MESSAGES,
            per_second=settings.RADIO_CHAT_MESSAGES_PER_SECOND,
        )
        if not limiter.allow(user.pk):
            raise ProtocolError(
                "You are sending chat messages too fast; wait a moment.",
                protocol.RATE_LIMITED,
            )
        try:
            await achat_message_create(station=self.station, user=user, text=text)
        except ChatForbidden as problem:
            raise ProtocolError(str(problem), protocol.FORBIDDEN) from None


class BroadcastConsumer(StationSocket):
    """``ws/stations/<slug>/broadcast/``: a DJ of the station goes live."""

    broadcast: Broadcast | None = None

    async def join(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=protocol.CLOSE_SIGN_IN_REQUIRED)
            return
        if not await astation_has_dj(self.station, user):
            await self.close(code=protocol.CLOSE_FORBIDDEN)
            return
        await self.join_hub(
            ControlListener,
            lambda hub: {
                **listeners_with_users(hub.audience),
                "count": hub.listener_estimate,
            },
        )

    def handlers(self) -> dict[str, Handler]:
        return {
            "start": self.start,
            "now_playing": self.now_playing,
            "stop": self.stop,
            **super().handlers(),
        }

    async def start(self, message: dict[str, Any]) -> None:
        if self.broadcast is not None and self.broadcast.live:
            raise ProtocolError("This broadcast has started already.")
        mime = protocol.text_field(message, "format", max_chars=100)
        broadcast = Broadcast(
            bus=get_bus(),
            station_id=self.station.pk,
            user_id=self.scope["user"].pk,
            settings=broadcast_settings(self.station),
            on_lost=self.broadcast_lost,
        )
        try:
            claim = await broadcast.start(mime)
        except UnsupportedFormat as problem:
            raise ProtocolError(str(problem), protocol.UNSUPPORTED_FORMAT) from None
        except TranscoderError as problem:
            logger.error("Could not start a transcoder: %s", problem)
            raise ProtocolError(
                "The server cannot take audio now.", protocol.INPUT_FAILED
            ) from None
        if claim is Claim.REFUSED:
            await self.close(code=protocol.CLOSE_DJ_ALREADY_LIVE)
            return
        self.broadcast = broadcast
        self.send_message({"type": "live", "resumed": claim is Claim.RESUMED})

    async def now_playing(self, message: dict[str, Any]) -> None:
        broadcast = self.live_broadcast()
        await broadcast.set_now_playing(
            title=protocol.text_field(message, "title", max_chars=MAX_TITLE_CHARS),
            artist=protocol.text_field(message, "artist", max_chars=MAX_TITLE_CHARS),
        )

    async def stop(self, message: dict[str, Any]) -> None:
        await self.live_broadcast().stop()

    async def receive_audio(self, data: bytes) -> None:
        if len(data) > settings.RADIO_MAX_AUDIO_CHUNK_BYTES:
            await self.close_too_big()
            return
        broadcast = self.live_broadcast()
        try:
            await broadcast.feed(data)
        except TranscoderError as problem:
            logger.warning(
                "Broadcast input failed on station %s: %s", self.station.slug, problem
            )
            await broadcast.stop()
            raise ProtocolError(
                "The audio could not be decoded; the broadcast has ended.",
                protocol.INPUT_FAILED,
            ) from None

    def live_broadcast(self) -> Broadcast:
        if self.broadcast is None or not self.broadcast.live:
            raise ProtocolError('Send {"type": "start", "format": ...} first.')
        return self.broadcast

    def broadcast_lost(self, reason: str) -> None:
        """The broadcast ended without the DJ asking (idle, or taken over)."""
        if reason == "idle":
            self.send_message(
                protocol.error(
                    protocol.IDLE, "No audio arrived for too long; you are off air."
                )
            )
        run_in_background(self.close())

    async def disconnect(self, code: int) -> None:
        broadcast = self.broadcast
        if broadcast is not None and broadcast.live:
            if self.closed_by_server or code in DELIBERATE_CLOSE_CODES:
                await broadcast.stop()
            else:
                run_in_background(broadcast.suspend())
        await super().disconnect(code)


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: refused at the handshake (HTTP 403)."""

    async def connect(self) -> None:
        await self.close()
