"""Changing stations and their chat."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from radio.protocol import CHAT_DELETED

from .chat import chat_message_as_dict
from .models import ChatMessage, Station, StationMute
from .runtime import apublish_event, get_bus
from .selectors import station_chat_muted, station_has_dj, station_managed_by
from .streaming.bus import BusUnavailable

logger = logging.getLogger(__name__)


class UnknownUsers(ValueError):
    """Some of the named users do not exist."""


class ChatForbidden(PermissionError):
    """The user may not do this in the station's chat."""


class ChatNotFound(LookupError):
    """No such chat message or user in the station."""


@transaction.atomic
def station_create_or_update(
    *,
    slug: str,
    name: str,
    dj_usernames: list[str],
    bitrate: int | None = None,
    source_password: str | None = None,
) -> tuple[Station, bool]:
    """Create the station ``slug``, or update it; True if it was created.

    Every DJ must be an existing user; the DJs given are added to the
    station's DJs. A ``source_password`` of None keeps the station's; an
    empty one removes it.
    """
    users = list(get_user_model().objects.filter(username__in=dj_usernames))
    missing = sorted(set(dj_usernames) - {user.get_username() for user in users})
    if missing:
        raise UnknownUsers(f"No such user: {', '.join(missing)}.")
    defaults = {"name": name} if bitrate is None else {"name": name, "bitrate": bitrate}
    station, created = Station.objects.get_or_create(slug=slug, defaults=defaults)
    if not created:
        for field, value in defaults.items():
            setattr(station, field, value)
    if source_password is not None:
        station.set_source_password(source_password)
    station.full_clean()
    station.save()
    station.djs.add(*users)
    return station, created


# --- Chat --------------------------------------------------------------------
#
# A chat change is stored in the database thread and sent from the event loop
# once that has returned, committed: a slow or absent Redis then holds up
# only the change's own sender, never the one database thread that every
# socket of the worker shares.


class ChatUnavailable(RuntimeError):
    """The station bus is away (Redis): chat cannot reach the station now."""


def notify_chat_on_commit(station_id: int, message: dict[str, Any]) -> None:
    """Send ``message`` to everyone in the station once the transaction commits.

    For sync callers outside the sockets' database thread (the admin). Must
    be called inside ``transaction.atomic()``, so that nobody ever sees a
    change that was rolled back. Chat travels with the station's output
    (``runtime.apublish_event``): encoded once, written to each listener of
    each worker, rather than one channel-layer event per listener.
    """
    transaction.on_commit(
        lambda: async_to_sync(apublish_event)(station_id, message), robust=True
    )


async def _apublish_chat(station_id: int, message: dict[str, Any]) -> None:
    try:
        await apublish_event(station_id, message)
    except BusUnavailable as problem:
        raise ChatUnavailable(str(problem)) from problem


def _check_chat_reachable() -> None:
    if not get_bus().available:
        raise ChatUnavailable("The station bus is unavailable.")


def chat_message_create(
    *, station: Station, user: AbstractBaseUser, text: str
) -> ChatMessage:
    """Store ``user``'s message; :func:`achat_message_create` also sends it.

    ``text`` must already be trimmed; it is stored as sent, not escaped.
    Raises ChatForbidden if the user is muted in the station.
    """
    with transaction.atomic():
        if station_chat_muted(station, user):
            raise ChatForbidden("You are muted in this station's chat.")
        message = ChatMessage(
            station=station,
            user=user,
            text=text,
            by_dj=station_has_dj(station, user),
        )
        message.full_clean(exclude=["station", "user"])
        message.save()
    return message


async def achat_message_create(
    *, station: Station, user: AbstractBaseUser, text: str
) -> ChatMessage:
    """Store ``user``'s message and send it to the station's chat.

    Raises ChatUnavailable, storing nothing, while the station bus is known
    to be away; if it goes away meanwhile, the message is stored but not
    sent, and ChatUnavailable is raised too.
    """
    _check_chat_reachable()
    message = await database_sync_to_async(chat_message_create)(
        station=station, user=user, text=text
    )
    await _apublish_chat(station.pk, chat_message_as_dict(message))
    return message


def _chat_message_mark_deleted(
    *, station: Station, actor: AbstractBaseUser, message_id: int
) -> tuple[ChatMessage, bool]:
    """Mark a message of the station deleted; True if it was not already.

    ``actor`` must be a DJ of the station or staff, else ChatForbidden.
    """
    if not station_managed_by(station, actor):
        raise ChatForbidden("Only the station's DJs may delete chat messages.")
    with transaction.atomic():
        message = (
            ChatMessage.objects.select_for_update()
            .filter(station=station, pk=message_id)
            .first()
        )
        if message is None:
            raise ChatNotFound(f"This station has no chat message {message_id}.")
        if message.deleted_at is not None:
            return message, False
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
    return message, True


def chat_message_delete(
    *, station: Station, actor: AbstractBaseUser, message_id: int
) -> ChatMessage:
    """Mark a message of the station deleted and tell everyone after commit.

    Deleting a message twice changes nothing. For sync callers (the admin);
    sockets use :func:`achat_message_delete`.
    """
    with transaction.atomic():
        message, changed = _chat_message_mark_deleted(
            station=station, actor=actor, message_id=message_id
        )
        if changed:
            notify_chat_on_commit(station.pk, {"type": CHAT_DELETED, "id": message.pk})
    return message


async def achat_message_delete(
    *, station: Station, actor: AbstractBaseUser, message_id: int
) -> ChatMessage:
    """:func:`chat_message_delete` from the event loop; ChatUnavailable as
    :func:`achat_message_create` raises it."""
    _check_chat_reachable()
    message, changed = await database_sync_to_async(_chat_message_mark_deleted)(
        station=station, actor=actor, message_id=message_id
    )
    if changed:
        await _apublish_chat(station.pk, {"type": CHAT_DELETED, "id": message.pk})
    return message


def _chat_moderated_user(
    station: Station, actor: AbstractBaseUser, username: str
) -> AbstractBaseUser:
    if not station_managed_by(station, actor):
        raise ChatForbidden("Only the station's DJs may mute users in the chat.")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ChatNotFound(f"No such user: {username}.")
    return user


def chat_mute(*, station: Station, actor: AbstractBaseUser, username: str) -> None:
    """Refuse the named user's chat messages in the station from now on."""
    user = _chat_moderated_user(station, actor, username)
    StationMute.objects.get_or_create(
        station=station, user=user, defaults={"muted_by": actor}
    )


def chat_unmute(*, station: Station, actor: AbstractBaseUser, username: str) -> None:
    """Take back a mute; unmuting a user who is not muted changes nothing."""
    user = _chat_moderated_user(station, actor, username)
    StationMute.objects.filter(station=station, user=user).delete()


achat_mute = database_sync_to_async(chat_mute)
achat_unmute = database_sync_to_async(chat_unmute)
