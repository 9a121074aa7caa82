"""Changing the private inbox: sending, reading, blocking.

Each change notifies the user's connections (group ``inbox.<pk>``) once
its transaction has committed, so nobody hears of a rolled-back message.
The sockets' changes are stored in the database thread and notified from
the event loop, so a slow or absent Redis never holds that shared thread;
a notice that cannot be sent is logged, and the message waits in
``inbox.unread`` for the recipient's next connection.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from radio.protocol import INBOX_MESSAGE, INBOX_READ
from stations.models import Station

from .inbox import group_name
from .models import Block, InboxMessage
from .selectors import inbox_message_as_dict

logger = logging.getLogger(__name__)


class UnknownUser(LookupError):
    """No user has the given username."""


class NotStationDj(PermissionError):
    """A shoutout names a station the sender is not a DJ of (or no station)."""


def user_get(username: str) -> AbstractBaseUser:
    """The user called ``username``; :class:`UnknownUser` if none is."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(
        **{user_model.USERNAME_FIELD: username}
    ).first()
    if user is None:
        raise UnknownUser(username)
    return user


async def anotify(user_pk: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every connection of the user, if the layer can."""
    try:
        await get_channel_layer().group_send(group_name(user_pk), event)
    except ChannelFull:
        logger.warning("Inbox event %s for user %s dropped", event["type"], user_pk)
    except (RedisError, OSError) as error:
        logger.warning(
            "Inbox event %s for user %s not sent: %s", event["type"], user_pk, error
        )


def _notify_on_commit(user_pk: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every connection of the user once committed; for
    sync callers outside the sockets' database thread."""
    transaction.on_commit(lambda: async_to_sync(anotify)(user_pk, event), robust=True)


def inbox_message_store(
    *,
    sender: AbstractBaseUser,
    to: str,
    text: str,
    station_slug: str | None = None,
    client_id: str | None = None,
) -> tuple[InboxMessage, dict[str, Any] | None]:
    """Store a message from ``sender`` to the user called ``to``.

    Returns it and the ``inbox.message`` event to deliver once this has
    returned (None if nothing is to be delivered). ``text`` must be trimmed
    and within limits already. With ``station_slug`` the message is a
    shoutout, which only a DJ of that station may send. A message to
    someone who has blocked the sender is stored hidden and delivered to
    nobody; the caller cannot tell. A ``client_id`` the sender used before
    returns that message again, stored and delivered once.
    """
    if client_id is not None:
        earlier = InboxMessage.objects.filter(sender=sender, client_id=client_id)
        if (message := earlier.select_related("recipient").first()) is not None:
            return message, None
    recipient = user_get(to)
    station = None
    if station_slug is not None:
        station = Station.objects.filter(slug=station_slug, djs=sender).first()
        if station is None:
            raise NotStationDj(station_slug)
    try:
        with transaction.atomic():
            hidden = Block.objects.filter(blocker=recipient, blocked=sender).exists()
            message = InboxMessage.objects.create(
                sender=sender,
                recipient=recipient,
                text=text,
                kind=InboxMessage.Kind.SHOUTOUT
                if station
                else InboxMessage.Kind.MESSAGE,
                station=station,
                hidden=hidden,
                client_id=client_id,
            )
    except IntegrityError:
        # The same client_id, sent twice at once: the other one stored it.
        if client_id is None:
            raise
        earlier = InboxMessage.objects.filter(sender=sender, client_id=client_id)
        return earlier.select_related("recipient").get(), None
    if hidden:
        return message, None
    return message, {"type": INBOX_MESSAGE, "message": inbox_message_as_dict(message)}


async def ainbox_message_send(**arguments: Any) -> InboxMessage:
    """:func:`inbox_message_store`, then deliver it from the event loop.

    A delivery that fails is logged: the message is stored, and reaches the
    recipient in ``inbox.unread``.
    """
    message, event = await database_sync_to_async(inbox_message_store)(**arguments)
    if event is not None:
        await anotify(message.recipient_id, event)
    return message


def station_notice_send(
    *, station: Station, recipient: AbstractBaseUser, text: str
) -> InboxMessage:
    """Store a notice from ``station`` itself to ``recipient``; deliver it.

    ``text`` must be within limits already. Nobody can block a station.
    """
    with transaction.atomic():
        message = InboxMessage.objects.create(
            sender=None,
            recipient=recipient,
            text=text,
            kind=InboxMessage.Kind.NOTICE,
            station=station,
        )
        event = {"type": INBOX_MESSAGE, "message": inbox_message_as_dict(message)}
        _notify_on_commit(recipient.pk, event)
    return message


def inbox_messages_mark_read(*, user: AbstractBaseUser, ids: list[int]) -> list[int]:
    """Mark read those of ``ids`` that are messages to ``user``.

    Other ids are ignored. Returns the ids of ``user``'s messages among
    ``ids``, including those read before, which every connection of
    ``user`` is to receive as ``inbox.read`` (:func:`ainbox_messages_mark_read`).
    """
    with transaction.atomic():
        own = InboxMessage.objects.filter(recipient=user, hidden=False, pk__in=ids)
        own_ids = sorted(own.values_list("pk", flat=True))
        own.filter(read_at=None).update(read_at=timezone.now())
    return own_ids


async def ainbox_messages_mark_read(
    *, user: AbstractBaseUser, ids: list[int]
) -> list[int]:
    """:func:`inbox_messages_mark_read`, then tell every connection of the user."""
    own_ids = await database_sync_to_async(inbox_messages_mark_read)(user=user, ids=ids)
    await anotify(user.pk, {"type": INBOX_READ, "ids": own_ids})
    return own_ids


def block_create(*, blocker: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """``blocker`` receives nothing more from the user called ``username``."""
    blocked = user_get(username)
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return blocked


def block_delete(*, blocker: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """Undo :func:`block_create`; nothing happens if there was no block."""
    blocked = user_get(username)
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return blocked


ablock_create = database_sync_to_async(block_create)
ablock_delete = database_sync_to_async(block_delete)
