"""The station room and the DJ's broadcast socket (docs/PROTOCOL.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from radio import protocol
from radio.middleware import SERVER_SEND
from radio.protocol import (
    CHAT_MAX_CHARS,
    MAX_TITLE_CHARS,
    ProtocolError,
)
from radio.sockets import (
    Close,
    JsonSocket,
    arate_limit,
    arate_limit_titles,
    arate_limit_writes,
    auser_active,
)

from .broadcasts import SLOT_ENDED, go_live
from .calls.sockets import CallDesk, CallerSocket
from .programme.slot_guard import SlotEnding
from .programme.slot_rules import OutsideSlot
from .rooms import astation_full, join_station, leave_station
from .runtime import run_in_background
from .selectors import astation_get, astation_has_dj, station_format
from .services import (
    ChatForbidden,
    ChatNotFound,
    ChatUnavailable,
    achat_message_create,
    achat_message_delete,
    achat_mute,
    achat_unmute,
)
from .statistics.models import Transport as SessionTransport
from .statistics.recorder import visit_from_scope
from .streaming.audience import ControlListener, Listener
from .streaming.broadcast import LEASE_LOST, Broadcast, BroadcastTooFast, OnAir
from .streaming.bus import BusUnavailable, Claim
from .streaming.hub import StationHub, listeners_with_users
from .streaming.ingest import UnsupportedFormat
from .streaming.transcoder import TranscoderError
from .streaming.transport import Transport, websocket_transport

logger = logging.getLogger(__name__)


class StationSocket(JsonSocket):
    """What both station sockets share: the station, its hub, the station's
    chat and its moderation."""

    transport: Transport | None = None
    listener: Listener | None = None

    async def join(self) -> None:
        self.station = await astation_get(self.scope["url_route"]["kwargs"]["slug"])
        if self.station is None:
            raise Close(protocol.CLOSE_NO_SUCH_STATION)

    def make_listener(self, listener_class: type[Listener]) -> Listener:
        """A ``listener_class`` writing to this socket's transport."""
        self.transport = websocket_transport(self.scope[SERVER_SEND])
        user = self.scope["user"]
        return listener_class(
            self.transport,
            max_stall_s=settings.RADIO_LISTENER_MAX_STALL_SECONDS,
            on_too_slow=self.close_too_far_behind,
            username=user.get_username() if user.is_authenticated else None,
        )

    async def close(self, code: int | bool | None = None, reason: str | None = None):
        # What was written to the client goes before the close frame.
        if self.transport is not None:
            await self.transport.drain()
        await super().close(code, reason)

    def close_too_far_behind(self) -> None:
        run_in_background(self.close(code=protocol.CLOSE_TOO_FAR_BEHIND))

    async def send_message(self, message: dict[str, Any]) -> None:
        self.write_message(message)

    def write_message(self, message: dict[str, Any]) -> None:
        """Write ``message`` behind the audio and events already written."""
        self.transport.send_text(protocol.encode(message))

    # --- Chat ----------------------------------------------------------------

    def signed_in_user(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            raise ProtocolError("Sign in to chat.", protocol.AUTH_REQUIRED)
        return user

    async def handle_chat(self, message: dict[str, Any]) -> None:
        """A chat message from the signed-in user; the session says who.

        A DJ chats from the station room or from the console's socket;
        listeners see a DJ's messages with a badge.
        """
        user = self.signed_in_user()
        text = protocol.text_field(message, "text", max_chars=CHAT_MAX_CHARS)
        if not text:
            raise ProtocolError('"text" must not be empty.')
        await arate_limit(
            "chat",
            user.pk,
            burst=settings.RADIO_CHAT_BURST_MESSAGES,
            per_second=settings.RADIO_CHAT_MESSAGES_PER_SECOND,
            refusal="You are sending chat messages too fast; wait a moment.",
        )
        try:
            await achat_message_create(station=self.station, user=user, text=text)
        except ChatForbidden as problem:
            raise ProtocolError(str(problem), protocol.FORBIDDEN) from None
        except ChatUnavailable:
            raise chat_unavailable() from None

    async def handle_chat_delete(self, message: dict[str, Any]) -> None:
        message_id = protocol.id_field(message, "id")
        await self.moderate(achat_message_delete, message_id=message_id)

    async def handle_chat_mute(self, message: dict[str, Any]) -> None:
        username = protocol.username_field(message, "user")
        await self.moderate(achat_mute, username=username)
        await self.send_message({"type": protocol.CHAT_MUTED, "user": username})

    async def handle_chat_unmute(self, message: dict[str, Any]) -> None:
        username = protocol.username_field(message, "user")
        await self.moderate(achat_unmute, username=username)
        await self.send_message({"type": protocol.CHAT_UNMUTED, "user": username})

    async def moderate(self, service, **arguments: Any) -> None:
        """Call a moderation service as the signed-in user."""
        actor = self.signed_in_user()
        await arate_limit_writes(actor.pk)
        try:
            await service(station=self.station, actor=actor, **arguments)
        except ChatForbidden as problem:
            raise ProtocolError(str(problem), protocol.FORBIDDEN) from None
        except ChatNotFound as problem:
            raise ProtocolError(str(problem)) from None
        except ChatUnavailable:
            raise chat_unavailable() from None

    async def join_hub(
        self, kind: type[Listener], hello: Callable[[StationHub], dict[str, Any]]
    ) -> None:
        """Join the station's output as a ``kind``, greeted by ``hello(hub)``."""
        self.listener = await join_station(
            self.station,
            lambda hub: self.make_listener(kind),
            hello=hello,
            visit=visit_from_scope(
                self.scope,
                station_id=self.station.pk,
                transport=SessionTransport.WEBSOCKET,
            ),
        )

    async def leave(self, code: int) -> None:
        if self.listener is not None:
            await leave_station(self.station, self.listener)
            # It calls back this socket (on_too_slow): without this cycle the
            # socket is freed when it ends, not by the garbage collector.
            self.listener = None


class StationConsumer(CallerSocket, StationSocket):
    """``ws/stations/<slug>/``: the station's audio, state and listeners;
    a signed-in listener may call in on it."""

    async def join(self) -> None:
        await super().join()
        if await astation_full(self.station):
            raise Close(protocol.CLOSE_STATION_FULL)
        user = self.scope["user"]
        await self.join_hub(
            Listener,
            lambda hub: {
                "type": protocol.HELLO,
                "station": {"slug": self.station.slug, "name": self.station.name},
                **hub.state.as_dict(),
                "listeners": hub.listener_estimate + 1,
                "user": user.get_username() if user.is_authenticated else None,
                "format": station_format(self.station),
                "schedule": hub.state.schedule,
            },
        )

    async def leave(self, code: int) -> None:
        try:
            await self.hang_up_caller(code)
        finally:
            await super().leave(code)

    async def check_rights(self) -> None:
        """A user who may no longer sign in stays, as an anonymous listener."""
        if not await auser_active(self.scope["user"]):
            await self.hang_up_caller(protocol.CLOSE_FORBIDDEN)
            self.scope["user"] = AnonymousUser()
            self.listener.username = None
            await self.send_message(
                protocol.error(
                    protocol.AUTH_REQUIRED,
                    "You are signed out; you go on listening as a guest.",
                )
            )


class BroadcastConsumer(CallDesk, StationSocket):
    """``ws/stations/<slug>/broadcast/``: a DJ of the station goes live, and
    answers listeners' calls."""

    broadcast: Broadcast | None = None

    async def join(self) -> None:
        await super().join()
        await self.require_dj()
        await self.join_hub(
            ControlListener,
            lambda hub: {
                **listeners_with_users(hub.audience),
                "count": hub.listener_estimate,
            },
        )
        await self.open_desk()

    async def require_dj(self) -> None:
        """Close the socket unless its user is (still) a DJ of the station."""
        user = self.scope["user"]
        if not user.is_authenticated:
            raise Close(protocol.CLOSE_SIGN_IN_REQUIRED)
        if not await astation_has_dj(self.station, user):
            raise Close(protocol.CLOSE_FORBIDDEN)

    async def check_rights(self) -> None:
        """A DJ taken off the station, or whose account was closed, goes off air."""
        try:
            await self.require_dj()
        except Close:
            if self.broadcast is not None:
                await self.broadcast.stop()
            await self.send_message(
                protocol.error(
                    protocol.FORBIDDEN, "You are no longer a DJ of this station."
                )
            )
            raise

    async def handle_start(self, message: dict[str, Any]) -> None:
        if self.broadcast is not None and self.broadcast.live:
            raise ProtocolError("This broadcast has started already.")
        mime = protocol.text_field(
            message, "format", max_chars=protocol.MAX_FORMAT_CHARS
        )
        await self.require_dj()
        try:
            broadcast, claim = await go_live(
                self.station,
                user_id=self.scope["user"].pk,
                on_air=OnAir(dj=self.scope["user"].get_username()),
                mime=mime,
                on_lost=self.broadcast_lost,
                on_slot_ending=self.slot_ending,
            )
        except OutsideSlot as refusal:
            await self.send_message(protocol.error(protocol.OUTSIDE_SLOT, str(refusal)))
            raise Close(protocol.CLOSE_OUTSIDE_SLOT) from None
        except UnsupportedFormat as problem:
            raise ProtocolError(str(problem), protocol.UNSUPPORTED_FORMAT) from None
        except TranscoderError as problem:
            logger.error("Could not start a transcoder: %s", problem)
            raise ProtocolError(
                "The server cannot take audio now.", protocol.INPUT_FAILED
            ) from None
        except BusUnavailable:
            raise ProtocolError(
                "The server cannot reach its other workers now; start again "
                "in a few seconds.",
                protocol.UNAVAILABLE,
            ) from None
        if claim is Claim.REFUSED:
            raise Close(protocol.CLOSE_DJ_ALREADY_LIVE)
        self.broadcast = broadcast
        await self.send_message(
            {"type": protocol.LIVE, "resumed": claim is Claim.RESUMED}
        )

    async def handle_now_playing(self, message: dict[str, Any]) -> None:
        broadcast = self.live_broadcast()
        title = protocol.text_field(message, "title", max_chars=MAX_TITLE_CHARS)
        artist = protocol.text_field(message, "artist", max_chars=MAX_TITLE_CHARS)
        await arate_limit_titles(self.scope["user"].pk)
        await broadcast.set_now_playing(title=title, artist=artist)

    async def handle_stop(self, message: dict[str, Any]) -> None:
        await self.live_broadcast().stop()

    async def receive_bytes(self, data: bytes) -> None:
        if len(data) > settings.RADIO_MAX_AUDIO_CHUNK_BYTES:
            await self.close_with(protocol.CLOSE_MESSAGE_TOO_BIG)
            return
        broadcast = self.live_broadcast()
        try:
            await broadcast.feed(data)
        except BroadcastTooFast:
            await broadcast.stop()
            await self.send_message(
                protocol.error(
                    protocol.TOO_FAST,
                    "Audio arrived much faster than it plays; send it in real "
                    "time. The broadcast has ended.",
                )
            )
            raise Close(protocol.CLOSE_BAD_REQUEST) from None
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
        """The broadcast ended without the DJ asking (idle, taken over, or
        their slot over)."""
        code = None
        if reason == "idle":
            self.write_message(
                protocol.error(
                    protocol.IDLE, "No audio arrived for too long; you are off air."
                )
            )
        elif reason == LEASE_LOST:
            self.write_message(
                protocol.error(
                    protocol.TAKEN_OVER,
                    "The station was taken over while the server could not "
                    "renew your turn; you are off air.",
                )
            )
            code = protocol.CLOSE_DJ_ALREADY_LIVE
        elif reason == SLOT_ENDED:
            self.write_message(
                protocol.error(
                    protocol.SLOT_ENDED, "Your slot is over; you are off air."
                )
            )
            code = protocol.CLOSE_OUTSIDE_SLOT
        run_in_background(self.close(code=code))

    def slot_ending(self, warning: SlotEnding) -> None:
        self.write_message(
            {
                "type": protocol.SLOT_ENDING,
                "ends_at": warning.ends_at.astimezone(UTC).isoformat(),
                "off_air_at": warning.off_air_at.astimezone(UTC).isoformat(),
                "minutes_left": warning.minutes_left,
            }
        )

    async def server_restarting(self) -> None:
        """Suspend the broadcast before the console hears 1012: the DJ who
        reconnects at once to another worker resumes it there."""
        if self.broadcast is not None:
            await self.broadcast.hand_over()
        await super().server_restarting()

    async def leave(self, code: int) -> None:
        broadcast = self.broadcast
        try:
            if broadcast is not None and broadcast.live:
                if self.closed_by_server or code in protocol.DELIBERATE_CLOSE_CODES:
                    await broadcast.stop()
                else:
                    run_in_background(broadcast.suspend())
        finally:
            try:
                await self.close_desk()
            finally:
                await super().leave(code)


def chat_unavailable() -> ProtocolError:
    return ProtocolError(
        "Chat cannot reach the station now; try again in a few seconds.",
        protocol.UNAVAILABLE,
    )


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: refused at the handshake (HTTP 403)."""

    async def connect(self) -> None:
        await self.close()
